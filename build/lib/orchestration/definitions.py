"""The cod360 code location: loads every domain under ``defs/`` and merges them."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        # One process, steps in order: DuckDB allows a single writer per file and
        # dbt is itself a writer, so parallel step processes would fight over the lock.
        dg.Definitions(executor=dg.in_process_executor),
    )
