"""End to end: a small sample store through ingestion, quality checks and dbt (real DuckDB)."""

from __future__ import annotations

import pytest

from common.warehouse import connect
from connectors.ingestion import LANDING_SOURCES, table_counts

pytestmark = pytest.mark.e2e

CANONICAL_STATES = {
    "placed",
    "pending",
    "confirmed",
    "cancelled",
    "unreachable",
    "dispatched",
    "in_transit",
    "out_for_delivery",
    "failed_attempt",
    "delivered",
    "returned",
}


def _rows(store, sql: str, params=None):
    with connect(store.warehouse, read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def test_the_whole_pipeline_succeeds(built_store):
    assert built_store.run_succeeded


def test_every_record_read_is_loaded_or_quarantined_and_exactly_the_bad_ones_are_quarantined(
    built_store,
):
    expected_bad = built_store.summary.expected_quarantine_by_source
    with connect(built_store.warehouse, read_only=True) as conn:
        for source in LANDING_SOURCES:
            counts = table_counts(conn, source)
            assert counts["read"] == counts["loaded"] + counts["quarantined"], source.name
            assert counts["read"] == built_store.summary.records_by_source.get(source.name, 0), (
                source.name
            )
            assert counts["quarantined"] == expected_bad.get(source.name, 0), source.name
    reasons = _rows(
        built_store, "select count(*) from raw.quarantine where reason is null or reason = ''"
    )
    assert reasons == [(0,)]


def test_every_order_has_one_canonical_status_and_orders_reconcile_with_the_truth(built_store):
    rows = _rows(
        built_store, "select order_status, count(*) from intermediate.int_orders group by 1"
    )
    assert {status for status, _ in rows} <= CANONICAL_STATES
    assert _rows(
        built_store, "select count(*) - count(distinct order_ref) from intermediate.int_orders"
    ) == [(0,)]
    # Every order the simulator placed is there, except those whose only snapshot was a bad record.
    total = sum(count for _, count in rows)
    assert total <= built_store.summary.orders
    assert total >= built_store.summary.orders - sum(
        built_store.summary.expected_quarantine_by_source[s]
        for s in ("shopify_orders", "woocommerce_orders", "youcan_orders", "tiktok_leads")
    )


def test_phones_are_e164_and_the_many_spellings_collapse_to_one_customer(built_store):
    bad = _rows(
        built_store,
        r"select count(*) from intermediate.int_orders "
        r"where customer_phone is not null and not regexp_full_match(customer_phone, '\+[1-9][0-9]{7,14}')",
    )
    assert bad == [(0,)]
    spellings, customers = _rows(
        built_store,
        "select count(distinct phone_raw), count(distinct customer_phone) from intermediate.int_orders",
    )[0]
    assert spellings > customers  # the mess: one customer, several ways of writing the number
    valid_share = _rows(
        built_store,
        "select avg(case when phone_is_valid then 1 else 0 end) from intermediate.int_orders",
    )
    assert valid_share[0][0] > 0.95


def test_no_duplicate_events_survive_staging(built_store):
    for model, key in [
        ("staging.stg_carriers__tracking_events", "tracking_event_id"),
        ("staging.stg_whatsapp__message_statuses", "message_status_id"),
        ("staging.stg_whatsapp__inbound_messages", "inbound_message_id"),
        ("staging.stg_sms__events", "sms_event_id"),
    ]:
        assert _rows(built_store, f"select count(*) - count(distinct {key}) from {model}") == [
            (0,)
        ], model
    # The simulator duplicated webhook deliveries on purpose: raw keeps them, staging does not.
    raw, distinct = _rows(
        built_store,
        "select count(*), count(distinct payload::varchar) from raw.whatsapp_webhooks",
    )[0]
    assert raw > distinct


def test_unknown_carrier_statuses_are_kept_as_unknown_not_dropped(built_store):
    raw_events = _rows(built_store, "select count(*) from staging.stg_carriers__tracking_events")[
        0
    ][0]
    mapped = _rows(built_store, "select count(*) from intermediate.int_tracking_events")[0][0]
    assert mapped == raw_events
    unknown = _rows(
        built_store,
        "select count(*) from intermediate.int_tracking_events where canonical_status = 'unknown'",
    )[0][0]
    assert unknown >= 1


def test_the_rto_rate_of_the_sample_world_is_in_the_cod_range(built_store):
    rate = _rows(
        built_store,
        """
        select count(*) filter (where outcome = 'returned') * 1.0
               / count(*) filter (where outcome in ('delivered', 'returned'))
        from intermediate.int_orders where is_cod
        """,
    )[0][0]
    assert 0.2 <= rate <= 0.4


def test_rerunning_the_pipeline_adds_nothing(built_store, monkeypatch):
    from orchestration.cli import materialize_everything

    before = _rows(built_store, "select count(*) from raw.carrier_tracking_events")
    orders_before = _rows(built_store, "select count(*) from intermediate.int_orders")
    monkeypatch.setenv("COD360_DATA_DIR", str(built_store.data_dir))
    monkeypatch.setenv("COD360_WAREHOUSE", str(built_store.warehouse))
    monkeypatch.setenv("COD360_LANDING_DIR", str(built_store.landing))
    assert materialize_everything(
        selection="key:raw/carrier_tracking_events or key:raw/whatsapp_webhooks"
    )
    assert _rows(built_store, "select count(*) from raw.carrier_tracking_events") == before
    assert _rows(built_store, "select count(*) from intermediate.int_orders") == orders_before


def test_the_lead_score_is_trained_gated_and_scores_every_open_order(built_store):
    import json

    store = built_store.data_dir / "models"
    approved = json.loads((store / "approved.json").read_text())["version"]
    report = json.loads((store / "versions" / approved / "evaluation.json").read_text())
    metrics = {m["contender"]: m for m in report["metrics"]}
    # On later, held-out orders the learned scorecard beats the SPEC §4 rule baseline.
    assert metrics["candidate"]["auc"] > metrics["baseline"]["auc"] + 0.03
    assert metrics["candidate"]["brier"] < metrics["baseline"]["brier"]
    assert metrics["candidate"]["profit_per_order"] >= metrics["baseline"]["profit_per_order"]

    open_orders = _rows(built_store, "select count(*) from marts.order_rto_history where is_open")[
        0
    ][0]
    scored, bands, bad_probability, versions = _rows(
        built_store,
        """
        select count(*), count(distinct band),
               count(*) filter (where rto_probability not between 0 and 1),
               string_agg(distinct model_version, ',')
        from ml.order_scores
        """,
    )[0]
    assert scored == open_orders > 0
    assert bad_probability == 0
    assert versions == approved
    assert set(r[0] for r in _rows(built_store, "select distinct band from ml.order_scores")) <= {
        "confirm",
        "review",
        "hold",
    }
    assert bands >= 2


def test_a_stale_tiktok_lead_is_neither_scored_nor_decided(built_store, tmp_path):
    """order_rto_history's `is_open` applies the marts' `open_order_stale_after_days` rule
    (read from int_orders_as_of, not copied): a TikTok lead nobody closed months ago is
    not scored, so the storefront write-back proposes no decision for it."""
    import shutil

    from activations.decisions import UNDISPATCHED, propose_decisions
    from activations.warehouse_tables import ensure_activation_tables

    stale = {
        ref
        for (ref,) in _rows(
            built_store,
            f"""
            select order_ref from marts.order_rto_history
            where is_stale_open and platform = 'tiktok'
              and order_status in ({", ".join(f"'{s}'" for s in UNDISPATCHED)})
            """,
        )
    }
    assert stale, "the sample store has TikTok leads that no source ever closed"
    # The same orders, by the same rule, in the marts' own as-of model.
    as_of_stale = {
        ref
        for (ref,) in _rows(
            built_store, "select order_ref from intermediate.int_orders_as_of where is_stale_open"
        )
    }
    assert stale <= as_of_stale
    (still_open,) = _rows(
        built_store,
        "select count(*) from marts.order_rto_history where is_open and is_stale_open",
    )[0]
    assert still_open == 0
    scored = {ref for (ref,) in _rows(built_store, "select order_ref from ml.order_scores")}
    assert scored and not (stale & scored)

    # On a copy of the warehouse (the write-back records its proposals in it).
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_store.warehouse, copy)
    with connect(copy) as conn:
        ensure_activation_tables(conn)
        proposed = {p.order_ref for p in propose_decisions(conn)}
    assert proposed, "live orders still get decisions"
    assert not (stale & proposed)


def test_the_demo_summary_reads_the_contracted_marts(built_store, capsys):
    from sandbox.demo_summary import print_summary

    print_summary(built_store.warehouse, built_store.data_dir / "models")
    out = capsys.readouterr().out
    for title in (
        "Orders by canonical status",
        "RTO rate of resolved COD orders",
        "Customers by lifecycle stage",
        "Customers by RFM segment",
        "Segment members",
        "Open orders by lead-score band",
    ):
        assert title in out
    # Lifecycle stages are read from customer_360: one stage per customer, none left out.
    (customers,) = _rows(built_store, "select count(*) from marts.customer_360")[0]
    stages = out.split("Customers by lifecycle stage")[1].split("Customers by RFM segment")[0]
    counts = [int(line.split()[-2]) for line in stages.strip().splitlines()[1:]]
    assert sum(counts) == customers
