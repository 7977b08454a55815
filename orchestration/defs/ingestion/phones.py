"""``raw/phone_numbers``: the phone dimension, refreshed after the raw tables load.

dbt reads it as the source ``raw.phone_numbers`` (``int_phone_numbers``), so every dbt
model downstream of the phones waits for it, and it waits for the raw tables it reads.
"""

import dagster as dg

from connectors.ingestion import LANDING_SOURCES
from connectors.phones import PHONE_FIELDS, default_phone_region, refresh_phone_numbers
from orchestration.resources import WarehouseResource

PHONE_NUMBERS_KEY = dg.AssetKey(["raw", "phone_numbers"])


def build_phone_numbers_asset(group_name: str) -> dg.AssetsDefinition:
    """The asset that normalises the phone strings of new raw files (phonenumbers)."""
    phone_tables = {field.raw_table for field in PHONE_FIELDS}
    upstream = [
        dg.AssetKey(["raw", source.raw_table])
        for source in LANDING_SOURCES
        if source.raw_table in phone_tables
    ]

    @dg.asset(
        key=PHONE_NUMBERS_KEY,
        deps=upstream,
        group_name=group_name,
        kinds={"duckdb", "python"},
        description=(
            "Every distinct raw phone string of orders, leads, SMS and WhatsApp, normalised "
            "to E.164 with phonenumbers (default region `COD360_DEFAULT_PHONE_REGION`, MA). "
            "Reads only raw files not scanned yet and normalises only strings not seen "
            "before, so a run costs in proportion to what is new."
        ),
    )
    def phone_numbers(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        with warehouse.connect() as conn:
            report = refresh_phone_numbers(conn, default_phone_region())
        context.log.info(
            f"{report.files_scanned} new file(s), {report.strings_normalised} new phone "
            f"string(s) normalised ({report.region})"
        )
        return dg.MaterializeResult(
            metadata={
                "default_region": report.region,
                "files_scanned": report.files_scanned,
                "strings_seen": report.strings_seen,
                "strings_normalised": report.strings_normalised,
                "dagster/row_count": report.dimension_rows,
            }
        )

    return phone_numbers
