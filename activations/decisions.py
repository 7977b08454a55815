"""Storefront decisions: the lead-score band of each order, pushed back to its storefront.

Every scored order that has not left yet gets a decision — ``confirm``, ``review``
(agent review), ``hold`` or ``cancel`` — written to ``activations.storefront_decisions``
as a new *version* when it changes (one row per order and version, committed before
the push), then pushed through the platform's write-back adapter, and its outcome
recorded on the row. The row also carries the carrier recommended for the parcel and
its reason (``ml.carrier_recommendations``) as known when the decision was recorded: a
record for the team that dispatches, not pushed to the storefront.

* Band → decision: confirm → confirm, review → review, hold → hold; a customer who
  answered CANCEL to the confirmation message — the WhatsApp button, or NON / 2 / la /
  لا… to the SMS (``sms_replies``, the reply_vocabulary seed) — → cancel. An SMS reply
  no rule reads (free text) → review, the agent queue, unless the current decision is
  an agent's; a later OUI / NON settles it instead. So does an OUI / NON / free text
  that could answer two or more open orders of the phone (``attributed_by``
  ``ambiguous``): each of them → review, for a person to ask which order was meant. An OUI reaches the decision
  through the lead score (its confirmation evidence), as a WhatsApp CONFIRM does.
* **A hold is released by a person**: while the current decision is ``hold``, an
  automatic ``confirm`` becomes ``review`` (the agent queue) instead; only
  :func:`record_agent_decision` may confirm a held order. The push re-checks this
  on the row it is about to send.
* Exactly once: adapters are idempotent per (order, decision, version) — Shopify
  hold handles, WooCommerce note markers — so a row left ``sending`` by a killed
  run is simply pushed again; the store ends as if it was pushed once. A row whose
  order has a newer version is ``superseded``, never pushed.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import duckdb

from activations.clients.errors import (
    InvalidOrderRefError,
    RunStoppingError,
    UnsupportedPlatformError,
    WriteBackNotConfiguredError,
)
from activations.clients.storefront import WriteBackRegistry, WriteBackStatus
from activations.confirmation import ORDER_CONFIRMATION
from activations.warehouse_tables import (
    CARRIER_RECOMMENDATIONS,
    INBOUND_MESSAGES_MODEL,
    ORDER_SCORES,
    ORDERS_MODEL,
    OUTBOX,
    SMS_REPLIES_MODEL,
    STOREFRONT_DECISIONS,
    ensure_activation_tables,
    relation_exists,
)
from common.marts import mart

logger = logging.getLogger("cod360.activations.decisions")

BAND_DECISIONS = {"confirm": "confirm", "review": "review", "hold": "hold"}
# Orders that have not left the warehouse: a decision can still change what happens.
UNDISPATCHED = ("placed", "pending", "confirmed", "unreachable")
FINAL = ("cancel",)


@dataclass(frozen=True)
class ProposedDecision:
    order_ref: str
    platform: str
    decision: str
    reason: str
    decided_by: str
    band: str | None
    score: float | None
    model_version: str | None
    scored_at: datetime | None
    # The carrier to give the parcel to and why (activations.carrier_choice), as known
    # when the decision is recorded; null when no recommendation was computed.
    recommended_carrier: str | None = None
    carrier_reason: str | None = None


def next_decision(
    band: str | None,
    customer_reply: str | None,
    current: str | None,
    held: bool = False,
    agent_decided: bool = False,
    reply_channel: str = "whatsapp",
) -> tuple[str, str, str] | None:
    """``(decision, reason, decided_by)`` for an order, or ``None`` to leave it as it is.

    ``customer_reply``: ``cancel`` (a CANCEL on any channel), ``other`` (the customer's
    latest SMS reply is free text no rule reads), ``ambiguous`` (it could answer this
    order or another open one) or ``None``. ``held``: the order was put
    on hold and no agent has decided since. ``agent_decided``: the current decision is an
    agent's. ``reply_channel`` (``whatsapp`` or ``sms``) is named in the reason. Pure: the
    whole policy, unit-tested.
    """
    if current in FINAL:
        return None
    if customer_reply == "cancel":
        proposed = (
            "cancel",
            f"the customer answered CANCEL to the confirmation ({reply_channel})",
            "customer_reply",
        )
    elif customer_reply == "other" and not agent_decided:
        proposed = (
            "review",
            "the customer replied to the confirmation in words no rule reads (sms)",
            "customer_reply",
        )
    elif customer_reply == "ambiguous" and not agent_decided:
        proposed = (
            "review",
            "the customer's SMS reply could answer another open order too: "
            "a person asks which (sms)",
            "customer_reply",
        )
    elif band in BAND_DECISIONS:
        proposed = (BAND_DECISIONS[band], f"lead-score band {band}", "score")
    else:
        return None
    if proposed[0] == "confirm" and (held or current == "hold"):
        proposed = (
            "review",
            "score now confirms a held order: a person releases holds",
            "hold_guard",
        )
    return None if proposed[0] == current else proposed


def _current(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str, bool]]:
    """``{order_ref: (latest version, its decision, held)}``; held = a hold newer than the
    latest agent decision."""
    return {
        ref: (version, decision, held)
        for ref, (version, decision, held, _) in _latest(conn).items()
    }


def _latest(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str, bool, bool]]:
    """``{order_ref: (latest version, its decision, held, decided by an agent)}``."""
    rows = conn.execute(
        f"""
        select order_ref, max(decision_version),
            arg_max(decision, decision_version),
            coalesce(max(decision_version) filter (where decision = 'hold'), 0)
                > coalesce(max(decision_version) filter (where decided_by like 'agent:%'), 0),
            arg_max(decided_by, decision_version) like 'agent:%'
        from {STOREFRONT_DECISIONS} group by order_ref
        """
    ).fetchall()
    return {ref: (version, decision, held, agent) for ref, version, decision, held, agent in rows}


def _sms_reply_subquery(conn: duckdb.DuckDBPyConnection) -> str:
    """Per order: ``sms_cancel`` (any NON answering it) and ``sms_latest`` (the latest
    reply's intent; ``ambiguous`` when that reply could answer another open order too —
    a NON among them cancels nothing)."""
    sms = mart(SMS_REPLIES_MODEL)
    if not relation_exists(conn, sms):
        return (
            "(select null::varchar as order_ref, false as sms_cancel, "
            "null::varchar as sms_latest where false)"
        )
    return f"""
        (with answers as (
            select order_ref, reply_intent, received_at from {sms} where order_ref is not null
            union all
            select unnest(string_split(candidate_order_refs, ',')), 'ambiguous', received_at
            from {sms}
            where attributed_by = 'ambiguous' and reply_intent in ('confirm', 'cancel', 'other')
         )
         select order_ref, bool_or(reply_intent = 'cancel') as sms_cancel,
            arg_max(reply_intent, received_at)
                filter (where reply_intent in ('confirm', 'cancel', 'other', 'ambiguous'))
                as sms_latest
         from answers group by order_ref)
    """


def propose_decisions(conn: duckdb.DuckDBPyConnection) -> list[ProposedDecision]:
    """Latest score of each undispatched open order, the customer's reply, the current decision."""
    orders, inbound = mart(ORDERS_MODEL), mart(INBOUND_MESSAGES_MODEL)
    if not relation_exists(conn, ORDER_SCORES) or not relation_exists(conn, orders):
        return []
    replies = (
        f"""
        left join (
            select ob.order_ref, max(i.reply_intent) filter (where i.reply_intent = 'cancel')
                as reply
            from {OUTBOX} ob join {inbound} i on i.replied_to_message_id = ob.message_id
            where ob.campaign_id = '{ORDER_CONFIRMATION}'
            group by ob.order_ref
        ) r on r.order_ref = s.order_ref
        """
        if relation_exists(conn, inbound)
        else "left join (select null::varchar as order_ref, null::varchar as reply) r "
        "on r.order_ref = s.order_ref"
    )
    carriers = (
        f"left join {CARRIER_RECOMMENDATIONS} k on k.order_ref = s.order_ref"
        if relation_exists(conn, CARRIER_RECOMMENDATIONS)
        else "left join (select null::varchar as order_ref, null::varchar as recommended_carrier, "
        "null::varchar as carrier_reason) k on k.order_ref = s.order_ref"
    )
    marks = ", ".join(f"'{s}'" for s in UNDISPATCHED)
    rows = conn.execute(
        f"""
        with latest as (
            select * from {ORDER_SCORES}
            qualify row_number() over (partition by order_ref order by scored_at desc) = 1
        )
        select s.order_ref, o.platform, s.band, s.score, s.model_version, s.scored_at,
            case
                when r.reply = 'cancel' or coalesce(t.sms_cancel, false) then 'cancel'
                when t.sms_latest in ('other', 'ambiguous') then t.sms_latest
            end as reply,
            case when r.reply = 'cancel' then 'whatsapp' else 'sms' end as reply_channel,
            k.recommended_carrier, k.carrier_reason
        from latest s
        join {orders} o on o.order_ref = s.order_ref
        {replies}
        left join {_sms_reply_subquery(conn)} t on t.order_ref = s.order_ref
        {carriers}
        where o.outcome = 'open' and o.order_status in ({marks})
        order by s.order_ref
        """
    ).fetchall()
    current = _latest(conn)
    proposals = []
    for ref, platform, band, score, model_version, scored_at, reply, channel, carrier, why in rows:
        _, decision, held, agent = current.get(ref, (0, None, False, False))
        decided = next_decision(band, reply, decision, held, agent, channel)
        if decided:
            proposals.append(
                ProposedDecision(
                    ref, platform, *decided, band, score, model_version, scored_at, carrier, why
                )
            )
    return proposals


