"""Load landing files into DuckDB raw tables, quarantining what cannot be loaded.

Guarantees, per file and per run:

* every record read is either loaded into ``raw.<source>`` (payload kept whole,
  with its file, line and load time) or written to ``raw.quarantine`` with a
  reason that names the field — ``read = loaded + quarantined``;
* a loaded record has the shape of ``records.py`` and the values of
  ``domain_rules.py``, so no staging cast or ``not_null`` test can fail on it;
  files are cut into records by ``readers.py`` (BOMs, CRLF, quoted multi-line CSV
  fields, undecodable bytes);
* no reason quotes a phone number: values in reasons are short and masked;
* a file is loaded in one transaction, with its row in ``raw.ingested_files``:
  a crash leaves nothing half-loaded, and the next run loads it again whole;
* a file whose content (SHA-256) was already ingested adds nothing, whatever
  its name; unchanged files are recognised by path, size and mtime without
  being read again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import pandas as pd
from pydantic import ValidationError

from common.privacy import mask_phones_in_text
from common.settings import load_settings
from connectors.ingestion.bulk_checks import bulk_check_sql, uses_bulk_check
from connectors.ingestion.domain_rules import LoadWindow, check_record, excerpt, text_problem
from connectors.ingestion.raw_parquet import export_missing_batches
from connectors.ingestion.readers import RawRecord, read_records
from connectors.ingestion.sources import LANDING_SOURCES, LandingSource

RAW_SCHEMA = "raw"
IN_PROGRESS_SUFFIXES = (".tmp", ".open", ".part")
_FLUSH_EVERY = 50_000
_RAW_TEXT_LIMIT = 10_000
_VALUE_IN_REASON = re.compile(r" = .*?:(?= )")
_LIST_INDEX = re.compile(r"\[\d+\]")

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
-- The newest event time (UTC) among the file's loaded records: the freshness suites
-- compare sources with it without scanning payloads.
alter table raw.ingested_files add column if not exists newest_event_at timestamp;
-- When the load that ingested the file started: the raw suites judge the records of the
-- latest load (connectors/quality/raw_suites.py), not the whole history.
alter table raw.ingested_files add column if not exists load_started_at timestamp;
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
    load_time: datetime | None = None,
    parquet_dir: Path | None = None,
) -> IngestReport:
    """Load every new closed file of ``source`` from ``landing_dir`` into the warehouse.

    ``load_time`` (default: now) anchors the window of plausible timestamps.
    ``parquet_dir`` (default: the ``COD360_RAW_PARQUET_DIR`` setting, off when unset): each
    loaded file is also written there as Parquet after its commit, and batches a crash
    left without their file are written first (``raw_parquet.py``). Files are read
    in groups of about ``_FLUSH_EVERY`` records, validated by one bulk query per group, and
    then loaded one transaction per file, in path order.
    """
    ensure_raw_tables(conn)
    parquet_dir = parquet_dir or load_settings().raw_parquet_dir
    if parquet_dir:
        export_missing_batches(conn, parquet_dir, source.raw_table)
    report = IngestReport(source=source.name)
    known = _known_files(conn, source)
    known_hashes = {sha for (_path, _size, _mtime), sha in known.items()}
    window = LoadWindow.at(load_time)
    # Every file of this load gets loaded_at >= load_started_at (a fixed load_time: both it).
    load_started_at = _now() if load_time is None else window.load_time.replace(tzinfo=None)
    group: list[_PendingFile] = []

    def load_group() -> None:
        verdicts = _bulk_verdicts(conn, source, window, [f.candidates for f in group])
        for pending, file_verdicts in zip(group, verdicts, strict=True):
            if pending.duplicate:
                file_report = FileReport(
                    pending.rel, skipped_reason="same content already ingested"
                )
                _record_duplicate_file(
                    conn, source, pending.rel, pending.sha, pending.stat, known, load_started_at
                )
            else:
                file_report = _ingest_file(
                    conn, source, pending, file_verdicts, load_time, load_started_at
                )
                if parquet_dir and file_report.records_loaded:
                    export_missing_batches(conn, parquet_dir, source.raw_table, [pending.sha])
            report.files.append(file_report)
            if on_file:
                on_file(file_report)
        group.clear()

    pending_records = 0
    for path in landing_files(landing_dir, source):
        rel = path.relative_to(landing_dir).as_posix()
        stat = path.stat()
        if (rel, stat.st_size, stat.st_mtime_ns) in known:
            continue  # unchanged since it was ingested: not even read again
        sha = _sha256(path)
        if sha in known_hashes:
            group.append(_PendingFile(rel, sha, stat, [], duplicate=True))
            continue
        known_hashes.add(sha)
        pending = _PendingFile(rel, sha, stat, list(read_records(path)))
        group.append(pending)
        pending_records += len(pending.records)
        if pending_records >= _FLUSH_EVERY:
            load_group()
            pending_records = 0
    if group:
        load_group()
    return report


@dataclass
class _PendingFile:
    """A landing file read and waiting for its group's bulk check."""

    rel: str
    sha: str
    stat: object
    records: list[RawRecord]
    duplicate: bool = False

    @functools.cached_property
    def candidates(self) -> list[tuple[RawRecord, str]]:
        """The records that read cleanly, with the JSON text that would be their payload."""
        return [
            (r, json.dumps(r.parsed, ensure_ascii=False) if r.parsed is not None else r.text)
            for r in self.records
            if not r.problem
        ]


