"""Confirmation of a COD order: WhatsApp template, SMS fallback, call centre."""

from __future__ import annotations

import math

from sandbox.sample_store import world as w
from sandbox.sample_store.order import _OrderCtx
from sandbox.sample_store.timing import HOUR, _randint, _sigmoid
from sandbox.sample_store.whatsapp import BUTTON_TEXT, CONFIRMATION_CALLBACK, REMINDER_CALLBACK


class _ConfirmationMixin:
    """Decides how (and whether) a COD order is confirmed, writing the messages it takes."""

    def _confirm(
        self, order: _OrderCtx, intent: float, invalid_phone: bool
    ) -> tuple[str, str, int]:
        """Confirmation of a COD order: WhatsApp template, SMS fallback, call centre."""
        rnd = self.rnd
        placed_ts = order.placed_ts
        self._confirmation_email(order, intent)
        send_ts = placed_ts + _randint(rnd, 20, 600)
        callback = CONFIRMATION_CALLBACK.format(ref=order.ref)
        decision: str | None = None
        decided_ts = 0
        channel = "none"
        replied_ts: int | None = None
        if invalid_phone:
            # the send API rejects the number: no webhook; the SMS gateway fails too
            self._sms_outbound(order, send_ts + 2 * HOUR, fails=True)
        else:
            on_wa = self.c_on_wa.item(order.customer)
            if not on_wa or rnd.random() < 0.015:
                self._wa_outbound(order, callback, "utility", send_ts, error_code=131026)
            else:
                delivered_ts = read_ts = None
                if rnd.random() < 0.97:
                    delivered_ts = send_ts + (
                        _randint(rnd, 1, 60)
                        if rnd.random() < 0.85
                        else _randint(rnd, 600, 6 * HOUR)
                    )
                    if rnd.random() < _sigmoid(1.0 + 0.8 * intent):
                        read_ts = delivered_ts + int(rnd.lognormvariate(math.log(480), 1.2))
                        if order.eager:  # a fraud-ring member: read at once
                            read_ts = delivered_ts + _randint(rnd, 2, 20)
                reply = None
                if read_ts is not None and rnd.random() < _sigmoid(0.2 + 1.0 * intent):
                    reply_ts = read_ts + 5 + int(rnd.lognormvariate(math.log(150), 1.1))
                    if order.eager:  # ...and confirmed within the minute
                        reply_ts = read_ts + _randint(rnd, 5, 30)
                    cancel = rnd.random() < _sigmoid(-2.2 - 0.8 * intent)
                    roll = rnd.random()
                    if roll < 0.03:
                        reply = ("text", rnd.choice(w.WHATSAPP_TEXT_REPLIES["stop"]), None, None)
                        self.c_stop_text[order.customer] = True
                    elif roll < 0.08:
                        reply = (
                            "text",
                            rnd.choice(w.WHATSAPP_TEXT_REPLIES["question"]),
                            None,
                            None,
                        )
                    elif roll < 0.30:
                        word = "cancel" if cancel else "confirm"
                        reply = ("text", rnd.choice(w.WHATSAPP_TEXT_REPLIES[word]), None, word)
                    else:
                        payload = "CANCEL" if cancel else "CONFIRM"
                        reply = (
                            "button",
                            BUTTON_TEXT[payload],
                            payload,
                            "cancel" if cancel else "confirm",
                        )
                    replied_ts = reply_ts
                template_id = self._wa_outbound(
                    order, callback, "utility", send_ts, delivered_ts=delivered_ts, read_ts=read_ts
                )
                if reply is not None and replied_ts is not None:
                    kind, text, payload, word = reply
                    context = template_id if kind == "button" or rnd.random() < 0.4 else None
                    self._wa_inbound(order, replied_ts, kind, text, payload, context)
                    if word is not None:
                        decision = "confirmed" if word == "confirm" else "cancelled"
                        decided_ts = replied_ts
                        channel = "whatsapp_button" if kind == "button" else "whatsapp_text"
            # no decisive WhatsApp answer within two hours: SMS fallback
            if decision is None or decided_ts > send_ts + 2 * HOUR:
                sms_ts = send_ts + 2 * HOUR + _randint(rnd, 0, 300)
                delivered = self._sms_outbound(order, sms_ts, fails=rnd.random() < 0.06)
                if delivered and rnd.random() < _sigmoid(-1.0 + 0.7 * intent):
                    answer_ts = sms_ts + 30 + int(rnd.lognormvariate(math.log(1200), 1.0))
                    cancel = rnd.random() < _sigmoid(-2.0 - 0.8 * intent)
                    word = "cancel" if cancel else "confirm"
                    self._ids["sms"] += 1
                    self._sms(
                        order,
                        answer_ts,
                        "inbound",
                        "received",
                        self._sms_reply_text(order, word, rnd.choice(w.SMS_REPLIES[word])),
                        f"SM{self._ids['sms']:010d}",
                    )
                    self._sms_around_answer(order, sms_ts, answer_ts)
                    if decision is None or answer_ts < decided_ts:
                        decision = "confirmed" if word == "confirm" else "cancelled"
                        decided_ts = answer_ts
                        channel = "sms"
                elif delivered:
                    self._sms_unanswered(order, sms_ts)
            # nobody ever answered on WhatsApp: a misconfigured bot sends a free-form reminder
            if replied_ts is None and on_wa and rnd.random() < 0.25:
                self._wa_outbound(
                    order,
                    REMINDER_CALLBACK.format(ref=order.ref),
                    "service",
                    send_ts + 26 * HOUR + _randint(rnd, 0, 2 * HOUR),
                    error_code=131047,
                )
        if decision is None:
            call_ts = placed_ts + _randint(rnd, 3 * HOUR, 26 * HOUR)
            if not invalid_phone and rnd.random() < _sigmoid(0.3 + 0.8 * intent):
                decision = "confirmed" if rnd.random() < 0.88 else "cancelled"
            else:
                decision = "unreachable"
            decided_ts = call_ts
            channel = "call"
        return decision, channel, decided_ts
