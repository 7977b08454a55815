"""Benchmark: `python -m sandbox demo` run twice on one data folder gives the same warehouse.

Runs the demo (a small sample store by default) into a fresh ``COD360_DATA_DIR``, takes
the row count and an order-independent checksum of every mart and raw table, runs the
demo again on the same folder, and prints both side by side. The second run must add
nothing (SPEC §6: re-running any step gives the same warehouse). Exits 1 on a difference.

    .venv/bin/python -m benchmarks.demo_twice --customers 300 --months 6
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from common.settings import PROJECT_ROOT


def fingerprint(warehouse: Path) -> dict[str, tuple[int, int]]:
    """``schema.table`` → (rows, checksum of all its rows), for every raw table and mart."""
    result: dict[str, tuple[int, int]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and (table_schema = 'raw' or table_schema like '%marts')"
            " order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            name = f'"{schema}"."{table}"'
            columns = [
                row[0]
                for row in conn.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                # load bookkeeping differs by run by design; the data must not
                if row[0] not in ("loaded_at", "load_id", "ingested_at")
            ]
            row_expr = "hash(" + ", ".join(f'"{c}"' for c in columns) + ")"
            rows, checksum = conn.execute(
                f"select count(*), coalesce(bit_xor({row_expr}), 0) from {name}"
            ).fetchone()
            result[f"{schema}.{table}"] = (int(rows), int(checksum))
    return result


def _run_demo(data_dir: Path, args: argparse.Namespace) -> tuple[float, int]:
    env = {
        **os.environ,
        "COD360_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
    }
    (data_dir / "dagster_home").mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", data_dir / "dagster_home")
    command = [sys.executable, "-m", "sandbox", "demo", "--customers", str(args.customers)]
    command += ["--months", str(args.months), "--seed", str(args.seed)]
    started = time.perf_counter()
    # The demo exits 1 when any asset failed (e.g. a store too small to train the lead
    # score): the warehouse is still compared, and the exit status printed.
    done = subprocess.run(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the data folder here")
    args = parser.parse_args()
    data_dir = args.workdir or Path(tempfile.mkdtemp(prefix="cod360_demo_twice_"))
    first_s, first_rc = _run_demo(data_dir, args)
    first = fingerprint(data_dir / "warehouse.duckdb")
    second_s, second_rc = _run_demo(data_dir, args)
    second = fingerprint(data_dir / "warehouse.duckdb")
    print(
        f"first run {first_s:.0f} s (exit {first_rc}), second run {second_s:.0f} s"
        f" (exit {second_rc}), data in {data_dir}"
    )
    print(f"{'table':<48} {'rows 1':>8} {'rows 2':>8}  checksum")
    differences = 0
    for table in sorted(first.keys() | second.keys()):
        one, two = first.get(table, (0, 0)), second.get(table, (0, 0))
        same = one == two
        differences += not same
        print(f"{table:<48} {one[0]:>8} {two[0]:>8}  {'same' if same else 'DIFFERENT'}")
    print(f"{len(first)} tables, {differences} different")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
