"""EcoTrack platform API v1 (many Algerian couriers): tracking pulls and parcel creation / update.

Contract (per courier: ``https://<courier>.ecotrack.dz/api/v1/``): ``Authorization:
Bearer <token>``; ``POST create/order`` with ``reference, nom_client, telephone,
telephone_2, adresse, code_postal, commune, code_wilaya, montant, remarque, produit,
stock, quantite, produit_a_recuperer, boutique, type (1 delivery, 2 exchange, 3 pickup,
4 recovery), stop_desk (0/1), weight, fragile``, answering ``{"success": true,
"tracking": "..."}`` or 422 ``{"message": "...", "errors": {"<field>": ["..."]}}``;
``POST update/order`` (the same fields plus ``tracking``); ``GET get/orders`` (a
Laravel paginator: ``current_page, data, last_page, per_page, total,
next_page_url``); ``GET get/tracking/info?tracking=``; 401
``{"message": "Unauthenticated."}``; 429 ``{"message": "Too Many Attempts."}`` with
``Retry-After`` and ``X-RateLimit-Remaining``.

The pull reads ``get/orders`` updated since the mark, oldest update first, and
lands each order's current ``status`` as one envelope line keyed by
``(tracking@updated_at)``: a status snapshot per update, like the storefront
pulls (two changes between two pulls keep only the later; the schedule's
5 minutes make that rare). Orders move to the end of an "updated since" list
while the courier works, so the pages restart at the newest ``updated_at`` read
(:func:`connectors.storefronts.paging.seek_pages`).

Delivery instructions: ``remarque`` is the courier's free-text note printed on the
parcel; cod360 puts the delivery-code requirement there (after the merchant's own
note), on creation and through ``update/order`` for a parcel created elsewhere.

Unverified (taken from client code and memory of the PDF docs, not from a vendor
page we could read): the list filters ``start_date`` (``YYYY-MM-DD HH:MM:SS``,
inclusive), ``order_by=updated_at`` / ``sort=asc`` and ``per_page``; the order
object fields ``tracking``, ``reference``, ``status``, ``updated_at``, ``commune``,
``remarque``; the ``update/order`` body; the 429 headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx

from common.transport import RetryableError, bearer_auth
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
from connectors.storefronts.paging import Fetched, seek_pages

PAGE_SIZE = 100
INSTRUCTION_FIELD = "remarque"
PERMISSION = "an API token of the courier's EcoTrack account"
TYPE_DELIVERY = 1


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[:200]
    return str(body)[:200]


class EcoTrackClient:
    """One courier account on the EcoTrack platform."""

    def __init__(
        self,
        *,
        account: StoreRef,
        base_url: str,
        token: str,
        settings: HttpSettings | None = None,
    ) -> None:
        self.account = account
        self.http = CarrierHttp(
            store=account,
            base_url=base_url,
            auth=bearer_auth(token),
            settings=settings or HttpSettings(rate_limit_per_s=2.0, backoff_max_s=60.0),
            secrets=(token,),
            describe_error=_error_text,
        )

    def orders(
        self, *, page: int, since: datetime | None, per_page: int = PAGE_SIZE
    ) -> dict[str, Any]:
        """One page of the account's orders updated from ``since`` on, oldest update first."""
        params: dict[str, Any] = {
            "page": page,
            "per_page": per_page,
            "order_by": "updated_at",
            "sort": "asc",
        }
        if since is not None:
            params["start_date"] = since.astimezone(ALGERIA_TZ).strftime("%Y-%m-%d %H:%M:%S")

        def read(response: httpx.Response) -> dict[str, Any]:
            if response.status_code >= 400:
                raise StorefrontPullError(
                    f"{self.account.label()}: orders page {page} refused (HTTP "
                    f"{response.status_code}: {_error_text(response)})"
                )
            try:
                return response.json()
            except ValueError:
                raise RetryableError("a response that is not JSON") from None

        return self.http.call(  # type: ignore[return-value]
            "GET", "get/orders", what=f"orders page {page}", params=params, interpret=read
        )

    def create_order(self, parcel: ParcelRequest, instruction: str) -> ParcelResult:
        """``POST create/order`` with the instruction in ``remarque``."""
        body = order_payload(parcel, instruction)
        answer = post_without_duplicates(self.http, "create/order", body, "create order")
        return _result(parcel.order_ref, answer, body.get(INSTRUCTION_FIELD))

    def update_remark(self, order_ref: str, tracking: str, remark: str) -> ParcelResult:
        """``POST update/order``: put the instruction on a parcel that already exists."""
        body = {"tracking": tracking, INSTRUCTION_FIELD: remark}
        answer = post_without_duplicates(self.http, "update/order", body, "update order")
        result = _result(order_ref, answer, remark)
        result.tracking_number = result.tracking_number or tracking
        return result

    def close(self) -> None:
        self.http.close()


