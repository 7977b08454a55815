"""What may appear in a log line: masked phone numbers, never a secret."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "***"


def mask_phone(phone: str | None) -> str:
    """``+212612345678`` -> ``+2126****5678``: country and operator prefix, last four digits.

    Enough to tell two customers apart in a log, not enough to call them.
    Numbers too short to have a meaningful prefix keep only their last two digits.
    """
    if not phone:
        return "<none>"
    text = str(phone).strip()
    plus = "+" if text.startswith("+") else ""
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) < 9:
        return plus + "*" * max(len(digits) - 2, 0) + digits[-2:]
    return f"{plus}{digits[:4]}{'*' * (len(digits) - 8)}{digits[-4:]}"


def redact(text: str | None, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each (non-empty) secret replaced by ``***``.

    Vendor error messages are echoed into exceptions and logs; a vendor that
    quotes the credential back must not leak it through us.
    """
    result = text or ""
    for secret in secrets:
        if secret:
            result = result.replace(secret, REDACTED)
    return result


# A run of 7+ digits, possibly with the separators people type in phone numbers
# (spaces, dots, dashes, brackets) and a leading + or 00: anything that could be one.
_PHONE_LIKE = re.compile(r"\+?\d(?:[\s().\-]{0,2}\d){6,}")


def mask_phones_in_text(text: str | None) -> str:
    """``text`` with every phone-like run of digits masked as :func:`mask_phone` does.

    For free text built from untrusted input (quarantine reasons, previews, vendor
    errors) where a phone number may appear anywhere: over-masking a long order id
    is a price worth paying for never printing a customer's number.
    """
    return _PHONE_LIKE.sub(_mask_unless_date, text or "")


# ISO dates (2026-03-01) look like digit runs with dashes; they are not phone numbers.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _mask_unless_date(match: re.Match) -> str:
    text = match.group(0)
    return text if _ISO_DATE.fullmatch(text) else mask_phone(text)
