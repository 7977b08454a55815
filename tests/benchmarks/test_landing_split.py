"""The base / delta split of the scale benchmark keeps every record, once, per file."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.landing_split import copy_landing, count_records, delta_name, split_landing
from connectors.ingestion import LANDING_SOURCES
from connectors.ingestion.loader import landing_files

CSV_HEADER = b"carrier,tracking_number,order_ref,raw_status,event_time,city,comment,event_id\n"


def _csv_row(i: int) -> bytes:
    return f"sendit,T{i},shopify:{i},livré,2026-03-01T10:00:00+01:00,Rabat,,E{i}\n".encode()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    (root / "orders" / "shopify").mkdir(parents=True)
    (root / "tracking" / "sendit").mkdir(parents=True)
    # 200 records, a blank line (not a record) and no newline after the last one.
    lines = [f'{{"id":"gid://shopify/Order/{i}"}}\n'.encode() for i in range(199)]
    lines.insert(50, b"\n")
    lines.append(b'{"id":"gid://shopify/Order/199"}')
    (root / "orders" / "shopify" / "orders_2026-03.jsonl").write_bytes(b"".join(lines))
    (root / "orders" / "shopify" / "orders_2026-04.jsonl").write_bytes(b'{"id":"x"}\n')
    (root / "tracking" / "sendit" / "events_2026-03.csv").write_bytes(
        CSV_HEADER + b"".join(_csv_row(i) for i in range(300))
    )
    (root / "tracking" / "sendit" / "events_2026-05.csv.tmp").write_bytes(CSV_HEADER)
    return root


def test_base_plus_delta_is_the_original_file_by_file(landing: Path, tmp_path: Path) -> None:
    base, delta = tmp_path / "base", tmp_path / "delta"
    splits = {s.path: s for s in split_landing(landing, base, delta, delta_fraction=0.01)}

    # The file still being written (.tmp) is not a landing file: not split.
    assert set(splits) == {
        "orders/shopify/orders_2026-03.jsonl",
        "orders/shopify/orders_2026-04.jsonl",
        "tracking/sendit/events_2026-03.csv",
    }
    for rel, split in splits.items():
        original = landing / rel
        assert split.records == count_records(original)
        assert split.base_records + split.delta_records == split.records
        assert count_records(base / rel) == split.base_records
        if split.delta_path:
            assert count_records(delta / split.delta_path) == split.delta_records
        else:
            assert split.delta_records == 0
    assert (splits["orders/shopify/orders_2026-03.jsonl"].delta_records) == 2
    assert splits["tracking/sendit/events_2026-03.csv"].delta_records == 3
    assert splits["orders/shopify/orders_2026-04.jsonl"].delta_path is None  # 1 record: base only

    jsonl = "orders/shopify/orders_2026-03.jsonl"
    delta_jsonl = delta / splits[jsonl].delta_path
    assert (base / jsonl).read_bytes() + delta_jsonl.read_bytes() == (landing / jsonl).read_bytes()
    # The delta is the latest traffic: the last records of the file.
    assert delta_jsonl.read_bytes().endswith(b'{"id":"gid://shopify/Order/199"}')

    csv = "tracking/sendit/events_2026-03.csv"
    delta_csv = (delta / splits[csv].delta_path).read_bytes()
    assert (base / csv).read_bytes().startswith(CSV_HEADER)
    assert delta_csv.startswith(CSV_HEADER)
    assert (base / csv).read_bytes() + delta_csv[len(CSV_HEADER) :] == (landing / csv).read_bytes()


def test_delta_files_are_new_closed_files_of_the_same_source(landing: Path, tmp_path: Path) -> None:
    base, delta, target = tmp_path / "base", tmp_path / "delta", tmp_path / "target"
    splits = split_landing(landing, base, delta, delta_fraction=0.01)
    copy_landing(base, target)
    before = {source.name: landing_files(target, source) for source in LANDING_SOURCES}
    copied = copy_landing(delta, target)

    assert copied == sum(1 for s in splits if s.delta_path)
    for split in splits:
        if not split.delta_path:
            continue
        assert Path(split.delta_path) == delta_name(Path(split.path))
        new_file = target / split.delta_path
        owners = [s.name for s in LANDING_SOURCES if new_file in landing_files(target, s)]
        original_owners = [s.name for s in LANDING_SOURCES if target / split.path in before[s.name]]
        assert owners == original_owners and len(owners) == 1
    assert not list(target.rglob("*.tmp"))  # published closed


def test_sample_store_files_reconcile(tmp_path: Path) -> None:
    from sandbox.sample_store import generate

    generated = tmp_path / "generated"
    generate(generated, tmp_path / "truth", orders=300, seed=3)
    splits = split_landing(generated, tmp_path / "base", tmp_path / "delta")

    assert splits
    for split in splits:
        assert split.base_records + split.delta_records == split.records
        assert split.records == count_records(generated / split.path)
        assert count_records(tmp_path / "base" / split.path) == split.base_records
    total = sum(s.records for s in splits)
    assert 0 < sum(s.delta_records for s in splits) <= 0.02 * total
