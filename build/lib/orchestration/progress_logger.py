"""A console logger for long runs in a terminal: one line per finished step or asset."""

from __future__ import annotations

import logging
import sys

import dagster as dg


def _say(line: str) -> None:
    # The real terminal: the CLI sends dbt's own chatter on stdout to a log file.
    print(line, file=sys.__stdout__, flush=True)


class _ProgressHandler(logging.Handler):
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
            _say(f"  ✓ {materialization.asset_key.to_user_string()}{suffix}")
        elif kind == "STEP_FAILURE":
            _say(f"  ✗ step {event.step_key} failed")
        elif kind == "STEP_START":
            _say(f"  … {event.step_key}")


@dg.logger(description="One line per step and materialized asset, for terminals.")
def progress_logger(_init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("cod360.progress")
    logger.setLevel(logging.DEBUG)
    logger.handlers = [_ProgressHandler()]
    logger.propagate = False
    return logger
