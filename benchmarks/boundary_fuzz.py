"""Fuzz the ingestion boundary: mutated records of every source through the real loader.

Good records come from a clean sample store (``sandbox.sample_store``, ``--no-mess``);
LightFunnels and PrestaShop records are the sample's WooCommerce / Shopify orders in
those vendors' shapes (``sandbox.contract_servers.sample_shapes``). Every record gets
one mutation whose outcome is known: *good* (BOMs, CRLF, UTF-16, quoted newlines,
U+2028 / form feed / ``\\x1c`` in text, escaped control characters, extra fields,
Arabic text, unix seconds where they are documented) must load at the physical line
where it starts; *bad* (truncation, missing and wrongly typed fields, huge numbers,
``NaN`` / ``Infinity``, raw control characters in JSON, NUL, duplicate keys, times in
2099 / 0001 / 1970 or in undocumented formats, latin-1 bytes, stray CSV quotes) must
be quarantined, costing no good neighbour. Prints and checks: 0 crashes, 0 good
records lost, 0 bad records loaded, read = loaded + quarantined in every file; with
``--dbt``, ``dbt build`` on what was loaded.

    .venv/bin/python -m benchmarks.boundary_fuzz --records 12000 [--dbt]
"""

from __future__ import annotations

import argparse
import codecs
import copy
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchmarks.boundary_mutations import (
    BAD,
    CSV_COLUMNS,
    GOOD,
    JSON_MUTATIONS,
    TARGETS,
    Mutated,
    mutate_csv,
)
from common.warehouse import connect
from connectors.ingestion import LANDING_SOURCES, SOURCES_BY_NAME, ingest_source

# --- good records ---------------------------------------------------------------------


def good_records(work: Path, customers: int, seed: int) -> tuple[dict[str, list[dict]], date]:
    """Clean records of every source from a sample store, and its end date."""
    from sandbox.contract_servers.sample_shapes import lightfunnels_order, prestashop_records
    from sandbox.sample_store import generate

    landing = work / "clean"
    summary = generate(
        landing, work / "truth", customers=customers, months=2, seed=seed, mess=False
    )
    found: dict[str, list[dict]] = {name: [] for name in TARGETS}
    for source in LANDING_SOURCES:
        for pattern in source.patterns:
            for path in sorted(landing.glob(pattern)):
                if path.suffix == ".csv":
                    with path.open(encoding="utf-8", newline="") as handle:
                        found[source.name] += [
                            {k: v for k, v in row.items() if v != ""}
                            for row in csv.DictReader(handle)
                        ]
                else:
                    found[source.name] += [
                        json.loads(line) for line in path.read_text("utf-8").splitlines()
                    ]
    for node in found["shopify_orders"]:
        found["lightfunnels_orders"].append(lightfunnels_order(node))
    for order in found["woocommerce_orders"]:
        shapes = prestashop_records(order)
        found["prestashop_orders"].append(
            {
                **shapes["order"],
                "cod360_related": {
                    "address_delivery": shapes["address"],
                    "customer": shapes["customer"],
                },
            }
        )
    return found, date.fromisoformat(summary.end_date)


# --- files ----------------------------------------------------------------------------


@dataclass
class Expected:
    source: str
    rel: str
    line: int
    kind: str
    expect: str


def _encode_line(text: str) -> bytes:
    if text.startswith("LATIN1:"):
        return text.removeprefix("LATIN1:").encode("latin-1")
    return text.encode("utf-8", "surrogatepass")


