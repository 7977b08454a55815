"""The delivery thread a vendor's webhook sender runs: a queue of bodies due at a time,
retried on the vendor's schedule, sometimes delivered twice.

The Yalidine and Brevo contract senders differ in what they POST, how they sign or
authenticate it and which answers they retry; they share this: a heap of due deliveries,
one thread posting them in order, ``wait_idle`` to drain, ``stop`` to end.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from dataclasses import dataclass, field

import httpx


@dataclass(order=True)
class Due:
    """One delivery attempt waiting for its time."""

    at: float
    seq: int
    body: bytes = field(compare=False)
    attempt: int = field(compare=False)  # 1-based
    duplicate: bool = field(compare=False, default=False)  # a deliberate second delivery


class DeliveryQueue:
    """The queue and thread; a sender implements :meth:`_deliver` (one POST of ``due``)."""

    def __init__(
        self,
        *,
        thread_name: str,
        http: httpx.Client,
        duplicate_probability: float,
        seed: int,
        timeout_s: float,
    ) -> None:
        self.duplicate_probability = duplicate_probability
        self.timeout_s = timeout_s
        self._thread_name = thread_name
        self._http = http
        self._random = random.Random(seed)
        self._seq = itertools.count()
        self._due: list[Due] = []
        self._in_flight = 0
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 5)
            self._thread = None
        self._http.close()

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Block until nothing is queued or in flight; ``False`` on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._due or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def _schedule(
        self, body: bytes, *, attempt: int, delay: float, duplicate: bool = False
    ) -> None:
        with self._cond:
            heapq.heappush(
                self._due,
                Due(time.monotonic() + delay, next(self._seq), body, attempt, duplicate),
            )
            self._cond.notify_all()

    def _maybe_deliver_again(self, due: Due) -> None:
        """After an accepted delivery: now and then the same body once more, as vendors do."""
        if not due.duplicate and self._random.random() < self.duplicate_probability:
            self._schedule(due.body, attempt=1, delay=0.0, duplicate=True)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and (not self._due or self._due[0].at > time.monotonic()):
                    wait = self._due[0].at - time.monotonic() if self._due else None
                    self._cond.wait(wait)
                if self._stop:
                    return
                due = heapq.heappop(self._due)
                self._in_flight += 1
            try:
                self._deliver(due)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _deliver(self, due: Due) -> None:
        raise NotImplementedError
