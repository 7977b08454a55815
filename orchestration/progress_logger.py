"""A console logger for long runs in a terminal: one line per started step and per
materialized asset, each with the seconds since the run started, so a slow step shows
in the terminal without opening the UI:

      41.2 s  … raw__phone_numbers
      59.8 s  ✓ raw/phone_numbers (139412 rows)
"""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg


def _say(line: str) -> None:
    # The real terminal: the CLI sends dbt's own chatter on stdout to a log file.
    print(line, file=sys.__stdout__, flush=True)


class _ProgressHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self._started = time.monotonic()

    def _say(self, line: str) -> None:
        _say(f"{time.monotonic() - self._started:8.1f} s  {line}")

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            if record.levelno >= logging.WARNING:
                print(f"  ! {record.getMessage()[:300]}", file=sys.__stderr__, flush=True)
            return
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            rows = materialization.metadata.get("dagster/row_count")
            suffix = f" ({rows.value} rows)" if rows is not None else ""
            self._say(f"✓ {materialization.asset_key.to_user_string()}{suffix}")
        elif kind == "STEP_FAILURE":
            self._say(f"✗ step {event.step_key} failed")
        elif kind == "STEP_START":
            self._say(f"… {event.step_key}")


@dg.logger(description="One line per step and materialized asset, for terminals.")
def progress_logger(_init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("cod360.progress")
    logger.setLevel(logging.DEBUG)
    logger.handlers = [_ProgressHandler()]
    logger.propagate = False
    return logger
