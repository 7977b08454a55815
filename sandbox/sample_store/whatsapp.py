"""WhatsApp Cloud API webhook writer: template statuses, inbound replies, offers."""

from __future__ import annotations

import math

from sandbox.sample_store import vendors as v
from sandbox.sample_store.order import _OrderCtx
from sandbox.sample_store.timing import HOUR, _local_day_start, _randint
from sandbox.sample_store.writer import DAY

CONFIRMATION_CALLBACK = "order_ref={ref}&template=order_confirmation&campaign=order_confirmation"

REMINDER_CALLBACK = "order_ref={ref}&template=freeform_reminder&campaign=order_confirmation"

OFFER_CALLBACK = "order_ref={ref}&template=post_delivery_offer&campaign=post_delivery_offer"

BUTTON_TEXT = {"CONFIRM": "Oui, je confirme", "CANCEL": "Annuler la commande"}


class _WhatsAppMixin:
    """Writes the webhooks Meta would post for the store's WhatsApp messages."""

    def _wa_emit(self, ts: int, body: dict, counter: str) -> None:
        if self._emit(
            ts + _randint(self.rnd, 0, 3), "whatsapp", "whatsapp_webhooks", body, flaky=True
        ):
            self._count(self.wa_counts, counter)

    def _wa_outbound(
        self,
        order: _OrderCtx,
        callback: str,
        category: str,
        sent_ts: int,
        *,
        error_code: int | None = None,
        delivered_ts: int | None = None,
        read_ts: int | None = None,
    ) -> str:
        rnd = self.rnd
        message_id = v.wamid(order.wa, self._hex(72), inbound=False)
        conversation_id = self._hex(128).lower()
        common = {
            "message_id": message_id,
            "recipient": order.wa,
            "callback": callback,
            "category": category,
            "conversation_id": conversation_id,
        }
        if error_code is not None:
            self._wa_emit(
                sent_ts + _randint(rnd, 1, 5),
                v.wa_status(
                    status="failed",
                    ts=sent_ts + 1,
                    conversation_expires_ts=None,
                    error_code=error_code,
                    **common,
                ),
                f"status:failed:{error_code}",
            )
            return message_id
        self._wa_emit(
            sent_ts,
            v.wa_status(status="sent", ts=sent_ts, conversation_expires_ts=sent_ts + DAY, **common),
            "status:sent",
        )
        if delivered_ts is not None:
            if read_ts is not None and self.mess and self.mess_rnd.random() < 0.03:
                self.read_without_delivered += 1  # Meta skips 'delivered' when read at once
            else:
                self._wa_emit(
                    delivered_ts,
                    v.wa_status(
                        status="delivered", ts=delivered_ts, conversation_expires_ts=None, **common
                    ),
                    "status:delivered",
                )
        if read_ts is not None:
            self._wa_emit(
                read_ts,
                v.wa_status(status="read", ts=read_ts, conversation_expires_ts=None, **common),
                "status:read",
            )
        return message_id

    def _wa_inbound(
        self,
        order: _OrderCtx,
        ts: int,
        kind: str,
        text: str,
        payload: str | None,
        context: str | None,
    ) -> None:
        body = v.wa_inbound(
            message_id=v.wamid(order.wa, self._hex(80), inbound=True),
            ts=ts,
            sender=order.wa,
            profile_name=order.profile_name,
            kind=kind,
            text=text,
            payload=payload,
            context_id=context,
        )
        self._wa_emit(ts, body, f"message:{kind}")

    def _post_delivery_offer(self, order: _OrderCtx, delivered_ts: int) -> None:
        """A marketing template a few days after delivery (source of 131049 / 131050)."""
        rnd = self.rnd
        customer = order.customer
        if (
            self.c_invalid_raw.get(customer) is not None
            or not self.c_on_wa.item(customer)
            or self.c_stop_text.item(customer)
        ):
            return
        day_start = _local_day_start(delivered_ts + 3 * DAY)
        send_ts = day_start + _randint(rnd, 11 * HOUR, 20 * HOUR)
        callback = OFFER_CALLBACK.format(ref=order.ref)
        stop, resume = self.c_pref_stop.get(customer, 0), self.c_pref_resume.get(customer, 0)
        if stop and stop < send_ts and not (resume and resume < send_ts):
            self._wa_outbound(order, callback, "marketing", send_ts, error_code=131050)
        elif rnd.random() < 0.05:
            self._wa_outbound(order, callback, "marketing", send_ts, error_code=131049)
        else:
            delivered = send_ts + _randint(rnd, 1, 120)
            read = (
                delivered + int(rnd.lognormvariate(math.log(1800), 1.3))
                if rnd.random() < 0.6
                else None
            )
            self._wa_outbound(
                order, callback, "marketing", send_ts, delivered_ts=delivered, read_ts=read
            )
