"""The phone dimension: every distinct raw phone string, normalised to E.164 once.

``raw.phone_numbers`` holds one row per (raw phone string, default region) with its
E.164 form, as ``phonenumbers`` (Google's libphonenumber metadata) gives it. It is
filled after the raw tables load and before dbt (asset ``raw/phone_numbers``); dbt
reads it as the source ``raw.phone_numbers`` (``int_phone_numbers``). Doing it here
rather than in a dbt Python model keeps the dbt project pure SQL (dbt-spark runs
Python models only on Databricks) and makes a run cost in proportion to what is new:

- only raw files not scanned yet for the region are read (``raw.phone_number_scans``,
  keyed by raw table, region and file hash: robust to loads with any ``loaded_at``);
- only strings not already in the dimension for the region reach ``phonenumbers``.

The strings are taken from the same payload fields the staging models read
(``stg_*.phone_raw``, the WhatsApp wa_ids); a string the staging models would not
keep is harmless here, since ``int_phone_numbers`` keeps only the strings staging
holds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import phonenumbers

from common.settings import load_settings
from common.warehouse import table_exists
from connectors.ingestion.raw_parquet import export_missing_batches

# SPEC §2.3: the region of numbers written without a country code; the dbt var
# `default_phone_region` (dbt_project.yml) is the same setting on the dbt side.
DEFAULT_PHONE_REGION = "MA"
PHONE_REGION_ENV = "COD360_DEFAULT_PHONE_REGION"

_DDL = """
create schema if not exists raw;
create table if not exists raw.phone_numbers (
    phone_raw varchar not null,
    default_region varchar not null,
    phone_e164 varchar,
    phone_is_valid boolean not null,
    phone_region varchar,
    normalised_at timestamp not null
);
create table if not exists raw.phone_number_scans (
    raw_table varchar not null,
    default_region varchar not null,
    file_sha256 varchar not null,
    scanned_at timestamp not null
);
"""


def default_phone_region(env=None) -> str:
    """The default region: ``COD360_DEFAULT_PHONE_REGION``, else ``MA``."""
    env = os.environ if env is None else env
    return (env.get(PHONE_REGION_ENV) or "").strip().upper() or DEFAULT_PHONE_REGION


def normalise_phone(raw, region: str) -> tuple[str | None, bool, str | None]:
    """(E.164 or None, valid, region of the number or None) of one raw phone string."""
    if raw is None or not str(raw).strip():
        return None, False, None
    text = str(raw).strip()
    # "00212…" is the international prefix written out; WhatsApp wa_ids and some
    # gateways drop the "+" ("212…"). Both are international numbers.
    if text.startswith("00"):
        text = "+" + text[2:]
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text.startswith("+") and not text.startswith("0") and len(digits) > 10:
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, False, None
    valid = phonenumbers.is_valid_number(number)
    e164 = (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if valid else None
    )
    return e164, valid, phonenumbers.region_code_for_number(number) if valid else None


# --------------------------------------------------------------------------- extraction


def _text(value) -> str | None:
    """A JSON value as DuckDB's ``->>`` renders it (None for null and containers)."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _path(payload, *keys):
    for key in keys:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def _first(payload, paths, skip_empty: bool) -> list[str]:
    """``coalesce`` of the paths (with ``nullif(…, '')`` when ``skip_empty``)."""
    for path in paths:
        text = _text(_path(payload, *path))
        if text is None or (skip_empty and text == ""):
            continue
        return [text]
    return []


def _coalesce(*paths: tuple[str, ...], skip_empty: bool = False) -> Callable[[dict], list[str]]:
    return lambda payload: _first(payload, paths, skip_empty)


def _tiktok_phones(payload) -> list[str]:
    found = []
    for field in _path(payload, "field_data") or []:
        if isinstance(field, dict) and str(field.get("name") or "").lower() in (
            "phone_number",
            "phone",
        ):
            values = field.get("values")
            text = _text(values[0]) if isinstance(values, list) and values else None
            if text is not None:
                found.append(text)
    return found


