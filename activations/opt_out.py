"""Opt-out categories, as Meta defines them: what each kind of "stop" stops.

The rule, in one place (tests: tests/activations/test_opt_out_categories.py):

* A **marketing opt-out** stops marketing only. Sources: WhatsApp ``user_preferences``
  ``stop`` (the customer's "Stop promotions" in WhatsApp, category
  ``marketing_messages``), error 131050 on a send (Meta: "this user has stopped
  marketing messages from your business"), a STOP reply on WhatsApp or by SMS, and
  ``customer_360.consent_status = 'opted_out'`` (built from those same two WhatsApp
  sources). Utility messages about the customer's *own open order* — its confirmation,
  the out-for-delivery notice, the delivery code — still go: Meta's marketing opt-out
  does not cover utility templates, and the customer is waiting for that parcel.
  A utility message about no order (or a marketing one dressed as utility) does not.
* A **stop-everything opt-out** stops every message on every channel: a reply "STOP
  ALL" (``reply_intent = 'opt_out_all'``, the reply_vocabulary seed), the SMS gateway's
  ``opted_out`` answer (the carrier-level block: the customer blocked the sender), and a
  number the customer blocked (``number_blocked``: no feed reports a WhatsApp block by
  itself, so the team records one with :func:`activations.suppression.add_suppression`).
  A reason this table does not know is treated as stop-everything: an unknown opt-out
  never lets a message through.

Sources: Meta's ``user_preferences`` webhook reference (developers.facebook.com,
WhatsApp Business Platform › webhooks › user_preferences: "notifies you of changes to a
WhatsApp user's marketing message preferences", category ``marketing_messages``, value
``stop`` / ``resume``); error 131050 ("user has stopped marketing messages"); only
marketing-category templates are refused after such a stop, utility and authentication
templates still deliver. The WhatsApp Business Messaging Policy asks businesses to
respect every request to block, discontinue or otherwise opt out — the stop-everything
category.
"""

from __future__ import annotations

from enum import StrEnum


class OptOutScope(StrEnum):
    MARKETING = "marketing"  # marketing stops; utility about the customer's open order goes
    ALL = "all"  # nothing at all


# suppression.reason -> what it stops. Keep in step with activations/suppression.py,
# which writes these reasons.
REASON_SCOPES: dict[str, OptOutScope] = {
    "whatsapp_131050": OptOutScope.MARKETING,
    "user_preferences_stop": OptOutScope.MARKETING,
    "stop_reply": OptOutScope.MARKETING,
    "sms_stop_reply": OptOutScope.MARKETING,
    "consent_opted_out": OptOutScope.MARKETING,
    "stop_all_reply": OptOutScope.ALL,
    "sms_stop_all_reply": OptOutScope.ALL,
    "sms_opted_out": OptOutScope.ALL,
    "number_blocked": OptOutScope.ALL,
}


def scope_of(reason: str) -> OptOutScope:
    """What a suppression reason stops; an unknown reason stops everything."""
    return REASON_SCOPES.get(reason, OptOutScope.ALL)


def widest(scopes: list[OptOutScope]) -> OptOutScope | None:
    """The scope that stops most of a customer's several opt-outs (None: none)."""
    if not scopes:
        return None
    return OptOutScope.ALL if OptOutScope.ALL in scopes else OptOutScope.MARKETING


def blocks(scope: OptOutScope | None, category: str, about_open_order: bool) -> bool:
    """Whether an opt-out of ``scope`` stops a message of ``category``.

    ``category``: ``marketing`` or ``utility`` (``rules.Category``).
    ``about_open_order``: the message is about the customer's own order, still open
    (the order audiences of confirmation, delivery code, out-for-delivery).
    """
    if scope is None:
        return False
    if scope is OptOutScope.ALL:
        return True
    return not (category == "utility" and about_open_order)