def _known_files(conn: duckdb.DuckDBPyConnection, source: LandingSource) -> dict[tuple, str]:
    rows = conn.execute(
        "select source_file, size_bytes, mtime_ns, file_sha256 from raw.ingested_files where source = ?",
        [source.name],
    ).fetchall()
    return {(path, size, mtime): sha for path, size, mtime, sha in rows}


def _record_duplicate_file(conn, source, rel, sha, stat, known, load_started_at) -> None:
    original = next((key[0] for key, value in known.items() if value == sha), None)
    conn.execute(
        "insert into raw.ingested_files values (?, ?, ?, ?, ?, 0, 0, 0, ?, ?, null, ?)",
        [
            source.name,
            rel,
            sha,
            stat.st_size,
            stat.st_mtime_ns,
            original or rel,
            _now(),
            load_started_at,
        ],
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _ingest_file(
    conn,
    source: LandingSource,
    pending: _PendingFile,
    verdicts: list[tuple[bool, datetime | None]],
    load_time: datetime | None,
    load_started_at: datetime,
) -> FileReport:
    rel, sha, stat = pending.rel, pending.sha, pending.stat
    file_report = FileReport(rel)
    window = LoadWindow.at(load_time)
    loaded_at = _now() if load_time is None else window.load_time.replace(tzinfo=None)
    quarantined: list[tuple] = []
    newest: list[datetime] = []  # at most one: the newest event time (UTC) of a loaded record

    def note_newest(moment: datetime | None) -> None:
        if moment is not None and (not newest or moment > newest[0]):
            newest[:] = [moment]

    def quarantine(line_number: int, field_name: str | None, reason: str, raw: str) -> None:
        reason = mask_phones_in_text(reason)
        quarantined.append(
            (
                source.name,
                rel,
                line_number,
                field_name,
                reason,
                raw[:_RAW_TEXT_LIMIT],
                sha,
                loaded_at,
            )
        )
        file_report.records_quarantined += 1
        # Group by reason without the offending value or list positions: metadata stays short.
        key = _LIST_INDEX.sub("[*]", _VALUE_IN_REASON.sub(":", reason))
        file_report.quarantine_reasons[key] = file_report.quarantine_reasons.get(key, 0) + 1

    conn.execute("begin transaction")
    try:
        file_report.records_read = len(pending.records)
        verdict_of = {
            record.line_number: verdict
            for (record, _), verdict in zip(pending.candidates, verdicts, strict=True)
        }
        text_of = {record.line_number: text for record, text in pending.candidates}
        lines: list[int] = []
        payloads: list[str] = []
        for record in pending.records:
            if record.problem:
                quarantine(record.line_number, None, record.problem, record.text)
                continue
            accepted, moment = verdict_of.get(record.line_number, (False, None))
            if accepted:  # the bulk query proved the record loads as it is
                note_newest(moment)
                lines.append(record.line_number)
                payloads.append(text_of[record.line_number])
                continue
            times: list[datetime] = []
            field_name, reason, payload = _validate(source, record, window, times)
            if reason is None:
                if times:
                    note_newest(max(times).astimezone(UTC).replace(tzinfo=None))
                lines.append(record.line_number)
                payloads.append(payload)
            else:
                quarantine(record.line_number, field_name, reason, record.text)
        frame = pd.DataFrame(
            {
                "record_id": [f"{sha[:16]}:{line}" for line in lines],
                "source_file": rel,
                "line_number": pd.array(lines, dtype="int64"),
                "payload": pd.array(payloads, dtype=object),
                "file_sha256": sha,
                "loaded_at": loaded_at,
            }
        )
        file_report.records_loaded = len(lines)
        raw_text = {record.line_number: record.text for record in pending.records}
        for line_number in sorted(_insert_loaded(conn, source, frame)):
            # The warehouse's own JSON parser has the last word: what it refuses is quarantined.
            file_report.records_loaded -= 1
            quarantine(line_number, None, "invalid JSON for the warehouse", raw_text[line_number])
        if quarantined:
            _insert_quarantine(conn, quarantined)
        conn.execute(
            "insert into raw.ingested_files values (?, ?, ?, ?, ?, ?, ?, ?, null, ?, ?, ?)",
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
                newest[0] if newest else None,
                load_started_at,
            ],
        )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return file_report


