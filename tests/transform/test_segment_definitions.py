"""Segment files: validation, errors naming file and field, filters compiled to SQL.

``common.segments`` (what the dbt Python model ``segment_definitions`` calls) is plain
Python, so it is tested without a warehouse. The compiled filters are then run by DuckDB
on hand-made customers.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from common import segments
from common.settings import DBT_PROJECT_DIR

SHIPPED_DIR = DBT_PROJECT_DIR / "segments"
VOCABULARY = {
    "platforms": segments.PLATFORMS,
    "payment_methods": segments.PAYMENT_METHODS,
    "order_statuses": segments.OPEN_ORDER_STATUSES,
    "lifecycle_stages": (
        "problematic_high_risk",
        "new_pre_confirmation",
        "new_post_delivery",
        "vip",
        "active",
        "lapsed",
        "churned_dormant",
    ),
    "rfm_segments": (
        "Champions",
        "Loyal",
        "Potential Loyalist",
        "New Customers",
        "Promising",
        "Need Attention",
        "About to Sleep",
        "At Risk",
        "Can't Lose Them",
        "Hibernating",
        "Lost",
        "No Delivered Order",
        "Potential Refusers",
    ),
    "first_order_ad_channels": segments.AD_CHANNELS,
}


def _write(folder: Path, name: str, document: dict | str) -> Path:
    path = folder / f"{name}.yml"
    text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def _segment(name: str, **extra) -> dict:
    return {"name": name, "label": name.replace("_", " "), "description": "test", **extra}


def _errors(folder: Path) -> str:
    with pytest.raises(segments.SegmentFileError) as error:
        segments.load_segments(folder, VOCABULARY)
    return str(error.value)


# --------------------------------------------------------------------------- shipped files


def test_every_shipped_segment_file_is_valid_and_named_after_its_file():
    loaded = segments.load_segments(SHIPPED_DIR, VOCABULARY)
    assert {s.name for s in loaded} == {
        "pre_delivery_new_cod",
        "cod_vip_last_30_days",
        "lapsed_high_rfm",
        "out_for_delivery_today",
        "delivered_last_3_days",
        "high_risk_rto_history",
        "from_ugc_ad_delivered",
    }
    assert all(Path(s.source_file).stem == s.name for s in loaded)


def test_the_readme_example_is_a_valid_segment(tmp_path):
    readme = (SHIPPED_DIR / "README.md").read_text(encoding="utf-8")
    example = readme.split("`segments/tiktok_buyers_to_win_back.yml`:")[1]
    example = example.split("```yaml")[1].split("```")[0]
    _write(tmp_path, "tiktok_buyers_to_win_back", example)
    (loaded,) = segments.load_segments(tmp_path, VOCABULARY)
    assert "platforms_seen" in loaded.where_sql and "can_message_marketing" in loaded.where_sql


def test_the_vip_example_compiles_to_the_documented_bounds():
    (vip,) = [
        s
        for s in segments.load_segments(SHIPPED_DIR, VOCABULARY)
        if s.name == "cod_vip_last_30_days"
    ]
    assert vip.where_sql == (
        "days_since_last_delivered <= 30 and orders_delivered >= 4 and delivered_revenue >= 1500"
        " and (rto_rate is null or rto_rate < 0.2) and can_message_marketing"
    )


# --------------------------------------------------------------------------- errors


def test_an_unknown_filter_is_an_error_naming_the_file_and_the_field(tmp_path):
    path = _write(tmp_path, "vip", _segment("vip", filters={"min_deliverd_orders": 3}))
    message = _errors(tmp_path)
    assert f"{path}: filters.min_deliverd_orders: unknown filter" in message


@pytest.mark.parametrize(
    ("filters", "field", "problem"),
    [
        ({"max_rto_rate": 20}, "filters.max_rto_rate", "between 0 and 1"),
        ({"min_delivered_orders": "4"}, "filters.min_delivered_orders", "whole number"),
        ({"min_delivered_orders": True}, "filters.min_delivered_orders", "whole number"),
        ({"min_delivered_orders": 2.5}, "filters.min_delivered_orders", "whole number"),
        ({"placed_within_days": -1}, "filters.placed_within_days", "whole number"),
        ({"min_delivered_revenue": "1500 MAD"}, "filters.min_delivered_revenue", "number"),
        ({"platforms": "shopify"}, "filters.platforms", "non-empty list"),
        ({"platforms": []}, "filters.platforms", "non-empty list"),
        ({"platforms": ["shopfy"]}, "filters.platforms", "unknown value 'shopfy'"),
        ({"lifecycle_stages": ["Lapsed"]}, "filters.lifecycle_stages", "unknown value 'Lapsed'"),
        ({"rfm_segments": ["Champion"]}, "filters.rfm_segments", "unknown value 'Champion'"),
        ({"order_statuses": ["delivered"]}, "filters.order_statuses", "unknown value"),
        ({"consent_required": "yes"}, "filters.consent_required", "true or false"),
        (
            {"min_rto_rate": 0.5, "max_rto_rate": 0.2},
            "filters.min_rto_rate",
            "no customer could match",
        ),
        (
            {"min_delivered_orders": 5, "max_delivered_orders": 2},
            "filters.min_delivered_orders",
            "no customer could match",
        ),
    ],
)
def test_a_wrong_type_or_value_is_an_error_naming_the_file_and_the_field(
    tmp_path, filters, field, problem
):
    path = _write(tmp_path, "bad", _segment("bad", filters=filters))
    message = _errors(tmp_path)
    line = next(line for line in message.splitlines() if f"{path}: {field}:" in line)
    assert problem in line


@pytest.mark.parametrize(
    ("document", "field", "problem"),
    [
        (
            {"name": "other_name", "label": "x", "description": "x"},
            "name",
            "must equal the file name",
        ),
        ({"name": "Bad-Name", "label": "x", "description": "x"}, "name", "snake_case"),
        ({"name": "seg", "description": "x"}, "label", "missing"),
        ({"name": "seg", "label": "", "description": "x"}, "label", "non-empty"),
        (
            {"name": "seg", "label": "x", "description": "x", "filter": {}},
            "filter",
            "unknown field",
        ),
        ({"name": "seg", "label": "x", "description": "x", "filters": [1]}, "filters", "mapping"),
        ({"name": "seg", "label": "x", "description": "x", "sql": "1=1; drop table x"}, "sql", ";"),
    ],
)
def test_a_bad_top_level_field_is_an_error_naming_the_file_and_the_field(
    tmp_path, document, field, problem
):
    path = _write(tmp_path, "seg", document)
    message = _errors(tmp_path)
    line = next(line for line in message.splitlines() if f"{path}: {field}:" in line)
    assert problem in line


def test_every_bad_file_is_reported_at_once_and_good_files_do_not_hide_them(tmp_path):
    _write(tmp_path, "good", _segment("good", filters={"min_delivered_orders": 1}))
    first = _write(tmp_path, "first", _segment("first", filters={"platforms": ["ebay"]}))
    second = _write(tmp_path, "second", "name: second\nlabel: [unclosed\n")
    message = _errors(tmp_path)
    assert f"{first}: filters.platforms" in message
    assert f"{second}: not valid YAML" in message


def test_a_sql_condition_the_warehouse_rejects_names_the_file_and_the_sql_field(tmp_path):
    path = _write(tmp_path, "seg", _segment("seg", sql="no_such_column > 1"))

    def check_sql(where_sql):
        try:
            duckdb.sql(f"select count(*) from (select 1 as orders_delivered) where {where_sql}")
        except duckdb.Error as exc:
            return str(exc).splitlines()[0]
        return None

    with pytest.raises(segments.SegmentFileError) as error:
        segments.load_segments(tmp_path, VOCABULARY, check_sql)
    assert f"{path}: sql: the condition does not run" in str(error.value)
    assert "no_such_column" in str(error.value)


# --------------------------------------------------------------------------- the folder


def test_the_folder_comes_from_the_env_var_first(tmp_path):
    chosen = segments.resolve_segments_dir(
        {"COD360_SEGMENTS_DIR": str(tmp_path)}, str(DBT_PROJECT_DIR), "/"
    )
    assert chosen == tmp_path


def test_a_missing_env_var_folder_is_an_error_not_a_silent_fallback(tmp_path):
    with pytest.raises(segments.SegmentFileError, match="no such folder"):
        segments.resolve_segments_dir(
            {"COD360_SEGMENTS_DIR": str(tmp_path / "nope")}, str(DBT_PROJECT_DIR), "/"
        )


def test_without_the_env_var_the_dbt_project_folder_is_found_from_anywhere_below_it(tmp_path):
    # dbt's --project-dir when given …
    assert segments.resolve_segments_dir({}, str(DBT_PROJECT_DIR), str(tmp_path)) == SHIPPED_DIR
    # … else the working directory or its nearest parent with a dbt_project.yml (dbt's rule) …
    assert segments.resolve_segments_dir({}, None, str(DBT_PROJECT_DIR / "models")) == SHIPPED_DIR
    # … else dbt_project/ under the working directory (running from the repository root).
    assert segments.resolve_segments_dir({}, None, str(DBT_PROJECT_DIR.parent)) == SHIPPED_DIR


def test_readme_and_hidden_files_are_not_segments(tmp_path):
    (tmp_path / "README.md").write_text("# segments", encoding="utf-8")
    (tmp_path / ".draft.yml").write_text("name: draft", encoding="utf-8")
    _write(tmp_path, "real", _segment("real"))
    assert [s.name for s in segments.load_segments(tmp_path, VOCABULARY)] == ["real"]


# --------------------------------------------------------------------------- filters on rows

# Hand-made customers in the shape of segment_customer_base (only the columns filtered on).
CUSTOMERS = [
    # phone, platforms, payments, open statuses, days last order, days last delivered,
    # days engaged, delivered, revenue, rto_rate, stage, rfm, refuser, can_message
    ("A", "shopify", "cod", None, 10, 5, 2, 5, 2000.0, 0.0, "vip", "Champions", False, True),
    (
        "B",
        "shopify,tiktok",
        "cod,prepaid",
        "in_transit",
        1,
        20,
        None,
        6,
        1600.0,
        0.2,
        "active",
        "Loyal",
        False,
        True,
    ),
    ("C", "youcan", "cod", None, 40, 31, 40, 4, 1500.0, 0.1, "active", "Loyal", False, True),
    ("D", "shopify", "cod", None, 3, 3, 1, 4, 1800.0, 0.0, "active", "Loyal", False, False),
    (
        "E",
        "tiktok",
        "cod",
        "pending",
        0,
        None,
        None,
        0,
        0.0,
        None,
        "new_pre_confirmation",
        "No Delivered Order",
        True,
        True,
    ),
    (
        "F",
        "woocommerce",
        "prepaid",
        None,
        100,
        100,
        None,
        1,
        300.0,
        0.5,
        "lapsed",
        "At Risk",
        True,
        True,
    ),
]
BASE_SQL = """
create table base (
    customer_phone varchar, platforms_seen varchar, payment_methods_seen varchar,
    open_order_statuses varchar, days_since_last_order integer, days_since_last_delivered integer,
    days_since_whatsapp_engaged integer, orders_delivered integer, delivered_revenue decimal(12, 2),
    rto_rate double, lifecycle_stage_code varchar, rfm_segment varchar,
    is_potential_refuser boolean, can_message_marketing boolean
)
"""


@pytest.fixture(scope="module")
def base():
    conn = duckdb.connect()
    conn.execute(BASE_SQL)
    conn.executemany(f"insert into base values ({', '.join(['?'] * 14)})", CUSTOMERS)
    yield conn
    conn.close()


def _members(base, filters, sql=None) -> set[str]:
    where = segments.filters_to_sql(filters, sql)
    return {
        row[0] for row in base.execute(f"select customer_phone from base where {where}").fetchall()
    }


def test_the_cod_vip_filter_on_hand_made_customers(base):
    vip = yaml.safe_load((SHIPPED_DIR / "cod_vip_last_30_days.yml").read_text(encoding="utf-8"))
    # B: RTO rate exactly 20 % is not "under 20 %"; C: last delivery 31 days ago;
    # D: opted out; E, F: too few deliveries.
    assert _members(base, vip["filters"]) == {"A"}


@pytest.mark.parametrize(
    ("filters", "sql", "expected"),
    [
        ({}, None, {"A", "B", "C", "D", "E", "F"}),
        ({"platforms": ["tiktok"]}, None, {"B", "E"}),
        ({"platforms": ["shop"]}, None, set()),  # whole values only, never a substring
        ({"payment_methods": ["prepaid"]}, None, {"B", "F"}),
        ({"order_statuses": ["in_transit", "pending"]}, None, {"B", "E"}),
        ({"placed_within_days": 3}, None, {"B", "D", "E"}),
        ({"last_delivered_within_days": 5}, None, {"A", "D"}),
        ({"not_delivered_within_days": 30}, None, {"C", "E", "F"}),
        ({"min_delivered_orders": 5}, None, {"A", "B"}),
        ({"max_delivered_orders": 1}, None, {"E", "F"}),
        ({"min_delivered_revenue": 1600, "max_delivered_revenue": 2000}, None, {"B", "D"}),
        ({"whatsapp_engaged_within_days": 2}, None, {"A", "D"}),
        ({"min_rto_rate": 0.2}, None, {"B", "F"}),
        ({"max_rto_rate": 0.2}, None, {"A", "C", "D", "E"}),
        ({"lifecycle_stages": ["active", "lapsed"]}, None, {"B", "C", "D", "F"}),
        ({"rfm_segments": ["Loyal"]}, None, {"B", "C", "D"}),
        ({"rfm_segments": ["Potential Refusers"]}, None, {"E", "F"}),
        ({"rfm_segments": ["Champions", "Potential Refusers"]}, None, {"A", "E", "F"}),
        ({"consent_required": True}, None, {"A", "B", "C", "E", "F"}),
        ({"consent_required": False}, None, {"A", "B", "C", "D", "E", "F"}),
        ({"lifecycle_stages": ["active"]}, "orders_delivered >= 5", {"B"}),
    ],
)
def test_each_filter_keeps_the_documented_customers(base, filters, sql, expected):
    assert _members(base, filters, sql) == expected


def test_a_quote_in_a_value_is_escaped_not_injected():
    where = segments.filters_to_sql({"rfm_segments": ["Can't Lose Them"]})
    # chr() rather than '' or \': DuckDB and Spark read a quote inside a literal differently.
    assert where == "(rfm_segment in (('Can' || chr(39) || 't Lose Them')))"
    for value in ["Can't Lose Them", "back\\slash", "'", "plain"]:
        (read,) = duckdb.sql(f"select {segments._literal(value)}").fetchall()[0]
        assert read == value


def test_first_order_ad_filters_take_any_quoted_text_and_compile_to_portable_literals(tmp_path):
    _write(
        tmp_path,
        "from_ad",
        _segment(
            "from_ad",
            filters={
                "first_order_ad_ids": ["1785200000000000", "o'hara"],
                "first_order_ad_channels": ["tiktok_lead_form"],
                "min_delivered_orders": 1,
            },
        ),
    )
    (loaded,) = segments.load_segments(tmp_path, VOCABULARY)
    assert loaded.where_sql == (
        "first_order_ad_id in ('1785200000000000', ('o' || chr(39) || 'hara')) "
        "and first_order_ad_channel in ('tiktok_lead_form') and orders_delivered >= 1"
    )


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("first_order_ad_ids", [1785200000000000], "quote ids"),  # YAML read a number
        ("first_order_ad_ids", [], "non-empty list"),
        ("first_order_ad_sources", [" "], "non-empty text"),
        ("first_order_ad_channels", ["tiktok"], "unknown value 'tiktok'"),
    ],
)
def test_a_bad_first_order_ad_filter_names_the_file_and_the_field(tmp_path, field, value, problem):
    _write(tmp_path, "from_ad", _segment("from_ad", filters={field: value}))
    message = _errors(tmp_path)
    assert f"from_ad.yml: filters.{field}:" in message and problem in message
