"""Carrier tracking writer: the parcel's journey as each carrier reports it (JSONL or CSV)."""

from __future__ import annotations

from sandbox.sample_store import vendors as v
from sandbox.sample_store import world as w
from sandbox.sample_store.order import _OrderCtx
from sandbox.sample_store.remittances import remittance_file_kinds
from sandbox.sample_store.timing import HOUR, _local_day_start, _randint
from sandbox.sample_store.writer import DAY, FileKind


def _file_kinds() -> list[FileKind]:
    kinds = [
        FileKind("shopify", "shopify_orders", "orders/shopify/orders_{month}.jsonl"),
        FileKind("woocommerce", "woocommerce_orders", "orders/woocommerce/orders_{month}.jsonl"),
        FileKind("youcan", "youcan_orders", "orders/youcan/orders_{month}.jsonl"),
        FileKind("tiktok", "tiktok_leads", "leads/tiktok/leads_{month}.jsonl"),
        FileKind("whatsapp", "whatsapp_webhooks", "messages/whatsapp/webhooks_{month}.jsonl"),
        FileKind("sms", "sms_events", "messages/sms/events_{month}.jsonl"),
        FileKind("signals", "lead_signals", "signals/landing/sessions_{month}.jsonl"),
        FileKind("email", "email_events", "messages/email/events_{month}.jsonl"),
    ]
    for carrier in w.CARRIERS:
        if carrier.file_format == "csv":
            kinds.append(
                FileKind(
                    f"tracking:{carrier.name}",
                    "carrier_tracking_events",
                    f"tracking/{carrier.name}/events_{{month}}.csv",
                    v.CARRIER_CSV_COLUMNS,
                )
            )
        else:
            kinds.append(
                FileKind(
                    f"tracking:{carrier.name}",
                    "carrier_tracking_events",
                    f"tracking/{carrier.name}/events_{{month}}.jsonl",
                )
            )
    return kinds + remittance_file_kinds()


class _TrackingMixin:
    """Writes a dispatched parcel's tracking events."""

    def _parcel(
        self, order: _OrderCtx, carrier: w.Carrier, dispatch_ts: int, delivered: bool, intent: float
    ) -> tuple[int, int, str]:
        """Write the carrier's tracking events; return (final ts, failed attempts, last reason)."""
        rnd = self.rnd
        words = w.CARRIER_STATUSES[carrier.name]
        self._ids["tracking"] += 1
        tracking = f"{carrier.tracking_prefix}{self._ids['tracking'] * 7 + 1_000_000_000:010d}"
        if carrier.name == "ozon_express":
            tracking += "MA"
        order.tracking_number = tracking  # the remittance statement names the parcel by it
        dest = order.city.name
        events: list[tuple[int, str, str, str | None]] = []  # (ts, meaning, city, comment)
        events.append((dispatch_ts, "picked_up", w.WAREHOUSE_CITY, None))
        events.append(
            (dispatch_ts + _randint(rnd, 2 * HOUR, 8 * HOUR), "in_transit", w.WAREHOUSE_CITY, None)
        )
        transit_days = carrier.speed_days + order.city.distance_days + rnd.expovariate(1 / 0.6)
        first_attempt_day = _local_day_start(dispatch_ts + int(transit_days * DAY))
        if first_attempt_day <= events[-1][0]:
            first_attempt_day = _local_day_start(events[-1][0]) + DAY
        if rnd.random() < 0.6:
            events.append(
                (first_attempt_day - _randint(rnd, 2 * HOUR, 12 * HOUR), "at_hub", dest, None)
            )
        if delivered:
            roll = rnd.random()
            n_fail = 0 if roll < 0.78 else 1 if roll < 0.96 else 2
            reasons = [
                rnd.choices(("postponed", "unreachable", "otp_not_provided"), (0.5, 0.42, 0.08))[0]
                for _ in range(n_fail)
            ]
        else:
            roll = rnd.random()
            n_fail = 1 if roll < 0.5 else 2 if roll < 0.85 else 3
            final_reason = rnd.choices(
                (
                    "refused",
                    "unreachable",
                    "wrong_address",
                    "cancelled_by_customer",
                    "otp_not_provided",
                    "postponed",
                ),
                (0.45 + 0.1 * (intent < 0), 0.33, 0.08, 0.07, 0.04, 0.03),
            )[0]
            reasons = [
                rnd.choices(("unreachable", "postponed"), (0.6, 0.4))[0] for _ in range(n_fail - 1)
            ] + [final_reason]
        day = first_attempt_day
        last_ts = events[-1][0]
        for attempt in range(n_fail + (1 if delivered else 0)):
            out_ts = max(day + _randint(rnd, 8 * HOUR + 1800, 11 * HOUR + 1800), last_ts + 600)
            events.append((out_ts, "out_for_delivery", dest, None))
            result_ts = out_ts + _randint(rnd, HOUR, 8 * HOUR)
            if attempt < n_fail:
                reason = reasons[attempt]
                events.append((result_ts, reason, dest, rnd.choice(w.COURIER_COMMENTS[reason])))
                day += DAY * (_randint(rnd, 1, 3) if reason == "postponed" else 1)
            else:
                comment = rnd.choice(w.COURIER_COMMENTS["delivered"]) or None
                events.append((result_ts, "delivered", dest, comment))
            last_ts = result_ts
        if not delivered:
            back_ts = last_ts + _randint(rnd, DAY // 2, 2 * DAY)
            events.append((back_ts, "return_in_transit", dest, None))
            returned_ts = (
                back_ts + int((1 + order.city.distance_days) * DAY) + _randint(rnd, 0, 2 * DAY)
            )
            events.append((returned_ts, "returned", w.WAREHOUSE_CITY, None))
            last_ts = returned_ts
        final_ts = last_ts
        # an unknown status now and then, somewhere in the journey
        if self.mess and self.mess_rnd.random() < 0.01:
            position = 1 + self.mess_rnd.randrange(len(events) - 1)
            before = events[position - 1][0]
            events.insert(position, (before + 60, "__unknown__", dest, None))
        kind = f"tracking:{carrier.name}"
        csv_out = carrier.file_format == "csv"
        for event_number, (ts, meaning, city, comment) in enumerate(events):
            if meaning == "__unknown__":
                raw_status = self.mess_rnd.choice(w.UNKNOWN_CARRIER_STATUSES)
            else:
                options = words[meaning]
                raw_status = options[0] if len(options) == 1 else rnd.choice(options)
            record = v.carrier_event(
                carrier=carrier.name,
                tracking_number=tracking,
                order_ref=order.ref,
                raw_status=raw_status,
                event_time=v.carrier_time(ts, carrier.utc_offset),
                city=city,
                comment=comment,
                event_id=f"{tracking}-{event_number + 1:02d}" if carrier.has_event_id else None,
            )
            write_ts = ts + _randint(rnd, 30, 1800)
            if csv_out:
                emitted = self._emit_csv(write_ts, kind, record)
            else:
                emitted = self._emit(
                    write_ts,
                    kind,
                    "carrier_tracking_events",
                    record,
                    flaky=True,
                    injector="tracking:jsonl",
                )
            if emitted and meaning == "__unknown__":
                self.unknown_statuses += 1
        failed = n_fail
        last_reason = reasons[-1] if reasons else ""
        if last_reason == "cancelled_by_customer":
            last_reason = "refused"
        return final_ts, failed, last_reason