def _canonical(text: str) -> str | None:
    """The text as orjson (strict RFC 8259, one copy per key) re-serialises it, or None."""
    try:
        return orjson.dumps(orjson.loads(text)).decode()
    except (orjson.JSONDecodeError, orjson.JSONEncodeError, TypeError):
        return None


def _bulk_verdicts(
    conn,
    source: LandingSource,
    window: LoadWindow,
    files: list[list[tuple[RawRecord, str]]],
) -> list[list[tuple[bool, datetime | None]]]:
    """Per file, per candidate record: (accepted by the bulk query, its newest time, UTC).

    A record the query does not accept goes to the per-record path; so does every record
    if the query itself fails (it should not: the group is then only slower)."""
    texts = [text for candidates in files for _, text in candidates]
    refused = [[(False, None)] * len(candidates) for candidates in files]
    if not texts or not uses_bulk_check(source.name):
        return refused
    frame = pd.DataFrame(
        {
            "line_number": pd.array(range(len(texts)), dtype="int64"),
            "text": pd.array(texts, dtype=object),
            "canonical": pd.array([_canonical(t) for t in texts], dtype=object),
        }
    )
    conn.register("_landing_candidates", frame)
    try:
        rows = conn.execute(
            "select accepted, newest from ("
            + bulk_check_sql(source.name, window, "_landing_candidates")
            + ") order by line_number"
        ).fetchall()
    except duckdb.Error:
        return refused
    finally:
        conn.unregister("_landing_candidates")
    verdicts, start = [], 0
    for candidates in files:
        verdicts.append([(bool(a), n) for a, n in rows[start : start + len(candidates)]])
        start += len(candidates)
    return verdicts


