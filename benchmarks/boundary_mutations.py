"""Mutations for the boundary fuzz (``boundary_fuzz.py``): where to hit each source,
and one function per kind of damage, each saying whether the record stays *good*
(must load) or turns *bad* (must be quarantined)."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
    # Its times are calendar dates (no time mutation of this kind: checked in
    # tests/ingestion/test_remittances.py); tracking_number / order_ref are "one of".
    "carrier_remittances": Target(
        "remittances/fuzz",
        (
            "carrier",
            "statement_id",
            "currency",
            "period_start",
            "period_end",
            "payout_date",
            "amount_collected",
            "fees",
            "paid_out_amount",
        ),
        None,
        "date",
        money="amount_collected",
        text="statement_id",
    ),
    "email_events": Target(
        "messages/email",
        ("provider", "message_id", "event", "recipient", "event_time"),
        "event_time",
        "iso",
        text="template",
    ),
}


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
