"""Segment files (``dbt_project/segments/<name>.yml``) → validated definitions with their
SQL condition.

Every file is validated: an unknown field, a wrong type or an unknown value is reported
with the file and the field, for every bad file at once (:class:`SegmentFileError`).
Filters become one SQL condition over ``segment_customer_base`` (``where_sql``).

The compiled segments reach dbt as the dbt var ``cod360_segments`` (:func:`dbt_vars`,
or ``python -m common.segments`` for a hand-run ``dbt build --vars "$(...)"``), which the
SQL models ``segment_definitions`` and ``segment_evaluation`` render: plain SQL that
every engine runs (dbt Python models run on dbt-duckdb and Databricks only). The
vocabulary of the list filters comes from the seed files themselves.

The folder is, in order: the ``COD360_SEGMENTS_DIR`` environment variable; the
``segments`` folder of the dbt project, i.e. beside the ``dbt_project.yml`` of dbt's
``--project-dir`` or, without it, of the working directory or its nearest parent that
has one (where dbt itself looks); ``dbt_project/segments`` under the working directory.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

SEGMENTS_DIR_ENV = "COD360_SEGMENTS_DIR"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

TOP_LEVEL_FIELDS = ("name", "label", "description", "filters", "sql")
REQUIRED_FIELDS = ("name", "label", "description")

# Values a list filter may hold that do not come from a seed.
PLATFORMS = ("shopify", "woocommerce", "youcan", "lightfunnels", "prestashop", "tiktok")
PAYMENT_METHODS = ("cod", "prepaid")
OPEN_ORDER_STATUSES = (
    "placed",
    "pending",
    "confirmed",
    "unreachable",
    "dispatched",
    "in_transit",
    "out_for_delivery",
    "failed_attempt",
)
# RFM values that are not cells of the rfm_segment_map seed.
NO_DELIVERED_ORDER = "No Delivered Order"
POTENTIAL_REFUSERS = "Potential Refusers"

# How a customer's first order was attributed (segment_customer_base.first_order_ad_channel).
AD_CHANNELS = ("tiktok_lead_form", "storefront_utm", "unattributed")

# filter name -> (kind, base column). Kinds: "days" / "count" (integer ≥ 0), "amount"
# (number ≥ 0), "rate" (0…1), "flag" (true / false), "values" (non-empty list from a
# vocabulary), "texts" (non-empty list of any non-empty texts: ad ids and UTM values are
# the advertiser's own, no list knows them).
FILTERS: dict[str, tuple[str, str]] = {
    "platforms": ("values", "platforms_seen"),
    "payment_methods": ("values", "payment_methods_seen"),
    "order_statuses": ("values", "open_order_statuses"),
    "placed_within_days": ("days", "days_since_last_order"),
    "last_delivered_within_days": ("days", "days_since_last_delivered"),
    "not_delivered_within_days": ("days", "days_since_last_delivered"),
    "min_delivered_orders": ("count", "orders_delivered"),
    "max_delivered_orders": ("count", "orders_delivered"),
    "min_delivered_revenue": ("amount", "delivered_revenue"),
    "max_delivered_revenue": ("amount", "delivered_revenue"),
    "whatsapp_engaged_within_days": ("days", "days_since_whatsapp_engaged"),
    "min_rto_rate": ("rate", "rto_rate"),
    "max_rto_rate": ("rate", "rto_rate"),
    "lifecycle_stages": ("values", "lifecycle_stage_code"),
    "rfm_segments": ("values", "rfm_segment"),
    "consent_required": ("flag", "can_message_marketing"),
    "first_order_ad_channels": ("values", "first_order_ad_channel"),
    "first_order_ad_sources": ("texts", "first_order_ad_source"),
    "first_order_ad_campaigns": ("texts", "first_order_ad_campaign"),
    "first_order_ad_ids": ("texts", "first_order_ad_id"),
}
# Bounds that must not cross: (min filter, max filter, whether min may equal max).
BOUNDS = (
    ("min_delivered_orders", "max_delivered_orders", True),
    ("min_delivered_revenue", "max_delivered_revenue", False),
    ("min_rto_rate", "max_rto_rate", False),
)


class SegmentFileError(ValueError):
    """One or more segment files are invalid; the message names each file and field."""


@dataclass(frozen=True)
class Segment:
    name: str
    label: str
    description: str
    source_file: str
    filters: dict
    sql: str | None
    where_sql: str


# --------------------------------------------------------------------------- folder


def find_project_dir(start: str) -> Path | None:
    """The nearest folder from ``start`` upwards holding a dbt_project.yml (as dbt looks)."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / "dbt_project.yml").is_file():
            return folder
    return None


