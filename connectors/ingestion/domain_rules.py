"""The value-domain rules of the landing boundary: one place, every source.

``records.py`` says what *shape* a record must have (required ids, lists, literals);
this module says which *values* are plausible: money that is finite and within
what a COD order can cost, timestamps in the documented format of their field and
within a window around the load time, counts that fit an integer, and the nested
values dbt casts (line-item quantities, WhatsApp status times). A record that
passes both can never make a staging cast fail or a staging ``not_null`` test
trip; one that fails is quarantined with its field and a reason.

The rules are data (:data:`SOURCE_RULES`: a path and a domain per field), so the
same rules can be checked record by record here and, later, translated into SQL
predicates for a vectorised reader. Reasons never quote more than a short, masked
excerpt of the offending value (:func:`common.privacy.mask_phones_in_text`).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from common.privacy import mask_phones_in_text

# Totals above this are typos in a COD store (a price typed in centimes), not orders.
MAX_ORDER_TOTAL = 100_000
# A line item of more than this many units is a typo, and it must fit dbt's integer cast.
MAX_QUANTITY = 10_000
# Clocks of senders drift; an event up to 10 minutes ahead of ours is not "in the future".
FUTURE_TOLERANCE = timedelta(minutes=10)
# A wall-clock time without offset (PrestaShop's PS_TIMEZONE) may be up to UTC+14.
WALL_CLOCK_AHEAD = timedelta(hours=14)
# Older than this before the load is not history, it is a default value (0001, 1970).
MAX_AGE = timedelta(days=20 * 365)
_VALUE_EXCERPT = 40


@dataclass(frozen=True)
class LoadWindow:
    """The timestamps a load accepts: from ``MAX_AGE`` before the load to just after it."""

    load_time: datetime  # aware, UTC

    @classmethod
    def at(cls, load_time: datetime | None = None) -> LoadWindow:
        moment = load_time or datetime.now(UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return cls(moment.astimezone(UTC))

    @functools.cached_property
    def earliest(self) -> datetime:
        return self.load_time - MAX_AGE

    @functools.cached_property
    def _latest(self) -> tuple[datetime, datetime]:
        latest = self.load_time + FUTURE_TOLERANCE
        return latest, latest + WALL_CLOCK_AHEAD

    def latest(self, wall_clock: bool = False) -> datetime:
        return self._latest[wall_clock]


@dataclass(frozen=True)
class Violation:
    """Why one record is quarantined: the field (dotted path) and the reason."""

    field: str | None
    reason: str


def excerpt(value: Any) -> str:
    """A short, phone-masked ``repr`` of a value, safe for logs and run metadata."""
    if isinstance(value, dict):
        return f"an object of {len(value)} keys"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    text = repr(value)
    if len(text) > _VALUE_EXCERPT:
        text = text[: _VALUE_EXCERPT - 3] + "..."
    return mask_phones_in_text(text)


# --- domains -------------------------------------------------------------------------


class Domain:
    """A set of plausible values; ``problem`` says why a value is outside it (or None)."""

    def problem(self, value: Any, window: LoadWindow) -> str | None:
        raise NotImplementedError

    def check(self, value: Any, window: LoadWindow) -> tuple[str | None, datetime | None]:
        """(problem, the time the value stands for when it is a timestamp)."""
        return self.problem(value, window), None


_DECIMAL_TEXT = re.compile(r"-?\d{1,15}(?:\.\d{1,10})?")


@dataclass(frozen=True)
class Money(Domain):
    """A finite amount in ``[0, maximum]``: a decimal string or a JSON number (no exponent
    text, no ``NaN`` / ``Infinity``), so that ``cast(... as decimal(12, 2))`` cannot fail."""

    maximum: float = MAX_ORDER_TOTAL

    def problem(self, value: Any, window: LoadWindow) -> str | None:
        if type(value) is str and _DECIMAL_TEXT.fullmatch(value):
            # The common case first: a decimal string (Shopify, WooCommerce, PrestaShop).
            amount = float(value)
            if 0 <= amount <= self.maximum:
                return None
        if isinstance(value, bool):
            return "an amount must be a number or a decimal string"
        if isinstance(value, int | float):
            amount = Decimal(str(value)) if math.isfinite(value) else None
        elif isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value):
            try:
                amount = Decimal(value)
            except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
                amount = None
        else:
            return "not a decimal amount (digits with an optional '.', no exponent)"
        if amount is None or not amount.is_finite():
            return "amount is not finite"
        if amount < 0:
            return "amount is negative"
        if amount > self.maximum:
            return f"amount above {self.maximum:,} (a typo, not an order)"
        return None


@dataclass(frozen=True)
class Count(Domain):
    """A whole number in ``[0, maximum]``, as a JSON integer or a string of digits."""

    maximum: int = MAX_QUANTITY

    def problem(self, value: Any, window: LoadWindow) -> str | None:
        if isinstance(value, bool) or not (
            isinstance(value, int)
            or (isinstance(value, str) and value.isascii() and value.isdigit())
        ):
            return "not a whole number"
        if not 0 <= int(value) <= self.maximum:
            return f"outside 0..{self.maximum:,}"
        return None


@dataclass(frozen=True)
class Measure(Domain):
    """A finite JSON number in ``[minimum, maximum]`` (seconds, percentages)."""

    minimum: float
    maximum: float

    def problem(self, value: Any, window: LoadWindow) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "not a number"
        if not math.isfinite(value):
            return "not finite"
        if not self.minimum <= value <= self.maximum:
            return f"outside {self.minimum:g}..{self.maximum:g}"
        return None


@dataclass(frozen=True)
class Text(Domain):
    """A string with at least one non-blank character."""

    def problem(self, value: Any, window: LoadWindow) -> str | None:
        if not isinstance(value, str):
            return "not a string"
        if not value.strip():
            return "blank"
        return None


@dataclass(frozen=True)
class ListOf(Domain):
    """A JSON array whose items are all of one type (strings for tags, objects for items),
    so that dbt's ``cast(... as varchar[])`` / ``json[]`` cannot fail."""

    item: type

    def problem(self, value: Any, window: LoadWindow) -> str | None:
        if not isinstance(value, list):
            return "not a list"
        if not all(map(self.item.__instancecheck__, value)):
            name = {str: "strings", dict: "objects"}.get(self.item, self.item.__name__)
            return f"a list of {name} is expected"
        return None


