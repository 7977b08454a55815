"""Phone normalisation before dbt (connectors/phones.py: phonenumbers, region MA)."""

from __future__ import annotations

import json

import duckdb
import pytest

from connectors.ingestion.loader import ensure_raw_tables
from connectors.phones import (
    default_phone_region,
    normalise_phone,
    refresh_phone_numbers,
)


@pytest.mark.parametrize(
    "raw",
    [
        "0612345678",
        "06 12 34 56 78",
        "06-12-34-56-78",
        "+212 6-12-34-56-78",
        "+212612345678",
        "00212612345678",
        "00212 6 12 34 56 78",
        "212612345678",  # a WhatsApp wa_id
        "612345678",  # the leading 0 dropped
        " (+212) 612 345 678 ",
    ],
)
def test_every_way_of_writing_a_moroccan_mobile_gives_one_key(raw):
    assert normalise_phone(raw, "MA") == ("+212612345678", True, "MA")


def test_landlines_and_foreign_numbers_keep_their_country():
    assert normalise_phone("0522 22 33 44", "MA")[0] == "+212522223344"
    assert normalise_phone("+33 6 12 34 56 78", "MA") == ("+33612345678", True, "FR")


@pytest.mark.parametrize("raw", ["", "   ", None, "12345", "06123", "abc", "+212 1111"])
def test_invalid_numbers_have_no_key(raw):
    e164, valid, _ = normalise_phone(raw, "MA")
    assert e164 is None and valid is False


def test_the_default_region_is_a_setting():
    # The same local number means another country for a brand in Algeria.
    assert normalise_phone("0551234567", "DZ")[0] == "+213551234567"


def test_the_default_region_comes_from_the_environment():
    assert default_phone_region({}) == "MA"
    assert default_phone_region({"COD360_DEFAULT_PHONE_REGION": "dz"}) == "DZ"


def _load(conn, table: str, sha: str, payloads: list[dict]) -> None:
    for line, payload in enumerate(payloads, start=1):
        conn.execute(
            f"insert into raw.{table} values (?, ?, ?, ?, ?, current_timestamp)",
            [f"{sha}-{line}", f"{sha}.jsonl", line, json.dumps(payload), sha],
        )


def _dimension(conn) -> dict[str, tuple]:
    rows = conn.execute(
        "select phone_raw, phone_e164, phone_is_valid, phone_region from raw.phone_numbers"
    ).fetchall()
    return {raw: (e164, valid, region) for raw, e164, valid, region in rows}


@pytest.fixture
def warehouse():
    conn = duckdb.connect(":memory:")
    ensure_raw_tables(conn)
    yield conn
    conn.close()


def test_phones_are_normalised_once_and_only_new_strings_reach_phonenumbers(warehouse):
    _load(
        warehouse,
        "shopify_orders",
        "a",
        [
            {"shippingAddress": {"phone": "06 12 34 56 78"}, "phone": "0699999999"},
            {"shippingAddress": None, "phone": None, "customer": {"phone": "+33612345678"}},
        ],
    )
    _load(
        warehouse,
        "woocommerce_orders",
        "b",
        [{"billing": {"phone": ""}, "shipping": {"phone": "12345"}}],
    )
    _load(
        warehouse,
        "tiktok_leads",
        "c",
        [{"field_data": [{"name": "Phone_Number", "values": ["0612345678"]}]}],
    )
    _load(
        warehouse,
        "whatsapp_webhooks",
        "d",
        [
            {
                "entry": [
                    {
                        "changes": [
                            {
                                "value": {
                                    "statuses": [{"recipient_id": "212612345678"}],
                                    "messages": [{"from": "212655555555"}],
                                }
                            }
                        ]
                    }
                ]
            }
        ],
    )
    first = refresh_phone_numbers(warehouse, "MA")
    assert first.strings_normalised == 6
    assert _dimension(warehouse) == {
        "06 12 34 56 78": ("+212612345678", True, "MA"),
        "+33612345678": ("+33612345678", True, "FR"),
        "12345": (None, False, None),
        "0612345678": ("+212612345678", True, "MA"),
        "212612345678": ("+212612345678", True, "MA"),
        "212655555555": ("+212655555555", True, "MA"),
    }

    again = refresh_phone_numbers(warehouse, "MA")
    assert (again.files_scanned, again.strings_normalised, again.dimension_rows) == (0, 0, 6)

    # A new file: its already-known string is not normalised again, the new one alone is.
    _load(warehouse, "sms_events", "e", [{"phone": "0612345678"}, {"phone": "0522223344"}])
    third = refresh_phone_numbers(warehouse, "MA")
    assert (third.files_scanned, third.strings_seen, third.strings_normalised) == (1, 2, 1)
    assert _dimension(warehouse)["0522223344"] == ("+212522223344", True, "MA")


def test_another_region_is_its_own_dimension(warehouse):
    _load(warehouse, "sms_events", "a", [{"phone": "0551234567"}])
    refresh_phone_numbers(warehouse, "MA")
    report = refresh_phone_numbers(warehouse, "DZ")
    assert report.strings_normalised == 1
    rows = warehouse.execute(
        "select default_region, phone_e164 from raw.phone_numbers order by 1"
    ).fetchall()
    assert rows == [("DZ", "+213551234567"), ("MA", None)]


def test_the_dbt_model_gives_what_phonenumbers_gives_for_every_staged_string(marts_warehouse):
    # What the former dbt Python model computed: every distinct staged phone string,
    # normalised with the default region; the SQL model must hold exactly those rows.
    conn = duckdb.connect(str(marts_warehouse.warehouse), read_only=True)
    try:

        def relation(name: str) -> str:
            (schema,) = conn.execute(
                "select table_schema from information_schema.tables where table_name = ?", [name]
            ).fetchone()
            return f'"{schema}"."{name}"'

        columns = {
            "stg_shopify__orders": "phone_raw",
            "stg_woocommerce__orders": "phone_raw",
            "stg_youcan__orders": "phone_raw",
            "stg_lightfunnels__orders": "phone_raw",
            "stg_prestashop__orders": "phone_raw",
            "stg_tiktok__leads": "phone_raw",
            "stg_sms__events": "phone_raw",
            "stg_whatsapp__message_statuses": "recipient_wa_id",
            "stg_whatsapp__inbound_messages": "sender_wa_id",
            "stg_whatsapp__user_preferences": "wa_id",
        }
        staged = set()
        for model, column in columns.items():
            staged.update(
                raw
                for (raw,) in conn.execute(
                    f"select distinct {column} from {relation(model)} where {column} is not null"
                ).fetchall()
            )
        expected = {(raw, *normalise_phone(raw, "MA")) for raw in staged}
        actual = set(
            conn.execute(
                "select phone_raw, phone_e164, phone_is_valid, phone_region "
                f"from {relation('int_phone_numbers')}"
            ).fetchall()
        )
    finally:
        conn.close()
    assert len(staged) > 100
    assert actual == expected
