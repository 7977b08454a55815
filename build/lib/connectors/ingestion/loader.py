"""Load landing files into DuckDB raw tables, quarantining what cannot be loaded.

Guarantees, per file and per run:

* every record read is either loaded into ``raw.<source>`` (payload kept whole,
  with its file, line and load time) or written to ``raw.quarantine`` with a
  reason that names the field — ``read = loaded + quarantined``;
* a file is loaded in one transaction, with its row in ``raw.ingested_files``:
  a crash leaves nothing half-loaded, and the next run loads it again whole;
* a file whose content (SHA-256) was already ingested adds nothing, whatever
  its name; unchanged files are recognised by path, size and mtime without
  being read again.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
from pydantic import BaseModel, ValidationError

from connectors.ingestion.sources import LANDING_SOURCES, LandingSource

RAW_SCHEMA = "raw"
IN_PROGRESS_SUFFIXES = (".tmp", ".open", ".part")
_FLUSH_EVERY = 50_000
_RAW_TEXT_LIMIT = 10_000
_VALUE_IN_REASON = re.compile(r" = .*?:(?= )")

_DDL = """
create schema if not exists raw;
create table if not exists raw.quarantine (
    source varchar not null,
    source_file varchar not null,
    line_number integer not null,
    field varchar,
    reason varchar not null,
    raw_text varchar,
    file_sha256 varchar not null,
    quarantined_at timestamp not null
);
create table if not exists raw.ingested_files (
    source varchar not null,
    source_file varchar not null,
    file_sha256 varchar not null,
    size_bytes bigint not null,
    mtime_ns bigint not null,
    records_read integer not null,
    records_loaded integer not null,
    records_quarantined integer not null,
    duplicate_of varchar,
    ingested_at timestamp not null
);
"""

_RAW_TABLE_DDL = """
create table if not exists raw.{table} (
    record_id varchar not null,
    source_file varchar not null,
    line_number integer not null,
    payload json not null,
    file_sha256 varchar not null,
    loaded_at timestamp not null
)
"""


@dataclass
class FileReport:
    """What happened to one landing file."""

    source_file: str
    records_read: int = 0
    records_loaded: int = 0
    records_quarantined: int = 0
    skipped_reason: str | None = None
    quarantine_reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class IngestReport:
    """What one ingestion run did for one source."""

    source: str
    files: list[FileReport] = field(default_factory=list)

    @property
    def files_ingested(self) -> int:
        return sum(1 for f in self.files if f.skipped_reason is None)

    @property
    def files_skipped(self) -> int:
        return sum(1 for f in self.files if f.skipped_reason is not None)

    @property
    def records_read(self) -> int:
        return sum(f.records_read for f in self.files)

    @property
    def records_loaded(self) -> int:
        return sum(f.records_loaded for f in self.files)

    @property
    def records_quarantined(self) -> int:
        return sum(f.records_quarantined for f in self.files)

    @property
    def reconciles(self) -> bool:
        return self.records_read == self.records_loaded + self.records_quarantined

    def quarantine_reasons(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for report in self.files:
            for reason, count in report.quarantine_reasons.items():
                totals[reason] = totals.get(reason, 0) + count
        return dict(sorted(totals.items(), key=lambda item: -item[1]))


@dataclass
class _Record:
    line_number: int
    text: str | None  # None when the bytes were not valid UTF-8
    parsed: dict | None = None  # CSV rows arrive already parsed


def ensure_raw_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema, the quarantine and manifest tables and every source table."""
    conn.execute(_DDL)
    for source in LANDING_SOURCES:
        conn.execute(_RAW_TABLE_DDL.format(table=source.raw_table))


def landing_files(landing_dir: Path, source: LandingSource) -> list[Path]:
    """The closed files of a source, sorted by path (writers' temporary names excluded)."""
    found: set[Path] = set()
    for pattern in source.patterns:
        for path in landing_dir.glob(pattern):
            if (
                path.is_file()
                and not path.name.startswith(".")
                and not path.name.endswith(IN_PROGRESS_SUFFIXES)
            ):
                found.add(path)
    return sorted(found)


