"""SMS replies read through the one reply vocabulary, attributed to their order and turned
into lead-score evidence; the confirmation email's opens as evidence too (dbt on DuckDB,
on the shared sample store)."""

from __future__ import annotations

import csv
import json
from datetime import datetime

import pytest

from common.settings import DBT_PROJECT_DIR
from common.warehouse import connect
from sandbox.sample_store.channels import SMS_FREE_TEXT, SMS_REPLY_VARIANTS

VOCABULARY = DBT_PROJECT_DIR / "seeds" / "reply_vocabulary.csv"
LOADED = datetime(2026, 3, 1, 12, 0)


def _vocabulary() -> list[dict[str, str]]:
    with VOCABULARY.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def replies_read(marts_warehouse, tmp_path_factory):
    """Every way of writing every word of the vocabulary, sent as an inbound SMS, and
    what ``stg_sms__events`` (the typed base_sms__events with the vocabulary) read it as."""
    copy = marts_warehouse.copy_to(tmp_path_factory.mktemp("replies"))
    written: dict[str, str] = {}
    for row in _vocabulary():
        key, intent = row["reply_key"], row["intent"]
        for text in (key, key.upper(), f"  {key.capitalize()} ! ", f"{key}."):
            written[text] = intent
    for word, variants in SMS_REPLY_VARIANTS.items():
        for text in variants:
            written[text] = word
    for text in SMS_FREE_TEXT:
        written[text] = "other"
    written |= {"STOP-ALL": "opt_out_all", "Confirmé !": "confirm", "ARRÊT": "opt_out"}
    with connect(copy.warehouse) as conn:
        for n, text in enumerate(written):
            payload = {
                "provider": "infobip", "message_id": f"TESTREPLY{n}", "direction": "inbound",
                "phone": "212600000001", "status": "received",
                "event_time": "2026-02-01T10:00:00+01:00", "body": text,
            }  # fmt: skip
            conn.execute(
                "insert into raw.sms_events values (?, 'test.jsonl', ?, ?, 'sha', ?)",
                [f"reply-{n}", n + 1, json.dumps(payload, ensure_ascii=False), LOADED],
            )
    # Staging parses each raw record once: stage these (loaded at an earlier time than the
    # store's last batch, so replayed from raw), then read them as stg_sms__events does.
    copy.dbt_ok("run", "-s", "base_sms__events", "stg_sms__events", "--full-refresh")
    with connect(copy.warehouse) as conn:
        rows = conn.execute(
            "select body, reply_intent from staging.stg_sms__events "
            "where message_id like 'TESTREPLY%'"
        ).fetchall()
    return written, dict(rows)


def test_every_word_of_the_vocabulary_in_every_spelling_means_its_intent(replies_read):
    written, read = replies_read
    assert set(read) == set(written)
    wrong = {text: (read[text], intent) for text, intent in written.items() if read[text] != intent}
    assert wrong == {}
    # The brief's variants, named: OUI / NON / 1 / 2, Darija, French, Arabic script.
    for text in ("OUI", "1", "wah", "iyeh", "ah", "ok", "confirmé", "نعم"):
        assert read.get(text, read.get(text.capitalize())) == "confirm", text
    for text in ("NON", "2", "la", "lla", "annuler", "لا"):
        assert read.get(text, read.get(text.capitalize())) == "cancel", text


def test_the_vocabulary_is_one_seed_and_whatsapp_reads_it_too():
    rows = _vocabulary()
    keys = [r["reply_key"] for r in rows]
    assert len(keys) == len(set(keys))
    assert {r["intent"] for r in rows} == {"confirm", "cancel", "opt_out", "opt_out_all"}
    for model in ("stg_sms__events", "stg_whatsapp__inbound_messages"):
        sql = (DBT_PROJECT_DIR / "models" / "staging" / f"{model}.sql").read_text()
        assert "ref('reply_vocabulary')" in sql and "reply_key(" in sql, model
        # No word list of its own: the seed is the one place.
        assert "'oui'" not in sql.lower() and "'non'" not in sql.lower(), model


def test_outbound_sms_carry_no_intent_and_every_inbound_one_has_one(marts_warehouse):
    with connect(marts_warehouse.warehouse, read_only=True) as conn:
        rows = dict(
            conn.execute(
                "select direction, count(*) filter (where reply_intent is null) "
                "from staging.stg_sms__events group by 1"
            ).fetchall()
        )
    assert rows["inbound"] == 0 and rows["outbound"] > 0


