"""``cod360``: the command line of the pipeline.

``cod360 demo`` generates the built-in sample store (if the landing folder is
empty), materializes every asset into the embedded DuckDB warehouse and prints
a summary. ``cod360 summary`` prints the summary of the current warehouse.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import time
from pathlib import Path

from sandbox.demo_summary import print_summary
from common.settings import load_settings


def _landing_has_data(landing_dir: Path) -> bool:
    return landing_dir.exists() and any(p.is_file() for p in landing_dir.rglob("*.jsonl"))


def _generate_sample_store(args: argparse.Namespace, landing_dir: Path, truth_dir: Path) -> None:
    from sandbox.sample_store import generate

    print(
        f"Generating the sample store: {args.customers} customers, {args.months} months, seed {args.seed} "
        f"→ {landing_dir}",
        flush=True,
    )
    generate(landing_dir, truth_dir, customers=args.customers, months=args.months, seed=args.seed)


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
) -> bool:
    """Materialize every asset (or a selection, minus ``exclude``) in one process.

    Selections use Dagster's selection syntax, as in the UI (`key:order_scores or
    group:activations`). Returns whether the run succeeded. Prints one line per
    materialized asset; dbt's own output goes to ``log_file`` when given. ``run_config``
    carries op config (loggers are set here).
    """
    import dagster as dg

    from orchestration.dbt_project import prepare_manifest
    from orchestration.progress_logger import progress_logger

    prepare_manifest()
    from orchestration.definitions import defs

    definitions = dg.Definitions.merge(
        defs(), dg.Definitions(loggers={"progress": progress_logger})
    )
    graph = definitions.resolve_asset_graph()
    chosen = dg.AssetSelection.from_string(selection) if selection else dg.AssetSelection.all()
    if exclude:
        chosen = chosen - dg.AssetSelection.from_string(exclude)
    asset_selection = list(chosen.resolve(graph))
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
                    f"  step failed: {event.step_key}: {event.event_specific_data.error.message.strip()[:500]}"
                )
    return result.success


@contextlib.contextmanager
def _output_to(log_file: Path | None):
    if log_file is None:
        yield
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a", encoding="utf-8") as handle, contextlib.redirect_stdout(handle):
        yield


# Scoring and activations run once the models (and a newly approved lead score) exist.
ACT_STAGE = "key:order_scores or group:activations"


def _demo(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.export_env()
    started = time.monotonic()
    truth_dir = settings.data_dir / "sample_truth"
    if args.regenerate or not _landing_has_data(settings.landing_dir):
        # The simulated store writes its own folder; its orders then reach the landing
        # folder the way a real store's do: pulled through the storefront APIs (local
        # contract servers), page by page, with a high-water mark.
        sample_dir = settings.data_dir / "sample_store"
        if args.regenerate:
            shutil.rmtree(sample_dir, ignore_errors=True)
        _generate_sample_store(args, sample_dir, truth_dir)
        from sandbox.storefront_demo import pull_sample_store_through_apis

        print(
            "Landing the storefront orders through their APIs (local contract servers)", flush=True
        )
        pulled = pull_sample_store_through_apis(
            sample_dir, settings.landing_dir, reset=args.regenerate, log=lambda _line: None
        )
        print("\n".join(pulled.lines()))
    else:
        print(
            f"Landing folder already has data: {settings.landing_dir} (use --regenerate to rebuild it)"
        )
    log_file = settings.data_dir / "logs" / "demo.log"
    # One instance for every stage: the activations' quality gate reads the check
    # results of the stages before it.
    with dagster_instance() as instance:
        print(
            f"\n[1/3] Ingest, check, model and train into {settings.warehouse_path} (dbt output: {log_file})"
        )
        built = materialize_everything(
            instance=instance, exclude=ACT_STAGE, verbose=args.verbose, log_file=log_file
        )
        print("\n[2/3] Score open orders with the approved lead score")
        scored = materialize_everything(
            instance=instance, selection="key:order_scores", verbose=args.verbose, log_file=log_file
        )
        print("\n[3/3] Activations, live, against local contract servers")
        from sandbox.activation_demo import run_activation_demo

        acted = run_activation_demo(settings, instance=instance)
    print_summary(settings.warehouse_path, settings.model_store_dir)
    ok = built and scored and acted
    print(f"\n{'Done' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s")
    return 0 if ok else 1


def _summary(_args: argparse.Namespace) -> int:
    settings = load_settings()
    print_summary(settings.warehouse_path, settings.model_store_dir)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cod360", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="generate the sample store if needed and materialize every asset"
    )
    demo.add_argument(
        "--customers", type=int, default=2000, help="sample store size (default 2000)"
    )
    demo.add_argument("--months", type=int, default=12, help="months of history (default 12)")
    demo.add_argument(
        "--seed", type=int, default=7, help="random seed of the sample store (default 7)"
    )
    demo.add_argument(
        "--regenerate", action="store_true", help="rebuild the sample store even if data exists"
    )
    demo.add_argument("--verbose", action="store_true", help="also print Dagster's own log lines")
    demo.set_defaults(func=_demo)
    summary = sub.add_parser("summary", help="print what the warehouse holds")
    summary.set_defaults(func=_summary)
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