def dbt_project_dir_flag() -> str | None:
    """dbt's ``--project-dir`` when this runs inside a dbt invocation that was given one."""
    try:
        from dbt.flags import get_flags

        return getattr(get_flags(), "PROJECT_DIR", None) or None
    except Exception:  # not inside dbt, or a dbt without the flag
        return None


def resolve_segments_dir(env, project_dir: str | None, cwd: str) -> Path:
    """The segments folder: env var, then the dbt project's, then under the working dir."""
    configured = (env.get(SEGMENTS_DIR_ENV) or "").strip()
    if configured:
        path = Path(configured)
        if not path.is_absolute():
            path = Path(cwd) / path
        if not path.is_dir():
            raise SegmentFileError(f"{SEGMENTS_DIR_ENV}={configured}: no such folder ({path})")
        return path
    candidates = []
    if project_dir:
        candidates.append(Path(project_dir) / "segments")
    found = find_project_dir(cwd)
    if found is not None:
        candidates.append(found / "segments")
    candidates.append(Path(cwd) / "dbt_project" / "segments")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise SegmentFileError(f"no segments folder found (set {SEGMENTS_DIR_ENV}); tried {tried}")


def segment_files(folder: Path) -> list[Path]:
    """The segment files of a folder, by name (README and hidden files are not segments)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix in (".yml", ".yaml") and not p.name.startswith(".")
    )


# --------------------------------------------------------------------------- validation


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _check_filter(field: str, value, vocabulary: dict[str, tuple[str, ...]]) -> str | None:
    """The problem with one filter's value, or None."""
    kind, _ = FILTERS[field]
    if kind in ("days", "count"):
        if not _is_int(value) or value < 0:
            return f"must be a whole number ≥ 0, got {value!r}"
    elif kind == "amount":
        if not _is_number(value) or value < 0:
            return f"must be a number ≥ 0, got {value!r}"
    elif kind == "rate":
        if not _is_number(value) or not 0 <= value <= 1:
            return f"must be a rate between 0 and 1 (0.2 = 20 %), got {value!r}"
    elif kind == "flag":
        if not isinstance(value, bool):
            return f"must be true or false, got {value!r}"
    elif kind == "values":
        if not isinstance(value, list) or not value:
            return f"must be a non-empty list, got {value!r}"
        allowed = vocabulary[field]
        for item in value:
            if not isinstance(item, str):
                return f"every value must be text, got {item!r}"
            if item not in allowed:
                return f"unknown value {item!r} (expected one of: {', '.join(allowed)})"
    elif kind == "texts":
        if not isinstance(value, list) or not value:
            return f"must be a non-empty list, got {value!r}"
        for item in value:
            # YAML reads an unquoted 1785200000001117 as a number: ids must be quoted.
            if not isinstance(item, str) or not item.strip():
                return f"every value must be non-empty text (quote ids: '1785…'), got {item!r}"
    return None


