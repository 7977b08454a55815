"""The dbt assets' wiring without running dbt: CLI arguments, selector split, source freshness."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest

from orchestration.defs.transform.assets import (
    DbtConfig,
    cod360_dbt_incremental_models,
    cod360_dbt_models,
    dbt_build_args,
    source_freshness_policies,
)


def test_a_build_leaves_the_unit_tests_out_unless_the_full_suite_is_asked_for():
    no_unit_tests = ["--exclude-resource-type", "unit_test"]
    assert dbt_build_args(DbtConfig()) == ["build", *no_unit_tests]
    assert dbt_build_args(DbtConfig(full_refresh=True)) == [
        "build",
        *no_unit_tests,
        "--full-refresh",
    ]
    vars_args = ["--vars", '{"cod360_segments": []}']
    assert dbt_build_args(DbtConfig(), vars_args) == ["build", *vars_args, *no_unit_tests]
    # The full suite: every row tested (macros/incremental.sql) and the unit tests run.
    full = dbt_build_args(DbtConfig(full_suite=True), vars_args)
    assert full == ["build", "--vars", '{"cod360_segments": [], "test_scope": "all"}']


def test_the_weekly_full_suite_schedule_builds_everything_with_the_full_suite_on():
    from orchestration.defs.transform.assets import dbt_full_suite_schedule

    (request,) = dbt_full_suite_schedule.evaluate_tick(dg.build_schedule_context()).run_requests
    full_suite = {"config": {"full_refresh": False, "full_suite": True}}
    assert request.run_config["ops"] == {
        "cod360_dbt_models": full_suite,
        "cod360_dbt_incremental_models": full_suite,
    }


def test_the_histories_and_the_rest_are_two_disjoint_sets_the_rest_never_reading_a_history():
    histories = {k.path[-1] for k in cod360_dbt_incremental_models.keys}
    rest = {k.path[-1] for k in cod360_dbt_models.keys}
    incremental = {
        "customer_lifecycle_history",
        "segment_membership_history",
        "segment_size_history",
    }
    assert incremental <= histories and "segment_membership" in histories  # built from a history
    assert not histories & rest and {"customer_360", "order_rto_history"} <= rest
    # One direction only, so a full build is two dbt invocations, the rest first.
    for key in cod360_dbt_models.keys:
        assert not cod360_dbt_models.asset_deps[key] & cod360_dbt_incremental_models.keys, key


def _manifest(**sources) -> dict:
    return {
        "nodes": {},
        "sources": {
            f"source.cod360.raw.{name}": {
                "unique_id": f"source.cod360.raw.{name}",
                "resource_type": "source",
                "source_name": "raw",
                "name": name,
                "config": {"freshness": freshness},
                "meta": {},
                "tags": [],
                "description": "",
            }
            for name, freshness in sources.items()
        },
    }


@pytest.mark.parametrize(
    ("freshness", "fail", "warn"),
    [
        (
            {
                "warn_after": {"count": 24, "period": "hour"},
                "error_after": {"count": 3, "period": "day"},
            },
            timedelta(days=3),
            timedelta(hours=24),
        ),
        ({"warn_after": {"count": 30, "period": "minute"}}, timedelta(minutes=30), None),
    ],
)
def test_a_source_freshness_becomes_the_raw_assets_policy(freshness, fail, warn):
    policies = source_freshness_policies(_manifest(shopify_orders=freshness, quarantine=None))
    (key,) = policies  # quarantine declares no freshness: no policy
    assert key == dg.AssetKey(["raw", "shopify_orders"])
    assert policies[key] == dg.FreshnessPolicy.time_window(fail_window=fail, warn_window=warn)