def _whatsapp_phones(payload) -> list[str]:
    # statuses[*].recipient_id, messages[*].from, user_preferences[*].wa_id of every
    # entry[*].changes[*].value, as the three WhatsApp staging models read them.
    found = []
    for entry in _path(payload, "entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = _path(change, "value") or {}
            for items, key in (
                ("statuses", "recipient_id"),
                ("messages", "from"),
                ("user_preferences", "wa_id"),
            ):
                for item in value.get(items) or [] if isinstance(value, dict) else []:
                    text = _text(_path(item, key))
                    if text is not None:
                        found.append(text)
    return found


@dataclass(frozen=True)
class PhoneField:
    """Where the phones of one raw table are: its name and a payload → strings function."""

    raw_table: str
    extract: Callable[[dict], list[str]]


# The payload fields of stg_<source>.phone_raw / the wa_id columns (see each model).
PHONE_FIELDS: tuple[PhoneField, ...] = (
    PhoneField(
        "shopify_orders",
        _coalesce(("shippingAddress", "phone"), ("phone",), ("customer", "phone")),
    ),
    # Shopify's order webhooks carry the REST shape (snake_case) of the same order.
    PhoneField(
        "shopify_webhook_orders",
        _coalesce(("shipping_address", "phone"), ("phone",), ("customer", "phone")),
    ),
    PhoneField(
        "woocommerce_orders",
        _coalesce(("billing", "phone"), ("shipping", "phone"), skip_empty=True),
    ),
    PhoneField("youcan_orders", _coalesce(("customer", "phone"), ("shipping", "address", "phone"))),
    PhoneField(
        "lightfunnels_orders",
        _coalesce(
            ("shipping_address", "phone"), ("phone",), ("customer", "phone"), skip_empty=True
        ),
    ),
    PhoneField(
        "prestashop_orders",
        _coalesce(
            ("cod360_related", "address_delivery", "phone_mobile"),
            ("cod360_related", "address_delivery", "phone"),
            skip_empty=True,
        ),
    ),
    PhoneField("tiktok_leads", _tiktok_phones),
    PhoneField("sms_events", _coalesce(("phone",))),
    PhoneField("whatsapp_webhooks", _whatsapp_phones),
)


def phones_in_payloads(field: PhoneField, payloads: Iterable[str]) -> Iterator[str]:
    """The raw phone strings of a table's JSON payloads (a bad payload gives none)."""
    for text in payloads:
        try:
            payload = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(payload, dict):
            yield from field.extract(payload)


# --------------------------------------------------------------------------- dimension


def ensure_phone_tables(conn) -> None:
    """Create ``raw.phone_numbers`` and its scan log, so dbt never misses the source."""
    conn.execute(_DDL)


@dataclass(frozen=True)
class PhoneRunReport:
    """What one refresh of the dimension did."""

    region: str
    files_scanned: int
    strings_seen: int
    strings_normalised: int
    dimension_rows: int


def refresh_phone_numbers(
    conn,
    region: str | None = None,
    fields: Iterable[PhoneField] = PHONE_FIELDS,
    parquet_dir: Path | None = None,
) -> PhoneRunReport:
    """Normalise the phone strings of raw files not scanned yet; append the new ones.

    One transaction: a killed run leaves the dimension and the scan log as they were.
    ``parquet_dir`` (default: the ``COD360_RAW_PARQUET_DIR`` setting, off when unset):
    each refresh's rows are also written there as Parquet after the commit, with any
    earlier refresh a crash left without its file (``connectors/ingestion/raw_parquet.py``).
    """
    region = (region or default_phone_region()).upper()
    ensure_phone_tables(conn)
    seen: set[str] = set()
    new_files: list[tuple[str, str]] = []
    conn.execute("begin transaction")
    try:
        for field in fields:
            if not table_exists(conn, "raw", field.raw_table):
                continue
            rows = conn.execute(
                f"""
                select file_sha256, cast(payload as varchar)
                from raw.{field.raw_table} as t
                where not exists (
                    select 1 from raw.phone_number_scans as s
                    where s.raw_table = ? and s.default_region = ?
                      and s.file_sha256 = t.file_sha256
                )
                """,
                [field.raw_table, region],
            ).fetchall()
            seen.update(phones_in_payloads(field, (payload for _, payload in rows)))
            new_files += sorted({(field.raw_table, sha) for sha, _ in rows})
        known = {
            raw
            for (raw,) in conn.execute(
                "select phone_raw from raw.phone_numbers where default_region = ?", [region]
            ).fetchall()
        }
        fresh = sorted(seen - known)
        records = [(raw, region, *normalise_phone(raw, region)) for raw in fresh]
        if records:
            # One insert from a frame: executemany runs one statement per row (90 s of
            # the 140 s of a first refresh at 100 000 orders).
            frame = pd.DataFrame(
                records,
                columns=[
                    "phone_raw",
                    "default_region",
                    "phone_e164",
                    "phone_is_valid",
                    "phone_region",
                ],
            ).astype("object")
            conn.register("_new_phone_numbers", frame)
            try:
                conn.execute(
                    "insert into raw.phone_numbers select phone_raw, default_region, phone_e164, "
                    "phone_is_valid, phone_region, current_timestamp from _new_phone_numbers"
                )
            finally:
                conn.unregister("_new_phone_numbers")
        if new_files:
            conn.executemany(
                "insert into raw.phone_number_scans values (?, ?, ?, current_timestamp)",
                [(table, region, sha) for table, sha in new_files],
            )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    parquet_dir = parquet_dir or load_settings().raw_parquet_dir
    if parquet_dir:
        export_missing_batches(conn, parquet_dir, "phone_numbers")
    (total,) = conn.execute(
        "select count(*) from raw.phone_numbers where default_region = ?", [region]
    ).fetchone()
    return PhoneRunReport(
        region=region,
        files_scanned=len(new_files),
        strings_seen=len(seen),
        strings_normalised=len(records),
        dimension_rows=total,
    )


def main() -> None:
    """``python -m connectors.phones``: refresh the dimension of the configured warehouse."""
    from common.warehouse import connect

    with connect(load_settings().warehouse_path) as conn:
        report = refresh_phone_numbers(conn)
    print(
        f"raw.phone_numbers ({report.region}): {report.files_scanned} new file(s) scanned, "
        f"{report.strings_normalised} new string(s) normalised, {report.dimension_rows} rows"
    )


if __name__ == "__main__":
    main()