def write_file(
    landing: Path,
    rel: str,
    source: str,
    header: str | None,
    items: list[Mutated],
    rnd: random.Random,
) -> list[Expected]:
    """Write one file with a file-level variant (BOM, CRLF, UTF-16) and return what each
    record is expected to become, by the physical line where it starts."""
    variant = rnd.choice(["plain", "plain", "bom", "crlf", "bom_crlf", "utf16"])
    if variant == "utf16" and any(m.raw and m.raw.startswith("LATIN1:") for m in items):
        variant = "bom"
    newline = "\r\n" if "crlf" in variant else "\n"
    expected: list[Expected] = []
    lines: list[bytes] = []
    line_number = 1
    if header is not None:
        lines.append(header.encode())
        line_number += 1
    for item in items:
        text = item.raw if item.raw is not None else json.dumps(item.record, ensure_ascii=False)
        expected.append(Expected(source, rel, line_number, item.kind, item.expect))
        # A record spans as many physical lines as its quoted newlines make.
        body = text.removeprefix("LATIN1:")
        if header is not None:
            line_number += body.replace("\r\n", "\n").replace("\r", "\n").count("\n")
        lines.append(_encode_line(text))
        line_number += 1
    data = newline.encode().join(lines) + newline.encode()
    if variant == "utf16":
        data = codecs.BOM_UTF16_LE + data.decode("utf-8", "surrogatepass").encode(
            "utf-16-le", "surrogatepass"
        )
    elif "bom" in variant:
        data = codecs.BOM_UTF8 + data
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return expected


# --- the run --------------------------------------------------------------------------


@dataclass
class FuzzResult:
    mutated: int = 0
    files: int = 0
    crashes: int = 0
    good_lost: list[str] = field(default_factory=list)
    bad_loaded: list[str] = field(default_factory=list)
    unreconciled_files: list[str] = field(default_factory=list)
    by_source: dict[str, Counter] = field(default_factory=dict)
    by_kind: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    warehouse: Path | None = None