def ingest_source(
    conn: duckdb.DuckDBPyConnection,
    source: LandingSource,
    landing_dir: Path,
    *,
    on_file: Callable[[FileReport], None] | None = None,
) -> IngestReport:
    """Load every new closed file of ``source`` from ``landing_dir`` into the warehouse."""
    ensure_raw_tables(conn)
    report = IngestReport(source=source.name)
    known = _known_files(conn, source)
    known_hashes = {sha for (_path, _size, _mtime), sha in known.items()}
    for path in landing_files(landing_dir, source):
        rel = path.relative_to(landing_dir).as_posix()
        stat = path.stat()
        if (rel, stat.st_size, stat.st_mtime_ns) in known:
            continue  # unchanged since it was ingested: not even read again
        sha = _sha256(path)
        if sha in known_hashes:
            file_report = FileReport(rel, skipped_reason="same content already ingested")
            _record_duplicate_file(conn, source, rel, sha, stat, known)
        else:
            file_report = _ingest_file(conn, source, path, rel, sha, stat)
            known_hashes.add(sha)
        report.files.append(file_report)
        if on_file:
            on_file(file_report)
    return report


def _known_files(conn: duckdb.DuckDBPyConnection, source: LandingSource) -> dict[tuple, str]:
    rows = conn.execute(
        "select source_file, size_bytes, mtime_ns, file_sha256 from raw.ingested_files where source = ?",
        [source.name],
    ).fetchall()
    return {(path, size, mtime): sha for path, size, mtime, sha in rows}


