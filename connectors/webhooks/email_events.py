"""What the receiver does with an authenticated Brevo delivery (``app.brevo_events_post``).

- Each event is mapped (:func:`connectors.webhooks.brevo.map_event`): the envelope's five
  events land as email-envelope lines in ``messages/email/webhooks/`` (ingested as
  ``email_events``); the others are kept whole in ``other/brevo_webhooks/<event>/``
  (read by no ingestion) and counted.
- An event already landed or kept (same :func:`~connectors.webhooks.brevo.event_key`), or
  twice in one body, is acknowledged and not written again. The memory of keys is
  bounded (``MAX_KEYS``) and rebuilt from those two folders at startup; beyond it,
  staging's dedup on (provider, message, event) still holds.
- Keys count as landed only once their write is durable: a failed write lands nothing
  new, the sender retries, and what was written before the failure is then a duplicate.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from connectors.webhooks.brevo import PROVIDER, Mapped, event_key, map_event
from connectors.webhooks.metrics import ReceiverMetrics
from connectors.webhooks.payloads import compact_json

logger = logging.getLogger("cod360.webhooks")

# (source, folder, file prefix, lines, delivery key) -> None, durable when it returns
Land = Callable[[str, str, str, list[bytes], str], Awaitable[None]]
LANDED_FOLDER = "messages/email/webhooks"
KEPT_ROOT = "other/brevo_webhooks"
SOURCE = f"email_events/{PROVIDER}"
MAX_KEYS = 500_000


class EmailEvents:
    """Lands Brevo events once each; remembers the keys of what it landed."""

    def __init__(self, landing_dir: Path, land: Land, metrics: ReceiverMetrics) -> None:
        self.landing_dir = landing_dir
        self._land = land
        self.metrics = metrics
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._reserved: set[str] = set()

    # --- memory ------------------------------------------------------------------------

    async def load(self) -> int:
        """Read the keys of what earlier runs landed or kept; how many."""
        keys = await asyncio.to_thread(_read_keys, self.landing_dir)
        for key in keys:
            self._remember(key)
        return len(keys)

    def seen(self, key: str) -> bool:
        return key in self._keys or key in self._reserved

    def _remember(self, key: str) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        if len(self._keys) > MAX_KEYS:
            self._keys.popitem(last=False)

    # --- a delivery --------------------------------------------------------------------

    async def accept(self, events: list[Any]) -> dict[str, Any]:
        """Land one authenticated delivery; the JSON answer (counts per outcome)."""
        fresh: list[tuple[Mapped, Any]] = []
        in_body: set[str] = set()
        counts: Counter[str] = Counter()
        for position, event in enumerate(events):
            mapped = map_event(event)
            if self.seen(mapped.key) or mapped.key in in_body:
                continue
            in_body.add(mapped.key)
            fresh.append((mapped, event))
            if mapped.line is not None and mapped.problems:
                counts["invalid"] += 1
                logger.warning(
                    "%s event %d (%s): %s; landed for ingestion to quarantine",
                    SOURCE,
                    position,
                    mapped.line.get("brevo_event"),
                    "; ".join(mapped.problems),
                )
            elif mapped.line is not None:
                counts["landed"] += 1
        duplicates = len(events) - len(fresh)
        self.metrics.count_email_events(SOURCE, "duplicate", duplicates)
        landed = [m for m, _ in fresh if m.line is not None]
        if landed:
            lines = [compact_json(m.line) for m in landed if m.line is not None]
            await self._land_once(LANDED_FOLDER, lines, [m.key for m in landed])
        kept: dict[str, list[tuple[Mapped, Any]]] = {}
        for mapped, event in fresh:
            if mapped.folder is not None:
                kept.setdefault(mapped.folder, []).append((mapped, event))
        for folder, items in sorted(kept.items()):
            lines = [compact_json(event) for _, event in items]
            await self._land_once(f"{KEPT_ROOT}/{folder}", lines, [m.key for m, _ in items])
            counts[f"kept_{folder}"] += len(items)
        for outcome, n in counts.items():
            self.metrics.count_email_events(SOURCE, outcome, n)
        return {
            "status": "accepted",
            "records": len(fresh),
            "duplicates": duplicates,
            **dict(sorted(counts.items())),
        }

    async def _land_once(self, folder: str, lines: list[bytes], keys: list[str]) -> None:
        """Land ``lines``; their keys count as landed only once the write is durable."""
        self._reserved.update(keys)
        landed = False
        try:
            digest = hashlib.sha256(b"\n".join(lines)).hexdigest()
            await self._land(SOURCE, folder, PROVIDER, lines, digest)
            landed = True
        finally:
            for key in keys:
                self._reserved.discard(key)
                if landed:
                    self._remember(key)


def _read_keys(landing_dir: Path) -> list[str]:
    """The keys of the lines in ``messages/email/webhooks/`` (their ``event_key``) and of
    the events kept in ``other/brevo_webhooks/`` (recomputed from the event)."""
    keys: list[str] = []
    for root, landed in ((landing_dir / LANDED_FOLDER, True), (landing_dir / KEPT_ROOT, False)):
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.jsonl")):
            try:
                data = path.read_bytes()
            except OSError as exc:
                logger.warning("could not read %s for the Brevo event keys: %s", path.name, exc)
                continue
            for raw in data.splitlines():
                try:
                    value = json.loads(raw)
                except ValueError:
                    continue
                if not landed:
                    keys.append(event_key(value))
                elif isinstance(value, dict) and isinstance(value.get("event_key"), str):
                    keys.append(value["event_key"])
    return keys