def test_sms_oui_and_non_become_the_orders_confirmation_evidence(marts_warehouse):
    """Orders the simulator confirmed or cancelled by SMS carry sms_confirmed_at /
    sms_cancelled_at in the lead score's input; nothing else does."""
    with (marts_warehouse.root / "truth" / "orders.csv").open(encoding="utf-8") as handle:
        truth = {r["order_ref"]: r for r in csv.DictReader(handle)}
    with connect(marts_warehouse.warehouse, read_only=True) as conn:
        history = {
            ref: (confirmed, cancelled)
            for ref, confirmed, cancelled in conn.execute(
                "select order_ref, sms_confirmed_at, sms_cancelled_at from marts.order_rto_history"
            ).fetchall()
        }
        attributed = conn.execute(
            "select reply_intent, count(*), count(order_ref) from marts.sms_replies group by 1"
        ).fetchall()
        # A reply that could answer two open orders of the phone answers neither.
        ambiguous = {
            ref
            for (refs,) in conn.execute(
                "select candidate_order_refs from marts.sms_replies "
                "where attributed_by = 'ambiguous'"
            ).fetchall()
            for ref in refs.split(",")
        }
    by_sms = {
        ref: row["confirmation"] for ref, row in truth.items()
        if row["confirmation_channel"] == "sms" and ref in history
    }  # fmt: skip
    confirmed = [ref for ref, c in by_sms.items() if c == "confirmed"]
    cancelled = [ref for ref, c in by_sms.items() if c == "cancelled"]
    assert len(confirmed) > 20 and len(cancelled) > 3
    # Each one carries its evidence, unless its phone had another order open when it
    # answered (then a person asks which: the agent queue) — a minority.
    confirmed_alone = [r for r in confirmed if r not in ambiguous]
    cancelled_alone = [r for r in cancelled if r not in ambiguous]
    assert len(confirmed_alone) >= 0.8 * len(confirmed)
    assert sum(history[r][0] is not None for r in confirmed_alone) >= 0.95 * len(confirmed_alone)
    assert sum(history[r][1] is not None for r in cancelled_alone) >= 0.95 * len(cancelled_alone)
    # An order decided on another channel has no SMS OUI of its own (a few customers
    # answer both: never more than a handful).
    others = [
        r for r, row in truth.items() if row["confirmation_channel"] != "sms" and r in history
    ]
    assert sum(history[r][0] is not None for r in others) <= 0.02 * len(others)
    intents = {intent for intent, _, _ in attributed}
    assert {"confirm", "cancel", "other"} <= intents


def test_the_email_opened_signal_is_the_first_open_of_the_confirmation_email(marts_warehouse):
    with connect(marts_warehouse.warehouse, read_only=True) as conn:
        events = dict(
            conn.execute(
                "select event_type, count(*) from staging.stg_email__events group by 1"
            ).fetchall()
        )
        mismatched = conn.execute(
            """
            with opens as (
                select order_ref, min(event_at) as first_open
                from staging.stg_email__events
                where event_type in ('opened', 'clicked') and template_name = 'order_confirmation'
                group by order_ref
            )
            select count(*) from marts.order_rto_history h
            full join opens on h.order_ref = opens.order_ref
            where h.email_opened_at is distinct from opens.first_open
            """
        ).fetchone()[0]
        opened, orders = conn.execute(
            "select count(email_opened_at), count(*) from marts.order_rto_history"
        ).fetchone()
        before_placement = conn.execute(
            "select count(*) from marts.order_rto_history where email_opened_at < placed_at"
        ).fetchone()[0]
    assert set(events) == {"sent", "delivered", "opened", "clicked", "bounced"}
    assert events["sent"] > events["opened"] > events["clicked"] > 0
    assert mismatched == 0
    assert 0 < opened < orders  # a real signal: some orders, not all
    assert before_placement == 0


def test_a_reply_two_open_orders_could_answer_is_ambiguous_not_a_guess(
    marts_warehouse, tmp_path_factory
):
    """A phone with two orders open at once (the sample store's repeat and double orders)
    answers OUI without the gateway naming an order: int_sms_replies gives it no order
    (`ambiguous`) and lists both, where it used to pick the one last texted about; the
    same reply naming one of them answers that one."""
    copy = marts_warehouse.copy_to(tmp_path_factory.mktemp("ambiguous"))
    with connect(copy.warehouse) as conn:
        pair = conn.execute(
            """
            select a.customer_phone, a.order_ref, b.order_ref, b.placed_at
            from intermediate.int_orders a
            join intermediate.int_orders b
                on a.customer_phone = b.customer_phone and a.placed_at < b.placed_at
            where coalesce(a.resolved_at, b.placed_at) >= b.placed_at
                and coalesce(b.resolved_at, b.placed_at) >= b.placed_at
            order by b.placed_at, a.order_ref, b.order_ref
            limit 1
            """
        ).fetchone()
        assert pair is not None, "the sample store has no phone with two orders open at once"
        customer_phone, first, second, at = pair
        for n, named in enumerate((None, second)):
            payload = {
                "provider": "infobip", "message_id": f"AMBIGUOUS{n}", "direction": "inbound",
                "phone": customer_phone.lstrip("+"), "status": "received",
                "event_time": at.isoformat() + "+00:00", "body": "OUI",
                **({"order_ref": named} if named else {}),
            }  # fmt: skip
            conn.execute(
                "insert into raw.sms_events values (?, 'test.jsonl', ?, ?, 'sha', ?)",
                [f"ambiguous-{n}", n + 1, json.dumps(payload), LOADED],
            )
    # Stage the replies (replayed from raw), then match them as a run does.
    copy.dbt_ok(
        "run",
        "-s",
        "base_sms__events",
        "stg_sms__events",
        "int_sms_replies",
        "sms_replies",
        "--full-refresh",
    )
    with connect(copy.warehouse, read_only=True) as conn:
        rows = conn.execute(
            "select message_id, order_ref, attributed_by, open_orders_at_reply, "
            "candidate_order_refs, reply_intent from marts.sms_replies "
            "where message_id like 'AMBIGUOUS%' order by message_id"
        ).fetchall()
        counts = dict(
            conn.execute(
                "select attributed_by, count(*) from marts.sms_replies group by 1"
            ).fetchall()
        )
    (_, ref0, by0, open0, candidates0, intent0), named_row = rows
    assert (ref0, by0, intent0) == (None, "ambiguous", "confirm")
    assert open0 >= 2 and {first, second} <= set(candidates0.split(","))
    assert candidates0.split(",") == sorted(candidates0.split(","))
    assert named_row[1:5] == (second, "named_by_gateway", 1, None)
    # Across the store: no reply is attributed by a guess any more.
    assert set(counts) <= {"named_by_gateway", "texted_about", "only_open_order", "ambiguous", None}
