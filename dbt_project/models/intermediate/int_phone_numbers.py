"""Every distinct raw phone string seen anywhere, normalised to E.164 with phonenumbers.

One row per raw phone string. Runs as a dbt Python model so that the
normalisation uses Google's libphonenumber metadata (no hand-written regex) and
so that it is computed once per distinct string, not once per record.
"""

import phonenumbers


def _normalise(raw, region):
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


def model(dbt, session):
    dbt.config(materialized="table")
    region = dbt.config.get("default_phone_region") or "MA"

    # dbt reads refs statically: each one is written out as a literal.
    phone_columns = [
        (dbt.ref("stg_shopify__orders"), "phone_raw"),
        (dbt.ref("stg_woocommerce__orders"), "phone_raw"),
        (dbt.ref("stg_youcan__orders"), "phone_raw"),
        (dbt.ref("stg_lightfunnels__orders"), "phone_raw"),
        (dbt.ref("stg_prestashop__orders"), "phone_raw"),
        (dbt.ref("stg_tiktok__leads"), "phone_raw"),
        (dbt.ref("stg_sms__events"), "phone_raw"),
        (dbt.ref("stg_whatsapp__message_statuses"), "recipient_wa_id"),
        (dbt.ref("stg_whatsapp__inbound_messages"), "sender_wa_id"),
        (dbt.ref("stg_whatsapp__user_preferences"), "wa_id"),
    ]
    seen = set()
    for relation, column in phone_columns:
        rows = relation.query(
            "r", f"select distinct {column} from r where {column} is not null"
        ).fetchall()
        seen.update(row[0] for row in rows)

    import pandas as pd

    records = []
    for raw in sorted(seen):
        e164, valid, phone_region = _normalise(raw, region)
        records.append(
            {
                "phone_raw": raw,
                "phone_e164": e164,
                "phone_is_valid": valid,
                "phone_region": phone_region,
            }
        )
    # Typed explicitly: with no phone at all (an empty warehouse) pandas would leave the
    # columns untyped and DuckDB would create them as NULL-typed columns downstream.
    return pd.DataFrame.from_records(
        records, columns=["phone_raw", "phone_e164", "phone_is_valid", "phone_region"]
    ).astype(
        {
            "phone_raw": "string",
            "phone_e164": "string",
            "phone_is_valid": "boolean",
            "phone_region": "string",
        }
    )