def record_decisions(
    conn: duckdb.DuckDBPyConnection, proposals: list[ProposedDecision], now: datetime, run_id: str
) -> int:
    """Write each proposal as the order's next version (``pending``), committed before any push."""
    current = _current(conn)
    written = 0
    for p in proposals:
        version = current.get(p.order_ref, (0, None, False))[0] + 1
        conn.execute(
            f"""
            insert into {STOREFRONT_DECISIONS} (order_ref, decision_version, platform, decision,
                reason, decided_by, band, score, model_version, scored_at, status, created_at,
                updated_at, run_id, recommended_carrier, carrier_reason)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)
            on conflict do nothing
            """,
            [p.order_ref, version, p.platform, p.decision, p.reason, p.decided_by, p.band,
             p.score, p.model_version, p.scored_at, now, now, run_id, p.recommended_carrier,
             p.carrier_reason],
        )  # fmt: skip
        written += 1
    return written


def record_agent_decision(
    conn: duckdb.DuckDBPyConnection, order_ref: str, decision: str, agent: str, now: datetime
) -> int:
    """An agent's decision (the only way to confirm a held order); returns its version."""
    ensure_activation_tables(conn)
    if decision not in ("confirm", "hold", "cancel", "review"):
        raise ValueError(f"unknown decision {decision!r}")
    row = conn.execute(
        f"select coalesce(max(decision_version), 0), any_value(platform) from {STOREFRONT_DECISIONS} "
        "where order_ref = ?",
        [order_ref],
    ).fetchone()
    platform = row[1] or order_ref.partition(":")[0]
    conn.execute(
        f"""
        insert into {STOREFRONT_DECISIONS} (order_ref, decision_version, platform, decision,
            reason, decided_by, status, created_at, updated_at)
        values (?, ?, ?, ?, 'decided by an agent', ?, 'pending', ?, ?)
        """,
        [order_ref, row[0] + 1, platform, decision, f"agent:{agent}", now, now],
    )
    return row[0] + 1


