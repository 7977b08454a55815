"""The models, tests and seeds config hold no engine-specific SQL: every difference between
DuckDB and Spark goes through a dispatched macro in dbt_project/macros (issue 10).

A scan of the source files, not of compiled SQL, so it needs no warehouse: Jinja and
comments are removed first, so a macro name or a comment that mentions QUALIFY is fine.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from common.settings import DBT_PROJECT_DIR

# DuckDB-only syntax (or syntax that Spark 3.5 parses differently), with the portable
# macro to use instead.
DUCKDB_ONLY = {
    r"->>?": "json_text / json_array_* (macros/json.sql)",
    r"\bqualify\b": "deduplicate_first (macros/cross_db.sql)",
    r"::": "cast(... as ...) or dbt.cast",
    r"\blist_\w+": "json_array_* (macros/json.sql)",
    r"\bunnest\s*\(": "json_array_rows (macros/json.sql)",
    r"\bjson_extract\w*\s*\(": "json_text / json_array_rows (macros/json.sql)",
    r"\bjson_array_length\s*\(": "json_array_length (macros/json.sql)",
    r"\bregexp_full_match\s*\(": "regex_full_match (macros/cross_db.sql)",
    r"\bregexp_matches\s*\(": "regex_ends_with / regex_full_match (macros/cross_db.sql)",
    r"\bstrip_accents\s*\(": "status_key (macros/status_text.sql)",
    r"\blen\s*\(": "json_array_length (macros/json.sql)",
    r"\[\s*\]": "json_array_* (macros/json.sql)",
    r"\bas\s+(?:json|varchar)\s*\[\]": "json_array_* (macros/json.sql)",
    r"\bas\s+varchar\b": "dbt.type_string()",
    r"\bas\s+json\b": "json_text",
    r"\btimestamptz\b|\btimestamp\s+with\s+time\s+zone\b|\bat\s+time\s+zone\b": "macros/timestamps.sql",
    r"\bstrftime\s*\(|\bstrptime\s*\(|\bepoch\s*\(": "macros/timestamps.sql",
    r"\bstring_agg\s*\(|\blistagg\s*\(": "sorted_listagg (macros/cross_db.sql)",
    r"\bdelete\+insert\b": "history_incremental_strategy (macros/cross_db.sql)",
    r"\bexclude\s*\(": "deduplicate_first(columns=...)",
}
# Checked inside string literals: the other patterns are checked outside them.
IN_LITERALS = {r"\\": "regex_pattern (Spark reads a backslash in a literal as an escape)"}
_LITERAL = re.compile(r"'(?:[^']|'')*'")

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_COMMENT = re.compile(r"--[^\n]*")


def _sql_without_jinja(text: str) -> str:
    return _COMMENT.sub("", _JINJA.sub(" ", text))


def _sql_files() -> list[Path]:
    return sorted(
        path
        for folder in ("models", "tests", "analyses", "snapshots")
        for path in (DBT_PROJECT_DIR / folder).rglob("*.sql")
    )


def test_the_scan_sees_the_models():
    files = _sql_files()
    assert len([p for p in files if "models" in p.parts]) >= 40


@pytest.mark.parametrize("path", _sql_files(), ids=lambda p: str(p.relative_to(DBT_PROJECT_DIR)))
def test_no_duckdb_only_sql(path: Path):
    sql = _sql_without_jinja(path.read_text(encoding="utf-8"))
    literals = " ".join(_LITERAL.findall(sql))
    found = [
        f"{match.group(0)!r} (use {fix})"
        for patterns, text in ((DUCKDB_ONLY, _LITERAL.sub("''", sql)), (IN_LITERALS, literals))
        for pattern, fix in patterns.items()
        for match in re.finditer(pattern, text, re.I)
    ]
    assert not found, f"{path.name}: " + "; ".join(found)


def test_no_python_models():
    """dbt Python models run on dbt-duckdb and Databricks only, not on Spark."""
    assert sorted(p.name for p in (DBT_PROJECT_DIR / "models").rglob("*.py")) == []


def test_seeds_and_contracts_use_portable_types():
    """`varchar` and `hugeint` are DuckDB's names; Spark knows `string` and `bigint`."""
    offenders = [
        f"{path.relative_to(DBT_PROJECT_DIR)}:{number}"
        for path in sorted(
            [
                *DBT_PROJECT_DIR.joinpath("models").rglob("*.yml"),
                DBT_PROJECT_DIR / "seeds/_seeds.yml",
            ]
        )
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"(?:data_type|:)\s*(?:varchar|hugeint)\b", line, re.I)
    ]
    assert offenders == []


def test_the_scan_catches_duckdb_syntax():
    """The patterns find what they are for (a scan that finds nothing proves nothing)."""
    sample = "select payload ->> '$.id', x::int, '[]' from t qualify row_number() over () = 1"
    sql = _sql_without_jinja(sample + " {{ json_text('payload', '$.id') }} -- unnest(")
    hits = {p for p in DUCKDB_ONLY if re.search(p, _LITERAL.sub("''", sql), re.I)}
    assert hits == {r"->>?", r"::", r"\bqualify\b"}
    assert re.search(next(iter(IN_LITERALS)), " ".join(_LITERAL.findall(r"select '\s+'")))
