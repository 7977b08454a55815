"""great-expectations suites on the raw inputs, as blocking Dagster asset checks.

Blocking: when a raw table fails its suite, nothing downstream of it runs in
that run, so activations never act on bad inputs. The suites judge the batch
(volume, unknown vocabulary, freshness); single bad records never get this far.
"""

from functools import cache

import dagster as dg

from connectors.ingestion import LANDING_SOURCES, SOURCES_BY_NAME
from orchestration.defs.ingestion.assets import raw_asset_key
from orchestration.resources import WarehouseResource


@cache
def _suites():
    # great-expectations takes seconds to import: loaded when a check runs, not when the
    # code location loads (every run process loads it).
    from connectors.quality.raw_suites import build_suites

    return build_suites()


def build_suite_check(source: str) -> dg.AssetChecksDefinition:
    """The asset check that runs one raw table's great-expectations suite (every landing
    source has one: tests/test_definitions.py)."""

    @dg.asset_check(
        asset=raw_asset_key(SOURCES_BY_NAME[source]),
        name="great_expectations_suite",
        blocking=True,
        description=(
            f"great-expectations suite `raw_{source}` over the batch: share of records "
            "quarantined, share of unknown carriers / platforms / currencies / statuses, "
            "freshness against the other sources. Single bad records are quarantined at "
            "the boundary and do not fail it."
        ),
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        from connectors.quality.raw_suites import validate_source

        with warehouse.connect(read_only=True) as conn:
            outcome = validate_source(conn, _suites()[source])
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


raw_input_checks = [build_suite_check(source.name) for source in LANDING_SOURCES]
