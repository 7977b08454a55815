"""Run one command and write what it cost as JSON (the launcher of process_figures.py).

Run as a script, never imported: ``python -S child_rusage.py RESULT.json CMD ARG...``.
It exists because Linux carries a process's peak RSS across fork + exec: a child of the
benchmark would report at least the benchmark's own memory. This launcher is small (no
site-packages), and the figures are those of its child's tree only (``os.wait4``).
"""

import json
import os
import subprocess
import sys
import time


def main() -> int:
    result_path, argv = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    process = subprocess.Popen(argv)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    returncode = os.waitstatus_to_exitcode(status)
    process.returncode = returncode  # reaped here: Popen must not wait for it again
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "wall_s": wall,
                "user_s": usage.ru_utime,
                "sys_s": usage.ru_stime,
                # Linux reports ru_maxrss in kilobytes.
                "peak_rss_bytes": usage.ru_maxrss * 1024,
                "returncode": returncode,
            },
            handle,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