_STAMP = r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
_ISO_OFFSET = re.compile(_STAMP + r"(Z|[+-]\d{2}:?\d{2})")
_ISO_NAIVE = re.compile(_STAMP)
_EPOCH_TEXT = re.compile(r"\d{1,12}")
_DATE_TEXT = re.compile(r"(\d{4})-(\d{2})-(\d{2})")

_EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)
ISO_OFFSET = "ISO 8601 with offset"
NAIVE = "YYYY-MM-DD HH:MM:SS without offset"
EPOCH = "unix seconds"
# A calendar day (statement periods, payout dates), read as its first second in UTC.
DATE = "YYYY-MM-DD"


@dataclass(frozen=True)
class Timestamp(Domain):
    """A time in one of the field's documented ``formats``, inside the load window.

    ``wall_clock``: a naive value is the shop's local time (up to UTC+14), so it may
    read up to 14 hours ahead of UTC without being in the future.
    """

    formats: tuple[str, ...]
    wall_clock: bool = False

    def problem(self, value: Any, window: LoadWindow) -> str | None:
        return self.check(value, window)[0]

    def check(self, value: Any, window: LoadWindow) -> tuple[str | None, datetime | None]:
        moment, error = self.parse(value)
        if error:
            return error, None
        if moment < window.earliest:
            return f"before {window.earliest:%Y-%m-%d} (a default value, not a real time)", None
        if moment > window.latest(self.wall_clock):
            return "in the future of the load time", None
        return None, moment

    @functools.cached_property
    def _expected(self) -> str:
        return " or ".join(self.formats)

    @functools.cached_property
    def _accepts(self) -> tuple[bool, bool, bool]:
        return ISO_OFFSET in self.formats, NAIVE in self.formats, EPOCH in self.formats

    def parse(self, value: Any) -> tuple[datetime, None] | tuple[None, str]:
        """(the time in UTC, None) or (None, why it is not one of ``formats``)."""
        if type(value) is str:
            match = _ISO_OFFSET.fullmatch(value)
            if match and self._accepts[0]:
                return self._moment(match, aware=True)
            if not match:
                match = _ISO_NAIVE.fullmatch(value)
                if match and self._accepts[1]:
                    return self._moment(match, aware=False)
        return self._parse_slowly(value)

    def _parse_slowly(self, value: Any) -> tuple[datetime, None] | tuple[None, str]:
        expected = self._expected
        if isinstance(value, float):
            return None, f"a JSON number where {expected} is documented"
        if (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and _EPOCH_TEXT.fullmatch(value)
        ):
            if EPOCH not in self.formats:
                return None, f"unix seconds where {expected} is documented"
            seconds = int(value)
            # Out of datetime's range (year 9999) is also out of any load window.
            seconds = max(min(seconds, 10**11), -(10**10))
            return _EPOCH_START + timedelta(seconds=seconds), None
        if not isinstance(value, str):
            return None, f"not a timestamp ({expected} expected)"
        day = _DATE_TEXT.fullmatch(value) if DATE in self.formats else None
        if day:
            try:
                return datetime(*map(int, day.groups()), tzinfo=UTC), None
            except ValueError as exc:
                return None, f"not a calendar date ({exc})"
        if DATE in self.formats and len(self.formats) == 1:
            return None, f"not in the documented format ({expected})"
        # No stripping: the warehouse casts the text as it is.
        aware = _ISO_OFFSET.fullmatch(value)
        naive = None if aware else _ISO_NAIVE.fullmatch(value)
        if aware and ISO_OFFSET not in self.formats:
            return None, f"has a UTC offset where {expected} is documented"
        if naive and NAIVE not in self.formats:
            return None, f"no timezone offset ({expected} expected)"
        match = aware or naive
        if not match:
            return None, f"not in the documented format ({expected})"
        return self._moment(match, aware=bool(aware))

    @staticmethod
    def _moment(match: re.Match, aware: bool) -> tuple[datetime, None] | tuple[None, str]:
        year, month, day, hour, minute, second = map(int, match.groups()[:6])
        try:
            moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError as exc:
            return None, f"not a calendar time ({exc})"
        if aware:
            offset = match.group(8)
            if offset != "Z":
                delta = _offset(offset)
                if delta is None:
                    return None, "UTC offset out of range"
                try:
                    moment = moment - delta
                except OverflowError:  # year 1 or 9999 shifted out of range
                    return None, "not a calendar time (out of range)"
        return moment, None


