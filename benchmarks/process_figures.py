"""Run a command as a child process and measure it: wall time, CPU and peak memory.

``os.wait4`` returns the child's resource usage including every descendant it waited
for (dbt runs as a child of the Dagster process), so CPU is the whole tree's and
``ru_maxrss`` is the peak resident set of its largest single process.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessFigures:
    """What one child process cost."""

    label: str
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_bytes: int
    returncode: int

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_measured(
    label: str, argv: list[str], *, env: dict[str, str], cwd: Path, log_file: Path
) -> ProcessFigures:
    """Run ``argv`` to completion, its output appended to ``log_file``, and measure it."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        log.write(f"\n===== {label}: {' '.join(argv)}\n".encode())
        log.flush()
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    returncode = os.waitstatus_to_exitcode(status)
    process.returncode = returncode  # reaped here: Popen must not wait for it again
    return ProcessFigures(
        label=label,
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        # Linux reports ru_maxrss in kilobytes.
        peak_rss_bytes=usage.ru_maxrss * 1024,
        returncode=returncode,
    )


def total(label: str, parts: list[ProcessFigures]) -> ProcessFigures:
    """Stages run one after the other: times add up, the peak is the largest peak."""
    return ProcessFigures(
        label=label,
        wall_s=sum(p.wall_s for p in parts),
        user_s=sum(p.user_s for p in parts),
        sys_s=sum(p.sys_s for p in parts),
        peak_rss_bytes=max((p.peak_rss_bytes for p in parts), default=0),
        returncode=next((p.returncode for p in parts if p.returncode), 0),
    )
