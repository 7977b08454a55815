"""Benchmark of the scale issue: the pipeline as the product runs it, full, on a 1 % delta
and with nothing new, and dbt against a lean hand-written DuckDB reference.

Prints figures and the issue's targets beside them; asserts nothing (it is the measuring
stick for the redesign). Steps:

1. the sample store simulator writes ``--orders`` orders into ``WORKDIR/generated``
   (not measured; ``--reuse`` keeps a previous generation of the same size and seed);
2. every landing file is split into a base (~99 % of its records) and a delta (the
   last ~1 %, new file names in the same folders: benchmarks/landing_split.py);
3. on the base, each stage runs as ``python -m orchestration.cli run ...`` in its own
   process, with COD360_* and DAGSTER_HOME pointing into ``WORKDIR/run``, measured with
   ``os.wait4`` (wall, user+sys CPU of the process tree, peak RSS of its largest process):
   "ingest + dbt" (everything but groups lead_score and activations), "retrain" (group
   lead_score but order_scores) and "scoring" (order_scores, plus any ancestor never
   materialized: benchmarks/scale_selection.py);
4. the delta is copied in and the pipeline runs again the way the landing sensor runs it
   (``cod360 run --new`` within the sensor's target: only the raw tables with new files
   and the models and order scores downstream of them; the scoring schedule's next tick
   skips, nothing it reads having changed); then once more with nothing new; each with
   its ratio to the full run's ingest + dbt + scoring;
5. on copies of the final warehouse: ``dbt run --select +rfm_scores +customer_360
   --full-refresh`` (from raw, as the reference works) and
   the hand-written reference (benchmarks/scale_reference.py, SQL in
   benchmarks/reference_sql/) are timed the same way, and both outputs are compared
   row for row.

    .venv/bin/python -m benchmarks.scale                     # 100 000 orders, temp folder
    .venv/bin/python -m benchmarks.scale --orders 1000000 --workdir /data/scale --reuse
    .venv/bin/python -m benchmarks.scale --orders 3000       # a quick check of the benchmark
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from benchmarks.landing_split import copy_landing, split_landing
from benchmarks.process_figures import ProcessFigures, run_measured, total
from benchmarks.scale_reference import compare, comparison_lines
from common.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR, PROJECT_ROOT

with warnings.catch_warnings():  # Dagster's selection syntax is beta; nothing to act on here
    warnings.simplefilter("ignore")
    from orchestration.defs.ingestion.changes import LANDING_RUN_SELECTION

# The stages, as Dagster selections for `orchestration.cli run`.
INGEST_DBT = ("ingest + dbt", None, "group:lead_score or group:activations")
RETRAIN = ("retrain", "group:lead_score", "key:order_scores")
SCORING_TARGET = "key:order_scores"
DBT_REFERENCE_SELECT = ["+rfm_scores", "+customer_360"]

# The targets (printed beside the figures, never asserted).
TARGET_ORDERS = 1_000_000
TARGET_WALL_S = 180.0
TARGET_PEAK_RSS = 4 * 1024**3
TARGET_DELTA_RATIO = 0.10
TARGET_NOTHING_NEW_RATIO = 0.02
TARGET_DBT_OVER_REFERENCE = 1.5


class Bench:
    """The work folder, the environment of the product's processes and the log files."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.generated = workdir / "generated"
        self.base, self.delta = workdir / "split" / "base", workdir / "split" / "delta"
        self.run_dir = workdir / "run"
        self.landing = self.run_dir / "landing"
        self.warehouse = self.run_dir / "warehouse.duckdb"
        self.logs = workdir / "logs"
        self.env = {
            **os.environ,
            "COD360_DATA_DIR": str(self.run_dir),
            "COD360_WAREHOUSE": str(self.warehouse),
            "COD360_LANDING_DIR": str(self.landing),
            "COD360_MODEL_STORE": str(self.run_dir / "models"),
            "DAGSTER_HOME": str(self.run_dir / "dagster_home"),
        }

    def fresh_run_folder(self) -> None:
        shutil.rmtree(self.run_dir, ignore_errors=True)
        home = Path(self.env["DAGSTER_HOME"])
        home.mkdir(parents=True)
        shutil.copyfile(PROJECT_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")

    def cli_stage(
        self, phase: str, label: str, select: str | None, exclude: str | None, new: bool = False
    ):
        argv = [sys.executable, "-m", "orchestration.cli", "run", *(["--new"] if new else [])]
        argv += ["--select", select] if select else []
        argv += ["--exclude", exclude] if exclude else []
        log_file = self.logs / f"{phase}.log"
        offset = log_file.stat().st_size if log_file.exists() else 0
        figures = run_measured(label, argv, env=self.env, cwd=PROJECT_ROOT, log_file=log_file)
        if not figures.ok:
            print(f"  !! {label} exited {figures.returncode}: see {log_file}")
            with log_file.open("rb") as log:
                log.seek(offset)
                for line in log.read().decode(errors="replace").splitlines():
                    if line.startswith(("  step failed:", "  check ")):
                        print(f"  !! {line.strip()[:300]}")
        return figures

    def scoring_stage(self, phase: str) -> ProcessFigures:
        selection = (
            subprocess.run(
                [sys.executable, "-m", "benchmarks.scale_selection", SCORING_TARGET],
                env=self.env,
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        if selection != SCORING_TARGET:
            print(f"  scoring selection: {selection}")
        return self.cli_stage(phase, "scoring", selection, None)

    def ingest_and_score(self, phase: str) -> list[ProcessFigures]:
        """What the landing sensor runs (`cod360 run --new` within its target: the raw
        tables with new files and the models and scores downstream of them). The scoring
        schedule's next tick then skips: nothing order_scores reads changed since."""
        return [
            self.cli_stage(phase, "ingest + dbt + scoring", LANDING_RUN_SELECTION, None, new=True)
        ]


def _generate(bench: Bench, orders: int, seed: int, reuse: bool) -> None:
    marker = bench.generated / "generation.json"
    wanted = {"orders": orders, "seed": seed}
    if reuse and marker.exists() and json.loads(marker.read_text()) == wanted:
        print(f"generate: reusing {bench.generated} ({orders:,} orders, seed {seed})")
        return
    shutil.rmtree(bench.generated, ignore_errors=True)
    started = time.perf_counter()
    with (bench.logs / "generate.log").open("w") as log:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "sandbox.sample_store",
                "--orders",
                str(orders),
                "--seed",
                str(seed),
                "--out",
                str(bench.generated / "landing"),
                "--truth-out",
                str(bench.generated / "truth"),
            ],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    marker.write_text(json.dumps(wanted))
    print(f"generate: {orders:,} orders in {time.perf_counter() - started:.1f} s (not measured)")


def _gb(n: int) -> str:
    return f"{n / 1024**3:.2f}"


def print_table(title: str, rows: list[ProcessFigures], full: list[ProcessFigures] | None = None):
    """One line per stage: wall, CPU, peak RSS, and the ratio to the full run's same stage."""
    print(f"\n{title}")
    header = f"  {'stage':<36}{'wall s':>9}{'CPU s':>9}{'user s':>9}{'sys s':>8}{'peak RSS GB':>13}"
    print(header + (f"{'wall / full':>13}{'CPU / full':>12}" if full else "") + "  exit")
    by_label = {f.label: f for f in full or []}
    for row in rows:
        line = (
            f"  {row.label:<36}{row.wall_s:>9.1f}{row.cpu_s:>9.1f}{row.user_s:>9.1f}"
            f"{row.sys_s:>8.1f}{_gb(row.peak_rss_bytes):>13}"
        )
        if full:
            ref = by_label.get(row.label)
            line += (
                f"{row.wall_s / ref.wall_s:>13.1%}{row.cpu_s / ref.cpu_s:>12.1%}"
                if ref and ref.wall_s and ref.cpu_s
                else f"{'':>25}"
            )
        print(f"{line}  {row.returncode}")


def _dbt_and_reference(bench: Bench) -> tuple[ProcessFigures, ProcessFigures, list[str]]:
    compare_dir = bench.workdir / "compare"
    shutil.rmtree(compare_dir, ignore_errors=True)
    compare_dir.mkdir(parents=True)
    dbt_copy, ref_copy = compare_dir / "dbt.duckdb", compare_dir / "reference.duckdb"
    shutil.copyfile(bench.warehouse, dbt_copy)
    shutil.copyfile(bench.warehouse, ref_copy)
    dbt_env = {**bench.env, "COD360_WAREHOUSE": str(dbt_copy)}
    dbt_args = [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(compare_dir / "dbt_target"),
        "--log-path",
        str(compare_dir / "dbt_logs"),
    ]
    # Parsing first, not measured: the product parses once (prepare_manifest), not per run.
    subprocess.run(
        [DBT_EXECUTABLE, "parse", "--quiet", *dbt_args],
        env=dbt_env,
        cwd=DBT_PROJECT_DIR,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # --full-refresh: the same work as the reference, from raw (incrementally, dbt would
    # find nothing new in a warehouse it has just built).
    dbt = run_measured(
        f"dbt run {' '.join(DBT_REFERENCE_SELECT)} --full-refresh",
        [DBT_EXECUTABLE, "run", "--select", *DBT_REFERENCE_SELECT, "--full-refresh", *dbt_args],
        env=dbt_env,
        cwd=DBT_PROJECT_DIR,
        log_file=bench.logs / "reference.log",
    )
    reference = run_measured(
        "hand-written reference",
        [sys.executable, "-m", "benchmarks.scale_reference", str(ref_copy)],
        env=bench.env,
        cwd=PROJECT_ROOT,
        log_file=bench.logs / "reference.log",
    )
    if not (dbt.ok and reference.ok):
        return dbt, reference, [f"  !! a run failed: see {bench.logs / 'reference.log'}"]
    return dbt, reference, comparison_lines(compare(ref_copy, dbt_copy))


def _print_targets(
    orders: int,
    product: ProcessFigures,
    delta: list[ProcessFigures],
    nothing: list[ProcessFigures],
    dbt_over_reference: float,
) -> None:
    """The issue's targets beside the measured figures (wall-time ratios to the full run)."""
    delta_ratio = total("", delta).wall_s / product.wall_s
    nothing_ratio = total("", nothing).wall_s / product.wall_s
    at_target = orders == TARGET_ORDERS
    print(f"\nTargets of the issue (measured at {orders:,} orders; wall-time ratios)")
    rows = [
        (
            "1 M orders ingest+dbt+scoring wall",
            f"{product.wall_s:.1f} s",
            f"<= {TARGET_WALL_S:.0f} s at 1,000,000 orders",
            product.wall_s <= TARGET_WALL_S if at_target else None,
        ),
        (
            "1 M orders ingest+dbt+scoring peak RSS",
            f"{_gb(product.peak_rss_bytes)} GB",
            f"<= {_gb(TARGET_PEAK_RSS)} GB at 1,000,000 orders",
            product.peak_rss_bytes <= TARGET_PEAK_RSS if at_target else None,
        ),
        (
            "1 % delta: ingest+dbt+scoring / full",
            f"{delta_ratio:.1%}",
            f"<= {TARGET_DELTA_RATIO:.0%}",
            delta_ratio <= TARGET_DELTA_RATIO,
        ),
        (
            "nothing new: ingest+dbt+scoring / full",
            f"{nothing_ratio:.1%}",
            f"<= {TARGET_NOTHING_NEW_RATIO:.0%}",
            nothing_ratio <= TARGET_NOTHING_NEW_RATIO,
        ),
        (
            "dbt models / hand-written reference",
            f"{dbt_over_reference:.2f}x",
            f"<= {TARGET_DBT_OVER_REFERENCE}x",
            dbt_over_reference <= TARGET_DBT_OVER_REFERENCE,
        ),
    ]
    for what, measured, target, met in rows:
        verdict = {True: "met", False: "NOT met", None: "n/a"}[met]
        print(f"  {what:<42}{measured:>10}  {target:<34}{verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=100_000, help="orders (default 100000)")
    parser.add_argument("--seed", type=int, default=7, help="simulator seed (default 7)")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a new temp folder")
    parser.add_argument(
        "--reuse", action="store_true", help="skip generation if WORKDIR has the same one"
    )
    parser.add_argument(
        "--delta-fraction", type=float, default=0.01, help="share of each file (default 0.01)"
    )
    args = parser.parse_args()

    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="cod360-scale-"))).resolve()
    bench = Bench(workdir)
    bench.logs.mkdir(parents=True, exist_ok=True)
    print(f"workdir: {workdir} (stage logs in {bench.logs})")
    _generate(bench, args.orders, args.seed, args.reuse)

    shutil.rmtree(workdir / "split", ignore_errors=True)
    splits = split_landing(
        bench.generated / "landing", bench.base, bench.delta, delta_fraction=args.delta_fraction
    )
    records = sum(s.records for s in splits)
    delta_records = sum(s.delta_records for s in splits)
    print(
        f"split: {len(splits)} files, {records:,} records: base {records - delta_records:,}, "
        f"delta {delta_records:,} ({delta_records / max(records, 1):.2%}) "
        f"in {sum(1 for s in splits if s.delta_path)} new files"
    )

    bench.fresh_run_folder()
    copy_landing(bench.base, bench.landing)
    full = [bench.cli_stage("full", *INGEST_DBT), bench.cli_stage("full", *RETRAIN)]
    full.append(bench.scoring_stage("full"))
    full_product = [full[0], full[2]]
    print_table(
        f"Full run on the base ({records - delta_records:,} records)",
        [*full, total("ingest + dbt + scoring", full_product)],
    )

    copy_landing(bench.delta, bench.landing)
    delta = bench.ingest_and_score("delta")
    full_rows = [*full_product, total("ingest + dbt + scoring", full_product)]
    print_table(
        f"After the delta ({delta_records:,} new records in new files)",
        delta,
        full_rows,
    )
    nothing = bench.ingest_and_score("nothing_new")
    print_table("Nothing new", nothing, full_rows)

    dbt, reference, lines = _dbt_and_reference(bench)
    print_table(
        "dbt against the hand-written reference (copies of the final warehouse)", [dbt, reference]
    )
    ratio = dbt.wall_s / reference.wall_s if reference.wall_s else float("nan")
    print(
        f"  dbt / reference: {ratio:.2f}x wall, {dbt.cpu_s / max(reference.cpu_s, 1e-9):.2f}x CPU"
    )
    print("\nSame rows? (floats rounded to 9 decimals; 'except all' both ways on every column)")
    print("\n".join(lines))

    _print_targets(
        args.orders, total("ingest + dbt + scoring", full_product), delta, nothing, ratio
    )
    failed = [f.label for f in [*full, *delta, *nothing, dbt, reference] if not f.ok]
    if failed:
        print(f"\nFAILED processes: {', '.join(failed)} (logs in {bench.logs})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
