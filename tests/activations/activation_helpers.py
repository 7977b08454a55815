"""Credentials, phone numbers and retry settings shared by the activations tests."""

from __future__ import annotations

import time

WHATSAPP_TOKEN = "fake-test-wa-token-7f3c9-not-a-real-credential"
SHOPIFY_TOKEN = "shpat_secret_shopify_token_4b2a"
WOO_KEY = "ck_secretkey_1a2b3c"
WOO_SECRET = "cs_secretsecret_4d5e6f"
YOUCAN_TOKEN = "yc_secret_token_8e9f"
SMS_KEY = "sms_secret_key_0a1b"

PHONE = "+212612345678"
PHONE_MASKED = "+2126****5678"

# Retries fast enough for the whole folder to run in seconds.
FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "timeout_s": 2.0, "rate_limit_per_s": None}


class RecordingSleep:
    """A ``sleep`` for clients: records each wait; really sleeps (capped) only if ``real``."""

    def __init__(self, real: bool = False, cap_s: float = 1.0) -> None:
        self.calls: list[float] = []
        self.real = real
        self.cap_s = cap_s

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.real:
            time.sleep(min(seconds, self.cap_s))