@functools.lru_cache(maxsize=256)
def _offset(text: str) -> timedelta | None:
    """``+01:00`` / ``-0330`` as a timedelta east of UTC; None when out of range."""
    hours, minutes = int(text[1:3]), int(text[-2:])
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return -delta if text[0] == "-" else delta


@dataclass(frozen=True)
class LeadAnswers(Domain):
    """TikTok ``field_data``: at least ``minimum`` answers, one of them a phone number
    (a lead without a phone cannot be called, so it is not an order intent)."""

    minimum: int = 2
    phone_questions: tuple[str, ...] = ("phone_number", "phone")

    def problem(self, value: Any, window: LoadWindow) -> str | None:
        if not isinstance(value, list):
            return "not a list"
        if len(value) < self.minimum:
            return f"fewer than {self.minimum} answers"
        names = {str(a.get("name", "")).lower() for a in value if isinstance(a, dict)}
        if not names & set(self.phone_questions):
            return "no phone question among the answers"
        return None


# --- rules per source --------------------------------------------------------------


@dataclass(frozen=True)
class FieldRule:
    """``path`` (dots; ``[*]`` walks every item of a list) must hold a value of ``domain``.

    ``required``: missing or null is a violation (inside lists: for every item that exists).
    """

    path: str
    domain: Domain
    required: bool = False

    @functools.cached_property
    def keys(self) -> tuple[str, ...] | None:
        """The path's keys when it walks no list (the common, fast case), else None."""
        return None if "[*]" in self.path else tuple(self.path.split("."))

    @functools.cached_property
    def split(self) -> tuple[tuple[tuple[str, bool], ...], tuple[str, ...]]:
        """(the steps up to the last list, the keys after it): rules that share the list
        part (WhatsApp's statuses, messages, preferences) walk it once per record."""
        last = max(i for i, (_, many) in enumerate(self.steps) if many)
        return self.steps[: last + 1], tuple(key for key, _ in self.steps[last + 1 :])

    @functools.cached_property
    def steps(self) -> tuple[tuple[str, bool], ...]:
        """The path as (key, walks a list) pairs, split once."""
        return tuple(
            (part.removesuffix("[*]"), part.endswith("[*]")) for part in self.path.split(".")
        )


ISO = Timestamp((ISO_OFFSET,))
NAIVE_UTC = Timestamp((NAIVE,))
NAIVE_OR_ISO = Timestamp((NAIVE, ISO_OFFSET))
WALL_CLOCK = Timestamp((NAIVE,), wall_clock=True)
ISO_OR_EPOCH = Timestamp((ISO_OFFSET, EPOCH))
EPOCH_SECONDS = Timestamp((EPOCH,))
MONEY = Money()
# A statement's payout sums many parcels: its ceiling is a carrier's, not an order's.
STATEMENT_MONEY = Money(maximum=100_000_000)
CALENDAR_DATE = Timestamp((DATE,))
QUANTITY = Count()
TEXT = Text()
OBJECTS = ListOf(dict)
STRINGS = ListOf(str)