def _record_duplicate_file(conn, source, rel, sha, stat, known) -> None:
    original = next((key[0] for key, value in known.items() if value == sha), None)
    conn.execute(
        "insert into raw.ingested_files values (?, ?, ?, ?, ?, 0, 0, 0, ?, ?)",
        [source.name, rel, sha, stat.st_size, stat.st_mtime_ns, original or rel, _now()],
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _ingest_file(conn, source: LandingSource, path: Path, rel: str, sha: str, stat) -> FileReport:
    file_report = FileReport(rel)
    loaded_at = _now()
    loaded: list[tuple[str, str, int, str, str, datetime]] = []
    quarantined: list[tuple] = []

    conn.execute("begin transaction")
    try:
        for record in _read_records(path):
            file_report.records_read += 1
            field_name, reason, payload = _validate(source.record_model, record)
            if reason is None:
                loaded.append(
                    (
                        f"{sha[:16]}:{record.line_number}",
                        rel,
                        record.line_number,
                        payload,
                        sha,
                        loaded_at,
                    )
                )
                file_report.records_loaded += 1
            else:
                raw_text = record.text[:_RAW_TEXT_LIMIT] if record.text is not None else None
                quarantined.append(
                    (
                        source.name,
                        rel,
                        record.line_number,
                        field_name,
                        reason,
                        raw_text,
                        sha,
                        loaded_at,
                    )
                )
                file_report.records_quarantined += 1
                # Group by reason without the offending value, so metadata stays short.
                key = _VALUE_IN_REASON.sub(":", reason)
                file_report.quarantine_reasons[key] = file_report.quarantine_reasons.get(key, 0) + 1
            if len(loaded) >= _FLUSH_EVERY:
                _insert_loaded(conn, source, loaded)
                loaded.clear()
        _insert_loaded(conn, source, loaded)
        if quarantined:
            conn.executemany(
                "insert into raw.quarantine values (?, ?, ?, ?, ?, ?, ?, ?)", quarantined
            )
        conn.execute(
            "insert into raw.ingested_files values (?, ?, ?, ?, ?, ?, ?, ?, null, ?)",
            [
                source.name,
                rel,
                sha,
                stat.st_size,
                stat.st_mtime_ns,
                file_report.records_read,
                file_report.records_loaded,
                file_report.records_quarantined,
                loaded_at,
            ],
        )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return file_report


def _insert_loaded(conn, source: LandingSource, rows: list[tuple]) -> None:
    if not rows:
        return
    frame = pd.DataFrame(
        rows,
        columns=["record_id", "source_file", "line_number", "payload", "file_sha256", "loaded_at"],
    )
    conn.register("_landing_batch", frame)
    try:
        conn.execute(
            f"insert into raw.{source.raw_table} "
            "select record_id, source_file, line_number, payload::json, file_sha256, loaded_at from _landing_batch"
        )
    finally:
        conn.unregister("_landing_batch")


def _read_records(path: Path) -> Iterator[_Record]:
    if path.suffix == ".csv":
        yield from _read_csv(path)
    else:
        yield from _read_json_lines(path)


def _read_json_lines(path: Path) -> Iterator[_Record]:
    with path.open("rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue  # blank lines are not records
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                yield _Record(line_number, None)
                continue
            yield _Record(line_number, text)


def _read_csv(path: Path) -> Iterator[_Record]:
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        lines = handle.read().splitlines()
    if not lines:
        return
    header = next(csv.reader([lines[0]]))
    for line_number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            values = next(csv.reader([line]))
        except csv.Error:
            yield _Record(line_number, line, parsed={"__csv_error__": True})
            continue
        if len(values) != len(header):
            yield _Record(
                line_number,
                line,
                parsed={"__csv_columns__": len(values), "__csv_expected__": len(header)},
            )
            continue
        row = {
            name: (value if value != "" else None)
            for name, value in zip(header, values, strict=True)
        }
        yield _Record(line_number, line, parsed=row)


def _validate(model: type[BaseModel], record: _Record) -> tuple[str | None, str | None, str]:
    """Return (field, reason, payload JSON): reason is None when the record loads."""
    if record.text is None:
        return None, "not valid UTF-8", ""
    parsed = record.parsed
    if parsed is not None:
        if "__csv_error__" in parsed:
            return None, "malformed CSV row (quoting)", ""
        if "__csv_columns__" in parsed:
            return (
                None,
                f"CSV row has {parsed['__csv_columns__']} columns, header has {parsed['__csv_expected__']}",
                "",
            )
        try:
            model.model_validate(parsed)
        except ValidationError as exc:
            return _explain(exc)
        return None, None, json.dumps(parsed, ensure_ascii=False)
    try:
        model.model_validate_json(record.text)
    except ValidationError as exc:
        return _explain(exc)
    return None, None, record.text


def _explain(exc: ValidationError) -> tuple[str | None, str, str]:
    error = exc.errors(include_url=False)[0]
    if error["type"] == "json_invalid":
        return None, f"invalid JSON: {error['msg'].removeprefix('Invalid JSON: ')}", ""
    location = ".".join(str(part) for part in error["loc"])
    if not location:
        return None, f"record is not a JSON object: {error['msg']}", ""
    if error["type"] == "missing":
        return location, f"missing required field '{location}'", ""
    value = repr(error.get("input"))
    if len(value) > 60:
        value = value[:57] + "..."
    return location, f"field '{location}' = {value}: {error['msg']}", ""


def summarize(reports: Iterable[IngestReport]) -> list[dict]:
    """One row per source: files, read, loaded, quarantined, reconciles."""
    return [
        {
            "source": r.source,
            "files": r.files_ingested,
            "read": r.records_read,
            "loaded": r.records_loaded,
            "quarantined": r.records_quarantined,
            "reconciles": r.reconciles,
        }
        for r in reports
    ]


def table_counts(conn: duckdb.DuckDBPyConnection, source: LandingSource) -> dict[str, int]:
    """Totals in the warehouse for a source: rows loaded and quarantined, all runs."""
    loaded = conn.execute(f"select count(*) from raw.{source.raw_table}").fetchone()[0]
    quarantined = conn.execute(
        "select count(*) from raw.quarantine where source = ?", [source.name]
    ).fetchone()[0]
    read = conn.execute(
        "select coalesce(sum(records_read), 0) from raw.ingested_files where source = ?",
        [source.name],
    ).fetchone()[0]
    return {"read": int(read), "loaded": int(loaded), "quarantined": int(quarantined)}


__all__ = [
    "FileReport",
    "IngestReport",
    "ensure_raw_tables",
    "ingest_source",
    "landing_files",
    "summarize",
    "table_counts",
]
