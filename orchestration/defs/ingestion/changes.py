"""What a run must do when landing files arrive: the raw tables with new files, and
every asset downstream of them — nothing else.

The landing sensor and ``cod360 run --new`` share this, so a file that touches only the
carrier events rebuilds the models that read carrier events (and whatever reads those),
and a run with nothing new ends after a directory scan, before Dagster starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import dagster as dg
import duckdb

from connectors.ingestion import LANDING_SOURCES, LandingSource
from connectors.ingestion.loader import landing_files

# Ingestion, every dbt model (by kind: the marts sit in business groups such as
# customers or segments) and the scores of the open orders, which read the marts: a new
# order is scored in the run that models it. Activations and retraining are never
# started by a file arriving: they keep their own schedules (order_scores also has one,
# which skips a tick when nothing it reads changed).
LANDING_RUN_SELECTION = "group:ingestion or kind:dbt or key:order_scores"
LANDING_RUN_TARGET = dg.AssetSelection.from_string(LANDING_RUN_SELECTION)


def raw_key(source: LandingSource) -> dg.AssetKey:
    return dg.AssetKey(["raw", source.raw_table])


def sources_with_new_files(landing_dir: Path, warehouse_path: Path) -> list[LandingSource]:
    """The sources with a closed landing file that ``raw.ingested_files`` does not hold
    under the same path, size and mtime — what ingestion would read (it also skips a
    file whose content it already holds, which is only known after hashing it)."""
    pending = [source for source in LANDING_SOURCES if landing_files(landing_dir, source)]
    if not pending or not warehouse_path.exists():
        return pending
    with duckdb.connect(str(warehouse_path), read_only=True) as conn:
        has_manifest = conn.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = 'ingested_files'"
        ).fetchone()[0]
        if not has_manifest:
            return pending
        known = {
            (source, path, size, mtime)
            for source, path, size, mtime in conn.execute(
                "select source, source_file, size_bytes, mtime_ns from raw.ingested_files"
            ).fetchall()
        }
    changed = []
    for source in pending:
        for path in landing_files(landing_dir, source):
            stat = path.stat()
            rel = path.relative_to(landing_dir).as_posix()
            if (source.name, rel, stat.st_size, stat.st_mtime_ns) not in known:
                changed.append(source)
                break
    return changed


def downstream_of(sources: Iterable[LandingSource]) -> dg.AssetSelection:
    """The raw tables of ``sources`` and every asset downstream of them."""
    return dg.AssetSelection.assets(*(raw_key(source) for source in sources)).downstream()
