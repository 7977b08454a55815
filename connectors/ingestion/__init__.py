"""Landing folder → DuckDB raw tables, with quarantine and reconciliation."""

from connectors.ingestion import raw_parquet
from connectors.ingestion.loader import IngestReport, ensure_raw_tables, ingest_source, table_counts
from connectors.ingestion.sources import LANDING_SOURCES, SOURCES_BY_NAME, LandingSource

__all__ = [
    "LANDING_SOURCES",
    "SOURCES_BY_NAME",
    "IngestReport",
    "LandingSource",
    "ensure_raw_tables",
    "ingest_source",
    "raw_parquet",
    "table_counts",
]
