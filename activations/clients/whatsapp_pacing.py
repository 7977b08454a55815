"""How fast one WhatsApp business phone number sends: its pace and its requests in flight.

Meta's throughput limit is per business phone number (Cloud API: 80 messages/s by
default, more once Meta upgrades the number), so the pace is configured per number, from
the environment, with a fallback for all numbers:

| variable | default | what |
| --- | --- | --- |
| ``COD360_WHATSAPP_RATE_PER_S_<PHONE_NUMBER_ID>`` | — | requests / second for that number |
| ``COD360_WHATSAPP_RATE_PER_S`` | the resource's ``rate_limit_per_s`` (20) | for every number |
| ``COD360_WHATSAPP_SEND_CONCURRENCY`` | 4 | sends in flight at once per campaign run |

Concurrency only hides latency (a hung request no longer stalls the campaign); the token
bucket in the client keeps the pace whatever the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

RATE_ENV = "COD360_WHATSAPP_RATE_PER_S"
CONCURRENCY_ENV = "COD360_WHATSAPP_SEND_CONCURRENCY"
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64  # a typo must not open hundreds of connections to Meta


@dataclass(frozen=True)
class SendPacing:
    rate_per_s: float | None  # None: no client-side pacing
    concurrency: int


def _positive_float(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r}: expected a number of requests per second") from None
    if number < 0:
        raise ValueError(f"{name}={value!r}: must be 0 (no pacing) or more")
    return number


def send_pacing(
    phone_number_id: str,
    default_rate_per_s: float | None,
    environ: Mapping[str, str] | None = None,
) -> SendPacing:
    """The pace and concurrency for ``phone_number_id``: its own variable, else the global
    one, else ``default_rate_per_s``; a bad value is an error naming the variable."""
    env = os.environ if environ is None else environ
    rate = default_rate_per_s
    for name in (RATE_ENV, f"{RATE_ENV}_{phone_number_id}"):  # the more specific wins
        if env.get(name, "").strip():
            rate = _positive_float(name, env[name].strip())
    concurrency = DEFAULT_CONCURRENCY
    if env.get(CONCURRENCY_ENV, "").strip():
        raw = env[CONCURRENCY_ENV].strip()
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_CONCURRENCY:
            raise ValueError(
                f"{CONCURRENCY_ENV}={raw!r}: expected a whole number 1–{MAX_CONCURRENCY}"
            )
        concurrency = int(raw)
    return SendPacing(rate if rate else None, concurrency)
