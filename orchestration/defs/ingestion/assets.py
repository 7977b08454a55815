"""One raw-table asset per landing source: new landing files → ``raw.<source>``.

A platform's orders asset (``raw/<platform>_orders``) depends on the pull assets of
that platform's configured stores (``storefront_pulls/<platform>/<store>``): a run
that selects both pulls first, and the lineage shows where the landing files came from.
``raw/carrier_tracking_events`` depends the same way on the carrier API pulls
(``carrier_pulls/<carrier>/<account>``).
"""

from collections.abc import Mapping, Sequence

import dagster as dg

from common.privacy import mask_phones_in_text
from connectors.carriers.config import CarrierAccount, load_accounts
from connectors.ingestion import LANDING_SOURCES, LandingSource, ingest_source, table_counts
from connectors.ingestion.loader import FileReport
from connectors.storefronts.config import StoreConfig, load_stores
from orchestration.defs.carrier_pulls.assets import RAW_TRACKING_KEY
from orchestration.defs.carrier_pulls.assets import pull_asset_key as carrier_pull_key
from orchestration.defs.ingestion.phones import build_phone_numbers_asset
from orchestration.defs.storefront_pulls.assets import pull_asset_key, raw_orders_key
from orchestration.defs.transform.assets import raw_source_freshness_policies
from orchestration.resources import WarehouseResource

INGESTION_GROUP = "ingestion"


def raw_asset_key(source: LandingSource) -> dg.AssetKey:
    """The key dbt's ``source('raw', <name>)`` maps to, so lineage joins up."""
    return dg.AssetKey(["raw", source.raw_table])


def _reasons_markdown(reasons: dict[str, int]) -> str:
    if not reasons:
        return "No record quarantined in this run."
    rows = "\n".join(
        f"| {count} | {mask_phones_in_text(reason).replace('|', '/')} |"
        for reason, count in reasons.items()
    )
    return "| records | reason |\n| ---: | --- |\n" + rows


def _quarantine_preview(conn, source: LandingSource) -> str:
    rows = conn.execute(
        """
        select source_file, line_number, coalesce(field, '-'), reason
        from raw.quarantine where source = ?
        order by quarantined_at desc, source_file, line_number limit 10
        """,
        [source.name],
    ).fetchall()
    if not rows:
        return "Nothing quarantined."
    # Reasons are masked when written; masked again here for rows written before that.
    body = "\n".join(
        f"| {file} | {line} | {field} | {mask_phones_in_text(reason).replace('|', '/')[:120]} |"
        for file, line, field, reason in rows
    )
    return "| file | line | field | reason |\n| --- | ---: | --- | --- |\n" + body


def build_ingestion_asset(
    source: LandingSource,
    landed_by: Sequence[dg.AssetKey] = (),
    freshness_policy: dg.FreshnessPolicy | None = None,
) -> dg.AssetsDefinition:
    """The asset that loads one source's new landing files into its raw table.

    ``landed_by``: the assets that write this source's landing files (storefront pulls);
    ``freshness_policy``: how often the table must receive records (its dbt source's
    ``freshness``).
    """

    @dg.asset(
        key=raw_asset_key(source),
        deps=list(landed_by),
        freshness_policy=freshness_policy,
        group_name=INGESTION_GROUP,
        kinds={"duckdb", "python"},
        description=(
            f"{source.description}\n\nLoads new closed files matching "
            f"{', '.join(f'`{p}`' for p in source.patterns)} from the landing folder into "
            f"`raw.{source.raw_table}`; bad records go to `raw.quarantine` with the field and "
            "the reason. A file already ingested (same content) adds nothing."
        ),
        metadata={"landing_patterns": ", ".join(source.patterns)},
    )
    def _ingest(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        def log_file(report: FileReport) -> None:
            if report.skipped_reason:
                context.log.info(f"{report.source_file}: skipped ({report.skipped_reason})")
            else:
                context.log.info(
                    f"{report.source_file}: read {report.records_read}, loaded {report.records_loaded}, "
                    f"quarantined {report.records_quarantined}"
                )

        with warehouse.connect() as conn:
            run = ingest_source(conn, source, warehouse.landing_path, on_file=log_file)
            totals = table_counts(conn, source)
            preview = _quarantine_preview(conn, source)
        if not run.reconciles:  # cannot happen unless the loader is broken: never hide it
            raise dg.Failure(f"{source.name}: read {run.records_read} ≠ loaded + quarantined")
        return dg.MaterializeResult(
            metadata={
                "files_ingested": run.files_ingested,
                "files_skipped_duplicate": run.files_skipped,
                "records_read": run.records_read,
                "records_loaded": run.records_loaded,
                "records_quarantined": run.records_quarantined,
                "reconciles": run.reconciles,
                "quarantine_reasons": dg.MetadataValue.md(
                    _reasons_markdown(run.quarantine_reasons())
                ),
                "total_records_read": totals["read"],
                "total_records_quarantined": totals["quarantined"],
                "dagster/row_count": totals["loaded"],
                "latest_quarantined": dg.MetadataValue.md(preview),
            }
        )

    return _ingest


def build_ingestion_assets(
    stores: Sequence[StoreConfig],
    freshness: Mapping[dg.AssetKey, dg.FreshnessPolicy] | None = None,
    carrier_accounts: Sequence[CarrierAccount] = (),
) -> list[dg.AssetsDefinition]:
    """One asset per landing source; each platform's orders depend on its stores' pulls,
    the carrier tracking on the carrier accounts' pulls."""
    pulls: dict[dg.AssetKey, list[dg.AssetKey]] = {}
    for store in stores:
        raw = raw_orders_key(store.platform)
        if raw is not None:
            pulls.setdefault(raw, []).append(pull_asset_key(store))
    for account in carrier_accounts:
        pulls.setdefault(RAW_TRACKING_KEY, []).append(carrier_pull_key(account))
    freshness = freshness or {}
    return [
        build_ingestion_asset(
            source, pulls.get(raw_asset_key(source), ()), freshness.get(raw_asset_key(source))
        )
        for source in LANDING_SOURCES
    ]


@dg.definitions
def ingestion() -> dg.Definitions:
    # The same stores and carrier accounts files as the pull domains, and the freshness
    # the dbt sources declare for these tables, read at load time.
    return dg.Definitions(
        assets=[
            *build_ingestion_assets(
                load_stores(), raw_source_freshness_policies(), load_accounts()
            ),
            build_phone_numbers_asset(INGESTION_GROUP),
        ]
    )
