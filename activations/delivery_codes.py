"""Delivery-code flows: the code when a parcel goes out, a re-attempt message when it was missing.

* ``delivery_code``: each time an order goes out for delivery (a new round after
  every failed attempt) the customer gets a new 6-digit code — issued at send time,
  right after the outbox row is claimed, so the code exists only in memory and in
  the message; the warehouse keeps its HMAC (``activations.otp``). The template's
  wording says it is a *delivery code*, to show the courier at the door and never
  to read out over the phone.
* ``delivery_reattempt``: a failed attempt with reason ``otp_not_provided`` gets a
  message saying the courier comes back and to keep the code ready — free-form
  text inside the 24 h window, the template outside it (the rule in one place:
  ``activations.rules``).

Telling the carrier that a code is required is ``connectors.carriers.instructions``
(EcoTrack's remark field; Yalidine / Guepex have no such field and are reported as
unsupported), recorded per parcel in its own operational store (docs/carriers.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from activations.audience import AudienceMember, audience_values
from activations.campaign_config import Template, Variable
from activations.campaign_planning import MessageSpec
from activations.otp import DEFAULT_MAX_ATTEMPTS, DEFAULT_TTL, issue_code
from activations.outbox import OutboxRow
from activations.rules import Category, MessageKind, SendingPolicy
from activations.warehouse_tables import ORDERS_MODEL, relation_exists
from common.marts import mart

DELIVERY_CODE = "delivery_code"
DELIVERY_REATTEMPT = "delivery_reattempt"
# The approved template's text (WhatsApp Manager), kept here so it is reviewed with the code.
DELIVERY_CODE_WORDING = (
    "Votre code de livraison est {{1}}. Montrez-le au livreur à la porte, au moment de "
    "payer. Ne le communiquez jamais par téléphone : personne de notre part ne vous le "
    "demandera par appel."
)


def _members(conn: duckdb.DuckDBPyConnection, where: str, occasion: str) -> list[AudienceMember]:
    orders = mart(ORDERS_MODEL)
    if not relation_exists(conn, orders):
        return []
    frame = conn.execute(
        f"""
        select order_ref, customer_phone, customer_name, city, order_number, total_amount,
            currency, carrier, tracking_number, failed_attempts
        from {orders}
        where outcome = 'open' and customer_phone is not null and {where}
        order by order_ref
        """
    ).df()
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [
        AudienceMember(
            customer_phone=r["customer_phone"],
            occasion=occasion.format(
                order_ref=r["order_ref"], round=int(r["failed_attempts"] or 0)
            ),
            order_ref=r["order_ref"],
            values=audience_values(r),
        )
        for r in records
    ]


def orders_out_for_delivery(conn: duckdb.DuckDBPyConnection, now: datetime) -> list[AudienceMember]:
    """One occasion per delivery round: a new round after each failed attempt."""
    return _members(conn, "order_status = 'out_for_delivery'", "order:{order_ref}:round:{round}")


def otp_not_provided_attempts(
    conn: duckdb.DuckDBPyConnection, now: datetime
) -> list[AudienceMember]:
    return _members(
        conn,
        "order_status = 'failed_attempt' and last_failure_reason = 'otp_not_provided'",
        "order:{order_ref}:failed:{round}",
    )


def delivery_code_spec(
    secret: bytes,
    *,
    ttl: timedelta = DEFAULT_TTL,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    language: str = "fr",
) -> MessageSpec:
    def code_at_send(conn: duckdb.DuckDBPyConnection, row: OutboxRow, now: datetime):
        issued = issue_code(
            conn,
            row.order_ref or "",
            row.customer_phone,
            secret,
            now,
            ttl=ttl,
            max_attempts=max_attempts,
            outbox_key=row.outbox_key,
        )
        return (issued.code,)

    return MessageSpec(
        campaign_id=DELIVERY_CODE,
        # A courier is at the door: no quiet hours for the code that lets him hand over.
        policy=SendingPolicy(DELIVERY_CODE, Category.UTILITY),
        templates={"A": Template(name=DELIVERY_CODE, language=language)},
        valid_for=timedelta(hours=12),
        params_at_send=code_at_send,
    )


def reattempt_spec(language: str = "fr") -> MessageSpec:
    template = Template(
        name=DELIVERY_REATTEMPT,
        language=language,
        variables=[
            Variable(column="first_name", default="client"),
            Variable(column="order_number"),
            Variable(column="carrier", default="notre livreur"),
        ],
    )

    def text(member: AudienceMember) -> str | None:
        v = member.values
        return (
            f"Bonjour {v.get('first_name') or ''}, le livreur n'a pas pu remettre la commande "
            f"{v.get('order_number')} faute de code de livraison. Il repassera : vous recevrez un "
            "nouveau code à montrer à la porte (jamais à dicter au téléphone)."
        )

    return MessageSpec(
        campaign_id=DELIVERY_REATTEMPT,
        policy=SendingPolicy(
            DELIVERY_REATTEMPT,
            Category.UTILITY,
            message_kind=MessageKind.TEXT,
            has_template=True,
        ),
        templates={"A": template},
        valid_for=timedelta(hours=24),
        text_for=text,
    )
