"""SMS gateway event writer (Infobip / Twilio shaped): sends, delivery reports, replies."""

from __future__ import annotations

from sandbox.sample_store import vendors as v
from sandbox.sample_store.order import _OrderCtx
from sandbox.sample_store.timing import _randint

SMS_PROVIDERS = ("infobip", "twilio")


class _SmsMixin:
    def _sms(
        self, order: _OrderCtx, ts: int, direction: str, status: str, body: str, message_id: str
    ) -> None:
        phone_raw = self.c_invalid_raw.get(order.customer)
        national = self._national(order.customer)
        if direction == "outbound":
            phone = phone_raw if phone_raw is not None else "+212" + national
        else:
            phone = "212" + national  # gateways report the sender without '+'
        record = v.sms_event(
            provider=SMS_PROVIDERS[order.customer % 2],
            message_id=message_id,
            direction=direction,
            phone=phone,
            status=status,
            event_time=v.iso_local(ts),
            body=body,
            order_ref=order.ref if direction == "outbound" else None,
        )
        if self._emit(ts + _randint(self.rnd, 0, 30), "sms", "sms_events", record, flaky=False):
            self._count(self.sms_counts, f"{direction}:{status}")

    def _sms_outbound(self, order: _OrderCtx, ts: int, *, fails: bool) -> bool:
        self._ids["sms"] += 1
        message_id = f"SM{self._ids['sms']:010d}"
        short_ref = order.ref.split(":", 1)[1][-6:]
        body = (
            f"Bonjour {order.first_name}, merci pour votre commande {short_ref} de {order.total} MAD. "
            "Répondez OUI pour confirmer ou NON pour annuler."
        )
        self._sms(order, ts, "outbound", "sent", body, message_id)
        if fails:
            self._sms(
                order, ts + _randint(self.rnd, 5, 600), "outbound", "failed", body, message_id
            )
            return False
        self._sms(order, ts + _randint(self.rnd, 2, 120), "outbound", "delivered", body, message_id)
        return True
