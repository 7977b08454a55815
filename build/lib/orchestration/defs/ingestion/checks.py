"""Reconciliation checks: every record ever read is loaded or quarantined."""

import dagster as dg

from connectors.ingestion import LANDING_SOURCES, LandingSource, table_counts
from orchestration.defs.ingestion.assets import raw_asset_key
from orchestration.resources import WarehouseResource


def build_reconciliation_check(source: LandingSource) -> dg.AssetChecksDefinition:
    """read = loaded + quarantined, over every file of the source ever ingested."""

    @dg.asset_check(
        asset=raw_asset_key(source),
        name="records_reconcile",
        blocking=True,
        description="Every record read from the landing files is either loaded or quarantined.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as conn:
            totals = table_counts(conn, source)
        difference = totals["read"] - totals["loaded"] - totals["quarantined"]
        return dg.AssetCheckResult(
            passed=difference == 0,
            metadata={**totals, "unaccounted": difference},
        )

    return _check


reconciliation_checks = [build_reconciliation_check(source) for source in LANDING_SOURCES]
