"""Writing emitted events to the landing folder the way every cod360 writer does.

A batch is written to ``<dir>/<prefix>_<UTC stamp>_<seq>.jsonl.tmp``, fsynced,
and renamed to ``.jsonl``: the ingestion ignores ``.tmp`` names, so it never
reads a half-written file (docs/landing.md).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from connectors.webhooks.files import file_stem, fsync_dir

_sequence = itertools.count(1)


def write_jsonl_atomically(
    directory: Path, prefix: str, records: Iterable[dict[str, Any]]
) -> Path | None:
    """Write ``records`` one JSON object per line; returns the closed file, or ``None`` if empty."""
    lines = [json.dumps(record, ensure_ascii=False, separators=(",", ":")) for record in records]
    if not lines:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"{file_stem(prefix, next(_sequence))}.jsonl"
    tmp = final.with_name(final.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, final)
    fsync_dir(directory)
    return final