_WHATSAPP_VALUE = "entry[*].changes[*].value"

SOURCE_RULES: dict[str, tuple[FieldRule, ...]] = {
    "shopify_orders": (
        FieldRule("createdAt", ISO, required=True),
        FieldRule("updatedAt", ISO, required=True),
        FieldRule("cancelledAt", ISO),
        FieldRule("closedAt", ISO),
        FieldRule("totalPriceSet.shopMoney.amount", MONEY, required=True),
        FieldRule("tags", STRINGS),
        FieldRule("paymentGatewayNames", STRINGS),
        FieldRule("lineItems.nodes", OBJECTS),
        FieldRule("lineItems.nodes[*].quantity", QUANTITY),
    ),
    "shopify_webhook_orders": (
        FieldRule("created_at", ISO, required=True),
        FieldRule("updated_at", ISO, required=True),
        FieldRule("cancelled_at", ISO),
        FieldRule("closed_at", ISO),
        FieldRule("total_price", MONEY, required=True),
        FieldRule("payment_gateway_names", STRINGS),
        FieldRule("line_items", OBJECTS),
        FieldRule("line_items[*].quantity", QUANTITY),
    ),
    "woocommerce_orders": (
        FieldRule("date_created_gmt", NAIVE_UTC, required=True),
        FieldRule("date_modified_gmt", NAIVE_UTC, required=True),
        FieldRule("date_completed_gmt", NAIVE_UTC),
        FieldRule("total", MONEY, required=True),
        FieldRule("line_items", OBJECTS),
        FieldRule("line_items[*].quantity", QUANTITY),
    ),
    "youcan_orders": (
        FieldRule("created_at", ISO, required=True),
        FieldRule("updated_at", ISO, required=True),
        FieldRule("total", MONEY, required=True),
        FieldRule("variants", OBJECTS),
        FieldRule("variants[*].quantity", QUANTITY),
    ),
    "lightfunnels_orders": (
        FieldRule("created_at", NAIVE_OR_ISO, required=True),
        FieldRule("updated_at", NAIVE_OR_ISO, required=True),
        FieldRule("cancelled_at", NAIVE_OR_ISO),
        FieldRule("total", MONEY, required=True),
        FieldRule("items", OBJECTS),
    ),
    "prestashop_orders": (
        FieldRule("date_add", WALL_CLOCK, required=True),
        FieldRule("date_upd", WALL_CLOCK, required=True),
        FieldRule("total_paid", MONEY, required=True),
        FieldRule("associations.order_rows", OBJECTS),
        FieldRule("associations.order_rows[*].product_quantity", QUANTITY),
    ),
    "tiktok_leads": (
        FieldRule("create_time", ISO_OR_EPOCH, required=True),
        FieldRule("field_data", LeadAnswers(), required=True),
    ),
    "carrier_tracking_events": (FieldRule("event_time", ISO, required=True),),
    "whatsapp_webhooks": (
        FieldRule(f"{_WHATSAPP_VALUE}.statuses[*].id", TEXT, required=True),
        FieldRule(f"{_WHATSAPP_VALUE}.statuses[*].status", TEXT, required=True),
        FieldRule(f"{_WHATSAPP_VALUE}.statuses[*].timestamp", EPOCH_SECONDS, required=True),
        FieldRule(f"{_WHATSAPP_VALUE}.messages[*].id", TEXT, required=True),
        FieldRule(f"{_WHATSAPP_VALUE}.messages[*].from", TEXT, required=True),
        FieldRule(f"{_WHATSAPP_VALUE}.messages[*].timestamp", EPOCH_SECONDS, required=True),
        FieldRule(f"{_WHATSAPP_VALUE}.user_preferences[*].wa_id", TEXT, required=True),
        FieldRule(f"{_WHATSAPP_VALUE}.user_preferences[*].category", TEXT, required=True),
        FieldRule(f"{_WHATSAPP_VALUE}.user_preferences[*].value", TEXT, required=True),
        FieldRule(f"{_WHATSAPP_VALUE}.user_preferences[*].timestamp", EPOCH_SECONDS, required=True),
    ),
    "sms_events": (FieldRule("event_time", ISO, required=True),),
    "email_events": (FieldRule("event_time", ISO, required=True),),
    "lead_signals": (
        FieldRule("event_time", ISO, required=True),
        # A session longer than a day is a tab left open, not attention.
        FieldRule("time_on_page_s", Measure(0, 86_400)),
        FieldRule("scroll_depth_pct", Measure(0, 100)),
        FieldRule("products_viewed", Count(500)),
        FieldRule("form_completion_s", Measure(0, 86_400)),
        FieldRule("visits", Count(100_000)),
    ),
    "carrier_remittances": (
        FieldRule("period_start", CALENDAR_DATE, required=True),
        FieldRule("period_end", CALENDAR_DATE, required=True),
        FieldRule("payout_date", CALENDAR_DATE, required=True),
        FieldRule("amount_collected", MONEY, required=True),
        FieldRule("fees", MONEY, required=True),
        FieldRule("paid_out_amount", STATEMENT_MONEY, required=True),
    ),
}


