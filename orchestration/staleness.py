"""Whether an asset is behind its parents: the rule of the runs that skip when nothing is new.

An asset is *behind* when it was never materialized, when one of its parents has
materialized since it last did, or (with ``day_timezone``) when it last materialized on
an earlier day in that timezone: what a day-dependent rule (an open order going stale
after N days) needs. The scoring schedule skips a tick with nothing behind, so a quarter
hour without new data costs one look at the event log, not a scoring run.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg


def _latest_timestamp(instance: dg.DagsterInstance, key: dg.AssetKey) -> float | None:
    event = instance.get_latest_materialization_event(key)
    return event.timestamp if event is not None else None


def why_behind(
    instance: dg.DagsterInstance,
    key: dg.AssetKey,
    parents: Iterable[dg.AssetKey],
    *,
    now: datetime,
    day_timezone: str | None = None,
) -> str | None:
    """Why ``key`` should run again (a sentence), or ``None`` when it is up to date."""
    own = _latest_timestamp(instance, key)
    if own is None:
        return f"{key.to_user_string()} was never materialized"
    for parent in parents:
        theirs = _latest_timestamp(instance, parent)
        if theirs is not None and theirs > own:
            return f"{parent.to_user_string()} materialized since {key.to_user_string()} last did"
    if day_timezone is not None:
        zone = ZoneInfo(day_timezone)
        last_day = datetime.fromtimestamp(own, zone).date()
        if now.astimezone(zone).date() > last_day:
            return f"{key.to_user_string()} last materialized on {last_day}, an earlier day"
    return None