def order_payload(parcel: ParcelRequest, instruction: str) -> dict[str, Any]:
    remark = " | ".join(p for p in (parcel.remark.strip(), instruction) if p)
    return {
        "reference": parcel.order_ref,
        "nom_client": f"{parcel.first_name} {parcel.last_name}".strip(),
        "telephone": parcel.phone,
        "adresse": parcel.address,
        "commune": parcel.commune,
        "code_wilaya": parcel.wilaya_code,
        "montant": parcel.amount,
        INSTRUCTION_FIELD: remark,
        "produit": parcel.products,
        "type": TYPE_DELIVERY,
        "stop_desk": 1 if parcel.stop_desk else 0,
    }


def _result(order_ref: str, answer: Any, remark: str | None) -> ParcelResult:
    if isinstance(answer, dict) and answer.get("success"):
        return ParcelResult(
            order_ref,
            True,
            tracking_number=answer.get("tracking"),
            instruction_field=INSTRUCTION_FIELD,
            instruction_sent=remark,
            detail=answer,
        )
    message = answer.get("message", "") if isinstance(answer, dict) else str(answer)
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if isinstance(errors, dict) and errors:
        message = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in sorted(errors.items()))
    return ParcelResult(order_ref, False, message=str(message)[:300], detail=answer or {})


class EcoTrackTrackingPuller(CarrierTrackingPuller):
    """The account's orders' current statuses, one envelope line per update."""

    def __init__(
        self,
        client: EcoTrackClient,
        *,
        carrier: str,
        order_ref_prefix: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.client = client
        self.platform = carrier
        self.order_ref_prefix = order_ref_prefix
        self.page_size = page_size

    def pages(self, since: datetime | None) -> Iterator[Page]:
        def fetch(cursor: datetime | None, index: int) -> Fetched:
            body = self.client.orders(page=index, since=cursor, per_page=self.page_size)
            return Fetched(
                [self._line(o) for o in body.get("data") or []],
                total_records=body.get("total"),
                total_pages=body.get("last_page"),
                has_next=body.get("next_page_url") is not None,
            )

        return seek_pages(fetch, since=since, page_size=self.page_size, updated_at=_time_of)

    def _line(self, order: dict[str, Any]) -> dict[str, Any]:
        tracking = str(order.get("tracking") or "")
        stamp = order.get("updated_at")
        try:
            when = naive_local(stamp) if stamp else None
        except ValueError:
            when = None
        if when is None:
            return {"carrier": self.platform, "tracking_number": tracking, "vendor": order}
        return envelope_line(
            carrier=self.platform,
            tracking_number=tracking,
            order_ref=order_ref_from(order.get("reference"), self.order_ref_prefix),
            raw_status=str(order.get("status") or ""),
            event_time=when,
            event_id=f"{tracking}@{stamp}",
            city=order.get("commune"),
        )

    def close(self) -> None:
        self.client.close()


def _time_of(line: dict[str, Any]) -> datetime | None:
    stamp = line.get("event_time")
    return datetime.fromisoformat(stamp) if stamp else None