def validate_segment(path: Path, document, vocabulary: dict[str, tuple[str, ...]]) -> list[str]:
    """Every problem of one parsed segment file, as 'file: field: problem' lines."""
    where = str(path)
    if not isinstance(document, dict):
        return [
            f"{where}: the file must be a YAML mapping (name: …, label: …), got {type(document).__name__}"
        ]
    problems = []
    for field in document:
        if field not in TOP_LEVEL_FIELDS:
            problems.append(
                f"{where}: {field}: unknown field (expected: {', '.join(TOP_LEVEL_FIELDS)})"
            )
    for field in REQUIRED_FIELDS:
        value = document.get(field)
        if field not in document:
            problems.append(f"{where}: {field}: missing (required)")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: {field}: must be non-empty text, got {value!r}")
    name = document.get("name")
    if isinstance(name, str):
        if not NAME_PATTERN.match(name):
            problems.append(
                f"{where}: name: {name!r} must be snake_case (a-z, 0-9, _; starting with a letter)"
            )
        elif name != path.stem:
            problems.append(f"{where}: name: {name!r} must equal the file name {path.stem!r}")
    filters = document.get("filters", {})
    if filters is None:
        filters = {}
    if not isinstance(filters, dict):
        problems.append(f"{where}: filters: must be a mapping of filter: value, got {filters!r}")
        filters = {}
    for field, value in filters.items():
        if field not in FILTERS:
            problems.append(
                f"{where}: filters.{field}: unknown filter (known: {', '.join(FILTERS)})"
            )
            continue
        problem = _check_filter(field, value, vocabulary)
        if problem:
            problems.append(f"{where}: filters.{field}: {problem}")
    for low, high, may_equal in BOUNDS:
        lo, hi = filters.get(low), filters.get(high)
        if _is_number(lo) and _is_number(hi) and (lo > hi or (lo == hi and not may_equal)):
            problems.append(
                f"{where}: filters.{low}: {lo!r} must be {'at most' if may_equal else 'below'} "
                f"filters.{high} ({hi!r}): no customer could match"
            )
    if "sql" in document:
        sql = document["sql"]
        if not isinstance(sql, str) or not sql.strip():
            problems.append(f"{where}: sql: must be a non-empty SQL condition, got {sql!r}")
        elif ";" in sql:
            problems.append(f"{where}: sql: must be one condition, without ';'")
    return problems


# --------------------------------------------------------------------------- SQL


# Characters engines read differently inside a string literal: a quote (doubled in
# DuckDB, backslash-escaped in Spark) and the backslash (an escape in Spark only).
_UNPORTABLE_IN_LITERALS = re.compile(r"(['\\])")


def _literal(value) -> str:
    """A SQL literal every engine reads alike: quotes and backslashes become chr()."""
    if isinstance(value, str):
        parts = _UNPORTABLE_IN_LITERALS.split(value)
        pieces = [f"chr({ord(p)})" if p in ("'", "\\") else f"'{p}'" for p in parts if p]
        if len(pieces) > 1:
            return "(" + " || ".join(pieces) + ")"
        return pieces[0] if pieces else "''"
    return repr(value)


def _list_has_any(column: str, values: list[str]) -> str:
    # The list columns are comma-separated and sorted (`shopify,tiktok`).
    tests = [
        f"(',' || coalesce({column}, '') || ',') like {_literal('%,' + v + ',%')}" for v in values
    ]
    return "(" + " or ".join(tests) + ")"


def filters_to_sql(filters: dict, sql: str | None = None) -> str:
    """One SQL condition over segment_customer_base: every filter must hold (AND)."""
    conditions = []
    for field, value in filters.items():
        _, column = FILTERS[field]
        if field in ("platforms", "payment_methods", "order_statuses"):
            conditions.append(_list_has_any(column, value))
        elif field == "first_order_ad_channels" or FILTERS[field][0] == "texts":
            conditions.append(f"{column} in ({', '.join(_literal(v) for v in value)})")
        elif field in ("lifecycle_stages", "rfm_segments"):
            plain = [v for v in value if v != POTENTIAL_REFUSERS]
            alternatives = []
            if plain:
                alternatives.append(f"{column} in ({', '.join(_literal(v) for v in plain)})")
            if POTENTIAL_REFUSERS in value:
                alternatives.append("is_potential_refuser")
            conditions.append("(" + " or ".join(alternatives) + ")")
        elif field.endswith("_within_days") and not field.startswith("not_"):
            conditions.append(f"{column} <= {value}")
        elif field == "not_delivered_within_days":
            conditions.append(f"({column} is null or {column} > {value})")
        elif field in ("min_delivered_orders", "min_delivered_revenue", "min_rto_rate"):
            conditions.append(f"{column} >= {_literal(value)}")
        elif field == "max_delivered_orders":
            conditions.append(f"{column} <= {value}")
        elif field == "max_delivered_revenue":
            conditions.append(f"{column} < {_literal(value)}")
        elif field == "max_rto_rate":
            # No resolved order yet = no RTO evidence: kept.
            conditions.append(f"({column} is null or {column} < {_literal(value)})")
        elif field == "consent_required" and value:
            conditions.append(column)
    if sql:
        conditions.append(f"({sql.strip()})")
    return " and ".join(conditions) if conditions else "true"


