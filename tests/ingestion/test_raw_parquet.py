"""Raw tables also as Parquet (COD360_RAW_PARQUET_DIR): one file per loaded batch, read
back to exactly the raw rows, never written twice, repaired after a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.settings import load_settings
from common.warehouse import connect
from connectors.ingestion import SOURCES_BY_NAME, ingest_source, raw_parquet
from connectors.phones import refresh_phone_numbers

LOAD_TIME = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SOURCE = SOURCES_BY_NAME["sms_events"]
# The load time is written UTC-adjusted (Spark reads it as its timestamp): the same instant.
COLUMNS = (
    "record_id, source_file, line_number, payload::varchar, file_sha256, "
    "timezone('UTC', loaded_at) as loaded_at"
)


def _event(i: int) -> str:
    return json.dumps(
        {
            "provider": "gw",
            "message_id": f"m{i}",
            "direction": "outbound",
            "phone": f"06123456{i % 100:02d}",
            "status": "sent",
            "event_time": "2026-03-01T10:00:00+01:00",
        }
    )


@pytest.fixture
def store(tmp_path: Path, monkeypatch):
    """A landing folder with two SMS files (one with a bad line) and the Parquet setting on."""
    landing, parquet = tmp_path / "landing", tmp_path / "parquet"
    monkeypatch.setenv("COD360_RAW_PARQUET_DIR", str(parquet))
    folder = landing / "messages" / "sms"
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text("".join(_event(i) + "\n" for i in range(5)) + "not json\n")
    (folder / "b.jsonl").write_text("".join(_event(i) + "\n" for i in range(5, 8)))
    return tmp_path / "warehouse.duckdb", landing, parquet


def _ingest(warehouse: Path, landing: Path):
    with connect(warehouse) as conn:
        return ingest_source(conn, SOURCE, landing, load_time=LOAD_TIME)


def _files(parquet: Path) -> dict[str, int]:
    return {
        p.relative_to(parquet).as_posix(): p.stat().st_mtime_ns
        for p in sorted(parquet.rglob("*"))
        if p.is_file()
    }


def _raw_and_parquet(warehouse: Path, parquet: Path):
    with connect(warehouse, read_only=True) as conn:
        raw = conn.execute(f"select {COLUMNS} from raw.sms_events order by all").fetchall()
        glob = str(parquet / "sms_events" / "*" / "*.parquet")
        files = conn.execute(
            f"select * from read_parquet('{glob}', hive_partitioning = false) order by all"
        ).fetchall()
        columns = conn.execute(
            f"describe select * from read_parquet('{glob}', hive_partitioning = false)"
        ).fetchall()
    return raw, files, [(name, kind) for name, kind, *_ in columns]


def test_the_setting_is_off_unless_set(monkeypatch):
    monkeypatch.delenv("COD360_RAW_PARQUET_DIR", raising=False)
    assert load_settings().raw_parquet_dir is None
    monkeypatch.setenv("COD360_RAW_PARQUET_DIR", "")
    assert load_settings().raw_parquet_dir is None


def test_each_loaded_file_becomes_one_parquet_file_with_the_raw_rows(store):
    warehouse, landing, parquet = store
    report = _ingest(warehouse, landing)
    assert (report.records_loaded, report.records_quarantined) == (8, 1)
    with connect(warehouse, read_only=True) as conn:
        shas = [sha for (sha,) in conn.execute(
            "select file_sha256 from raw.ingested_files order by source_file"
        ).fetchall()]  # fmt: skip
    assert sorted(_files(parquet)) == sorted(
        f"sms_events/load_date=2026-03-10/{sha}.parquet" for sha in shas
    )
    raw, files, columns = _raw_and_parquet(warehouse, parquet)
    assert len(raw) == 8 and files == raw
    assert [name for name, _ in columns] == [
        "record_id", "source_file", "line_number", "payload", "file_sha256", "loaded_at",
    ]  # fmt: skip
    assert dict(columns)["payload"] == "VARCHAR"
    # Partitioned by load date, as Spark reads it.
    with connect(warehouse, read_only=True) as conn:
        (load_dates,) = conn.execute(
            f"select list(distinct load_date::varchar) from read_parquet("
            f"'{parquet}/sms_events/*/*.parquet', hive_partitioning = true)"
        ).fetchone()
    assert load_dates == ["2026-03-10"]


def test_a_rerun_and_a_copy_of_a_file_write_nothing(store):
    warehouse, landing, parquet = store
    _ingest(warehouse, landing)
    before = _files(parquet)
    _ingest(warehouse, landing)
    (landing / "messages" / "sms" / "copy.jsonl").write_bytes(
        (landing / "messages" / "sms" / "b.jsonl").read_bytes()
    )
    report = _ingest(warehouse, landing)
    assert report.files_skipped == 1
    assert _files(parquet) == before
    raw, files, _ = _raw_and_parquet(warehouse, parquet)
    assert files == raw


def test_a_crash_after_the_commit_is_repaired_by_the_next_run(store, monkeypatch):
    warehouse, landing, parquet = store
    real_write = raw_parquet.write_batch

    def crash(conn, directory, batch):
        # The process dies after writing the temporary file, before the rename.
        target = raw_parquet.batch_path(directory, batch)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.with_name(f".{target.name}.tmp").write_bytes(b"PAR1 half")
        raise KeyboardInterrupt

    monkeypatch.setattr(raw_parquet, "write_batch", crash)
    with pytest.raises(KeyboardInterrupt):
        _ingest(warehouse, landing)
    # a.jsonl was committed; its Parquet file is missing, and no partial one is visible.
    assert [p for p in _files(parquet) if p.endswith(".parquet")] == []
    monkeypatch.setattr(raw_parquet, "write_batch", real_write)
    report = _ingest(warehouse, landing)
    assert [f.source_file for f in report.files] == ["messages/sms/b.jsonl"]
    raw, files, _ = _raw_and_parquet(warehouse, parquet)
    assert len(raw) == 8 and files == raw
    assert not any(p.endswith(".tmp") for p in _files(parquet))


def test_phone_numbers_are_exported_per_refresh(store):
    warehouse, landing, parquet = store
    _ingest(warehouse, landing)
    with connect(warehouse) as conn:
        refresh_phone_numbers(conn, "MA")
        refresh_phone_numbers(conn, "MA")  # nothing new: no new row, no new file
        rows = conn.execute(
            "select phone_raw, default_region, phone_e164, phone_is_valid, phone_region, "
            # Written UTC-adjusted (Spark reads it as its timestamp): the same instant.
            "timezone('UTC', normalised_at) from raw.phone_numbers order by all"
        ).fetchall()
        files = conn.execute(
            f"select * from read_parquet('{parquet}/phone_numbers/*/*.parquet', "
            "hive_partitioning = false) order by all"
        ).fetchall()
    assert len(rows) == 8 and files == rows
    assert len(list((parquet / "phone_numbers").rglob("*.parquet"))) == 1
