"""A parcel to hand to a carrier, independent of the vendor, and what came back."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ParcelRequest:
    """What cod360 knows of an order when it asks a carrier to ship it."""

    order_ref: str  # "<platform>:<id>": given to the carrier as its order id / reference
    first_name: str
    last_name: str
    phone: str
    address: str
    commune: str
    wilaya_name: str
    wilaya_code: int
    amount: float  # cash to collect
    products: str
    stop_desk: bool = False
    from_wilaya_name: str = "Alger"
    remark: str = ""  # the merchant's own note, kept before cod360's instruction
    # Yalidine requires the dimensions (integers ≥ 0: cm, kg); 0 when the shop does not know.
    length_cm: int = 0
    width_cm: int = 0
    height_cm: int = 0
    weight_kg: int = 0
    stopdesk_id: str | None = None  # Yalidine: the stop-desk centre when stop_desk


@dataclass
class ParcelResult:
    """The carrier's answer for one parcel."""

    order_ref: str
    ok: bool
    tracking_number: str | None = None
    # The vendor field that carried the delivery instruction; None when it has none.
    instruction_field: str | None = None
    instruction_sent: str | None = None
    message: str = ""
    detail: dict = field(default_factory=dict)
