"""Delivery codes (OTP): issue, store only an HMAC, verify in constant time with an attempt limit.

When a parcel goes out for delivery the customer receives a 6-digit *delivery
code* by WhatsApp and gives it to the courier at the door (never over the phone).
What the warehouse keeps is ``HMAC-SHA256(COD360_OTP_SECRET, order|phone|version|code)``:
without the secret, the table does not reveal a code, and a code of one order
cannot be replayed on another. Issuing a code supersedes the order's earlier
codes. Verification compares HMACs with :func:`hmac.compare_digest`, counts
failures and locks the code after ``max_attempts``.

    python -m activations.otp verify ORDER_REF CODE

(``COD360_OTP_SECRET`` and ``COD360_WAREHOUSE`` from the environment; exit 0 when
the code is accepted, 1 when refused, 2 on a usage or setup error.)
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import duckdb

from activations.warehouse_tables import OTP_CODES, ensure_activation_tables

SECRET_ENV = "COD360_OTP_SECRET"
DEFAULT_TTL = timedelta(hours=24)
DEFAULT_MAX_ATTEMPTS = 5
CODE_DIGITS = 6
_MIN_SECRET_BYTES = 16


class OtpSecretError(RuntimeError):
    """The HMAC key is missing or too short."""


class VerifyOutcome(StrEnum):
    ACCEPTED = "accepted"
    WRONG_CODE = "wrong_code"
    EXPIRED = "expired"
    LOCKED = "locked"  # too many wrong codes
    ALREADY_USED = "already_used"
    NO_CODE = "no_code"


@dataclass(frozen=True)
class IssuedCode:
    """A freshly issued code. ``code`` lives only in memory, for the message that carries it."""

    order_ref: str
    version: int
    code: str
    expires_at: datetime

    def __repr__(self) -> str:  # never print the code by accident
        return f"IssuedCode(order_ref={self.order_ref!r}, version={self.version}, code='******')"


@dataclass(frozen=True)
class Verification:
    outcome: VerifyOutcome
    attempts_left: int = 0

    @property
    def accepted(self) -> bool:
        return self.outcome is VerifyOutcome.ACCEPTED


def otp_secret(value: str | None = None) -> bytes:
    """The HMAC key: ``value`` or ``$COD360_OTP_SECRET``; at least 16 bytes."""
    raw = value if value is not None else os.environ.get(SECRET_ENV, "")
    if len(raw.encode()) < _MIN_SECRET_BYTES:
        raise OtpSecretError(
            f"{SECRET_ENV} must be set to a random string of at least {_MIN_SECRET_BYTES} bytes "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return raw.encode()


def code_hmac(secret: bytes, order_ref: str, phone: str, version: int, code: str) -> str:
    message = f"{order_ref}|{phone}|{version}|{code}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def issue_code(
    conn: duckdb.DuckDBPyConnection,
    order_ref: str,
    phone: str,
    secret: bytes,
    now: datetime,
    *,
    ttl: timedelta = DEFAULT_TTL,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    outbox_key: str | None = None,
) -> IssuedCode:
    """A new code for the order (earlier ones superseded), stored as its HMAC only."""
    ensure_activation_tables(conn)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    version = conn.execute(
        f"select coalesce(max(code_version), 0) + 1 from {OTP_CODES} where order_ref = ?",
        [order_ref],
    ).fetchone()[0]
    expires_at = now + ttl
    conn.execute("begin transaction")
    try:
        conn.execute(
            f"update {OTP_CODES} set status = 'superseded' where order_ref = ? and status = 'active'",
            [order_ref],
        )
        conn.execute(
            f"insert into {OTP_CODES} values (?, ?, ?, ?, ?, ?, 0, ?, 'active', null, ?)",
            [
                order_ref,
                version,
                phone,
                code_hmac(secret, order_ref, phone, version, code),
                _naive(now),
                _naive(expires_at),
                max_attempts,
                outbox_key,
            ],
        )
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    return IssuedCode(order_ref, version, code, expires_at)


def verify_code(
    conn: duckdb.DuckDBPyConnection, order_ref: str, code: str, secret: bytes, now: datetime
) -> Verification:
    """Check ``code`` against the order's latest code; counts a wrong code, uses a right one."""
    ensure_activation_tables(conn)
    row = conn.execute(
        f"""
        select code_version, customer_phone, code_hmac, expires_at, failed_attempts,
            max_attempts, status
        from {OTP_CODES} where order_ref = ? order by code_version desc limit 1
        """,
        [order_ref],
    ).fetchone()
    candidate = "".join(ch for ch in str(code) if not ch.isspace())
    if row is None:
        # Same work as a real check, so timing does not tell which orders have a code.
        hmac.compare_digest(code_hmac(secret, order_ref, "", 0, candidate), "0" * 64)
        return Verification(VerifyOutcome.NO_CODE)
    version, phone, stored, expires_at, failed, max_attempts, status = row
    matches = hmac.compare_digest(code_hmac(secret, order_ref, phone, version, candidate), stored)
    left = max(max_attempts - failed, 0)
    if status == "used":
        return Verification(VerifyOutcome.ALREADY_USED)
    if status == "locked" or left == 0:
        return Verification(VerifyOutcome.LOCKED)
    if status == "expired":
        return Verification(VerifyOutcome.EXPIRED)
    if status != "active":
        return Verification(VerifyOutcome.NO_CODE)
    if _naive(now) >= expires_at:
        conn.execute(
            f"update {OTP_CODES} set status = 'expired' where order_ref = ? and code_version = ?",
            [order_ref, version],
        )
        return Verification(VerifyOutcome.EXPIRED)
    if matches:
        conn.execute(
            f"update {OTP_CODES} set status = 'used', used_at = ? "
            "where order_ref = ? and code_version = ? and status = 'active'",
            [_naive(now), order_ref, version],
        )
        return Verification(VerifyOutcome.ACCEPTED, left)
    failed += 1
    conn.execute(
        f"update {OTP_CODES} set failed_attempts = ?, "
        "status = case when ? >= max_attempts then 'locked' else status end "
        "where order_ref = ? and code_version = ?",
        [failed, failed, order_ref, version],
    )
    if failed >= max_attempts:
        return Verification(VerifyOutcome.LOCKED)
    return Verification(VerifyOutcome.WRONG_CODE, max_attempts - failed)


# --- command line ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m activations.otp", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="check a delivery code given at the door")
    verify.add_argument("order_ref", help="<platform>:<platform order id>")
    verify.add_argument("code", help="the 6 digits the customer gave")
    verify.add_argument("--warehouse", default=None, help="DuckDB file (default $COD360_WAREHOUSE)")
    args = parser.parse_args(argv)
    try:
        secret = otp_secret()
    except OtpSecretError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from common.settings import load_settings

    path = args.warehouse or str(load_settings().warehouse_path)
    from common.warehouse import connect

    with connect(path) as conn:
        result = verify_code(conn, args.order_ref, args.code, secret, datetime.now(UTC))
    suffix = (
        f" ({result.attempts_left} attempts left)"
        if result.outcome is VerifyOutcome.WRONG_CODE
        else ""
    )
    print(f"{args.order_ref}: {result.outcome.value}{suffix}")
    return 0 if result.accepted else 1


if __name__ == "__main__":
    raise SystemExit(main())
