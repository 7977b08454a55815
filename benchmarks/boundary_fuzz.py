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
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from common.warehouse import connect
from connectors.ingestion import LANDING_SOURCES, SOURCES_BY_NAME, ingest_source

GOOD, BAD = "good", "bad"


@dataclass(frozen=True)
class Target:
    """Where to hit one source: required fields, a money or number field, a timestamp
    field and its format, a free-text field."""

    folder: str
    required: tuple[str, ...]
    time: str | None
    time_format: str  # iso | naive | naive_t | epoch
    epoch_allowed: bool = False
    money: str | None = None
    text: str | None = None


TARGETS: dict[str, Target] = {
    "shopify_orders": Target(
        "orders/shopify",
        ("id", "createdAt", "updatedAt"),
        "createdAt",
        "iso",
        money="totalPriceSet.shopMoney.amount",
        text="shippingAddress.city",
    ),
    "woocommerce_orders": Target(
        "orders/woocommerce",
        ("id", "status", "date_created_gmt", "total"),
        "date_created_gmt",
        "naive_t",
        money="total",
        text="billing.city",
    ),
    "youcan_orders": Target(
        "orders/youcan",
        ("id", "created_at", "total"),
        "created_at",
        "iso",
        money="total",
        text="customer.city",
    ),
    "lightfunnels_orders": Target(
        "orders/lightfunnels/fuzz",
        ("_id", "created_at", "total"),
        "created_at",
        "naive",
        money="total",
        text="shipping_address.city",
    ),
    "prestashop_orders": Target(
        "orders/prestashop/fuzz",
        ("id", "date_add", "total_paid", "current_state"),
        "date_add",
        "naive",
        money="total_paid",
        text="cod360_related.address_delivery.city",
    ),
    "tiktok_leads": Target(
        "leads/tiktok",
        ("lead_id", "create_time", "field_data"),
        "create_time",
        "iso",
        epoch_allowed=True,
        text="ad_name",
    ),
    "carrier_tracking_events": Target(
        "tracking/fuzz",
        ("carrier", "tracking_number", "order_ref", "raw_status", "event_time"),
        "event_time",
        "iso",
        text="comment",
    ),
    "whatsapp_webhooks": Target(
        "messages/whatsapp", ("object", "entry"), None, "epoch", epoch_allowed=True
    ),
    "sms_events": Target(
        "messages/sms",
        ("provider", "message_id", "direction", "phone", "status", "event_time"),
        "event_time",
        "iso",
        text="body",
    ),
    "lead_signals": Target(
        "signals/fuzz",
        ("order_ref", "session_id", "event_time"),
        "event_time",
        "iso",
        money="time_on_page_s",
        text="device",
    ),
}


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


# --- paths ----------------------------------------------------------------------------


def _parts(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in path.split(".")]


def _get(record: Any, path: str) -> Any:
    for part in _parts(path):
        try:
            record = record[part]
        except (KeyError, IndexError, TypeError):
            return None
    return record


def _set(record: Any, path: str, value: Any) -> bool:
    *parents, last = _parts(path)
    for part in parents:
        try:
            record = record[part]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(record, dict) or (isinstance(record, list) and isinstance(last, int)):
        record[last] = value
        return True
    return False


def _whatsapp_time_path(record: dict) -> str | None:
    value = _get(record, "entry.0.changes.0.value") or {}
    for kind in ("statuses", "messages", "user_preferences"):
        if value.get(kind):
            return f"entry.0.changes.0.value.{kind}.0.timestamp"
    return None


# --- mutations ------------------------------------------------------------------------


@dataclass
class Mutated:
    """One record as it will be written: its text (a line, or a CSV row) and its fate."""

    kind: str
    expect: str
    record: dict | None = None  # serialised by the writer when no raw text is forced
    raw: str | None = None


def _format_time(moment: datetime, fmt: str) -> Any:
    if fmt == "iso":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "naive_t":
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if fmt == "naive":
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return str(int(moment.timestamp()))


def _time_format(value: Any, default: str) -> str:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return "epoch"
    if isinstance(value, str) and len(value) == 19:
        return "naive_t" if "T" in value else "naive"
    return default


Mutation = Callable[[str, dict, random.Random], Mutated | None]


def _untouched(source, record, rnd):
    return Mutated("untouched", GOOD, record)


def _extra_field(source, record, rnd):
    return Mutated("extra_field", GOOD, {**record, "x_fuzz_extra": {"nested": [1, "a"]}})


def _unicode_text(source, record, rnd):
    target = TARGETS[source]
    if not target.text:
        return None
    value = rnd.choice(["الدار البيضاء", "Fès 🚚", "Meknès – centre", "  Tanger  "])
    return Mutated("unicode_text", GOOD, record) if _set(record, target.text, value) else None


