"""What the receiver does with a verified Yalidine / Guepex delivery (``app.carrier_events_post``).

- An ``event_id`` already landed (or held) is acknowledged and not landed again.
- ``parcel_status_updated``: one carrier-envelope line per event in
  ``tracking/<carrier>/webhooks/``, with the order reference from ``data.order_id``
  (when it is one) or the :class:`~connectors.webhooks.tracking_index.TrackingIndex`.
  An event missing a field lands without it, so ingestion quarantines it naming the
  field. A complete event whose order is not known yet is **held** in
  ``other/yalidine_webhooks_unresolved/<carrier>/`` and lands in ``tracking/`` once
  the order is learned (:meth:`CarrierEvents.settle`, after each delivery and every
  ``SETTLE_SECONDS``): Yalidine delivers out of order, and the pull brings the order
  of a parcel created elsewhere.
- Other types are kept whole in ``other/yalidine_webhooks/<carrier>/<type>/``, read by
  no ingestion: a ``parcel_payment_updated`` carries a payment *status* (``ready``,
  ``receivable``, ``payed``) and a payment id, not the statement, amounts and fees the
  remittance envelope requires. Parcel events teach the index their ``order_id``.

Every answer is after the fsync; a failed write raises the receiver's 503 so Yalidine
retries, and what was landed before the failure is then acknowledged as a duplicate.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from connectors.webhooks.metrics import ReceiverMetrics
from connectors.webhooks.payloads import compact_json, landing_line
from connectors.webhooks.tracking_index import (
    HELD_ROOT,
    KEPT_ROOT,
    WEBHOOK_FOLDER,
    TrackingIndex,
    order_ref_of,
)
from connectors.webhooks.yalidine import EVENT_TYPES, STATUS_UPDATED, Delivery, event_id_of
from connectors.webhooks.yalidine import status_event as parse_status_event

logger = logging.getLogger("cod360.webhooks")

# (source, folder, file prefix, lines, delivery key) -> None, durable when it returns
Land = Callable[[str, str, str, list[bytes], str], Awaitable[None]]
SETTLE_SECONDS = 30.0


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _folder_safe(kind: str) -> str:
    return kind if kind in EVENT_TYPES else "_unknown_type"


class CarrierEvents:
    """Lands Yalidine-platform deliveries; holds and later settles unresolved status events."""

    def __init__(self, index: TrackingIndex, land: Land, metrics: ReceiverMetrics) -> None:
        self.index = index
        self._land = land
        self.metrics = metrics
        self._settling = asyncio.Lock()

    async def accept(self, carrier: str, body: bytes, delivery: Delivery) -> dict[str, Any]:
        """Land one verified delivery; the JSON answer (counts per outcome)."""
        source = f"carrier_events/{carrier}"
        fresh, in_body = [], set()
        for event in delivery.events:  # landed before, or twice in this very body
            event_id = event_id_of(event)
            if not self._seen(carrier, event) and (event_id is None or event_id not in in_body):
                fresh.append(event)
                in_body.add(event_id)
        duplicates = len(delivery.events) - len(fresh)
        self.metrics.count_events(source, "duplicate", duplicates)
        answer: dict[str, Any] = {"status": "accepted", "records": 0, "duplicates": duplicates}
        if not fresh:
            return answer
        if delivery.type == STATUS_UPDATED:
            counts = await self._status_events(carrier, source, fresh, _digest(body))
        else:
            kind = _folder_safe(delivery.type)
            folder = f"{KEPT_ROOT}/{carrier}/{kind}"
            await self._land_once(carrier, source, folder, [landing_line(body)], fresh, body)
            self._learn_order_ids(carrier, fresh)
            counts = {f"kept_{kind}": len(fresh)}
        for outcome, events in counts.items():
            self.metrics.count_events(source, outcome, events)
        answer["records"] = len(fresh)
        answer.update(counts)
        try:  # what this delivery learned may complete events held earlier
            await self.settle(carrier)
        except Exception as exc:  # this delivery is landed; the settle loop retries
            logger.error("settling held %s events failed: %s", carrier, type(exc).__name__)
        return answer

    def _seen(self, carrier: str, event: Any) -> bool:
        event_id = event_id_of(event)
        return bool(event_id) and self.index.seen(carrier, event_id)

    async def _land_once(
        self,
        carrier: str,
        source: str,
        folder: str,
        lines: list[bytes],
        events: list[Any],
        key_material: bytes,
    ) -> None:
        """Land ``lines``; their events' ids count as landed only once the write is durable."""
        ids = [i for i in map(event_id_of, events) if i]
        self.index.reserve(carrier, ids)
        landed = False
        try:
            await self._land(source, folder, carrier, lines, _digest(key_material))
            landed = True
        finally:
            self.index.release(carrier, ids, landed=landed)

    async def _status_events(
        self, carrier: str, source: str, events: list[Any], delivery_key: str
    ) -> dict[str, int]:
        counts = {"landed": 0, "held": 0, "invalid": 0}
        ready: list[tuple[Any, dict[str, Any]]] = []
        held: list[tuple[Any, dict[str, Any]]] = []
        for position, event in enumerate(events):
            parsed = parse_status_event(carrier, event)
            order_ref = parsed.order_id
            if order_ref is None and parsed.tracking:
                order_ref = await self.index.resolve(carrier, parsed.tracking)
            line = {**parsed.line, "order_ref": order_ref} if order_ref else parsed.line
            if parsed.problems:
                counts["invalid"] += 1
                logger.warning(
                    "%s event %d (%s): %s; landed for ingestion to quarantine",
                    source,
                    position,
                    parsed.event_id or "no event_id",
                    "; ".join(parsed.problems),
                )
                ready.append((event, line))
            elif order_ref is None:
                counts["held"] += 1
                logger.info(
                    "%s event %d (%s): its parcel's order is not known yet; held until it is",
                    source,
                    position,
                    parsed.event_id or "no event_id",
                )
                held.append((event, line))
            else:
                counts["landed"] += 1
                ready.append((event, line))
        if ready:
            lines = [compact_json(line) for _, line in ready]
            folder = f"tracking/{carrier}/{WEBHOOK_FOLDER}"
            await self._land_once(
                carrier, source, folder, lines, [e for e, _ in ready], delivery_key.encode()
            )
        if held:
            lines = [compact_json(line) for _, line in held]
            folder = f"{HELD_ROOT}/{carrier}"
            await self._land_once(
                carrier,
                source,
                folder,
                lines,
                [e for e, _ in held],
                b"held" + delivery_key.encode(),
            )
            for _, line in held:
                self.index.hold(carrier, line)
        return counts

    def _learn_order_ids(self, carrier: str, events: list[Any]) -> None:
        """Parcel events that name their order (``data.order_id``) teach the index at once."""
        for event in events:
            data = event.get("data") if isinstance(event, dict) else None
            tracking = data.get("tracking") if isinstance(data, dict) else None
            order_ref = order_ref_of(data.get("order_id")) if isinstance(data, dict) else None
            if isinstance(tracking, str) and tracking.strip() and order_ref:
                self.index.learn(carrier, tracking.strip(), order_ref)

    async def settle(self, carrier: str | None = None) -> int:
        """Land the held events whose order is now known; how many landed."""
        total = 0
        async with self._settling:
            for name in [carrier] if carrier else sorted(self.index.pending):
                ready = self.index.resolvable(name)
                if not ready:
                    continue
                source = f"carrier_events/{name}"
                lines = [compact_json(line) for line in ready.values()]
                await self._land(
                    source,
                    f"tracking/{name}/{WEBHOOK_FOLDER}",
                    name,
                    lines,
                    _digest(b"\n".join(lines)),
                )
                self.index.settled(name, list(ready))
                self.metrics.count_events(source, "landed_after_hold", len(ready))
                total += len(ready)
        return total

    async def settle_forever(self, every_seconds: float = SETTLE_SECONDS) -> None:
        """Every ``every_seconds``: read new landing files, land what became resolvable."""
        while True:
            await asyncio.sleep(every_seconds)
            if not any(self.index.pending.values()):
                continue
            try:
                await self.index.refresh(force=True)
                await self.settle()
            except Exception as exc:  # the loop must survive a full disk; next round retries
                logger.error("settling held carrier events failed: %s", type(exc).__name__)
