"""Benchmark: how fast the landing folder loads into DuckDB, and the full demo pipeline.

Generates a sample store of ``--orders`` orders (streamed to disk by the simulator),
ingests every source into a fresh warehouse and prints records per second per source.
With ``--dbt`` it also times ``dbt build`` on the result. Prints figures; asserts nothing.

    .venv/bin/python -m benchmarks.ingestion_throughput --orders 100000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common.settings import DBT_PROJECT_DIR
from common.warehouse import connect
from connectors.ingestion import LANDING_SOURCES, ingest_source
from sandbox.sample_store import generate


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--orders", type=int, default=50_000, help="orders in the sample store (default 50000)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--dbt", action="store_true", help="also time `dbt build` on the loaded warehouse"
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="keep files here instead of a temp folder"
    )
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cod360-bench-"))
    landing, warehouse = workdir / "landing", workdir / "warehouse.duckdb"
    print(f"workdir: {workdir}")

    started = time.perf_counter()
    summary = generate(landing, workdir / "truth", orders=args.orders, seed=args.seed)
    generated = time.perf_counter() - started
    lines = sum(summary.records_by_source.values())
    print(
        f"generate: {summary.orders} orders, {lines} landing records in {generated:.1f} s "
        f"({lines / generated:,.0f} records/s)"
    )

    total_records, total_seconds = 0, 0.0
    print(f"\n{'source':<26}{'records':>10}{'seconds':>10}{'records/s':>12}")
    with connect(warehouse) as conn:
        for source in LANDING_SOURCES:
            t0 = time.perf_counter()
            report = ingest_source(conn, source, landing)
            seconds = time.perf_counter() - t0
            total_records += report.records_read
            total_seconds += seconds
            rate = report.records_read / seconds if seconds else 0
            print(f"{source.name:<26}{report.records_read:>10}{seconds:>10.2f}{rate:>12,.0f}")
    print(
        f"{'all sources':<26}{total_records:>10}{total_seconds:>10.2f}{total_records / total_seconds:>12,.0f}"
    )

    if args.dbt:
        env = {**os.environ, "COD360_WAREHOUSE": str(warehouse)}
        dbt = Path(sys.executable).parent / "dbt"
        t0 = time.perf_counter()
        result = subprocess.run(
            [str(dbt), "build", "--profiles-dir", ".", "--quiet"],
            cwd=DBT_PROJECT_DIR,
            env=env,
            check=False,
        )
        print(f"\ndbt build: {time.perf_counter() - t0:.1f} s (exit code {result.returncode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
