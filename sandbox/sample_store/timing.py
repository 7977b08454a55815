"""Time of the simulated store: the window, local days, pickup rounds, random helpers.

Everything here is a pure function of its arguments (and of the ``random.Random``
it is given), shared by the modules that write the landing files.
"""

from __future__ import annotations

import calendar
import math
import random
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np

from sandbox.sample_store.writer import DAY

DEFAULT_END_DATE = date(2026, 10, 31)

MOROCCO = timezone(timedelta(hours=1))

HOUR = 3600

# Share of orders placed in each local hour (COD shoppers buy in the evening).
HOUR_WEIGHTS = np.array(
    [2, 1, 0.6, 0.4, 0.3, 0.4, 0.8, 1.5, 2.5, 3.5, 4, 4.2,
     4.5, 4.5, 4.2, 4.2, 4.5, 5, 5.5, 6, 7, 7.5, 6.5, 4],
    dtype=float,
)  # fmt: skip


def _sigmoid(x: float) -> float:
    if x < -35:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


def _window(end_date: date, months: int) -> tuple[int, int, date]:
    """(start_ts, end_ts, start_date): ``months`` whole months ending on end_date, local time."""
    if months < 1:
        raise ValueError("months must be >= 1")
    after_end = end_date + timedelta(days=1)
    month_index = after_end.year * 12 + (after_end.month - 1) - months
    year, month = divmod(month_index, 12)
    day = min(after_end.day, calendar.monthrange(year, month + 1)[1])
    start_date = date(year, month + 1, day)
    start_ts = int(
        datetime(start_date.year, start_date.month, start_date.day, tzinfo=MOROCCO).timestamp()
    )
    end_ts = (
        int(datetime(after_end.year, after_end.month, after_end.day, tzinfo=MOROCCO).timestamp())
        - 1
    )
    return start_ts, end_ts, start_date


def _month_starts(start_ts: int, end_ts: int) -> list[int]:
    first = datetime.fromtimestamp(start_ts, tz=UTC)
    year, month = first.year, first.month
    starts = []
    while True:
        ts = int(datetime(year, month, 1, tzinfo=UTC).timestamp())
        if ts > end_ts:
            break
        starts.append(ts)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return starts


def _local_day_start(ts: int) -> int:
    return (ts + HOUR) // DAY * DAY - HOUR


def _randint(rnd: random.Random, low: int, high: int) -> int:
    """Uniform integer in [low, high] (faster than Random.randint, same determinism)."""
    return low + int(rnd.random() * (high - low + 1))


def _pickup_slot(ready_ts: int, rnd: random.Random) -> int:
    """The carrier's next pickup round at the warehouse (10:00-17:00 local) after ready_ts."""
    day = _local_day_start(ready_ts)
    if ready_ts - day > 15 * HOUR:
        day += DAY
    return max(ready_ts, day + _randint(rnd, 10 * HOUR, 17 * HOUR))


def _poisson(rnd: random.Random, lam: float) -> int:
    # Knuth; lam stays small here
    threshold = math.exp(-min(lam, 30.0))
    k = 0
    p = rnd.random()
    while p > threshold:
        k += 1
        p *= rnd.random()
    return k
