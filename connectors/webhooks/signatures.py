"""HMAC-SHA256 signatures over the raw request body, as each sender computes them.

Every scheme here signs the exact bytes on the wire: a body that was parsed and
re-serialised (other spacing, other key order, other escapes) does not verify.
Comparisons are constant-time (``hmac.compare_digest``).

- WhatsApp (Meta) and carriers: ``sha256=<lowercase hex>`` of HMAC-SHA256(secret, body).
- Shopify and LightFunnels: base64 of the 32-byte HMAC-SHA256(secret, body).
- Yalidine / Guepex (``X-YALIDINE-SIGNATURE``): the bare hex of HMAC-SHA256(secret, body),
  no ``sha256=`` prefix (PHP's ``hash_hmac('sha256', $body, $secret)`` in their docs).

The ``sign_*`` functions exist for tests, benchmarks and carriers' integration
guides; the receiver only verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

HEX_PREFIX = "sha256="


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def hmac_sha256(secret: str | bytes, body: bytes) -> bytes:
    """The raw 32-byte HMAC-SHA256 of ``body`` under ``secret``."""
    return hmac.new(_key(secret), body, hashlib.sha256).digest()


def sign_hex(secret: str | bytes, body: bytes) -> str:
    """``sha256=<hex>``: the ``X-Hub-Signature-256`` / ``X-Cod360-Signature`` value."""
    return HEX_PREFIX + hmac_sha256(secret, body).hex()


def sign_base64(secret: str | bytes, body: bytes) -> str:
    """Base64 digest: the ``X-Shopify-Hmac-Sha256`` / ``lightfunnels-hmac`` value."""
    return base64.b64encode(hmac_sha256(secret, body)).decode("ascii")


def verify_hex(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is ``sha256=<hex>`` of the HMAC of ``body``.

    The hex part is case-insensitive; a missing header, a missing prefix or an
    empty secret never verifies.
    """
    if not secret or not header:
        return False
    header = header.strip()
    if not header.lower().startswith(HEX_PREFIX):
        return False
    try:
        provided = bytes.fromhex(header[len(HEX_PREFIX) :])
    except ValueError:
        return False
    return hmac.compare_digest(hmac_sha256(secret, body), provided)


def sign_plain_hex(secret: str | bytes, body: bytes) -> str:
    """Bare lowercase hex: the ``X-YALIDINE-SIGNATURE`` value."""
    return hmac_sha256(secret, body).hex()


def verify_plain_hex(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the bare hex HMAC of ``body`` (case-insensitive, no prefix)."""
    if not secret or not header:
        return False
    try:
        provided = bytes.fromhex(header.strip())
    except ValueError:
        return False
    return hmac.compare_digest(hmac_sha256(secret, body), provided)


def verify_base64(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the base64 HMAC of ``body``; malformed base64 never verifies."""
    if not secret or not header:
        return False
    try:
        provided = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(hmac_sha256(secret, body), provided)