def _close(conn, ref, version, status, now, *, error_code=None, message=None, operations=None):
    conn.execute(
        f"""
        update {STOREFRONT_DECISIONS}
        set status = ?, error_code = ?, error_message = ?, operations = coalesce(?, operations),
            updated_at = ?
        where order_ref = ? and decision_version = ?
        """,
        [status, error_code, message, operations, now, ref, version],
    )


def _held_before(conn: duckdb.DuckDBPyConnection, order_ref: str, version: int) -> bool:
    """Whether a hold older than ``version`` was not released by an agent since."""
    return conn.execute(
        f"""
        select coalesce(max(decision_version) filter (where decision = 'hold'), 0)
            > coalesce(max(decision_version) filter (where decided_by like 'agent:%'), 0)
        from {STOREFRONT_DECISIONS} where order_ref = ? and decision_version < ?
        """,
        [order_ref, version],
    ).fetchone()[0]


def push_decisions(
    conn: duckdb.DuckDBPyConnection, registry: WriteBackRegistry, now: datetime, run_id: str
) -> Counter:
    """Push every current decision not yet applied; returns counts per outcome."""
    counts: Counter = Counter()
    superseded = conn.execute(
        f"""
        update {STOREFRONT_DECISIONS} d set status = 'superseded', updated_at = ?
        where status in ('pending', 'retry', 'sending') and decision_version < (
            select max(decision_version) from {STOREFRONT_DECISIONS} x where x.order_ref = d.order_ref
        )
        returning order_ref
        """,
        [now],
    ).fetchall()
    if superseded:
        counts["superseded"] += len(superseded)
    rows = conn.execute(
        f"""
        select order_ref, decision_version, decision, reason, decided_by from {STOREFRONT_DECISIONS}
        where status in ('pending', 'retry', 'sending') order by order_ref
        """
    ).fetchall()
    for ref, version, decision, reason, decided_by in rows:
        if (
            decision == "confirm"
            and not decided_by.startswith("agent:")
            and _held_before(conn, ref, version)
        ):
            _close(
                conn,
                ref,
                version,
                "refused",
                now,
                message="a held order is confirmed by a person only",
            )
            counts["refused_confirm_of_hold"] += 1
            continue
        conn.execute(
            f"update {STOREFRONT_DECISIONS} set status = 'sending', attempts = attempts + 1, "
            "attempt_started_at = ?, run_id = ? where order_ref = ? and decision_version = ?",
            [now, run_id, ref, version],
        )
        try:
            result = registry.apply_decision(ref, decision, reason, version)
        except (UnsupportedPlatformError, WriteBackNotConfiguredError, InvalidOrderRefError) as exc:
            _close(conn, ref, version, "unsupported", now, message=str(exc))
            counts["unsupported"] += 1
            continue
        except RunStoppingError as exc:
            _close(conn, ref, version, "retry", now, error_code=str(exc.code), message=str(exc))
            raise
        status = {
            WriteBackStatus.APPLIED: "applied",
            WriteBackStatus.ALREADY_APPLIED: "already_applied",
            WriteBackStatus.FAILED_PERMANENT: "failed",
            WriteBackStatus.FAILED_TRANSIENT_EXHAUSTED: "retry",
        }[result.status]
        _close(
            conn, ref, version, status, now,
            error_code=result.error_code, message=result.error_message,
            operations="; ".join(result.operations) or None,
        )  # fmt: skip
        counts[status] += 1
    return counts


def decisions_by_band(conn: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Current decision of each order, counted per score band and push status."""
    ensure_activation_tables(conn)
    rows = conn.execute(
        f"""
        with current_decisions as (
            select * from {STOREFRONT_DECISIONS}
            qualify row_number() over (partition by order_ref order by decision_version desc) = 1
        )
        select coalesce(band, decided_by), decision, status, count(*)
        from current_decisions group by all
        """
    ).fetchall()
    return _group(rows)


def _group(rows) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for band, decision, status, count in rows:
        out.setdefault(band, Counter())[f"{decision}:{status}"] += count
    return {band: dict(sorted(c.items())) for band, c in sorted(out.items())}
