"""The order frame the warehouse hands to the lead-score model: its contract and its validation.

One row per order. Every timestamp is evidence *with the moment it arrived*, so the
model can look at an order as it was at any instant (see :mod:`ml.evidence`). The
history columns (``customer_past_*``, ``*_rto_rate_prior``) are point-in-time by
contract: the warehouse counts only orders that ended before this order was placed.

Structural problems (a missing column, a column of the wrong type) raise
:class:`OrderContractError` naming every offending column. Row problems (no
``order_ref``, no ``placed_at``, a duplicate, an unknown outcome) never stop the good
rows: those rows are set aside in :attr:`ValidatedOrders.rejected` with the field and
the reason (SPEC §6).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import pandas as pd

PLATFORMS = ("shopify", "woocommerce", "youcan", "tiktok")
PAYMENT_METHODS = ("cod", "prepaid")
OUTCOMES = ("delivered", "returned", "cancelled")
LEAD_SOURCES = ("storefront", "tiktok_lead_form")

# The dbt mart that hands this frame over; its enforced contract declares the same columns
# (tests/ml/test_order_contract_matches_dbt.py compares the two).
ORDER_HISTORY_MART = "order_rto_history"

ColumnKind = Literal["text", "category", "timestamp", "number", "count", "flag"]
# When a column's value becomes known in the life of an order (SPEC §2.1): at placement
# (the order, its landing-page visit, its history before it), during confirmation
# (messages and calls), at dispatch (carrier), or only at the outcome (the label).
KnownStage = Literal["key", "placement", "confirmation", "dispatch", "outcome"]


@dataclass(frozen=True)
class ContractColumn:
    """One column of the order frame: its name, its kind, what it means, when it is known.

    ``known`` is the stage at which the value exists; ``known_at`` names the timestamp
    column that gives the exact moment (itself for an evidence timestamp). A column known
    after placement without a ``known_at`` would leak into earlier scores, so
    :func:`decision_time_problems` refuses it.
    """

    name: str
    kind: ColumnKind
    description: str
    allowed: tuple[str, ...] = ()
    known: KnownStage = "placement"
    known_at: str | None = None


def _evidence(name: str, description: str, known: KnownStage) -> ContractColumn:
    """An evidence timestamp: known at its own moment."""
    return ContractColumn(name, "timestamp", description, known=known, known_at=name)


ORDER_CONTRACT: tuple[ContractColumn, ...] = (
    ContractColumn("order_ref", "text", "Order key, unique per row.", known="key"),
    ContractColumn("customer_phone", "text", "Customer key: phone in E.164.", known="key"),
    ContractColumn("platform", "category", "Storefront the order came from.", PLATFORMS),
    ContractColumn("payment_method", "category", "Cash on delivery or prepaid.", PAYMENT_METHODS),
    # The carrier exists only once a tracking (or assignment) event names it: a score
    # made before that moment must not see it, nor its RTO-rate prior.
    ContractColumn(
        "carrier",
        "text",
        "Carrier that ships the parcel; null before assignment.",
        known="dispatch",
        known_at="carrier_assigned_at",
    ),
    _evidence(
        "carrier_assigned_at",
        "First tracking / assignment event naming the parcel's carrier.",
        "dispatch",
    ),
    ContractColumn("city", "text", "Canonical delivery city; null when unknown."),
    ContractColumn("placed_at", "timestamp", "When the order was placed (UTC). Never null."),
    ContractColumn(
        "resolved_at",
        "timestamp",
        "When the outcome became final; null while open.",
        known="outcome",
    ),
    ContractColumn(
        "outcome",
        "category",
        "Final outcome; null while the order is open.",
        OUTCOMES,
        known="outcome",
    ),
    ContractColumn("order_total", "number", "Order value in MAD."),
    ContractColumn("is_first_order", "flag", "No earlier order from this customer."),
    ContractColumn("phone_is_valid", "flag", "The phone parsed as a valid mobile number."),
    ContractColumn("lead_source", "text", "storefront or tiktok_lead_form."),
    ContractColumn("time_on_page_s", "number", "Seconds on the landing page; null: no signal."),
    ContractColumn("scroll_depth_pct", "number", "Deepest scroll, % of page; null: no signal."),
    ContractColumn("products_viewed", "number", "Products viewed in the visit; null: no signal."),
    ContractColumn(
        "form_completion_s", "number", "Seconds to fill the order form; null: no signal."
    ),
    ContractColumn("visits", "number", "Visits to the landing page; null: no signal."),
    ContractColumn("ad_creative", "text", "Ad creative that brought the visit; null: none."),
    ContractColumn("device", "text", "Device of the visit (mobile, desktop, tablet)."),
    ContractColumn(
        "shared_address_recent_orders",
        "count",
        "Orders from other phones to the same address in the days before placement.",
    ),
    _evidence("confirmation_sent_at", "WhatsApp confirmation template sent.", "confirmation"),
    _evidence("whatsapp_confirmed_at", "Customer confirmed by WhatsApp reply.", "confirmation"),
    _evidence("whatsapp_cancelled_at", "Customer cancelled by WhatsApp reply.", "confirmation"),
    _evidence("whatsapp_first_reply_at", "First WhatsApp reply of any kind.", "confirmation"),
    _evidence("sms_replied_at", "Customer replied to an SMS.", "confirmation"),
    _evidence("sms_confirmed_at", "Customer confirmed by SMS reply (OUI, 1…).", "confirmation"),
    _evidence("sms_cancelled_at", "Customer cancelled by SMS reply (NON, 2…).", "confirmation"),
    _evidence("email_opened_at", "Confirmation email opened.", "confirmation"),
    _evidence("conversation_answered_at", "Answered an agent's questions.", "confirmation"),
    _evidence("unreachable_at", "Phone unreachable after attempts.", "confirmation"),
    _evidence("fraud_flagged_at", "Flagged by fraud rules.", "placement"),
    ContractColumn("customer_past_orders", "count", "Earlier orders that ended before placed_at."),
    ContractColumn("customer_past_delivered", "count", "... of which delivered."),
    ContractColumn("customer_past_rto", "count", "... of which returned to origin."),
    ContractColumn("customer_past_refusals", "count", "... of which refused at the door."),
    ContractColumn("city_rto_rate_prior", "number", "City RTO rate over orders resolved before."),
    ContractColumn(
        "carrier_rto_rate_prior",
        "number",
        "Carrier RTO rate, resolved before placement; known once the carrier is.",
        known="dispatch",
        known_at="carrier_assigned_at",
    ),
    ContractColumn("platform_rto_rate_prior", "number", "Platform RTO rate, resolved before."),
)

CONTRACT_COLUMNS: tuple[str, ...] = tuple(c.name for c in ORDER_CONTRACT)
EVIDENCE_TIMESTAMPS: tuple[str, ...] = tuple(
    c.name for c in ORDER_CONTRACT if c.kind == "timestamp" and c.known_at == c.name
)
RESOLVED_OUTCOMES = ("delivered", "returned")
# How the order ended: what the model learns, never what it reads.
LABEL_COLUMNS = tuple(c.name for c in ORDER_CONTRACT if c.known == "outcome")
# Values that exist only from a later moment than placement: column -> the timestamp
# column of that moment. evidence_as_of hides them from any score made before it.
KNOWN_LATER: dict[str, str] = {
    c.name: c.known_at for c in ORDER_CONTRACT if c.kind != "timestamp" and c.known_at is not None
}


def decision_time_problems(contract: tuple[ContractColumn, ...] = ORDER_CONTRACT) -> list[str]:
    """Columns whose moment of knowledge is not declared well enough to cut them as-of.

    Every column known after placement (and not the label) must name the timestamp
    column of its moment, and that column must be an evidence timestamp of the contract.
    """
    stamps = {c.name for c in contract if c.kind == "timestamp" and c.known_at == c.name}
    problems = []
    for column in contract:
        if column.known in ("key", "placement", "outcome"):
            continue
        if column.known_at is None:
            problems.append(f"{column.name}: known at {column.known} but no known_at column")
        elif column.known_at not in stamps:
            problems.append(f"{column.name}: known_at {column.known_at} is not an evidence stamp")
    return problems


class OrderContractError(ValueError):
    """The order frame does not have the shape of the contract (named columns)."""


@dataclass(frozen=True)
class ValidatedOrders:
    """Orders that meet the contract, normalised, and the rows set aside with reasons."""

    orders: pd.DataFrame
    rejected: pd.DataFrame  # order_ref, field, problem


def validate_orders(orders: pd.DataFrame) -> ValidatedOrders:
    """Check ``orders`` against :data:`ORDER_CONTRACT` and normalise its types.

    Raises :class:`OrderContractError` listing every missing column and every column
    whose values cannot be read as its kind. Timestamps are converted to UTC (naive
    timestamps are refused: their zone is unknown), counts fill null with 0, flags keep
    null as unknown. Rows without key or placement time, duplicated keys, outcomes
    outside the vocabulary, and resolved outcomes without ``resolved_at`` go to
    ``rejected``; the other rows are kept.
    """
    missing = [name for name in CONTRACT_COLUMNS if name not in orders.columns]
    if missing:
        raise OrderContractError(
            f"order frame is missing {len(missing)} contract column(s): {', '.join(missing)}"
        )
    frame = orders.loc[:, list(CONTRACT_COLUMNS)].copy()
    problems: list[str] = []
    for column in ORDER_CONTRACT:
        try:
            frame[column.name] = _normalise(frame[column.name], column)
        except (TypeError, ValueError) as exc:
            problems.append(f"{column.name} ({column.kind}): {exc}")
    if problems:
        raise OrderContractError("order frame has unreadable columns: " + "; ".join(problems))
    frame = frame.reset_index(drop=True)
    keep, rejected = _row_problems(frame)
    return ValidatedOrders(orders=frame.loc[keep].reset_index(drop=True), rejected=rejected)


def _normalise(values: pd.Series, column: ContractColumn) -> pd.Series:
    if column.kind == "timestamp":
        if values.isna().all():
            # An all-null column arrives as object or float from some drivers.
            return pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
        if not isinstance(values.dtype, pd.DatetimeTZDtype):
            if pd.api.types.is_datetime64_dtype(values.dtype):
                raise ValueError("timestamps have no time zone; the contract is tz-aware UTC")
            values = pd.to_datetime(values, utc=True, errors="raise")
        return values.dt.tz_convert("UTC")
    if column.kind == "number":
        return pd.to_numeric(values, errors="raise").astype("float64")
    if column.kind == "count":
        # Contract: counted over earlier ended orders; null means nothing was counted.
        return pd.to_numeric(values, errors="raise").fillna(0).astype("int64")
    if column.kind == "flag":
        if values.isna().all():
            return pd.Series(pd.NA, index=values.index, dtype="boolean")
        return values.astype("boolean")
    return values.astype("object").where(values.notna(), None)


def _row_problems(frame: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    checks = [
        ("order_ref", frame["order_ref"].isna(), "missing order_ref"),
        (
            "order_ref",
            frame["order_ref"].duplicated(keep="first") & frame["order_ref"].notna(),
            "duplicate order_ref (first row kept)",
        ),
        ("placed_at", frame["placed_at"].isna(), "missing placed_at"),
        (
            "outcome",
            frame["outcome"].notna() & ~frame["outcome"].isin(OUTCOMES),
            f"outcome outside {OUTCOMES}",
        ),
        (
            "resolved_at",
            frame["outcome"].isin(RESOLVED_OUTCOMES) & frame["resolved_at"].isna(),
            "final outcome without resolved_at",
        ),
    ]
    bad = pd.Series(False, index=frame.index)
    rows = []
    for field, mask, problem in checks:
        bad |= mask
        rows.extend(
            {"order_ref": ref, "field": field, "problem": problem}
            for ref in frame.loc[mask, "order_ref"]
        )
    rejected = pd.DataFrame(rows, columns=["order_ref", "field", "problem"])
    return ~bad, rejected


def orders_fingerprint(orders: pd.DataFrame) -> str:
    """SHA-256 of the contract columns of ``orders``, whatever the row order.

    Two trainings with the same fingerprint saw the same data; the model store keeps
    it with each version.
    """
    frame = orders.loc[:, list(CONTRACT_COLUMNS)].sort_values("order_ref", kind="stable")
    row_hashes = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False)
    digest = hashlib.sha256(",".join(CONTRACT_COLUMNS).encode())
    digest.update(row_hashes.to_numpy().tobytes())
    return digest.hexdigest()