_SKIP = object()  # a parent on the path is not an object: the shape is another rule's


def _walk(value: Any, steps: tuple[tuple[str, bool], ...]) -> list[tuple[tuple, bool, Any]]:
    """Every (trail of keys and list positions, present, value) that ``steps`` reach, in
    document order (a stack, not recursion: WhatsApp bodies nest three lists deep)."""
    found: list[tuple[tuple, bool, Any]] = []
    stack: list[tuple[Any, int, tuple]] = [(value, 0, ())]
    depth = len(steps)
    while stack:
        node, index, trail = stack.pop()
        if index == depth:
            found.append((trail, True, node))
            continue
        if not isinstance(node, dict):
            continue  # the shape above is someone else's rule
        key, many = steps[index]
        child = node.get(key)
        if not many:
            if child is not None:
                stack.append((child, index + 1, (*trail, key)))
            elif not any(walks for _, walks in steps[index + 1 :]):
                found.append(((*trail, key, *(k for k, _ in steps[index + 1 :])), False, None))
        elif isinstance(child, list):
            for position in range(len(child) - 1, -1, -1):
                stack.append((child[position], index + 1, (*trail, key, position)))
    return found


def _lookup(value: Any, keys: tuple[str, ...]) -> Any:
    """``value[k1][k2]…``: None when a key is missing, ``_SKIP`` when a parent is not an
    object (its shape is another rule's business)."""
    for key in keys:
        if not isinstance(value, dict):
            return _SKIP
        value = value.get(key)
        if value is None:
            return None
    return value


def _dotted(trail: tuple) -> str:
    text = ""
    for part in trail:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def check_record(
    source: str, record: dict, window: LoadWindow, times: list[datetime] | None = None
) -> Violation | None:
    """The first value-domain rule of ``source`` that ``record`` breaks, or None.

    ``times``, when given, receives every timestamp of the record (UTC) that passed,
    so the loader can note the newest event of each file for the freshness check.
    """
    items_by_prefix: dict[tuple, list] = {}
    for rule in SOURCE_RULES.get(source, ()):
        keys = rule.keys
        if keys is not None:  # no list on the way: a chain of lookups
            value = _lookup(record, keys)
            if value is _SKIP:
                continue
            found = [(keys, value is not None, value)]
        else:
            prefix, tail = rule.split
            items = items_by_prefix.get(prefix)
            if items is None:
                items = items_by_prefix[prefix] = _walk(record, prefix)
            found = []
            for trail, _, item in items:
                value = _lookup(item, tail)
                if value is not _SKIP:
                    found.append(((*trail, *tail), value is not None, value))
        for trail, present, value in found:
            if not present:
                if rule.required:
                    path = _dotted(trail)
                    return Violation(path, f"missing required field '{path}'")
                continue
            problem, moment = rule.domain.check(value, window)
            if problem:
                path = _dotted(trail)
                return Violation(path, f"field '{path}' = {excerpt(value)}: {problem}")
            if moment is not None and times is not None:
                times.append(moment)
    return None


# --- text the warehouse cannot hold -----------------------------------------------

_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def text_problem(record: Any, raw_text: str) -> str | None:
    """NUL characters or lone UTF-16 surrogates anywhere in a record (DuckDB refuses the
    latter, and the former truncate text in many engines); ``raw_text`` is checked first
    so that clean records cost one regex search."""
    if "\x00" not in raw_text and not _SUSPECT_ESCAPE.search(raw_text):
        return None
    return _bad_text(record)


def _bad_text(value: Any) -> str | None:
    if isinstance(value, str):
        if "\x00" in value:
            return "a NUL character in a text value"
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            return "a lone UTF-16 surrogate in a text value"
        return None
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        problem = _bad_text(item)
        if problem:
            return problem
    return None


__all__ = [
    "MAX_ORDER_TOTAL",
    "SOURCE_RULES",
    "FieldRule",
    "LoadWindow",
    "Violation",
    "check_record",
    "excerpt",
    "text_problem",
]
