"""Start ingestion (and the models downstream) when new closed landing files appear."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from common.settings import load_settings
from connectors.ingestion import LANDING_SOURCES
from connectors.ingestion.loader import landing_files
from orchestration.defs.ingestion.changes import LANDING_RUN_TARGET, downstream_of


def landing_listing_digests(landing_dir: Path) -> dict[str, str]:
    """Per source, a digest of its closed files (path, size, mtime), sources with files only.

    Any file that appears, is renamed from ``.tmp``, or changes, changes the digest,
    whatever its mtime: a file copied with old timestamps cannot be missed, as it
    could with a cursor of the newest mtime. The digest keeps the cursor small
    however many files the landing folder holds; ingestion itself recognises the
    files it already loaded (``raw.ingested_files``), so a run that finds nothing
    new costs a directory scan.
    """
    digests: dict[str, str] = {}
    for source in LANDING_SOURCES:
        paths = landing_files(landing_dir, source)
        if not paths:
            continue
        digest = hashlib.sha256()
        for path in paths:
            stat = path.stat()
            rel = path.relative_to(landing_dir).as_posix()
            digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        digests[source.name] = digest.hexdigest()[:32]
    return digests


def changed_sources(landing_dir: Path, cursor: dict[str, str]) -> dict[str, str]:
    """The sources whose listing differs from the cursor, with their new digest."""
    current = landing_listing_digests(landing_dir)
    return {name: digest for name, digest in current.items() if cursor.get(name) != digest}


def changed_selection(
    context: dg.SensorEvaluationContext, changed: dict[str, str]
) -> list[dg.AssetKey] | None:
    """The raw tables of the changed sources and what is downstream of them, within the
    sensor's target; ``None`` (the whole target) when the sensor runs without its code
    location (a bare test context)."""
    repository = getattr(context, "repository_def", None)
    if repository is None:
        return None
    sources = [source for source in LANDING_SOURCES if source.name in changed]
    selection = downstream_of(sources) & LANDING_RUN_TARGET
    return sorted(selection.resolve(repository.asset_graph), key=lambda key: key.path)


@dg.sensor(
    target=LANDING_RUN_TARGET,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Watches the landing folder; when closed files appear (webhook receiver rotations, "
        "pulls, drops), ingests them, rebuilds the dbt models and scores the open orders. The cursor is a digest of "
        "each source's file listing (path, size, mtime), so a file that arrives with an old "
        "mtime is still seen. A run selects the raw tables of the changed sources and the "
        "assets downstream of them only."
    ),
)
def landing_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    cursor = json.loads(context.cursor) if context.cursor else {}
    if any(not isinstance(value, str) for value in cursor.values()):
        cursor = {}  # a cursor of mtimes from an earlier version: rescan once
    changed = changed_sources(load_settings().landing_dir, cursor)
    if not changed:
        return dg.SkipReason("No new landing files.")
    cursor.update(changed)
    run_key = "landing-" + "-".join(f"{s}:{changed[s]}" for s in sorted(changed))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=run_key,
                asset_selection=changed_selection(context, changed),
                tags={"cod360/changed_sources": ",".join(sorted(changed))},
            )
        ],
        cursor=json.dumps(cursor, sort_keys=True),
    )
