"""The order contract and point-in-time (as-of) evidence."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.baseline import baseline_model
from ml.evidence import evidence_as_of
from ml.features import (
    EVIDENCE_TIMESTAMPS,
    KNOWN_LATER,
    ORDER_CONTRACT,
    ContractColumn,
    OrderContractError,
    decision_time_problems,
    validate_orders,
)
from ml.order_scoring import score_orders


def _one_cod_order(orders: pd.DataFrame) -> pd.DataFrame:
    """A COD order with a confirmation message and no other evidence, to edit."""
    row = orders[orders["confirmation_sent_at"].notna()].iloc[[0]].copy()
    for column in EVIDENCE_TIMESTAMPS:
        row[column] = pd.NaT
    placed = row["placed_at"].iloc[0]
    row["confirmation_sent_at"] = placed + pd.Timedelta(minutes=5)
    return row.reset_index(drop=True)


def _with_reply(order: pd.DataFrame, after: pd.Timedelta) -> pd.DataFrame:
    replied = order.copy()
    at = replied["placed_at"] + after
    replied["whatsapp_confirmed_at"] = at
    replied["whatsapp_first_reply_at"] = at
    return replied


def test_missing_columns_are_named(orders: pd.DataFrame) -> None:
    broken = orders.drop(columns=["city", "fraud_flagged_at"])
    with pytest.raises(OrderContractError, match="city, fraud_flagged_at"):
        validate_orders(broken)


def test_bad_rows_are_set_aside_and_the_rest_kept(orders: pd.DataFrame) -> None:
    frame = orders.head(50).copy()
    frame.loc[3, "order_ref"] = frame.loc[2, "order_ref"]
    frame.loc[7, "outcome"] = "lost_in_space"
    validated = validate_orders(frame)
    assert len(validated.orders) == 48
    assert set(validated.rejected["field"]) == {"order_ref", "outcome"}


def test_naive_timestamps_are_refused(orders: pd.DataFrame) -> None:
    frame = orders.head(5).copy()
    frame["placed_at"] = frame["placed_at"].dt.tz_localize(None)
    with pytest.raises(OrderContractError, match="placed_at"):
        validate_orders(frame)


def test_reply_after_as_of_does_not_change_the_score(trained, orders) -> None:
    order = _one_cod_order(orders)
    replied = _with_reply(order, pd.Timedelta(hours=1))
    early = order["placed_at"] + pd.Timedelta(minutes=10)
    later = order["placed_at"] + pd.Timedelta(minutes=90)
    for model in (trained.model, baseline_model(trained.model.scaling)):
        silent_early = score_orders(model, order, as_of=early).scores
        replied_early = score_orders(model, replied, as_of=early).scores
        pd.testing.assert_frame_equal(silent_early, replied_early)
        # Once the reply has arrived, it counts (so the equality above is not vacuous).
        silent_later = score_orders(model, order, as_of=later).scores
        replied_later = score_orders(model, replied, as_of=later).scores
        assert replied_later["score"].iloc[0] > silent_later["score"].iloc[0] + 5


def test_no_reply_in_two_hours_is_not_undone_by_a_later_reply(orders) -> None:
    order = _one_cod_order(orders)
    late_reply = _with_reply(order, pd.Timedelta(hours=3))
    placed = order["placed_at"]

    at_1h = evidence_as_of(validate_orders(late_reply).orders, placed + pd.Timedelta(hours=1))
    assert not at_1h["whatsapp_no_reply_2h"].iloc[0]
    assert at_1h["whatsapp_confirmation"].iloc[0] == "awaiting reply"

    # At 2 h 30 the window (sent + 2 h) has closed; the reply at 3 h is in the future.
    # If it leaked, the state would read "confirmed after 2 h".
    at_2h30 = placed + pd.Timedelta(hours=2, minutes=30)
    leaked = evidence_as_of(validate_orders(late_reply).orders, at_2h30)
    silent = evidence_as_of(validate_orders(order).orders, at_2h30)
    pd.testing.assert_frame_equal(leaked, silent)
    assert leaked["whatsapp_no_reply_2h"].iloc[0]
    assert leaked["whatsapp_confirmation"].iloc[0] == "no reply after 2 h"

    at_4h = evidence_as_of(validate_orders(late_reply).orders, placed + pd.Timedelta(hours=4))
    assert at_4h["whatsapp_confirmation"].iloc[0] == "confirmed after 2 h"
    assert at_4h["whatsapp_no_reply_2h"].iloc[0]  # the reply came, but not within 2 h


def test_evidence_equals_evidence_with_the_future_erased(orders) -> None:
    """Over the whole store: erasing every event after as_of changes nothing."""
    frame = validate_orders(orders).orders
    as_of = frame["placed_at"] + pd.Timedelta(minutes=45)
    erased = frame.copy()
    for column in EVIDENCE_TIMESTAMPS:
        erased.loc[erased[column] > as_of, column] = pd.NaT
    assert (
        erased[list(EVIDENCE_TIMESTAMPS)].notna().sum().sum()
        < frame[list(EVIDENCE_TIMESTAMPS)].notna().sum().sum()
    )
    pd.testing.assert_frame_equal(evidence_as_of(frame, as_of), evidence_as_of(erased, as_of))


def test_every_signal_declares_when_it_becomes_known() -> None:
    assert decision_time_problems() == []
    # The carrier and its prior are dispatch facts, cut at the assignment event.
    assert KNOWN_LATER == {
        "carrier": "carrier_assigned_at",
        "carrier_rto_rate_prior": "carrier_assigned_at",
    }
    # A column declared after placement without its moment is refused, not trusted.
    leaky = (*ORDER_CONTRACT, ContractColumn("courier_comment", "text", "x", known="dispatch"))
    assert decision_time_problems(leaky) == [
        "courier_comment: known at dispatch but no known_at column"
    ]


def test_a_post_decision_fact_cannot_enter_a_pre_dispatch_score(trained, orders) -> None:
    """The carrier (and its RTO prior), tracking-driven unreachability and replies that
    come after the decision moment leave a pre-dispatch score exactly as it was."""
    frame = validate_orders(orders).orders
    order = _one_cod_order(orders)
    placed = order["placed_at"].iloc[0]
    riskiest = frame.loc[frame["carrier_rto_rate_prior"].idxmax()]
    after_dispatch = order.copy()
    after_dispatch["carrier"] = riskiest["carrier"]
    after_dispatch["carrier_rto_rate_prior"] = riskiest["carrier_rto_rate_prior"]
    after_dispatch["carrier_assigned_at"] = placed + pd.Timedelta(days=1)
    after_dispatch["unreachable_at"] = placed + pd.Timedelta(days=2)
    after_dispatch["whatsapp_cancelled_at"] = placed + pd.Timedelta(days=1, hours=2)
    after_dispatch["whatsapp_first_reply_at"] = placed + pd.Timedelta(days=1, hours=2)
    blank = order.copy()
    blank["carrier"] = None
    blank["carrier_rto_rate_prior"] = float("nan")

    decision = placed + pd.Timedelta(hours=3)
    for model in (trained.model, baseline_model(trained.model.scaling)):
        pd.testing.assert_frame_equal(
            score_orders(model, after_dispatch, as_of=decision).scores,
            score_orders(model, blank, as_of=decision).scores,
        )
    seen_early = evidence_as_of(validate_orders(after_dispatch).orders, decision)
    assert seen_early["carrier"].isna().all()
    assert seen_early["carrier_rto_rate_prior"].isna().all()
    # After the assignment the carrier is a fact (so the equality above is not vacuous).
    seen_later = evidence_as_of(
        validate_orders(after_dispatch).orders, placed + pd.Timedelta(days=1, hours=1)
    )
    assert seen_later["carrier"].iloc[0] == riskiest["carrier"]
    assert seen_later["carrier_rto_rate_prior"].iloc[0] == riskiest["carrier_rto_rate_prior"]


def test_a_carrier_without_an_assignment_moment_is_never_seen(orders) -> None:
    frame = orders.head(200).copy()
    frame["carrier_assigned_at"] = pd.NaT
    frame = validate_orders(frame).orders
    assert frame["carrier"].notna().all()
    late = evidence_as_of(frame, frame["placed_at"] + pd.Timedelta(days=30))
    assert late["carrier"].isna().all() and late["carrier_rto_rate_prior"].isna().all()


def test_an_email_opened_after_the_scoring_moment_does_not_enter_the_score(trained, orders) -> None:
    order = _one_cod_order(orders)
    opened = order.copy()
    opened["email_opened_at"] = order["placed_at"] + pd.Timedelta(minutes=40)
    before = order["placed_at"] + pd.Timedelta(minutes=30)
    after = order["placed_at"] + pd.Timedelta(minutes=50)
    seen_before = evidence_as_of(validate_orders(opened).orders, before)
    seen_after = evidence_as_of(validate_orders(opened).orders, after)
    assert not seen_before["email_opened"].iloc[0] and seen_after["email_opened"].iloc[0]
    pd.testing.assert_frame_equal(
        seen_before, evidence_as_of(validate_orders(order).orders, before)
    )
    for model in (trained.model, baseline_model(trained.model.scaling)):
        pd.testing.assert_frame_equal(
            score_orders(model, order, as_of=before).scores,
            score_orders(model, opened, as_of=before).scores,
        )


def test_an_sms_oui_or_non_is_confirmation_evidence_from_its_moment_on(orders) -> None:
    order = _one_cod_order(orders)
    placed = order["placed_at"]
    by_sms = order.copy()
    by_sms["sms_replied_at"] = placed + pd.Timedelta(hours=3)
    by_sms["sms_confirmed_at"] = placed + pd.Timedelta(hours=3)
    early = evidence_as_of(validate_orders(by_sms).orders, placed + pd.Timedelta(hours=2))
    late = evidence_as_of(validate_orders(by_sms).orders, placed + pd.Timedelta(hours=4))
    assert not early["whatsapp_confirmed"].iloc[0]
    assert late["whatsapp_confirmed"].iloc[0]
    assert late["whatsapp_confirmation"].iloc[0] == "confirmed after 2 h"
    cancelled = by_sms.copy()
    cancelled["sms_cancelled_at"] = placed + pd.Timedelta(hours=5)
    at_6h = evidence_as_of(validate_orders(cancelled).orders, placed + pd.Timedelta(hours=6))
    assert not at_6h["whatsapp_confirmed"].iloc[0]  # the later NON overrides the OUI
