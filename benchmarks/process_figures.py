"""Run a command as a child process and measure it: wall time, CPU and peak memory.

``os.wait4`` returns the child's resource usage including every descendant it waited
for (dbt runs as a child of the Dagster process), so CPU is the whole tree's and
``ru_maxrss`` is the peak resident set of its largest single process. The wait happens
in a small launcher (``child_rusage.py``): Linux carries the peak RSS across fork +
exec, so a command started straight from the benchmark would report at least the
benchmark's own memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

_LAUNCHER = Path(__file__).with_name("child_rusage.py")


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
    with tempfile.TemporaryDirectory(prefix="cod360-rusage-") as tmp:
        result = Path(tmp) / "rusage.json"
        with log_file.open("ab") as log:
            log.write(f"\n===== {label}: {' '.join(argv)}\n".encode())
            log.flush()
            subprocess.run(
                [sys.executable, "-S", str(_LAUNCHER), str(result), *argv],
                env=env,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
            )
        figures = json.loads(result.read_text(encoding="utf-8"))
    return ProcessFigures(label=label, **figures)


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
