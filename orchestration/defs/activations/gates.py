"""Quality gates: an activation refuses to act when the data it depends on failed a check.

Two layers, because activations run in two ways:

* **same run** (``python -m sandbox demo``, a full materialization): the great-expectations
  suites on raw inputs and the dbt tests (error severity) are *blocking* asset
  checks; Dagster fails the step whose blocking check fails and skips every step
  downstream — the activations. Nothing here is needed for that;
* **own run** (a campaign or flow schedule selects only its assets): the upstream
  checks are not in the run, so :func:`blocking_check_problems` reads the latest
  evaluation of every blocking check on every upstream asset from the Dagster
  instance (``DagsterInstance.get_latest_asset_check_evaluation_record``) and the
  asset fails before reading an audience if one failed or never completed.

Why not declarative automation (``AutomationCondition.on_cron(...) &
AutomationCondition.all_deps_blocking_checks_passed()``)? It looks at direct deps
only, and it gates only the runs it starts itself: a campaign launched by hand from
the UI would skip the gate. Campaign files say when they run, as schedules; the
gate is part of every run of the asset, whoever starts it.

Upstream stops at an asset tagged ``cod360/gate_boundary`` (``orchestration.tags``):
``lead_score_approved_version`` keeps the approved version when the promotion check
refuses a candidate, so that refusal does not stop the activations that read scores.

Which checks are upstream comes from the asset graph the run's job was built from
(``JobScopedAssetGraph.source_asset_graph``): the code location's whole graph, in
runs launched by the webserver, the daemon or ``execute_in_process``, with no import
of the root definitions.
"""

import dagster as dg

from orchestration.tags import GATE_BOUNDARY_TAG


def upstream_graph(context: dg.AssetExecutionContext):
    """The asset graph the running job was selected from (the code location's, checks included)."""
    # The job's own graph holds only the selected assets' checks; its source holds all.
    return context.job_def.asset_layer.asset_graph.source_asset_graph


def gated_upstream(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    """The assets upstream of ``key`` whose checks gate it: all, up to gate boundaries."""
    found: set[dg.AssetKey] = set()
    todo = list(graph.get(key).parent_keys)
    while todo:
        parent = todo.pop()
        if parent in found or not graph.has(parent):
            continue
        found.add(parent)
        if graph.get(parent).tags.get(GATE_BOUNDARY_TAG) != "true":
            todo.extend(graph.get(parent).parent_keys)
    return found


def blocking_check_problems(context: dg.AssetExecutionContext, graph=None) -> list[str]:
    """One line per blocking upstream check that did not pass on its latest evaluation."""
    graph = graph if graph is not None else upstream_graph(context)
    upstream_keys = gated_upstream(graph, context.asset_key)
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