def run_fuzz(
    work: Path, *, records: int = 12_000, seed: int = 1, customers: int = 600, reuse: bool = True
) -> FuzzResult:
    """Mutate ``records`` records spread over every source, ingest them, check the fates.

    ``reuse``: a source with fewer good records than its share is sampled again (in other
    files); without it (for ``dbt build``, whose unique tests would see the copies) each
    source contributes at most its records.
    """
    started = time.perf_counter()
    rnd = random.Random(seed)
    pool, end = good_records(work, customers, seed)
    load_time = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=2)
    landing = work / "landing"
    csv_rows = [
        r for r in pool["carrier_tracking_events"] if all("," not in str(v) for v in r.values())
    ]
    lanes = [*TARGETS, "carrier_tracking_events:csv"]
    per_lane = max(1, -(-records // len(lanes)))  # rounded up: at least `records` in all
    expected: list[Expected] = []
    result = FuzzResult()
    for lane in lanes:
        source = lane.split(":")[0]
        candidates = csv_rows if lane.endswith(":csv") else pool[source]
        if not candidates:
            raise SystemExit(f"the sample store gave no record of {source}")
        count = per_lane if reuse else min(per_lane, len(candidates))
        chosen = [copy.deepcopy(candidates[i % len(candidates)]) for i in range(count)]
        items: list[Mutated] = []
        for record in chosen:
            if lane.endswith(":csv"):
                items.append(mutate_csv(record, rnd))
                continue
            mutated = None
            while mutated is None:
                mutated = rnd.choice(JSON_MUTATIONS)(source, copy.deepcopy(record), rnd)
            items.append(mutated)
        result.mutated += len(items)
        target = TARGETS[source]
        # A record reused from the pool is kept to its own file, so no file repeats an id.
        for file_index, start in enumerate(range(0, len(items), len(candidates))):
            chunk = items[start : start + len(candidates)]
            for part, offset in enumerate(range(0, len(chunk), 500)):
                suffix = "csv" if lane.endswith(":csv") else "jsonl"
                rel = f"{target.folder}/fuzz_{file_index:03d}_{part:03d}.{suffix}"
                header = ",".join(CSV_COLUMNS) if suffix == "csv" else None
                expected += write_file(
                    landing, rel, source, header, chunk[offset : offset + 500], rnd
                )
                result.files += 1

    warehouse = work / "warehouse.duckdb"
    result.warehouse = warehouse
    with connect(warehouse) as conn:
        for source in LANDING_SOURCES:
            try:
                ingest_source(conn, source, landing, load_time=load_time)
            except Exception as exc:
                result.crashes += 1
                print(f"CRASH {source.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        loaded = {
            (source.name, file, line)
            for source in LANDING_SOURCES
            for file, line in conn.execute(
                f"select source_file, line_number from raw.{SOURCES_BY_NAME[source.name].raw_table}"
            ).fetchall()
        }
        quarantined = {
            (source, file, line)
            for source, file, line in conn.execute(
                "select source, source_file, line_number from raw.quarantine"
            ).fetchall()
        }
        files = conn.execute(
            "select source, source_file, records_read, records_loaded, records_quarantined "
            "from raw.ingested_files"
        ).fetchall()
    written = Counter((e.source, e.rel) for e in expected)
    for source, rel, read, n_loaded, n_quarantined in files:
        if read != n_loaded + n_quarantined or read != written[(source, rel)]:
            result.unreconciled_files.append(f"{rel}: read {read}, wrote {written[(source, rel)]}")
    for e in expected:
        key = (e.source, e.rel, e.line)
        counts = result.by_source.setdefault(e.source, Counter())
        counts[e.expect] += 1
        result.by_kind[f"{e.kind} ({e.expect})"] += 1
        if e.expect == GOOD and key not in loaded:
            result.good_lost.append(f"{e.rel}:{e.line} {e.kind}")
        if e.expect == BAD and key not in quarantined:
            result.bad_loaded.append(f"{e.rel}:{e.line} {e.kind}")
    result.seconds = time.perf_counter() - started
    return result


def _dbt_build(warehouse: Path) -> int:
    from common.segments import dbt_vars_args
    from common.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR
    from common.warehouse import connect
    from connectors.phones import default_phone_region, refresh_phone_numbers

    # As the product runs it: the phone dimension (asset raw/phone_numbers) before dbt.
    with connect(warehouse) as conn:
        refresh_phone_numbers(conn, default_phone_region())
    env = {**os.environ, "COD360_WAREHOUSE": str(warehouse)}
    # The segment files are compiled before dbt, as the orchestration does.
    segment_vars = dbt_vars_args(env, DBT_PROJECT_DIR)
    with tempfile.TemporaryDirectory() as target:
        completed = subprocess.run(
            [DBT_EXECUTABLE, "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
             str(DBT_PROJECT_DIR), "--target-path", target, "--log-path", target, *segment_vars],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
    # dbt's own summary lines (and any failure), not its whole log.
    for line in completed.stdout.splitlines():
        if any(word in line for word in ("Done.", "ERROR", "FAIL", "Warning in", "Got ")):
            print("  dbt:", line.split("  ", 1)[-1].strip())
    return completed.returncode


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--records", type=int, default=12_000, help="mutated records in all (default 12000)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--customers", type=int, default=600, help="size of the clean sample store")
    parser.add_argument("--dbt", action="store_true", help="also run dbt build on what was loaded")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run_fuzz(
            Path(tmp),
            records=args.records,
            seed=args.seed,
            customers=args.customers,
            reuse=not args.dbt,
        )
        print(f"{result.mutated:,} mutated records in {result.files} files, {result.seconds:.1f} s")
        print(f"{'source':<26}{'good':>8}{'bad':>8}")
        for source, counts in sorted(result.by_source.items()):
            print(f"{source:<26}{counts[GOOD]:>8}{counts[BAD]:>8}")
        for kind, count in sorted(result.by_kind.items()):
            print(f"  {count:>6}  {kind}")
        print(f"crashes: {result.crashes}")
        print(f"good records lost: {len(result.good_lost)}  {result.good_lost[:5]}")
        print(f"bad records loaded: {len(result.bad_loaded)}  {result.bad_loaded[:5]}")
        print(
            f"files where read != loaded + quarantined or != written: {len(result.unreconciled_files)}  {result.unreconciled_files[:3]}"
        )
        ok = not (
            result.crashes or result.good_lost or result.bad_loaded or result.unreconciled_files
        )
        if args.dbt:
            code = _dbt_build(result.warehouse)
            print(f"dbt build on the loaded rest: {'green' if code == 0 else f'FAILED ({code})'}")
            ok = ok and code == 0
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
