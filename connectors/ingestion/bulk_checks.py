"""The boundary's rules as one DuckDB query over a batch of records.

The per-record path (``loader._validate``: strict JSON, ``records.py``'s pydantic
models, ``domain_rules.check_record``) is the authority; it costs tens of
microseconds a record. This module says the same thing in SQL over a whole batch —
strict JSON with one value per key (orjson's form compared with DuckDB's), then the
shape of ``records.py`` and the value domains of
:data:`~connectors.ingestion.domain_rules.SOURCE_RULES` — so that DuckDB checks every
record of the batch with vectorised expressions.

The query is *conservative*: it accepts a record only when the per-record path would
accept it, and sends everything else (anything unusual, not only what is bad) back to
that path, which then gives the exact field and reason. So a verdict never depends on
which path gave it; a fast path that is too strict only costs time. DuckDB's JSON
reader is more lenient than strict JSON (``NaN``, trailing commas, duplicate keys), so
strictness comes from orjson (see ``_strict_json``). ``tests/ingestion/test_bulk_checks.py``
holds the query to this on the fuzz mutations of every source.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from connectors.ingestion import domain_rules as rules
from connectors.ingestion.domain_rules import (
    DATE,
    EPOCH,
    ISO_OFFSET,
    NAIVE,
    Count,
    Domain,
    FieldRule,
    LeadAnswers,
    ListOf,
    LoadWindow,
    Measure,
    Money,
    Text,
    Timestamp,
)

# --- strict JSON, one value per key ---------------------------------------------------
# The loader hands the query each text as orjson re-serialised it (``canonical``; NULL when
# orjson refused it). orjson is strict RFC 8259 (no NaN / Infinity, trailing commas, raw
# control characters, lone surrogates or numbers a double cannot hold) and keeps one copy
# per key; DuckDB's reader keeps every copy. So ``json(text) = canonical`` (DuckDB's
# minified form equals orjson's) proves the text is strict JSON that repeats no key
# (a repeated key would be in one form, not in the other). What strict JSON allows and the
# per-record path still refuses goes back too: NUL / surrogate escapes (text_problem) and
# nesting deep enough for Python's parser to recurse too far.
_SUSPECT_ESCAPE = r"\\u(0000|[dD][89a-fA-F])"
_MAX_OPENERS = 400


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _strict_json(text: str, canonical: str) -> str:
    return (
        f"{canonical} is not null and starts_with({canonical}, '{{')"
        f" and not regexp_matches({text}, {_q(_SUSPECT_ESCAPE)})"
        f" and (length({text}) < {_MAX_OPENERS} or length({text}) - "
        f"length(replace(replace({text}, '{{', ''), '[', '')) < {_MAX_OPENERS})"
        f" and json({text}) = {canonical}"
    )


# --- domains as SQL --------------------------------------------------------------------


def _string(v: str) -> str:
    return f"json_extract_string({v}, '$')"


def _is_string(v: str) -> str:
    return f"json_type({v}) = 'VARCHAR'"


def _has_visible_char(v: str) -> str:
    # Python's strip() removes Unicode whitespace; a letter or digit is never that.
    return f"({_is_string(v)} and regexp_matches({_string(v)}, '[\\pL\\pN]'))"


def _is_integer(v: str) -> str:
    return f"json_type({v}) in ('UBIGINT', 'BIGINT')"


def _is_number(v: str) -> str:
    return f"json_type({v}) in ('UBIGINT', 'BIGINT', 'DOUBLE')"


def _ts_literal(moment: datetime) -> str:
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    return f"timestamp '{naive.isoformat(sep=' ')}'"


# The documented formats, strictly: two-digit fields in range (DuckDB's cast would read
# 24:00 as the next day), offsets up to ±14:59 as the per-record path allows.
_STAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?"
_OFFSET = r"(Z|[+-](0[0-9]|1[0-4]):?[0-5][0-9])"


def _moment_sql(domain: Timestamp, v: str, window: LoadWindow) -> str:
    """The UTC time (naive, whole seconds, as the per-record path reads it) a value stands
    for; NULL when it is not in one of the domain's formats or not a calendar time (the
    casts refuse 30 February). Only ASCII digits: anything else goes back."""
    s = _string(v)
    branches = []
    if ISO_OFFSET in domain.formats:
        branches.append(
            f"when {_is_string(v)} and regexp_full_match({s}, '{_STAMP}{_OFFSET}')"
            # Only years a load window can hold, so the UTC shift cannot overflow.
            f" and substr({s}, 1, 4) between '1900' and '2200'"
            f" then date_trunc('second', try_cast({s} as timestamptz) at time zone 'UTC')"
        )
    if NAIVE in domain.formats:
        branches.append(
            f"when {_is_string(v)} and regexp_full_match({s}, '{_STAMP}')"
            f" and substr({s}, 1, 4) between '1900' and '2200'"
            f" then date_trunc('second', try_cast(substr({s}, 1, 19) as timestamp))"
        )
    if DATE in domain.formats:
        branches.append(
            f"when {_is_string(v)} and regexp_full_match({s}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"
            f" and substr({s}, 1, 4) between '1900' and '2200'"
            f" then cast(try_cast({s} as date) as timestamp)"
        )
    if EPOCH in domain.formats:
        lo = int(window.earliest.timestamp()) - 1
        hi = int(window.latest(domain.wall_clock).timestamp()) + 1
        seconds = (
            f"(case when {_is_integer(v)} then try_cast({v} as bigint)"
            f" when {_is_string(v)} and regexp_full_match({s}, '[0-9]{{1,12}}')"
            f" then try_cast({s} as bigint) end)"
        )
        branches.append(
            f"when {seconds} between {lo} and {hi} then make_timestamp({seconds} * 1000000)"
        )
    return "(case " + " ".join(branches) + " end)"


def _in_window(domain: Timestamp, moment: str, window: LoadWindow) -> str:
    return (
        f"({moment} between {_ts_literal(window.earliest)}"
        f" and {_ts_literal(window.latest(domain.wall_clock))})"
    )


def _timestamp_ok(domain: Timestamp, v: str, window: LoadWindow) -> str:
    moment = _moment_sql(domain, v, window)
    return (
        f"({moment} between {_ts_literal(window.earliest)}"
        f" and {_ts_literal(window.latest(domain.wall_clock))})"
    )


def _money_ok(domain: Money, v: str) -> str:
    s = _string(v)
    return (
        f"(case when {_is_string(v)} then regexp_full_match({s}, '-?[0-9]{{1,15}}(\\.[0-9]{{1,10}})?')"
        f" and try_cast({s} as decimal(38, 10)) between 0 and {domain.maximum}"
        f" when {_is_number(v)} then try_cast({v} as double) between 0 and {domain.maximum}"
        " else false end)"
    )


def _count_ok(domain: Count, v: str) -> str:
    s = _string(v)
    return (
        f"(case when {_is_integer(v)} then try_cast({v} as bigint) between 0 and {domain.maximum}"
        f" when {_is_string(v)} and regexp_full_match({s}, '[0-9]{{1,9}}')"
        f" then try_cast({s} as bigint) between 0 and {domain.maximum} else false end)"
    )


def _measure_ok(domain: Measure, v: str) -> str:
    return (
        f"({_is_number(v)} and try_cast({v} as double)"
        f" between {domain.minimum} and {domain.maximum})"
    )


def _items(value: str) -> str:
    """The items of a JSON array value, as a list of JSON values."""
    return f"json_extract({value}, '$[*]')"


def _all(values: str, name: str, body: str) -> str:
    """True when ``body`` holds for every item ``name`` of the list ``values`` (and for an
    empty or missing list); an item for which it is NULL counts as false."""
    return (
        f"coalesce(list_bool_and(list_transform({values},"
        f" lambda {name}: coalesce({body}, false))), true)"
    )


def _list_of_ok(domain: ListOf, v: str) -> str:
    json_type = {dict: "OBJECT", str: "VARCHAR"}[domain.item]
    return (
        f"(json_type({v}) = 'ARRAY' and {_all(_items(v), 'e', f'json_type(e) = {_q(json_type)}')})"
    )


def _lead_answers_ok(domain: LeadAnswers, v: str) -> str:
    questions = ", ".join(_q(q) for q in domain.phone_questions)
    return (
        f"(json_type({v}) = 'ARRAY' and json_array_length({v}) >= {domain.minimum}"
        f" and list_has_any(list_transform(json_extract_string({v}, '$[*].name'),"
        f" lambda n: lower(n)), [{questions}]))"
    )


def domain_sql(domain: Domain, v: str, window: LoadWindow) -> str:
    """A predicate true only for JSON values ``v`` (not null) the domain accepts."""
    if isinstance(domain, Timestamp):
        return _timestamp_ok(domain, v, window)
    if isinstance(domain, Money):
        return _money_ok(domain, v)
    if isinstance(domain, Count):
        return _count_ok(domain, v)
    if isinstance(domain, Measure):
        return _measure_ok(domain, v)
    if isinstance(domain, Text):
        return _has_visible_char(v)
    if isinstance(domain, ListOf):
        return _list_of_ok(domain, v)
    if isinstance(domain, LeadAnswers):
        return _lead_answers_ok(domain, v)
    raise TypeError(f"no SQL for the domain {type(domain).__name__}")  # a new domain: add it


# --- paths -----------------------------------------------------------------------------
# A value of the record is written «path» while the query is built; the query then
# extracts every such path in one call (DuckDB parses the text once) and reads «path» as
# an item of that list. Below a list ([*]) the small extracted value is parsed again.


def _json_path(keys: list[str]) -> str:
    return "$" + "".join(f'."{key}"' for key in keys)


def _at(keys: list[str]) -> str:
    return "\u00ab" + _json_path(keys) + "\u00bb"


def _present(v: str) -> str:
    return f"({v} is not null and json_type({v}) <> 'NULL')"


@dataclass(frozen=True)
class _Check:
    """One predicate over a record and, for timestamps, its newest moment."""

    predicate: str
    moment: str | None = None
    # (column, SQL): a moment computed once per record, before the predicates that read it.
    timed: tuple[str, str] | None = None


def _values_below_list(steps: tuple[tuple[str, bool], ...]) -> str:
    """The values a path with lists reaches, flattened: the first list is extracted with
    the record, the rest of the path is walked in it (``$[*]…``)."""
    first = next(i for i, (_, many) in enumerate(steps) if many)
    head = [key for key, _ in steps[: first + 1]]
    tail = "$[*]" + "".join(
        f'."{key}"' + ("[*]" if many else "") for key, many in steps[first + 1 :]
    )
    return f"json_extract({_at(head)}, {_q(tail)})"


def _rule_check(rule: FieldRule, window: LoadWindow) -> _Check:
    """The SQL of one value-domain rule, with the per-record path's semantics: a missing or
    null value breaks only a required rule; a parent that is not an object skips the rule
    (``json_extract`` gives NULL there too); inside lists every object item is checked."""
    timestamp = isinstance(rule.domain, Timestamp)
    if rule.keys is not None:
        v = _at(list(rule.keys))
        timed = None
        if timestamp:
            column = "moment_" + re.sub(r"\W", "_", rule.path)
            timed = (column, _moment_sql(rule.domain, v, window))
            ok = _in_window(rule.domain, column, window)
        else:
            ok = domain_sql(rule.domain, v, window)
        # Required: a parent that is not an object skips the rule there; here it goes back.
        predicate = f"({_present(v)} and {ok})" if rule.required else f"(not {_present(v)} or {ok})"
        return _Check(predicate, timed[0] if timed else None, timed)
    leaves = _values_below_list(rule.steps)
    each = domain_sql(rule.domain, "v", window)
    predicate = _all(leaves, "v", f"not {_present('v')} or {each}")
    if rule.required:
        # Every item of the last list is an object holding the value: the items' types are
        # all OBJECT and there are as many values as items (an item gives at most one).
        prefix, _tail = rule.split
        types = _values_below_list(prefix).replace("json_extract(", "json_type(", 1)
        holds = _all(types, "t", "t = 'OBJECT'")
        predicate = f"({predicate} and {holds} and len({leaves}) = len({types}))"
    moment = None
    if timestamp:
        moment = (
            f"list_max(list_transform({leaves}, lambda v: {_moment_sql(rule.domain, 'v', window)}))"
        )
    return _Check(predicate, moment)


# --- the shape of records.py -----------------------------------------------------------
# One predicate per source over the record ``text``, true only when the pydantic model
# accepts it (stricter is fine). `field(path)` is the JSON value at a path.


def _field(path: str) -> str:
    return _at(path.removeprefix("$.").split("."))


def _non_empty(path: str) -> str:
    v = _field(path)
    return f"({v} is not null and {_has_visible_char(v)})"


def _whole_number(path: str) -> str:
    # pydantic's lax int: a JSON integer or a string of digits (never a boolean).
    v = _field(path)
    return (
        f"({v} is not null and (({_is_integer(v)} and try_cast({v} as bigint) is not null)"
        f" or ({_is_string(v)} and regexp_full_match({_string(v)}, '[0-9]{{1,18}}'))))"
    )


def _matches(path: str, pattern: str) -> str:
    v = _field(path)
    return (
        f"({v} is not null and {_is_string(v)} and regexp_full_match({_string(v)}, {_q(pattern)}))"
    )


def _one_of(path: str, values: tuple[str, ...]) -> str:
    v = _field(path)
    options = ", ".join(_q(x) for x in values)
    return f"({v} is not null and {_is_string(v)} and {_string(v)} in ({options}))"


def _every(path: str, item_predicate: Callable[[str], str], minimum: int = 0) -> str:
    """A JSON array of at least ``minimum`` items, each an object with ``item_predicate``
    (given the item as JSON)."""
    v = _field(path)
    each = _all(_items(v), "it", "json_type(it) = 'OBJECT' and " + item_predicate("it"))
    return (
        f"({v} is not null and json_type({v}) = 'ARRAY' and json_array_length({v}) >= {minimum}"
        f" and {each})"
    )


def _item_text(item: str, key: str) -> str:
    v = f"json_extract({item}, {_q(_json_path([key]))})"
    return f"({v} is not null and {_has_visible_char(v)})"


def _whatsapp_entries(path: str) -> str:
    """``entry``: a non-empty list of objects, each with a non-blank ``id`` and a non-empty
    ``changes`` list of objects with a non-blank ``field`` and an object ``value``. Said
    with wildcard paths and counts (each item gives at most one value), so no item is
    parsed again on its own."""
    entries = _field(path)
    n = f"json_array_length({entries})"
    ids = f"json_extract({entries}, '$[*].id')"
    lengths = f"json_array_length({entries}, '$[*].changes')"
    total = f"list_sum({lengths})"
    change_types = f"json_type({entries}, '$[*].changes[*]')"
    fields = f"json_extract({entries}, '$[*].changes[*].field')"
    value_types = f"json_type({entries}, '$[*].changes[*].value')"
    entry_types = f"json_type({entries}, '$[*]')"
    objects = "t = 'OBJECT'"
    visible = _has_visible_char("v")
    parts = [
        f"{entries} is not null and json_type({entries}) = 'ARRAY' and {n} >= 1",
        _all(entry_types, "t", objects),
        f"len({ids}) = {n}",
        _all(ids, "v", visible),
        f"len({lengths}) = {n}",
        _all(lengths, "k", "k >= 1"),
        f"len({change_types}) = {total}",
        _all(change_types, "t", objects),
        f"len({fields}) = {total}",
        _all(fields, "v", visible),
        f"len({value_types}) = {total}",
        _all(value_types, "t", objects),
    ]
    return "(" + " and ".join(parts) + ")"


def _tiktok_field(item: str) -> str:
    values = f"json_extract({item}, '$.values')"
    strings = _all(_items(values), "x", "json_type(x) = 'VARCHAR'")
    return (
        f"{_item_text(item, 'name')} and {values} is not null and json_type({values}) = 'ARRAY'"
        f" and {strings}"
    )


_ORDER_REF = r"[a-z_]+:.+"

SHAPES: dict[str, tuple[str, ...]] = {
    "shopify_orders": (_matches("$.id", r"gid://shopify/Order/[0-9]+"),),
    "shopify_webhook_orders": (_whole_number("$.id"), _non_empty("$.updated_at")),
    "woocommerce_orders": (_whole_number("$.id"), _non_empty("$.status")),
    "youcan_orders": (_non_empty("$.id"),),
    "lightfunnels_orders": (_whole_number("$._id"),),
    "prestashop_orders": (_whole_number("$.id"), _whole_number("$.current_state")),
    "tiktok_leads": (_non_empty("$.lead_id"), _every("$.field_data", _tiktok_field, minimum=1)),
    "carrier_tracking_events": (
        _non_empty("$.carrier"),
        _non_empty("$.tracking_number"),
        _matches("$.order_ref", _ORDER_REF),
        _non_empty("$.raw_status"),
    ),
    "whatsapp_webhooks": (
        _one_of("$.object", ("whatsapp_business_account",)),
        _whatsapp_entries("$.entry"),
    ),
    "sms_events": (
        _non_empty("$.provider"),
        _non_empty("$.message_id"),
        _one_of("$.direction", ("outbound", "inbound")),
        _non_empty("$.phone"),
        _one_of("$.status", ("sent", "delivered", "failed", "received")),
    ),
    "lead_signals": (_matches("$.order_ref", _ORDER_REF), _non_empty("$.session_id")),
    # Conservative: a line naming its parcel both ways (what carriers export); a line
    # with only one of them goes the per-record way, which knows the "one of" rule.
    "carrier_remittances": (
        _non_empty("$.carrier"),
        _non_empty("$.statement_id"),
        _matches("$.currency", r"[A-Z]{3}"),
        _non_empty("$.tracking_number"),
        _matches("$.order_ref", _ORDER_REF),
    ),
    "email_events": (
        _non_empty("$.provider"),
        _non_empty("$.message_id"),
        _one_of("$.event", ("sent", "delivered", "opened", "clicked", "bounced")),
        _non_empty("$.recipient"),
    ),
}


def bulk_check_sql(source: str, window: LoadWindow, batch: str) -> str:
    """A query over ``batch`` (``line_number``, ``text``) giving every row's ``line_number``,
    ``accepted`` (true: the per-record path would load it as is) and ``newest`` (its newest
    timestamp in UTC, as that path notes it for the file's freshness)."""
    return _bulk_check_sql(source, window.load_time.isoformat()).replace("{batch}", batch)


_MARKER = re.compile("\u00ab(.*?)\u00bb")


@functools.lru_cache(maxsize=64)
def _bulk_check_sql(source: str, load_time: str) -> str:
    window = LoadWindow.at(datetime.fromisoformat(load_time))
    checks = [_Check(p) for p in SHAPES[source]]
    checks += [_rule_check(rule, window) for rule in rules.SOURCE_RULES.get(source, ())]
    predicate = " and ".join(f"coalesce({c.predicate}, false)" for c in checks)
    moments = [c.moment for c in checks if c.moment]
    newest = f"greatest({', '.join(moments)})" if moments else "cast(null as timestamp)"
    body = f"{predicate} as accepted, {newest} as newest"
    timed = "".join(f", {sql} as {column}" for column, sql in (c.timed for c in checks if c.timed))
    paths = list(dict.fromkeys(_MARKER.findall(timed + body)))

    def positions(sql: str) -> str:
        return _MARKER.sub(lambda m: f"x[{paths.index(m.group(1)) + 1}]", sql)

    body, timed = positions(body), positions(timed)
    path_list = ", ".join(_q(p) for p in paths)
    return f"""
    with batch_rows as (select line_number, text, canonical from {{batch}}),
    candidates as (
        select line_number, canonical from batch_rows where {_strict_json("text", "canonical")}
    ),
    extracted as (
        select line_number, json_extract(canonical, [{path_list}]) as x from candidates
    ),
    timed as (select line_number, x{timed} from extracted),
    checked as (select line_number, {body} from timed)
    select b.line_number, coalesce(c.accepted, false) as accepted, c.newest
    from batch_rows as b left join checked as c using (line_number)
    """


# WhatsApp bodies nest three lists deep: walked in SQL (lambdas that parse every item
# again) they cost about 3x the per-record path on the sample store, so the loader sends
# them that way. Their SQL stays, checked by the tests, for a faster walk later.
PER_RECORD_ONLY = frozenset({"whatsapp_webhooks"})


def uses_bulk_check(source: str) -> bool:
    """Whether the loader validates ``source`` with the bulk query first."""
    return source in SHAPES and source not in PER_RECORD_ONLY


__all__ = ["PER_RECORD_ONLY", "SHAPES", "bulk_check_sql", "domain_sql", "uses_bulk_check"]
