"""``python -m sandbox demo``: the whole pipeline on the built-in sample store.

Generates the sample store (if the landing folder is empty), lands its orders
through the storefront APIs of local contract servers, materializes every asset
into the embedded DuckDB warehouse, runs the activations live against local
servers and prints a summary. ``python -m sandbox summary`` prints the summary of
the current warehouse.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common.settings import load_settings
from orchestration.cli import dagster_instance, materialize_everything
from sandbox.demo_summary import print_summary


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


# The activations run in their own stage: they need the live contract servers around
# them (sandbox.activation_demo starts them). Everything else, scoring included, is one
# run: order_scores depends on lead_score_approved_version, so it waits for the gate.
ACT_STAGE = "group:activations"
# The campaign the summary previews, as `cod360 campaign preview` prints it.
PREVIEWED_CAMPAIGN = "lapsed_winback"


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
    # One instance for both stages: the activations' quality gate reads the check
    # results of the stage before it.
    with dagster_instance() as instance:
        print(
            f"\n[1/2] Ingest, check, model, train, gate and score into {settings.warehouse_path} "
            f"(dbt output: {log_file})"
        )
        built = materialize_everything(
            instance=instance, exclude=ACT_STAGE, verbose=args.verbose, log_file=log_file
        )
        print("\n[2/2] Activations, live, against local contract servers")
        from sandbox.activation_demo import run_activation_demo

        acted = run_activation_demo(settings, instance=instance)
    print_summary(settings.warehouse_path, settings.model_store_dir)
    # What a growth team sees before switching a campaign on (`cod360 campaign preview`):
    # the shipped campaigns are off, so this writes and sends nothing.
    from orchestration.cli import main as cod360

    # At the next 11:00 in Casablanca after the store's clock: outside quiet hours.
    from sandbox.demo_servers import simulated_now

    clock = simulated_now(settings.warehouse_path)
    at = []
    if clock is not None:
        moment = datetime.fromtimestamp(clock, UTC).replace(hour=10, minute=0, second=0)
        moment += timedelta(days=1) if moment.timestamp() <= clock else timedelta()
        at = ["--at", moment.isoformat()]
    print(f"\n$ cod360 campaign preview {PREVIEWED_CAMPAIGN} {' '.join(at)}".rstrip())
    previewed = cod360(["campaign", "preview", PREVIEWED_CAMPAIGN, *at]) == 0
    ok = built and acted and previewed
    print(f"\n{'Done' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s")
    return 0 if ok else 1


def _summary(_args: argparse.Namespace) -> int:
    settings = load_settings()
    print_summary(settings.warehouse_path, settings.model_store_dir)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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

    # Dagster flags the selection syntax as beta; a user of the demo cannot act on that.
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    args = build_parser().parse_args(argv)
    return args.func(args)


def entrypoint() -> None:
    """``python -m sandbox``: exits without interpreter teardown (see ``orchestration.cli``)."""
    os.environ.setdefault("PYTHONWARNINGS", "ignore:resource_tracker:UserWarning")
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
