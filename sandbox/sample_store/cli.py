"""Command line of the sample store.

    python -m sandbox.sample_store --customers 5000 --months 12 --seed 7 \\
        --out data/landing --truth-out data/sample_truth

Progress goes to stderr; the summary (counts per source, the deliberate mess)
goes to stdout, as a table or as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from sandbox.sample_store.simulator import (
    DEFAULT_END_DATE,
    SOURCES,
    SampleStoreSummary,
    generate,
)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.sample_store",
        description=(
            "Simulate a Moroccan COD brand and write its storefront orders, TikTok leads, "
            "carrier tracking, WhatsApp webhooks, SMS events and lead signals into a landing "
            "folder (docs/landing.md), plus truth files the ingestion never reads. "
            "Same arguments, same bytes."
        ),
    )
    parser.add_argument(
        "--customers",
        type=_positive,
        default=None,
        help="number of customers (default 5000; with --orders alone: about orders / 1.9)",
    )
    parser.add_argument(
        "--months", type=_positive, default=12, help="months of history (default 12)"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--orders",
        type=_positive,
        default=None,
        help="total number of orders, instead of deriving it from customers x months",
    )
    parser.add_argument(
        "--end-date",
        type=_date,
        default=DEFAULT_END_DATE,
        help=f"last day of the simulated history, YYYY-MM-DD (default {DEFAULT_END_DATE})",
    )
    parser.add_argument(
        "--out", default="data/landing", help="landing folder (default data/landing)"
    )
    parser.add_argument(
        "--truth-out", default="data/sample_truth", help="truth folder (default data/sample_truth)"
    )
    parser.add_argument(
        "--no-mess",
        action="store_true",
        help="clean data: one phone format, no duplicates, no malformed or late records",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    customers = args.customers
    if customers is None and args.orders is None:
        customers = 5000
    summary = generate(
        args.out,
        args.truth_out,
        customers=customers,
        months=args.months,
        seed=args.seed,
        orders=args.orders,
        end_date=args.end_date,
        mess=not args.no_mess,
        progress=not args.quiet,
    )
    if args.json:
        json.dump(
            summary.to_dict() | {"elapsed_s": summary.elapsed_s},
            sys.stdout,
            indent=2,
            ensure_ascii=False,
        )
        sys.stdout.write("\n")
    else:
        _print_table(summary)
    return 0


def _print_table(summary: SampleStoreSummary) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is a project dependency
        print(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
        return
    console = Console()
    console.print(
        f"[bold]sample store[/bold] seed={summary.seed} customers={summary.customers:,} "
        f"orders={summary.orders:,} {summary.start_date} → {summary.end_date} "
        f"mess={'on' if summary.mess else 'off'} in {summary.elapsed_s:.1f} s"
    )
    table = Table(
        "source", "lines", "bad (to quarantine)", "duplicates", "late", title=summary.out_dir
    )
    quarantine = summary.expected_quarantine_by_source
    for source in SOURCES:
        bad = summary.bad_records_by_source.get(source, {})
        detail = ", ".join(f"{k}={n}" for k, n in bad.items())
        table.add_row(
            source,
            f"{summary.records_by_source.get(source, 0):,}",
            f"{quarantine[source]} ({detail})" if detail else "0",
            str(summary.duplicates_by_source.get(source, 0)),
            str(summary.out_of_order_by_source.get(source, 0)),
        )
    console.print(table)
    console.print(
        f"outcomes: {summary.outcomes} · unknown carrier statuses: {summary.unknown_carrier_statuses} "
        f"· read without delivered: {summary.read_without_delivered} "
        f"· customers with invalid phones: {summary.invalid_phone_customers}"
    )
    console.print(f"truth: {summary.truth_dir}/{{customers.csv, orders.csv, summary.json}}")