def _separators_escaped(source, record, rnd):
    target = TARGETS[source]
    if not target.text:
        return None
    value = rnd.choice(["a\u2028b", "page\fsuivante", "g\x1cs\x1d\x1e", "x\ny", "NEL\x85", "tab\t"])
    return Mutated("separators_in_text", GOOD, record) if _set(record, target.text, value) else None


def _raw_u2028(source, record, rnd):
    target = TARGETS[source]
    if not target.text or source == "carrier_tracking_events:csv":
        return None
    _set(record, target.text, "PLACEHOLDER_2028")
    raw = json.dumps(record, ensure_ascii=False).replace("PLACEHOLDER_2028", "ligne\u2028suivante")
    return Mutated("raw_u2028_in_json_string", GOOD, raw=raw)


def _raw_control(source, record, rnd):
    target = TARGETS[source]
    if not target.text:
        return None
    _set(record, target.text, "PLACEHOLDER_CTRL")
    raw = json.dumps(record, ensure_ascii=False).replace(
        "PLACEHOLDER_CTRL", rnd.choice(["a\fb", "a\x1cb", "a\x01b"])
    )
    return Mutated("raw_control_char_in_json", BAD, raw=raw)


def _truncate(source, record, rnd):
    text = json.dumps(record, ensure_ascii=False)
    return Mutated("truncated", BAD, raw=text[: rnd.randint(1, len(text) - 1)])


def _drop_required(source, record, rnd):
    name = rnd.choice(TARGETS[source].required)
    record.pop(name, None)
    return Mutated(f"missing_{name}", BAD, record)


def _wrong_type(source, record, rnd):
    name = rnd.choice(TARGETS[source].required)
    record[name] = rnd.choice([{"nested": True}, [1, 2], True]) if name != "entry" else "x"
    if name in ("field_data",) and isinstance(record[name], list):
        record[name] = "x"
    return Mutated(f"wrong_type_{name}", BAD, record)


def _huge_money(source, record, rnd):
    target = TARGETS[source]
    if not target.money or _get(record, target.money) is None:
        return None
    value = rnd.choice(["1e308", 1e308, 10**30, "-1", "99999999999999.99", -0.5, "12,50"])
    _set(record, target.money, value)
    return Mutated("huge_or_negative_amount", BAD, record)


def _nan(source, record, rnd):
    target = TARGETS[source]
    if not target.money or _get(record, target.money) is None:
        return None
    choice = rnd.choice(['"NaN"', '"Infinity"', "NaN", "Infinity", "-Infinity", "1e400"])
    _set(record, target.money, "PLACEHOLDER_NAN")
    raw = json.dumps(record, ensure_ascii=False).replace('"PLACEHOLDER_NAN"', choice)
    return Mutated("nan_or_infinity", BAD, raw=raw)


def _time_path(source: str, record: dict) -> str | None:
    return _whatsapp_time_path(record) if source == "whatsapp_webhooks" else TARGETS[source].time


def _bad_time(source, record, rnd):
    path = _time_path(source, record)
    if not path or _get(record, path) is None:
        return None
    fmt = _time_format(_get(record, path), TARGETS[source].time_format)
    moment = rnd.choice(
        [
            datetime(2099, 12, 31, tzinfo=UTC),
            datetime(1970, 1, 1, tzinfo=UTC),
            datetime(2001, 5, 5, tzinfo=UTC),
        ]
    )
    value = _format_time(moment, fmt)
    if rnd.random() < 0.2 and fmt != "epoch":
        value = value.replace("2099", "0001").replace("1970", "0001").replace("2001", "0001")
    _set(record, path, value)
    return Mutated("time_out_of_window", BAD, record)


def _undocumented_time(source, record, rnd):
    path = _time_path(source, record)
    if not path or _get(record, path) is None:
        return None
    original = _get(record, path)
    fmt = _time_format(original, TARGETS[source].time_format)
    if fmt == "epoch":
        _set(record, path, "2026-03-01T10:00:00Z")  # ISO where unix seconds are documented
    elif fmt == "iso":
        _set(
            record,
            path,
            rnd.choice(["01/03/2026 10:00", "2026-03-01T10:00:00", "2026-02-31T10:00:00Z", ""]),
        )
    else:
        options = ["01/03/2026 10:00:00", "yesterday", "2026-03-01"]
        if source != "lightfunnels_orders":  # LightFunnels documents ISO with an offset too
            options.append("2026-03-01T10:00:00+01:00")
        _set(record, path, rnd.choice(options))
    return Mutated("undocumented_time_format", BAD, record)


