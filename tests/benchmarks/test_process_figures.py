"""Figures of a measured child process are the child's, not the benchmark's."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from benchmarks.process_figures import run_measured

MB = 1024 * 1024


def test_peak_rss_is_the_childs_own_not_inherited_from_the_parent(tmp_path: Path) -> None:
    ballast = b"x" * (150 * MB)  # the parent is big; Linux would carry that into a plain child
    small = run_measured(
        "noop",
        [sys.executable, "-c", "pass"],
        env=dict(os.environ),
        cwd=tmp_path,
        log_file=tmp_path / "log",
    )
    big = run_measured(
        "alloc",
        [sys.executable, "-c", f"b = b'x' * {80 * MB}"],
        env=dict(os.environ),
        cwd=tmp_path,
        log_file=tmp_path / "log",
    )
    assert len(ballast) == 150 * MB
    assert small.peak_rss_bytes < 60 * MB
    assert big.peak_rss_bytes > small.peak_rss_bytes + 70 * MB
    assert small.ok and big.ok


def test_exit_code_and_output_are_kept(tmp_path: Path) -> None:
    figures = run_measured(
        "fails",
        [sys.executable, "-c", "print('hello'); raise SystemExit(3)"],
        env=dict(os.environ),
        cwd=tmp_path,
        log_file=tmp_path / "log",
    )
    assert figures.returncode == 3 and not figures.ok
    assert "hello" in (tmp_path / "log").read_text()
