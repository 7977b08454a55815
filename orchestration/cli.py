"""``cod360``: the command line of the pipeline.

``cod360 demo`` generates the built-in sample store (if the landing folder is
empty), materializes every asset into the embedded DuckDB warehouse and prints
a summary. ``cod360 summary`` prints the summary of the current warehouse.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from orchestration.settings import load_settings


def _landing_has_data(landing_dir: Path) -> bool:
    return landing_dir.exists() and any(p.is_file() for p in landing_dir.rglob("*.jsonl"))


def _generate_sample_store(args: argparse.Namespace, landing_dir: Path, truth_dir: Path) -> None:
    from connectors.sample_store import generate

    print(
        f"Generating the sample store: {args.customers} customers, {args.months} months, seed {args.seed} "
        f"→ {landing_dir}",
        flush=True,
    )
    generate(landing_dir, truth_dir, customers=args.customers, months=args.months, seed=args.seed)


def _instance():
    import dagster as dg

    # With DAGSTER_HOME set (the Makefile sets it), demo runs appear in `make ui`.
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.ephemeral()
    Path(home).mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.get()


def materialize_everything(*, selection: str | None = None, verbose: bool = False) -> bool:
    """Materialize every asset (or a selection) in one process; return whether the run succeeded."""
    import dagster as dg

    from orchestration.dbt_project import prepare_manifest

    prepare_manifest()
    from orchestration.definitions import defs

    definitions = defs()
    job = definitions.resolve_implicit_global_asset_job_def()
    asset_selection = None
    if selection:
        asset_selection = list(
            dg.AssetSelection.from_coercible(selection.split(",")).resolve(
                definitions.resolve_asset_graph()
            )
        )
    # The console shows warnings and the assets' own progress lines, not every engine event.
    run_config = {
        "loggers": {"console": {"config": {"log_level": "INFO" if verbose else "WARNING"}}}
    }
    with _instance() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            asset_selection=asset_selection,
            run_config=run_config,
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


def print_summary(warehouse_path: Path) -> None:
    """Rows loaded and quarantined per source, and the size of the main models."""
    from connectors.ingestion import LANDING_SOURCES, table_counts
    from connectors.warehouse import connect, table_exists

    with connect(warehouse_path, read_only=True) as conn:
        print("\nRaw inputs (all runs)")
        print(f"  {'source':<26}{'read':>10}{'loaded':>10}{'quarantined':>13}  reconciles")
        for source in LANDING_SOURCES:
            if not table_exists(conn, "raw", source.raw_table):
                continue
            c = table_counts(conn, source)
            ok = "yes" if c["read"] == c["loaded"] + c["quarantined"] else "NO"
            print(
                f"  {source.name:<26}{c['read']:>10}{c['loaded']:>10}{c['quarantined']:>13}  {ok}"
            )
        if table_exists(conn, "intermediate", "int_orders"):
            print("\nOrders by canonical status")
            rows = conn.execute(
                "select order_status, count(*) from intermediate.int_orders group by 1 order by 2 desc"
            ).fetchall()
            for status, count in rows:
                print(f"  {status:<20}{count:>8}")
            rto = conn.execute(
                """
                select count(*) filter (where outcome = 'returned') * 1.0
                       / nullif(count(*) filter (where outcome in ('delivered', 'returned')), 0)
                from intermediate.int_orders where is_cod
                """
            ).fetchone()[0]
            if rto is not None:
                print(f"  RTO rate of resolved COD orders: {rto:.1%}")


def _demo(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.export_env()
    started = time.monotonic()
    truth_dir = settings.data_dir / "sample_truth"
    if args.regenerate or not _landing_has_data(settings.landing_dir):
        _generate_sample_store(args, settings.landing_dir, truth_dir)
    else:
        print(
            f"Landing folder already has data: {settings.landing_dir} (use --regenerate to rebuild it)"
        )
    print(f"Materializing every asset into {settings.warehouse_path}", flush=True)
    ok = materialize_everything()
    print_summary(settings.warehouse_path)
    print(f"\n{'Done' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s")
    return 0 if ok else 1


def _summary(_args: argparse.Namespace) -> int:
    settings = load_settings()
    print_summary(settings.warehouse_path)
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
    demo.set_defaults(func=_demo)
    summary = sub.add_parser("summary", help="print what the warehouse holds")
    summary.set_defaults(func=_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
