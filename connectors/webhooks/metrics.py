"""The receiver's counters and their Prometheus text, served at ``/metrics``."""

from __future__ import annotations

from collections import Counter, OrderedDict

from connectors.webhooks.writer import LandingWriter

RECENT_DELIVERIES = 100_000  # how many delivery keys the duplicate counter remembers


class ReceiverMetrics:
    """What ``/metrics`` reports: answers per source and status, records landed,
    duplicate deliveries (by delivery key, the last ``RECENT_DELIVERIES`` remembered)."""

    def __init__(self) -> None:
        self.counters: Counter[tuple[str, str, str]] = Counter()
        self._recent: OrderedDict[tuple[str, str], None] = OrderedDict()

    def count_request(self, source: str, status: int) -> None:
        self.counters["requests", source, str(status)] += 1

    def count_events(self, source: str, outcome: str, events: int = 1) -> None:
        """Carrier webhook events by what became of them (landed, duplicate, unresolved, …)."""
        if events:
            self.counters["events", source, outcome] += events

    def count_landed(self, source: str, records: int, delivery_key: str) -> None:
        self.counters["records_landed", source, ""] += records
        key = (source, delivery_key)
        if key in self._recent:
            self._recent.move_to_end(key)
            self.counters["duplicate_deliveries", source, ""] += 1
        else:
            self._recent[key] = None
            if len(self._recent) > RECENT_DELIVERIES:
                self._recent.popitem(last=False)

    def prometheus_text(self, writers: dict[str, LandingWriter]) -> str:
        """The counters, and the files each writer closed, in the Prometheus text format."""
        counters = sorted(self.counters.items())

        def family(metric: str, counter: str, *, label: str | None = None) -> list[str]:
            family_lines = [f"# TYPE {metric} counter"]
            for (name, source, status), count in counters:
                if name == counter:
                    labels = f'source="{source}"' + (f',{label}="{status}"' if label else "")
                    family_lines.append(f"{metric}{{{labels}}} {count}")
            return family_lines

        lines = [
            *family("cod360_webhook_requests_total", "requests", label="status"),
            *family("cod360_webhook_records_landed_total", "records_landed"),
            *family("cod360_webhook_duplicate_deliveries_total", "duplicate_deliveries"),
            *family("cod360_webhook_carrier_events_total", "events", label="outcome"),
            "# TYPE cod360_webhook_files_closed_total counter",
            *(
                f'cod360_webhook_files_closed_total{{folder="{folder}"}} {writer.files_closed}'
                for folder, writer in sorted(writers.items())
            ),
        ]
        return "\n".join(lines) + "\n"
