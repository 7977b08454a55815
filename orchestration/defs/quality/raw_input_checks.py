"""great-expectations suites on the raw inputs, as blocking Dagster asset checks.

Blocking: when a raw table fails its suite, nothing downstream of it runs in
that run, so activations never act on bad inputs. The suites judge the batch
(volume, unknown vocabulary, freshness); single bad records never get this far.
"""

import dagster as dg

from connectors.ingestion import SOURCES_BY_NAME
from connectors.quality.raw_suites import RawSuite, build_suites, validate_source
from orchestration.defs.ingestion.assets import raw_asset_key
from orchestration.resources import WarehouseResource


def build_suite_check(suite: RawSuite) -> dg.AssetChecksDefinition:
    """The asset check that runs one raw table's great-expectations suite."""

    @dg.asset_check(
        asset=raw_asset_key(SOURCES_BY_NAME[suite.source]),
        name="great_expectations_suite",
        blocking=True,
        description=(
            f"great-expectations suite `raw_{suite.source}` over the batch: share of records "
            "quarantined, share of unknown carriers / platforms / currencies / statuses, "
            "freshness against the other sources. Single bad records are quarantined at "
            "the boundary and do not fail it."
        ),
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as conn:
            outcome = validate_source(conn, suite)
        failed = [e for e in outcome.expectations if not e.success]
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=dg.AssetCheckSeverity.ERROR,
            description=None if outcome.success else f"{len(failed)} expectation(s) failed",
            metadata={
                "rows_validated": outcome.rows,
                "expectations": len(outcome.expectations),
                "expectations_failed": len(failed),
                "results": dg.MetadataValue.md(outcome.markdown()),
            },
        )

    return _check


raw_input_checks = [build_suite_check(suite) for suite in build_suites().values()]
