"""What every local contract server shares: faults, recording, rate limits, duplicates.

A contract server is a Starlette app that answers like a vendor API on
loopback. Each vendor route runs the same pipeline:

1. record the request (method, path, query, parsed body, time; credentials
   reduced to the auth *scheme*);
2. authenticate (the vendor's own 401 body);
3. take the next fault from the :class:`FaultPlan`, if any;
4. apply the rate limit (the vendor's own throttling answer);
5. run the vendor handler under the server's state lock.

The admin API (``/_admin/...``) is unauthenticated: these servers bind to
127.0.0.1 and exist for tests and the demo.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FaultKind = Literal["status", "timeout", "slow", "error", "throttle"]


# --- faults ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One injected failure.

    - ``status``: answer ``status`` (a 5xx) at once, in the vendor's error shape;
    - ``timeout``: wait ``delay_s`` then answer 504, *without* processing the request;
    - ``slow``: wait ``delay_s`` then process normally (a client that timed out
      meanwhile will retry a request that did succeed: a duplicate);
    - ``error``: answer the vendor error ``code`` (e.g. WhatsApp 131026);
    - ``throttle``: answer the vendor's throttling error.
    """

    kind: FaultKind
    status: int = 503
    delay_s: float = 2.0
    code: int | str | None = None

    @classmethod
    def parse(cls, spec: Fault | str | dict | None) -> Fault | None:
        """``"503"``, ``"timeout"``, ``"timeout:0.5"``, ``"slow:1"``, ``"error:131026"``,
        ``"throttle"``, ``"ok"`` / ``None`` (no fault), or a dict of the fields."""
        if spec is None or isinstance(spec, Fault):
            return spec
        if isinstance(spec, dict):
            return cls(**spec)
        name, _, arg = str(spec).partition(":")
        if name in ("ok", "pass", ""):
            return None
        if name.isdigit():
            return cls("status", status=int(name))
        if name in ("timeout", "slow"):
            return cls(name, delay_s=float(arg)) if arg else cls(name)  # type: ignore[arg-type]
        if name == "error":
            return cls("error", code=int(arg) if arg.lstrip("-").isdigit() else arg)
        if name == "throttle":
            return cls("throttle")
        raise ValueError(f"unknown fault {spec!r}")


class FaultPlan:
    """Which requests fail: a scripted sequence first, then random faults with a probability.

    ``script`` is consumed one entry per vendor request (``None`` / ``"ok"`` lets
    that request through); once it is empty, each request fails with
    ``probability``, the fault drawn from ``random_faults``. Seeded, so a test
    sees the same sequence every run.
    """

    def __init__(
        self,
        script: Iterable[Fault | str | dict | None] = (),
        *,
        probability: float = 0.0,
        random_faults: Sequence[Fault | str | dict] = ("503",),
        seed: int | None = 0,
    ) -> None:
        self._script: deque[Fault | None] = deque(Fault.parse(s) for s in script)
        self.probability = probability
        self.random_faults = [f for f in (Fault.parse(s) for s in random_faults) if f]
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> FaultPlan:
        data = data or {}
        return cls(
            data.get("script", ()),
            probability=float(data.get("probability", 0.0)),
            random_faults=data.get("random_faults", ("503",)),
            seed=data.get("seed", 0),
        )

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "script": [asdict(f) if f else None for f in self._script],
                "probability": self.probability,
                "random_faults": [asdict(f) for f in self.random_faults],
                "injected": dict(self.injected),
            }

    def next_fault(self) -> Fault | None:
        with self._lock:
            if self._script:
                fault = self._script.popleft()
            elif self.probability and self.random_faults and self._rng.random() < self.probability:
                fault = self._rng.choice(self.random_faults)
            else:
                fault = None
            if fault:
                self.injected[fault.kind] += 1
            return fault


# --- recording ------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    body: Any
    received_at: float
    auth_scheme: str | None  # "Bearer", "Basic", "X-Shopify-Access-Token", None: never the secret
    status: int | None = None
    fault: str | None = None