def _insert_quarantine(conn, rows: list[tuple]) -> None:
    if len(rows) < 100:  # a few rows: cheaper than registering a frame
        conn.executemany("insert into raw.quarantine values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return
    frame = pd.DataFrame(
        rows,
        columns=[
            "source",
            "source_file",
            "line_number",
            "field",
            "reason",
            "raw_text",
            "file_sha256",
            "quarantined_at",
        ],
    ).astype(object)
    conn.register("_landing_quarantine", frame)
    try:
        conn.execute(
            "insert into raw.quarantine select source::varchar, source_file::varchar, "
            "line_number::integer, field::varchar, reason::varchar, raw_text::varchar, "
            "file_sha256::varchar, quarantined_at::timestamp from _landing_quarantine"
        )
    finally:
        conn.unregister("_landing_quarantine")


def _insert_loaded(conn, source: LandingSource, frame: pd.DataFrame) -> list[int]:
    """Insert the rows whose payload the warehouse accepts as JSON, in one statement;
    return the line numbers of those it refuses (none, unless the checks before missed a
    case)."""
    if frame.empty:
        return []
    accepted = "coalesce(json_valid(payload), false)"
    conn.register("_landing_batch", frame)
    try:
        (inserted,) = conn.execute(
            f"insert into raw.{source.raw_table} "
            "select record_id::varchar, source_file::varchar, line_number::integer, "
            "payload::json, file_sha256::varchar, loaded_at::timestamp "
            f"from _landing_batch where {accepted}"
        ).fetchone()
        refused = []
        if inserted != len(frame):  # only then look for which (a second pass over the batch)
            refused = conn.execute(
                f"select line_number from _landing_batch where not {accepted}"
            ).fetchall()
    finally:
        conn.unregister("_landing_batch")
    return [line for (line,) in refused]


class _NotStrictJson(ValueError):
    """Text Python's parser accepts that is not JSON (RFC 8259), or is ambiguous."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _reject_constant(name: str) -> None:
    raise _NotStrictJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotStrictJson(f"the number {text[:24]} is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    record = dict(pairs)
    if len(record) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        # Engines disagree on which copy wins (DuckDB reads the first, Python the last).
        raise _NotStrictJson(f"duplicate key '{duplicate}' in an object", field=duplicate)
    return record


def _parse_json(text: str) -> tuple[object, str | None, str | None]:
    """(value, field, reason): strict JSON, one value per key, finite numbers."""
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except _NotStrictJson as exc:
        return None, exc.field, f"invalid JSON: {exc}"
    except json.JSONDecodeError as exc:
        return None, None, f"invalid JSON: {exc.msg} at column {exc.colno}"
    except (RecursionError, ValueError) as exc:
        return None, None, f"invalid JSON: {type(exc).__name__}"
    return value, None, None


def _validate(
    source: LandingSource, record: RawRecord, window: LoadWindow, times: list[datetime]
) -> tuple[str | None, str | None, str]:
    """Return (field, reason, payload JSON): reason is None when the record loads."""
    if record.problem:
        return None, record.problem, ""
    if record.parsed is not None:
        value: object = record.parsed
    else:
        value, field_name, reason = _parse_json(record.text)
        if reason:
            return field_name, reason, ""
    if not isinstance(value, dict):
        return None, f"record is not a JSON object: {excerpt(value)}", ""
    reason = text_problem(value, record.text)
    if reason:
        return None, reason, ""
    try:
        source.record_model.model_validate(value)
    except ValidationError as exc:
        return _explain(exc)
    violation = check_record(source.name, value, window, times)
    if violation:
        return violation.field, violation.reason, ""
    if record.parsed is not None:
        return None, None, json.dumps(record.parsed, ensure_ascii=False)
    return None, None, record.text


def _explain(exc: ValidationError) -> tuple[str | None, str, str]:
    error = exc.errors(include_url=False)[0]
    location = ".".join(str(part) for part in error["loc"])
    if not location:
        return None, f"record is not a JSON object: {error['msg']}", ""
    if error["type"] == "missing":
        return location, f"missing required field '{location}'", ""
    return location, f"field '{location}' = {excerpt(error.get('input'))}: {error['msg']}", ""


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
