"""``cod360``: the command line of the pipeline.

``cod360 run [--select SELECTION]`` materializes every asset (or a selection) in
one process, on the instance of ``DAGSTER_HOME`` so the runs appear in the UI.
``cod360 run --new`` runs only what new landing files make stale: the raw tables with
new files and the assets downstream of them (what the landing sensor runs); with
nothing new it ends after a directory scan. ``cod360 campaign list | preview ID |
dry-run ID | run ID | results ID`` works the campaigns (``cod360 campaign --help``). The
demo on the built-in sample store is ``python -m sandbox demo`` (``make demo``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
from pathlib import Path

from common.settings import load_settings


def dagster_instance():
    """The instance of DAGSTER_HOME (created with cod360's settings), or an ephemeral one."""
    import dagster as dg

    # With DAGSTER_HOME set (the Makefile sets it), demo runs appear in `make ui`.
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.ephemeral()
    Path(home).mkdir(parents=True, exist_ok=True)
    instance_config = Path(home) / "dagster.yaml"
    if not instance_config.exists():
        shutil.copyfile(Path(__file__).with_name("dagster.yaml"), instance_config)
    return dg.DagsterInstance.get()


def materialize_everything(
    *,
    instance=None,
    selection: str | None = None,
    exclude: str | None = None,
    verbose: bool = False,
    log_file: Path | None = None,
    run_config: dict | None = None,
    downstream_of_sources: list[str] | None = None,
) -> bool:
    """Materialize every asset (or a selection, minus ``exclude``) in one process.

    Selections use Dagster's selection syntax, as in the UI (`key:order_scores or
    group:activations`). Returns whether the run succeeded. Prints one line per
    materialized asset; dbt's own output goes to ``log_file`` when given. ``run_config``
    carries op config (loggers are set here). ``downstream_of_sources`` (landing source
    names) narrows the selection to their raw tables and the assets downstream of them.
    """
    import dagster as dg

    from orchestration.dbt_project import manifest_is_stale, prepare_manifest

    if manifest_is_stale():  # a fresh one is not parsed again (importing it checked too)
        prepare_manifest()
    from orchestration.definitions import defs
    from orchestration.progress_logger import progress_logger

    definitions = dg.Definitions.merge(
        defs(), dg.Definitions(loggers={"progress": progress_logger})
    )
    graph = definitions.resolve_asset_graph()
    chosen = dg.AssetSelection.from_string(selection) if selection else dg.AssetSelection.all()
    if downstream_of_sources is not None:
        from connectors.ingestion import LANDING_SOURCES
        from orchestration.defs.ingestion.changes import downstream_of

        names = set(downstream_of_sources)
        chosen = chosen & downstream_of(s for s in LANDING_SOURCES if s.name in names)
    if exclude:
        chosen = chosen - dg.AssetSelection.from_string(exclude)
    asset_selection = list(chosen.resolve(graph))
    if not asset_selection:
        # An empty selection would mean "every asset" to execute_in_process.
        print("  the selection holds no asset: nothing to run")
        return True
    job = definitions.resolve_implicit_global_asset_job_def()
    loggers: dict = {"progress": {}}
    if verbose:
        loggers["console"] = {"config": {"log_level": "INFO"}}
    with contextlib.ExitStack() as stack, _output_to(log_file):
        instance = instance or stack.enter_context(dagster_instance())
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            asset_selection=asset_selection,
            run_config={**(run_config or {}), "loggers": loggers},
        )
    evaluations = result.get_asset_check_evaluations()
    passed = sum(1 for check in evaluations if check.passed)
    print(f"  asset checks: {passed} passed, {len(evaluations) - passed} failed")
    for check in evaluations:
        if not check.passed:
            severity = check.severity.value if check.severity else "ERROR"
            print(
                f"  check {check.asset_key.to_user_string()}:{check.check_name} failed ({severity})"
            )
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(
                    f"  step failed: {event.step_key}: {_root_cause(event.event_specific_data.error)}"
                )
    return result.success


def _root_cause(error) -> str:
    """The innermost error's message: Dagster wraps the asset's own exception
    ("Error occurred while executing op …"), and the user needs the one it wraps."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return error.message.strip()[:500]


@contextlib.contextmanager
def _output_to(log_file: Path | None):
    if log_file is None:
        yield
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a", encoding="utf-8") as handle, contextlib.redirect_stdout(handle):
        yield


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.export_env()
    changed = None
    if args.new:
        from orchestration.defs.ingestion.changes import sources_with_new_files

        changed = [
            source.name
            for source in sources_with_new_files(settings.landing_dir, settings.warehouse_path)
        ]
        if not changed:
            print(f"Nothing new in {settings.landing_dir}: nothing to run.")
            return 0
        print(f"New landing files for: {', '.join(changed)}")
    with dagster_instance() as instance:
        ok = materialize_everything(
            instance=instance,
            selection=args.select,
            exclude=args.exclude,
            verbose=args.verbose,
            downstream_of_sources=changed,
        )
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cod360", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="materialize every asset, or a selection, in one process (runs appear in the UI)",
    )
    run.add_argument(
        "--select",
        help="Dagster asset selection, as in the UI (default: everything), e.g. 'group:activations'",
    )
    run.add_argument("--exclude", help="asset selection to leave out")
    run.add_argument(
        "--new",
        action="store_true",
        help=(
            "only the raw tables with new landing files and the assets downstream of them "
            "(within --select); exits at once when nothing is new"
        ),
    )
    run.add_argument("--verbose", action="store_true", help="also print Dagster's own log lines")
    run.set_defaults(func=_run)
    from orchestration.campaign_cli import add_campaign_commands

    add_campaign_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    import warnings

    import dagster as dg

    # Dagster flags the selection syntax as beta; a user of the CLI cannot act on that.
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    args = build_parser().parse_args(argv)
    return args.func(args)


def entrypoint() -> None:
    """The `cod360` console script.

    Exits without interpreter teardown: after a full pipeline run, objects of DuckDB's
    bindings are still referenced from Dagster's run machinery, and DuckDB 2.0 prints a
    page of "nanobind: leaked instances" at teardown. Every connection has been closed
    and every file flushed by then; the report is noise, not a fault.
    """
    # The same teardown skip leaves scikit-learn's worker semaphore for the resource
    # tracker (a child process, so it reads this from the environment) to clean up.
    os.environ.setdefault("PYTHONWARNINGS", "ignore:resource_tracker:UserWarning")
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entrypoint()