def _epoch_for_iso(source, record, rnd):
    target = TARGETS[source]
    path = _time_path(source, record)
    if source == "whatsapp_webhooks" or not path or not isinstance(_get(record, path), str):
        return None
    original = _get(record, path)
    try:
        moment = datetime.fromisoformat(original.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    _set(record, path, int(moment.timestamp()))
    return Mutated("unix_seconds", GOOD if target.epoch_allowed else BAD, record)


def _duplicate_key(source, record, rnd):
    name = rnd.choice(TARGETS[source].required)
    text = json.dumps(record, ensure_ascii=False)
    raw = text[:-1] + f", {json.dumps(name)}: {json.dumps(record.get(name))}" + "}"
    return Mutated("duplicate_key", BAD, raw=raw)


def _nul(source, record, rnd):
    target = TARGETS[source]
    if not target.text:
        return None
    return Mutated("nul_in_text", BAD, record) if _set(record, target.text, "a\x00b") else None


def _lone_surrogate(source, record, rnd):
    target = TARGETS[source]
    if not target.text:
        return None
    _set(record, target.text, "PLACEHOLDER_SUR")
    raw = json.dumps(record, ensure_ascii=False).replace("PLACEHOLDER_SUR", "\\ud83d")
    return Mutated("lone_surrogate", BAD, raw=raw)


def _not_an_object(source, record, rnd):
    return Mutated(
        "not_an_object", BAD, raw=rnd.choice(["[1, 2]", '"text"', "42", "null", "[" * 5000])
    )


JSON_MUTATIONS: tuple[Mutation, ...] = (
    _untouched,
    _extra_field,
    _unicode_text,
    _separators_escaped,
    _raw_u2028,
    _raw_control,
    _truncate,
    _drop_required,
    _wrong_type,
    _huge_money,
    _nan,
    _bad_time,
    _undocumented_time,
    _epoch_for_iso,
    _duplicate_key,
    _nul,
    _lone_surrogate,
    _not_an_object,
)

CSV_COLUMNS = [
    "carrier",
    "tracking_number",
    "order_ref",
    "raw_status",
    "event_time",
    "city",
    "comment",
    "event_id",
]


def _csv_line(row: dict) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([row.get(c, "") or "" for c in CSV_COLUMNS])
    return buffer.getvalue().removesuffix("\r\n")


def mutate_csv(row: dict, rnd: random.Random) -> Mutated:
    """One CSV envelope row, mutated."""
    kind = rnd.choice(
        [
            "untouched",
            "multiline",
            "separators",
            "quotes",
            "stray_quote",
            "short_row",
            "blank_required",
            "bad_time",
            "future",
            "nul",
            "latin1",
        ]
    )
    row = dict(row)
    if kind == "multiline":
        row["comment"] = rnd.choice(["client injoignable\nrappeler", "a\r\nb\r\nc", "fin\r"])
        return Mutated(kind, GOOD, raw=_csv_line(row))
    if kind == "separators":
        row["comment"] = rnd.choice(["a\u2028b", "p\fq", "g\x1ch", "NEL\x85", "\u2029"])
        return Mutated(kind, GOOD, raw=_csv_line(row))
    if kind == "quotes":
        row["comment"] = 'il a dit "demain", pas "aujourd\'hui"'
        return Mutated(kind, GOOD, raw=_csv_line(row))
    if kind == "stray_quote":
        values = _csv_line(row).split(",")
        values[6] = '"rappeler'
        return Mutated(kind, BAD, raw=",".join(values))
    if kind == "short_row":
        return Mutated(kind, BAD, raw=",".join(_csv_line(row).split(",")[:3]))
    if kind == "blank_required":
        row[rnd.choice(["tracking_number", "carrier", "raw_status", "event_time"])] = ""
        return Mutated(kind, BAD, raw=_csv_line(row))
    if kind == "bad_time":
        row["event_time"] = rnd.choice(
            ["2026-03-01 10:00:00", "01/03/2026 10:00", "1772362800", "31/02/2026 25:61"]
        )
        return Mutated(kind, BAD, raw=_csv_line(row))
    if kind == "future":
        row["event_time"] = rnd.choice(
            ["2099-01-01T00:00:00+01:00", "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z"]
        )
        return Mutated(kind, BAD, raw=_csv_line(row))
    if kind == "nul":
        row["comment"] = "a\x00b"
        return Mutated(kind, BAD, raw=_csv_line(row))
    if kind == "latin1":
        row["city"] = "Fès"
        return Mutated(kind, BAD, raw="LATIN1:" + _csv_line(row))
    return Mutated(kind, GOOD, raw=_csv_line(row))


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
    from common.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR

    env = {**os.environ, "COD360_WAREHOUSE": str(warehouse)}
    with tempfile.TemporaryDirectory() as target:
        completed = subprocess.run(
            [DBT_EXECUTABLE, "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
             str(DBT_PROJECT_DIR), "--target-path", target, "--log-path", target],
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
