"""Order confirmation flow (SPEC §5): WhatsApp with CONFIRM / CANCEL, SMS when no answer.

* Every new COD order (open, confirmation pending, placed or pending, placed within
  ``max_order_age`` of the newest order) gets the ``order_confirmation`` template
  with two quick replies whose payloads are ``CONFIRM`` and ``CANCEL``.
  ``biz_opaque_callback_data`` is
  ``order_ref=<ref>&template=order_confirmation&campaign=order_confirmation&outbox=<key>``,
  the form the staging models parse; the reply comes back through the webhooks
  (``stg_whatsapp__inbound_messages``, tied by ``context.id``).
* No reply ``fallback_after`` (2 h) after the message was sent, while the order is
  still pending — or the WhatsApp message failed (not on WhatsApp…) — sends one SMS
  through the gateway (``client_ref`` = its own outbox key: never twice).
  A customer who stopped everything (STOP ALL, blocked the number) gets neither; a
  marketing opt-out still gets both — utility messages about their own open order
  (activations/opt_out.py).
* The answer counts on either channel: the CONFIRM / CANCEL button, or OUI / NON (1 / 2,
  wah, la, نعم, لا…) to the SMS — the reply_vocabulary seed, ``sms_replies``.

Both legs run through the campaign runner, so the sending rules and the outbox
apply unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import duckdb

from activations.audience import AudienceMember, audience_values
from activations.campaign_config import Template, Variable
from activations.campaign_planning import MessageSpec, naive
from activations.outbox_reconciliation import apply_webhook_evidence
from activations.rules import Category, QuietHours, SendingPolicy
from activations.warehouse_tables import (
    INBOUND_MESSAGES_MODEL,
    ORDERS_MODEL,
    OUTBOX,
    relation_exists,
)
from common.marts import mart

ORDER_CONFIRMATION = "order_confirmation"
SMS_FALLBACK = "order_confirmation_sms"
CONFIRM, CANCEL = "CONFIRM", "CANCEL"


@dataclass(frozen=True)
class ConfirmationSettings:
    language: str = "fr"
    max_order_age: timedelta = timedelta(hours=72)
    fallback_after: timedelta = timedelta(hours=2)
    # Nobody wants an order question at midnight; the answer can wait for the morning.
    quiet_hours: QuietHours | None = field(default_factory=lambda: QuietHours(time(22), time(8)))
    brand_name: str = "Votre boutique"
    valid_for: timedelta = timedelta(hours=24)


def confirmation_spec(settings: ConfirmationSettings = ConfirmationSettings()) -> MessageSpec:
    template = Template(
        name=ORDER_CONFIRMATION,
        language=settings.language,
        variables=[
            Variable(column="first_name", default="client"),
            Variable(column="order_number"),
            Variable(format="{order_total} {currency}"),
        ],
        buttons=[CONFIRM, CANCEL],
    )
    return MessageSpec(
        campaign_id=ORDER_CONFIRMATION,
        policy=SendingPolicy(
            ORDER_CONFIRMATION, Category.UTILITY, quiet_hours=settings.quiet_hours
        ),
        templates={"A": template},
        valid_for=settings.valid_for,
    )


def _members(frame, occasion_prefix: str = "order") -> list[AudienceMember]:
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [
        AudienceMember(
            customer_phone=r["customer_phone"],
            occasion=f"{occasion_prefix}:{r['order_ref']}",
            order_ref=r["order_ref"],
            values=audience_values(r),
        )
        for r in records
    ]


def new_cod_orders(settings: ConfirmationSettings = ConfirmationSettings()):
    """The audience of the confirmation message: COD orders waiting for confirmation."""

    def audience(conn: duckdb.DuckDBPyConnection, now: datetime) -> list[AudienceMember]:
        orders = mart(ORDERS_MODEL)
        if not relation_exists(conn, orders):
            return []
        # Age is measured against the newest order, so a replayed or sample store behaves
        # like a live one; in production the newest order is minutes old.
        frame = conn.execute(
            f"""
            select order_ref, customer_phone, customer_name, city, order_number, total_amount,
                currency, carrier, tracking_number
            from {orders}
            where is_cod and outcome = 'open' and confirmation_status = 'pending'
              and order_status in ('placed', 'pending') and customer_phone is not null
              and placed_at >= (select max(placed_at) from {orders}) - to_seconds(?)
            order by placed_at, order_ref
            """,
            [int(settings.max_order_age.total_seconds())],
        ).df()
        return _members(frame)

    return audience


def sms_fallback_spec(settings: ConfirmationSettings = ConfirmationSettings()) -> MessageSpec:
    def text(member: AudienceMember) -> str | None:
        v = member.values
        if not v.get("order_number"):
            return None
        total = (
            f" ({v['order_total']} {v.get('currency') or 'MAD'})" if v.get("order_total") else ""
        )
        return (
            f"{settings.brand_name}: votre commande {v['order_number']}{total} attend votre "
            "confirmation. Repondez OUI pour confirmer ou NON pour annuler."
        )

    return MessageSpec(
        campaign_id=SMS_FALLBACK,
        policy=SendingPolicy(SMS_FALLBACK, Category.UTILITY, quiet_hours=settings.quiet_hours),
        templates={"A": Template(name="sms_fallback")},
        valid_for=settings.valid_for,
        channel="sms",
        text_for=text,
    )


def unanswered_confirmations(settings: ConfirmationSettings = ConfirmationSettings()):
    """Orders still pending whose WhatsApp confirmation got no answer in time, or failed."""

    def audience(conn: duckdb.DuckDBPyConnection, now: datetime) -> list[AudienceMember]:
        orders, inbound = mart(ORDERS_MODEL), mart(INBOUND_MESSAGES_MODEL)
        if not relation_exists(conn, orders) or not relation_exists(conn, OUTBOX):
            return []
        # A confirmation Meta reported failed (not on WhatsApp…) needs the SMS now.
        apply_webhook_evidence(conn, ORDER_CONFIRMATION, naive(now))
        replied = (
            f"""
            exists (
                select 1 from {inbound} i
                where i.replied_to_message_id = ob.message_id
                   or ('+' || i.sender_wa_id = ob.customer_phone and i.received_at >= ob.sent_at
                       and i.reply_intent in ('confirm', 'cancel'))
            )
            """
            if relation_exists(conn, inbound)
            else "false"
        )
        frame = conn.execute(
            f"""
            select o.order_ref, o.customer_phone, o.customer_name, o.city, o.order_number,
                o.total_amount, o.currency, o.carrier, o.tracking_number
            from {OUTBOX} ob
            join {orders} o on o.order_ref = ob.order_ref
            where ob.campaign_id = ? and o.outcome = 'open' and o.confirmation_status = 'pending'
              and (
                (ob.status = 'sent' and ob.sent_at <= ? and not {replied})
                or (ob.status = 'failed' and coalesce(ob.error_code, '') <> '131050')
              )
            order by ob.created_at, o.order_ref
            """,
            [ORDER_CONFIRMATION, naive(now - settings.fallback_after)],
        ).df()
        return _members(frame)

    return audience