def load_segments(
    folder: Path, vocabulary: dict[str, tuple[str, ...]], check_sql=None
) -> list[Segment]:
    """Read, validate and compile every segment file; raise one error listing all problems.

    ``check_sql(where_sql)`` runs the compiled condition against the base model and
    returns the database's error text, or None when it runs.
    """
    import yaml

    problems: list[str] = []
    segments: list[Segment] = []
    seen: dict[str, Path] = {}
    for path in segment_files(folder):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: not valid YAML: {exc}")
            continue
        file_problems = validate_segment(path, document, vocabulary)
        if file_problems:
            problems += file_problems
            continue
        name = document["name"]
        if name in seen:
            problems.append(f"{path}: name: {name!r} is also defined in {seen[name]}")
            continue
        seen[name] = path
        filters = document.get("filters") or {}
        sql = document.get("sql")
        where_sql = filters_to_sql(filters, sql)
        if check_sql is not None:
            error = check_sql(where_sql)
            if error:
                field = "sql" if sql else "filters"
                problems.append(f"{path}: {field}: the condition does not run: {error}")
                continue
        segments.append(
            Segment(
                name=name,
                label=document["label"].strip(),
                description=" ".join(document["description"].split()),
                source_file=str(path),
                filters=filters,
                sql=sql.strip() if sql else None,
                where_sql=where_sql,
            )
        )
    if problems:
        raise SegmentFileError(
            "invalid segment file(s), see segments/README.md:\n  " + "\n  ".join(problems)
        )
    return segments


# --------------------------------------------------------------------------- dbt

# The dbt var the segment models read (a list of rows of segment_definitions).
DBT_VAR = "cod360_segments"


def seed_vocabulary(project_dir: Path) -> dict[str, tuple[str, ...]]:
    """The values the list filters accept, from the fixed lists and the seed files (the
    same rows dbt loads as reference.lifecycle_stages and reference.rfm_segment_map)."""

    def column(seed: str, name: str) -> list[str]:
        with (project_dir / "seeds" / f"{seed}.csv").open(encoding="utf-8", newline="") as f:
            return [row[name] for row in csv.DictReader(f)]

    return {
        "platforms": PLATFORMS,
        "payment_methods": PAYMENT_METHODS,
        "order_statuses": OPEN_ORDER_STATUSES,
        "lifecycle_stages": tuple(sorted(set(column("lifecycle_stages", "stage_code")))),
        "rfm_segments": (
            *sorted(set(column("rfm_segment_map", "rfm_segment"))),
            NO_DELIVERED_ORDER,
            POTENTIAL_REFUSERS,
        ),
        "first_order_ad_channels": AD_CHANNELS,
    }


def dbt_vars(env=None, project_dir: str | Path | None = None, cwd: str | None = None) -> dict:
    """``{"cod360_segments": [...]}``: every segment file validated and compiled, as the
    rows of segment_definitions (pass it to dbt with ``--vars``). A bad file raises
    :class:`SegmentFileError` naming the file and the field, before dbt starts."""
    env = os.environ if env is None else env
    cwd = cwd or os.getcwd()
    folder = resolve_segments_dir(env, str(project_dir) if project_dir else None, cwd)
    found = Path(project_dir) if project_dir else find_project_dir(cwd)
    if found is None:
        from common.settings import DBT_PROJECT_DIR

        found = DBT_PROJECT_DIR
    rows = [
        {
            "segment_name": s.name,
            "label": s.label,
            "description": s.description,
            "source_file": s.source_file,
            "filters_json": json.dumps(s.filters, sort_keys=True, ensure_ascii=False),
            "sql_condition": s.sql,
            "where_sql": s.where_sql,
        }
        for s in load_segments(folder, seed_vocabulary(found))
    ]
    return {DBT_VAR: rows}


def dbt_vars_args(
    env=None, project_dir: str | Path | None = None, cwd: str | None = None
) -> list[str]:
    """The ``--vars`` arguments of a dbt invocation that builds the segment models."""
    return ["--vars", json.dumps(dbt_vars(env, project_dir, cwd), ensure_ascii=False)]


def main() -> int:
    """``python -m common.segments``: print the dbt vars, for ``dbt build --vars "$(…)"``."""
    try:
        print(json.dumps(dbt_vars(), ensure_ascii=False))
    except SegmentFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
