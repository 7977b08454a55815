"""SMS replies as customers really write them, and the confirmation email's events.

Everything here draws from a random stream of its own per order (seeded by the store's
seed and the order reference) and writes its records ``clean`` (outside the mess), so
that adding these records changes none of the other records of the store, nor which
of them the mess breaks — except the email envelope, which has its own mess injector.

* SMS replies: the customer's OUI / NON is written in one of the ways COD teams see
  (``OUI``, ``1``, ``wah``, ``iyeh``, ``confirmé``, ``نعم``, ``la``, ``lla``,
  ``annuler``, ``لا``…); a few customers first ask a question in free text, a few who
  never answer the SMS write something else instead (a person must read it), and a few
  send STOP (marketing) or STOP ALL after answering.
* Confirmation email (customers with an email address): ``sent``, then ``delivered`` or
  ``bounced``; ``opened`` more often by customers who mean to buy, some ``clicked``.
"""

from __future__ import annotations

import hashlib
import math
import random

from sandbox.sample_store import vendors as v
from sandbox.sample_store.order import _OrderCtx
from sandbox.sample_store.timing import HOUR, _sigmoid

# How customers write OUI / NON to the SMS (the reply_vocabulary seed must know them all).
SMS_REPLY_VARIANTS: dict[str, tuple[str, ...]] = {
    "confirm": (
        "OUI", "oui", "Oui.", "1", "ok", "Ok!", "wah", "Wah", "iyeh", "Iyeh", "ah",
        "confirmé", "Confirmé", "oui je confirme", "wakha", "نعم", "waxa",
    ),
    "cancel": ("NON", "non", "2", "la", "La", "lla", "annuler", "Annulé", "لا", "non merci"),
}  # fmt: skip
# Free text no vocabulary reads: the agent queue's job.
SMS_FREE_TEXT = (
    "chkoun nta?",
    "C'est quoi cette commande ?",
    "Salam, ghir 3lach had l msg",
    "rappelez moi svp",
    "ana f lkhedma, 3iyet liya mn b3d",
    "Bch7al livraison?",
)
SMS_STOP_WORDS = ("STOP", "stop", "Stop")
SMS_STOP_ALL_WORDS = ("STOP ALL", "stop all", "STOP TOUT")

EMAIL_PROVIDER = "brevo"
CONFIRMATION_EMAIL_TEMPLATE = "order_confirmation"


class _ChannelsMixin:
    """SMS reply wording and extra replies; the confirmation email's events."""

    def _channel_rnd(self, order: _OrderCtx, purpose: str) -> random.Random:
        return random.Random(f"{self.seed}|{order.ref}|{purpose}")

    def _sms_reply_text(self, order: _OrderCtx, word: str, drawn: str) -> str:
        """The customer's OUI / NON as written: ``drawn`` (the store's own draw) or a variant."""
        rnd = self._channel_rnd(order, "sms-wording")
        return drawn if rnd.random() < 0.4 else rnd.choice(SMS_REPLY_VARIANTS[word])

    def _sms_inbound_clean(self, order: _OrderCtx, ts: int, body: str, purpose: str) -> None:
        digest = hashlib.sha256(f"{self.seed}|{order.ref}|{purpose}".encode()).hexdigest()
        message_id = f"SMR{int(digest[:12], 16) % 10**10:010d}"
        record = v.sms_event(
            provider=("infobip", "twilio")[order.customer % 2],
            message_id=message_id,
            direction="inbound",
            phone="212" + self._national(order.customer),
            status="received",
            event_time=v.iso_local(ts),
            body=body,
            order_ref=None,
        )
        if self._emit(ts, "sms", "sms_events", record, clean=True):
            self._count(self.sms_counts, "inbound:received")

    def _sms_around_answer(self, order: _OrderCtx, sms_ts: int, answer_ts: int) -> None:
        """A question before the answer, a STOP / STOP ALL after it, for a few customers."""
        rnd = self._channel_rnd(order, "sms-extra")
        if rnd.random() < 0.06 and answer_ts - sms_ts > 120:
            asked = sms_ts + rnd.randint(30, answer_ts - sms_ts - 60)
            self._sms_inbound_clean(order, asked, rnd.choice(SMS_FREE_TEXT), "question")
        roll = rnd.random()
        if roll < 0.006:
            words = SMS_STOP_ALL_WORDS
        elif roll < 0.03:
            words = SMS_STOP_WORDS
        else:
            return
        self._sms_inbound_clean(order, answer_ts + rnd.randint(60, 3600), rnd.choice(words), "stop")

    def _sms_unanswered(self, order: _OrderCtx, sms_ts: int) -> None:
        """A customer who does not answer OUI / NON sometimes writes something else."""
        rnd = self._channel_rnd(order, "sms-unanswered")
        if rnd.random() < 0.08:
            at = sms_ts + 60 + int(rnd.lognormvariate(math.log(900), 1.0))
            self._sms_inbound_clean(order, at, rnd.choice(SMS_FREE_TEXT), "free_text")

    def _confirmation_email(self, order: _OrderCtx, intent: float) -> None:
        """The storefront's order-confirmation email and what its provider reports."""
        if not order.email:
            return
        rnd = self._channel_rnd(order, "email")
        message_id = f"<{order.ref.replace(':', '.')}.confirmation@mail.boutique.ma>"
        sent_ts = order.placed_ts + rnd.randint(5, 240)
        events = [("sent", sent_ts, None)]
        if rnd.random() < 0.04:
            events.append(("bounced", sent_ts + rnd.randint(2, 120), rnd.choice(("hard", "soft"))))
        else:
            delivered_ts = sent_ts + rnd.randint(1, 90)
            events.append(("delivered", delivered_ts, None))
            if rnd.random() < _sigmoid(-0.4 + 1.1 * intent):
                opened_ts = delivered_ts + int(rnd.lognormvariate(math.log(40 * 60), 1.3))
                events.append(("opened", opened_ts, None))
                if rnd.random() < 0.2:  # a second open: the same event reported again
                    events.append(("opened", opened_ts + rnd.randint(HOUR, 30 * HOUR), None))
                if rnd.random() < 0.3:
                    events.append(("clicked", opened_ts + rnd.randint(5, 600), None))
        for event, ts, bounce in events:
            record = {
                "provider": EMAIL_PROVIDER,
                "message_id": message_id,
                "event": event,
                "recipient": order.email,
                "template": CONFIRMATION_EMAIL_TEMPLATE,
                "order_ref": order.ref,
                "event_time": v.iso_local(ts),
            }
            if bounce is not None:
                record["bounce_type"] = bounce
            # The provider posts its events within a minute; the email file has its own
            # mess injector, so a bad line here moves no other source's bad lines.
            self._emit(ts + rnd.randint(0, 60), "email", "email_events", record)