class RequestRecorder:
    """Every vendor request received, in order; thread-safe."""

    def __init__(self) -> None:
        self._items: list[RecordedRequest] = []
        self._lock = threading.Lock()

    def record(self, request: Request, body: Any) -> RecordedRequest:
        auth = request.headers.get("authorization")
        scheme = auth.split(" ", 1)[0] if auth else None
        if scheme is None and "x-shopify-access-token" in request.headers:
            scheme = "X-Shopify-Access-Token"
        entry = RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            body=body,
            received_at=time.time(),
            auth_scheme=scheme,
        )
        with self._lock:
            self._items.append(entry)
        return entry

    def all(
        self, path_prefix: str | None = None, method: str | None = None
    ) -> list[RecordedRequest]:
        with self._lock:
            items = list(self._items)
        return [
            r
            for r in items
            if (path_prefix is None or r.path.startswith(path_prefix))
            and (method is None or r.method == method.upper())
        ]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class DuplicateTracker:
    """Counts idempotency keys so a test can assert "the server recorded no duplicate"."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def see(self, *key: Any) -> bool:
        """Record ``key``; ``True`` when it was seen before (a duplicate)."""
        text = json.dumps(key, sort_keys=True, default=str)
        with self._lock:
            self._seen[text] += 1
            return self._seen[text] > 1

    def duplicates(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"key": json.loads(k), "count": n} for k, n in self._seen.items() if n > 1]

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


class RateGate:
    """A non-blocking token bucket: ``try_take(cost)`` -> ``(ok, seconds until it would be)``."""

    def __init__(self, rate_per_s: float, burst: float | None = None) -> None:
        self.rate = rate_per_s
        self.capacity = burst if burst else max(1.0, rate_per_s)
        self.available = self.capacity
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def refill(self) -> float:
        with self._lock:
            now = time.monotonic()
            self.available = min(self.capacity, self.available + (now - self._updated) * self.rate)
            self._updated = now
            return self.available

    def drain(self) -> None:
        with self._lock:
            self.available = 0.0
            self._updated = time.monotonic()

    def refund(self, amount: float) -> None:
        """Give back part of a cost taken (Shopify refunds requested minus actual cost)."""
        self.refill()
        with self._lock:
            self.available = min(self.capacity, self.available + max(amount, 0.0))

    def try_take(self, cost: float = 1.0) -> tuple[bool, float]:
        self.refill()
        with self._lock:
            if self.available >= cost:
                self.available -= cost
                return True, 0.0
            return False, (cost - self.available) / self.rate


# --- the server base --------------------------------------------------------------------

Handler = Callable[[Request, Any], Response]


def parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


class ContractServer:
    """Base class: the pipeline, the admin API and the shared state lock.

    Subclasses implement :meth:`vendor_routes`, :meth:`authenticate`,
    :meth:`fault_response` and :meth:`throttled_response`, and may add
    :meth:`admin_routes`.
    """

    vendor = "vendor"

    def __init__(
        self,
        *,
        faults: FaultPlan | dict | None = None,
        rate_limit_per_s: float | None = None,
        rate_limit_burst: float | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.recorder = RequestRecorder()
        self.duplicates = DuplicateTracker()
        self.faults = faults if isinstance(faults, FaultPlan) else FaultPlan.from_json(faults)
        self.rate_gate = RateGate(rate_limit_per_s, rate_limit_burst) if rate_limit_per_s else None
        self._app: Starlette | None = None

    # -- to implement ------------------------------------------------------------------

    def vendor_routes(self) -> list[Route]:
        raise NotImplementedError

    def admin_routes(self) -> list[Route]:
        return []

    def authenticate(self, request: Request) -> Response | None:
        """``None`` when the credentials are right, else the vendor's rejection."""
        return None

    def fault_response(self, fault: Fault) -> Response:
        raise NotImplementedError

    def throttled_response(self, retry_after_s: float) -> Response:
        raise NotImplementedError

    # -- Python API ---------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            self._app = Starlette(routes=self.vendor_routes() + self._admin_routes())
        return self._app

    def requests(
        self, path_prefix: str | None = None, method: str | None = None
    ) -> list[RecordedRequest]:
        return self.recorder.all(path_prefix, method)

    def set_faults(self, plan: FaultPlan | dict | None) -> None:
        self.faults = plan if isinstance(plan, FaultPlan) else FaultPlan.from_json(plan)

    # -- pipeline -----------------------------------------------------------------------

    def route(self, path: str, handler: Handler, methods: Sequence[str]) -> Route:
        async def endpoint(request: Request) -> Response:
            body = parse_body(await request.body())
            entry = self.recorder.record(request, body)
            response = await self._pipeline(request, body, handler, entry)
            entry.status = response.status_code
            return response

        return Route(path, endpoint, methods=list(methods))

    async def _pipeline(
        self, request: Request, body: Any, handler: Handler, entry: RecordedRequest
    ) -> Response:
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        fault = self.faults.next_fault()
        if fault is not None:
            entry.fault = fault.kind
            if fault.kind in ("slow", "timeout"):
                await asyncio.sleep(fault.delay_s)
            if fault.kind == "timeout":
                return self.fault_response(Fault("status", status=504))
            if fault.kind == "throttle":
                return self.throttled_response(1.0)
            if fault.kind != "slow":
                return self.fault_response(fault)
        if self.rate_gate is not None:
            ok, wait = self.rate_gate.try_take()
            if not ok:
                entry.fault = "rate_limited"
                return self.throttled_response(wait)
        with self.lock:
            return handler(request, body)

    # -- admin API ----------------------------------------------------------------------

    def _admin_routes(self) -> list[Route]:
        async def requests(request: Request) -> Response:
            if request.method == "DELETE":
                self.recorder.clear()
                return JSONResponse({"cleared": True})
            items = self.requests(
                request.query_params.get("path"), request.query_params.get("method")
            )
            return JSONResponse([asdict(r) for r in items])

        async def faults(request: Request) -> Response:
            if request.method == "POST":
                self.set_faults(parse_body(await request.body()))
            return JSONResponse(self.faults.to_json())

        async def duplicates(request: Request) -> Response:
            return JSONResponse(self.duplicates.duplicates())

        return [
            Route("/_admin/requests", requests, methods=["GET", "DELETE"]),
            Route("/_admin/faults", faults, methods=["GET", "POST"]),
            Route("/_admin/duplicates", duplicates, methods=["GET"]),
            *self.admin_routes(),
        ]


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, int(seconds + 0.999)))}
