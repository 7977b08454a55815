"""Segment files become segments, and the stage / segment histories are idempotent per date.

Each test rebuilds a few models with dbt on its own copy of the module's warehouse
(``marts_warehouse``), so the shared one is never changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import timedelta

import duckdb
import pytest
import yaml

from common.segments import SegmentFileError
from common.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR

pytestmark = pytest.mark.e2e

SEGMENT_MODELS = "segment_definitions+"
HISTORY_MODELS = "int_run_date+"


def _rows(warehouse, sql: str):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def segments_dir(tmp_path):
    """A copy of the shipped segment files that a test may add to."""
    folder = tmp_path / "segments"
    shutil.copytree(DBT_PROJECT_DIR / "segments", folder)
    return folder


def test_a_new_segment_file_becomes_a_new_segment(marts_warehouse, segments_dir, tmp_path):
    rebuilt = marts_warehouse.copy_to(tmp_path / "wh")
    (segments_dir / "shopify_repeat_buyers.yml").write_text(
        yaml.safe_dump(
            {
                "name": "shopify_repeat_buyers",
                "label": "Shopify repeat buyers",
                "description": "Two delivered orders or more, ordered on Shopify, never refused.",
                "filters": {"platforms": ["shopify"], "min_delivered_orders": 2},
                "sql": "refusals = 0",
            }
        ),
        encoding="utf-8",
    )

    rebuilt.dbt_ok("build", "-s", SEGMENT_MODELS, env={"COD360_SEGMENTS_DIR": str(segments_dir)})

    expected = {
        row[0]
        for row in _rows(
            rebuilt.warehouse,
            "select customer_phone from marts.customer_360 "
            "where platforms_seen like '%shopify%' and orders_delivered >= 2 and refusals = 0",
        )
    }
    members = {
        row[0]
        for row in _rows(
            rebuilt.warehouse,
            "select customer_phone from marts.segment_membership "
            "where segment_name = 'shopify_repeat_buyers'",
        )
    }
    assert expected, "the sample store should have Shopify repeat buyers"
    assert members == expected
    assert _rows(
        rebuilt.warehouse,
        "select label, sql_condition, members from marts.segment_definitions "
        "join marts.segment_size_history using (segment_name) "
        "where segment_name = 'shopify_repeat_buyers'",
    ) == [("Shopify repeat buyers", "refusals = 0", len(expected))]
    # The seven shipped segments are still there beside it.
    assert _rows(rebuilt.warehouse, "select count(*) from marts.segment_definitions") == [(8,)]


def test_a_bad_segment_file_fails_the_build_naming_the_file_and_the_field(
    marts_warehouse, segments_dir, tmp_path
):
    rebuilt = marts_warehouse.copy_to(tmp_path / "wh")
    bad = segments_dir / "typo.yml"
    bad.write_text(
        "name: typo\nlabel: Typo\ndescription: x\nfilters:\n  platforms: [shopfy]\n",
        encoding="utf-8",
    )

    # The files are compiled before dbt starts: the build stops there, dbt never runs.
    with pytest.raises(SegmentFileError) as error:
        rebuilt.dbt(
            "run", "-s", "segment_definitions", env={"COD360_SEGMENTS_DIR": str(segments_dir)}
        )

    assert f"{bad}: filters.platforms: unknown value 'shopfy'" in str(error.value)


def test_a_sql_condition_the_engine_rejects_fails_the_build(
    marts_warehouse, segments_dir, tmp_path
):
    rebuilt = marts_warehouse.copy_to(tmp_path / "wh")
    (segments_dir / "bad_sql.yml").write_text(
        "name: bad_sql\nlabel: Bad SQL\ndescription: x\nsql: no_such_column > 1\n",
        encoding="utf-8",
    )

    result = rebuilt.dbt(
        "build", "-s", SEGMENT_MODELS, env={"COD360_SEGMENTS_DIR": str(segments_dir)}
    )

    assert result.returncode != 0
    assert "no_such_column" in result.stdout


def test_a_build_without_the_compiled_segments_says_how_to_pass_them(marts_warehouse, tmp_path):
    rebuilt = marts_warehouse.copy_to(tmp_path / "wh")
    env = {**os.environ, "COD360_WAREHOUSE": str(rebuilt.warehouse)}
    result = subprocess.run(
        [
            DBT_EXECUTABLE,
            "run",
            "-s",
            "segment_evaluation",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(rebuilt.root / "target"),
            "--log-path",
            str(rebuilt.root / "logs"),
        ],
        cwd=rebuilt.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode != 0
    assert "python -m common.segments" in result.stdout


def test_the_default_run_finds_the_project_segments_from_another_working_directory(
    marts_warehouse,
):
    # marts_warehouse was built by dbt started outside the project (cwd = a temp folder)
    # without COD360_SEGMENTS_DIR: the shipped files were found through --project-dir.
    names = {
        row[0]
        for row in _rows(
            marts_warehouse.warehouse, "select segment_name from marts.segment_definitions"
        )
    }
    shipped = {path.stem for path in (DBT_PROJECT_DIR / "segments").glob("*.yml")}
    assert names == shipped


def test_histories_are_idempotent_per_date_keep_past_dates_and_record_changes(
    marts_warehouse, tmp_path
):
    rebuilt = marts_warehouse.copy_to(tmp_path / "wh")
    (latest,) = _rows(rebuilt.warehouse, "select as_of_date from intermediate.int_run_date")[0]
    customers = _rows(rebuilt.warehouse, "select count(*) from marts.customer_360")[0][0]
    past_day = latest - timedelta(days=14)
    past = past_day.isoformat()

    # The copy already holds the latest date; add a past date, then re-run the latest
    # date: histories keep both dates, each once.
    rebuilt.dbt_ok("run", "-s", HISTORY_MODELS, "--vars", f"{{as_of_date: '{past}'}}")
    _assert_only_what_was_known_on(rebuilt.warehouse, past)
    rebuilt.dbt_ok("run", "-s", HISTORY_MODELS)

    per_date = dict(
        _rows(
            rebuilt.warehouse,
            "select as_of_date, count(*) from marts.customer_lifecycle_history group by 1",
        )
    )
    assert set(per_date) == {latest, past_day}
    assert per_date[latest] == customers  # re-running the date replaced its rows
    assert per_date[past_day] < customers  # fewer customers had ordered by then
    assert _rows(
        rebuilt.warehouse,
        "select count(*) - count(distinct (as_of_date, segment_name, customer_phone)) "
        "from marts.segment_membership_history",
    ) == [(0,)]

    moves = _rows(
        rebuilt.warehouse,
        f"select count(*) from marts.customer_lifecycle_changes "
        f"where changed_on = date '{latest}' and not is_first_observation",
    )[0][0]
    assert moves > 0  # customers moved between stages in two weeks (e.g. active → lapsed)
    entered = _rows(
        rebuilt.warehouse,
        f"select count(*) from marts.segment_changes "
        f"where changed_on = date '{latest}' and change_type = 'entered' and not is_first_evaluation",
    )[0][0]
    assert entered > 0

    # The full-refresh path restarts the history at the current run date.
    rebuilt.dbt_ok("run", "-s", "customer_lifecycle_history", "--full-refresh")
    assert _rows(
        rebuilt.warehouse,
        "select as_of_date, count(*) from marts.customer_lifecycle_history group by 1",
    ) == [(latest, customers)]


def _assert_only_what_was_known_on(warehouse, day: str) -> None:
    """The as-of orders of a past run date hold nothing that happened after that day."""
    after = f"date '{day}' + interval 1 day"
    assert _rows(
        warehouse,
        f"select count(*) from intermediate.int_orders_as_of "
        f"where placed_at >= {after} or resolved_at >= {after}",
    ) == [(0,)]
    # Orders delivered after that day were still open on it.
    reopened = _rows(
        warehouse,
        f"""
        select count(*) from intermediate.int_orders_as_of as a
        join intermediate.int_orders as o using (order_ref)
        where o.outcome = 'delivered' and o.resolved_at >= {after} and a.outcome = 'open'
        """,
    )
    assert reopened[0][0] > 0
