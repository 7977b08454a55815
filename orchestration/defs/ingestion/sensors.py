"""Start ingestion (and the models downstream) when new closed landing files appear."""

import json
from pathlib import Path

import dagster as dg

from common.settings import load_settings
from connectors.ingestion import LANDING_SOURCES
from connectors.ingestion.loader import landing_files

# Ingestion plus every dbt model (by kind: the marts sit in business groups such as
# customers or segments). Activations and the lead score are never started by a file
# arriving: they keep their own schedules.
INGEST_AND_TRANSFORM = dg.AssetSelection.from_string("group:ingestion or kind:dbt")


def new_landing_files(landing_dir: Path, cursor: dict[str, int]) -> dict[str, list[str]]:
    """Closed files per source modified after that source's cursor (mtime in ns)."""
    found: dict[str, list[str]] = {}
    for source in LANDING_SOURCES:
        since = cursor.get(source.name, 0)
        fresh = [p for p in landing_files(landing_dir, source) if p.stat().st_mtime_ns > since]
        if fresh:
            found[source.name] = [str(p) for p in fresh]
    return found


@dg.sensor(
    target=INGEST_AND_TRANSFORM,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Watches the landing folder; when closed files appear (webhook receiver rotations, "
        "pulls, drops), ingests them and rebuilds the dbt models. The cursor is the newest "
        "file time seen per source, so the warehouse is never rescanned."
    ),
)
def landing_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    cursor = json.loads(context.cursor) if context.cursor else {}
    fresh = new_landing_files(load_settings().landing_dir, cursor)
    if not fresh:
        return dg.SkipReason("No new landing files.")
    for source, paths in fresh.items():
        cursor[source] = max(Path(p).stat().st_mtime_ns for p in paths)
    run_key = "landing-" + "-".join(f"{s}:{cursor[s]}" for s in sorted(fresh))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=run_key, tags={"cod360/new_files": str(sum(map(len, fresh.values())))}
            )
        ],
        cursor=json.dumps(cursor, sort_keys=True),
    )
