"""Yalidine / Guepex REST API v1: tracking pulls (``histories/`` + ``parcels/``) and parcel creation.

Contract (https://api.yalidine.app/v1/, Guepex: https://api.guepex.app/v1/, the same
API): headers ``X-API-ID`` and ``X-API-TOKEN``; list endpoints answer
``{"has_more": bool, "total_data": int, "data": [...], "links": {"self", "before", "next"}}``
and page with ``page`` / ``page_size``; ``GET parcels/?tracking=a,b`` returns parcels
with the merchant's ``order_id``; ``GET histories/`` returns status changes
``{date_status, tracking, status, reason, center_id, center_name, wilaya_id,
wilaya_name, commune_id, commune_name}``; ``POST parcels/`` takes a JSON array of
parcels and answers one result per ``order_id``
(``{"<order_id>": {"success", "order_id", "tracking", "import_id", "label", "message"}}``).
Every answer carries ``x-second-quota-left``, ``x-minute-quota-left``,
``x-hour-quota-left``, ``x-day-quota-left``; 429 when one is exhausted
(:mod:`connectors.carriers.http` waits or stops accordingly).

The pull reads ``histories/`` oldest first and joins each page's trackings to
their parcels (one ``parcels/?tracking=…`` call per page) for the order reference.
History events are never edited, so plain page numbers over an ascending sort are
safe (new events append at the end); the overlap window and the engine's memory
of recent event keys absorb the day-granular date filter.

Delivery instructions: Yalidine's documented parcel fields (``POST /v1/parcels``,
``PATCH /v1/parcels/:tracking``) include no remarks / notes / instructions field, so
cod360 does **not** tell Yalidine that a delivery code is required: :func:`parcel_payload`
sends none and :mod:`connectors.carriers.instructions` records the parcel
``unsupported``, with that reason.

Unverified (followed from code that calls the API, not from the vendor's page):
the history filters ``date_status=<from>,<to>`` (day range), ``order_by=date_status``
with ``asc``; the comma-separated ``tracking`` filter on ``parcels/``; the
401 / 429 body shape ``{"error": {"code", "message"}}``; the per-order POST answer
fields ``import_id`` and ``label``; history events have no id of their own, so
cod360 makes one from ``tracking|date_status|status``; ``date_status`` is Algerian
wall-clock time (UTC+01:00).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from common.transport import RetryableError, SecretHeaderAuth
from connectors.carriers.envelope import (
    ALGERIA_TZ,
    CarrierTrackingPuller,
    envelope_line,
    naive_local,
    order_ref_from,
)
from connectors.carriers.http import CarrierHttp, post_without_duplicates
from connectors.carriers.parcels import ParcelRequest, ParcelResult
from connectors.storefronts.base import Page, StorefrontPullError
from connectors.storefronts.http import HttpSettings, StoreRef

DEFAULT_BASE_URL = "https://api.yalidine.app/v1/"
PAGE_SIZE = 100
PERMISSION = "an API ID / token pair with access to parcels and histories"


class _MultiHeaderAuth(httpx.Auth):
    """``X-API-ID`` and ``X-API-TOKEN`` on every request; the values never in reprs."""

    def __init__(self, api_id: str, api_token: str) -> None:
        self._parts = (
            SecretHeaderAuth("X-API-ID", api_id),
            SecretHeaderAuth("X-API-TOKEN", api_token),
        )

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        for part in self._parts:
            request = next(part.auth_flow(request))
        yield request

    def __repr__(self) -> str:
        return "YalidineAuth(X-API-ID=***, X-API-TOKEN=***)"


def _describe(answer: Any) -> str:
    error = answer.get("error") if isinstance(answer, dict) else None
    return str(error.get("message")) if isinstance(error, dict) else str(answer)[:300]


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:200]
    return str(body)[:200]


class YalidineClient:
    """One Yalidine (or Guepex) API account."""

    def __init__(
        self,
        *,
        account: StoreRef,
        base_url: str,
        api_id: str,
        api_token: str,
        settings: HttpSettings | None = None,
    ) -> None:
        self.account = account
        self.http = CarrierHttp(
            store=account,
            base_url=base_url,
            auth=_MultiHeaderAuth(api_id, api_token),
            settings=settings or HttpSettings(rate_limit_per_s=5.0, backoff_max_s=60.0),
            secrets=(api_id, api_token),
            describe_error=_error_text,
        )

    def _get(self, path: str, params: dict[str, Any], what: str) -> dict[str, Any]:
        def read(response: httpx.Response) -> dict[str, Any]:
            if response.status_code >= 400:
                raise StorefrontPullError(
                    f"{self.account.label()}: {what} refused (HTTP {response.status_code}: "
                    f"{_error_text(response)})"
                )
            try:
                return response.json()
            except ValueError:
                raise RetryableError("a response that is not JSON") from None

        return self.http.call("GET", path, what=what, params=params, interpret=read)  # type: ignore[return-value]

    def histories(
        self, *, page: int, page_size: int = PAGE_SIZE, since: datetime | None = None
    ) -> dict[str, Any]:
        """One page of status changes, oldest first (those from ``since``'s day on)."""
        params: dict[str, Any] = {
            "page": page,
            "page_size": page_size,
            "order_by": "date_status",
            "asc": "true",
        }
        if since is not None:
            first = since.astimezone(ALGERIA_TZ).date()
            last = datetime.now(ALGERIA_TZ).date() + timedelta(days=1)
            params["date_status"] = f"{first.isoformat()},{last.isoformat()}"
        return self._get("histories/", params, f"histories page {page}")

    def parcels(self, trackings: Sequence[str]) -> list[dict[str, Any]]:
        """The parcels with these tracking numbers (every page)."""
        found: list[dict[str, Any]] = []
        page = 1
        while trackings:
            body = self._get(
                "parcels/",
                {"tracking": ",".join(trackings), "page": page, "page_size": PAGE_SIZE},
                f"parcels page {page}",
            )
            found.extend(body.get("data") or [])
            if not body.get("has_more"):
                return found
            page += 1
        return found

    def create_parcels(self, parcels: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """``POST parcels/`` with a JSON array; the per-``order_id`` results.

        Only a 429 is retried (the API refused before doing anything): Yalidine
        documents no idempotency key, so a POST retried after a 5xx or a timeout
        could create the parcel twice; those raise and the caller records them."""
        return post_without_duplicates(self.http, "parcels/", list(parcels), "create parcels")

    def create_parcel(self, parcel: ParcelRequest) -> ParcelResult:
        """Create one parcel; Yalidine has no instruction field, so none is sent."""
        answer = self.create_parcels([parcel_payload(parcel)])
        got = answer.get(parcel.order_ref) if isinstance(answer, dict) else None
        if isinstance(got, dict) and got.get("success"):
            return ParcelResult(
                parcel.order_ref, True, tracking_number=got.get("tracking"), detail=got
            )
        message = got.get("message", "") if isinstance(got, dict) else _describe(answer)
        return ParcelResult(parcel.order_ref, False, message=str(message)[:300], detail=answer)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> YalidineClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def parcel_payload(parcel: ParcelRequest) -> dict[str, Any]:
    """A :class:`~connectors.carriers.parcels.ParcelRequest` as Yalidine's parcel object.

    No instruction field exists in the documented fields: the delivery-code
    requirement is not sent (see the module docstring)."""
    return {
        "order_id": parcel.order_ref,
        "from_wilaya_name": parcel.from_wilaya_name,
        "firstname": parcel.first_name,
        "familyname": parcel.last_name,
        "contact_phone": parcel.phone,
        "address": parcel.address,
        "to_commune_name": parcel.commune,
        "to_wilaya_name": parcel.wilaya_name,
        "product_list": parcel.products,
        "price": round(parcel.amount),
        "do_insurance": False,
        "declared_value": round(parcel.amount),
        "length": parcel.length_cm,
        "width": parcel.width_cm,
        "height": parcel.height_cm,
        "weight": parcel.weight_kg,
        "freeshipping": False,
        "is_stopdesk": parcel.stop_desk,
        **({"stopdesk_id": parcel.stopdesk_id} if parcel.stop_desk else {}),
        "has_exchange": False,
    }


class YalidineTrackingPuller(CarrierTrackingPuller):
    """Status changes of one account's parcels, as envelope lines, oldest first."""

    def __init__(
        self,
        client: YalidineClient,
        *,
        carrier: str = "yalidine",
        order_ref_prefix: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.client = client
        self.platform = carrier
        self.order_ref_prefix = order_ref_prefix
        self.page_size = page_size
        self._order_ids: dict[str, str] = {}

    def pages(self, since: datetime | None) -> Iterator[Page]:
        page = 1
        while True:
            body = self.client.histories(page=page, page_size=self.page_size, since=since)
            events = body.get("data") or []
            self._learn_orders({str(e.get("tracking")) for e in events if e.get("tracking")})
            lines = [self._line(e) for e in events]
            yield Page(page, lines, total_records=body.get("total_data"))
            if not body.get("has_more") or not events:
                return
            page += 1

    def _learn_orders(self, trackings: set[str]) -> None:
        missing = sorted(t for t in trackings if t not in self._order_ids)
        if not missing:
            return
        for parcel in self.client.parcels(missing):
            if parcel.get("tracking"):
                self._order_ids[str(parcel["tracking"])] = str(parcel.get("order_id") or "")

    def _line(self, event: dict[str, Any]) -> dict[str, Any]:
        tracking = str(event.get("tracking") or "")
        stamp = event.get("date_status")
        try:
            when = naive_local(stamp) if stamp else None
        except ValueError:
            when = None
        if when is None:
            # Landed as read, without a key: ingestion quarantines it naming the field.
            return {"carrier": self.platform, "tracking_number": tracking, "vendor": event}
        return envelope_line(
            carrier=self.platform,
            tracking_number=tracking,
            order_ref=order_ref_from(self._order_ids.get(tracking), self.order_ref_prefix),
            raw_status=str(event.get("status") or ""),
            event_time=when,
            event_id=f"{tracking}|{stamp}|{event.get('status')}",
            city=event.get("commune_name") or event.get("wilaya_name"),
            comment=event.get("reason") or event.get("center_name") or None,
        )

    def close(self) -> None:
        self.client.close()
