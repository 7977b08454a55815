"""What may appear in a log line: masked phone numbers, never a secret."""

from __future__ import annotations

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
