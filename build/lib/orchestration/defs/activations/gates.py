"""Quality gates: an activation refuses to act when the data it depends on failed a check.

Two layers, because activations run in two ways:

* **same run** (``python -m sandbox demo``, a full materialization): the great-expectations
  suites on raw inputs and the dbt tests (error severity) are *blocking* asset
  checks; Dagster fails the step whose blocking check fails, and every step
  downstream — the activations — is skipped;
* **own run** (a campaign schedule selects only its asset): the upstream checks are
  not in the run, so :func:`blocking_check_problems` reads the latest evaluation of
  every blocking check on every upstream asset from the Dagster instance
  (``DagsterInstance.get_latest_asset_check_evaluation_record``) and the asset fails
  before reading an audience if one failed or was never completed.

(Declarative automation offers the same for assets it starts:
``AutomationCondition.on_cron(...) & AutomationCondition.all_deps_blocking_checks_passed()``;
campaigns use schedules, as their files say, so the asset checks for itself.)

Which checks are upstream comes from the code location's asset graph: the
repository's in runs launched by the webserver or the daemon; in in-process runs
(tests, ``python -m sandbox demo``) that have no repository, the cod360 definitions built once
per process.
"""

from functools import lru_cache

import dagster as dg


@lru_cache(maxsize=1)
def _code_location_graph():
    from orchestration.definitions import defs  # the root, loaded lazily: it imports this module

    return defs().resolve_asset_graph()


def upstream_graph(context: dg.AssetExecutionContext):
    """The whole asset graph of the code location this asset runs in."""
    try:
        return context.repository_def.asset_graph
    except Exception:  # in-process execution: no repository on the step context
        return _code_location_graph()


def blocking_check_problems(context: dg.AssetExecutionContext, graph=None) -> list[str]:
    """One line per blocking upstream check that did not pass on its latest evaluation."""
    graph = graph if graph is not None else upstream_graph(context)
    upstream = dg.AssetSelection.assets(context.asset_key).upstream(include_self=False)
    upstream_keys = upstream.resolve(graph)
    if not upstream_keys:
        return []
    check_keys = dg.AssetSelection.checks_for_assets(*upstream_keys).resolve_checks(graph)
    problems = []
    for check_key in sorted(check_keys, key=lambda k: k.to_user_string()):
        if not graph.get_check_spec(check_key).blocking:
            continue
        record = context.instance.get_latest_asset_check_evaluation_record(check_key)
        name = check_key.to_user_string()
        if record is None:
            # An ephemeral instance (tests, a demo without DAGSTER_HOME) has no history to
            # read: only failures recorded in it count. A real deployment blocks.
            if not context.instance.is_ephemeral:
                problems.append(f"{name}: never evaluated")
            continue
        evaluation = record.event.asset_check_evaluation if record.event else None
        if evaluation is None:  # planned, never completed (its run failed or was cancelled)
            problems.append(f"{name}: not completed (run {record.run_id[:8]})")
        elif not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            problems.append(f"{name}: failed (run {record.run_id[:8]})")
    return problems


def enforce_quality_gate(context: dg.AssetExecutionContext, graph=None) -> None:
    """Raise ``dg.Failure`` (nothing read, nothing sent) when an upstream blocking check failed."""
    problems = blocking_check_problems(context, graph)
    if problems:
        raise dg.Failure(
            description=(
                f"{context.asset_key.to_user_string()} refuses to run: "
                f"{len(problems)} blocking check(s) upstream did not pass"
            ),
            metadata={
                "blocking_checks": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems))
            },
        )
