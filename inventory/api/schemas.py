"""Request and response bodies (msgspec structs): the API's published contract."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec
from msgspec import Meta, Struct

T = TypeVar("T")

Name = Annotated[str, Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, Meta(max_length=200)]
LongText = Annotated[str, Meta(max_length=2000)]
Id = Annotated[int, Meta(ge=1, le=2_147_483_647)]
Quantity = Annotated[int, Meta(ge=1, le=100_000)]
Count = Annotated[int, Meta(ge=0, le=100_000)]
# A quantity in a product's unit: an integer when whole, else an exact decimal (JSON number, at most 2 places).
Amount = int | Decimal
Gtin = Annotated[str, Meta(min_length=1, max_length=20)]
Barcode = Annotated[str, Meta(min_length=1, max_length=512)]
LotNumber = Annotated[str, Meta(min_length=1, max_length=64)]
Ingredient = Annotated[str, Meta(min_length=1, max_length=120)]


class Page(Struct, Generic[T]):
    """A list of items."""

    items: list[T]


# ------------------------------------------------------------------ auth and users


class TokenIn(Struct, forbid_unknown_fields=True):
    """Credentials."""

    email: Annotated[str, Meta(min_length=3, max_length=254)]
    password: Annotated[str, Meta(min_length=1, max_length=1024)]


class TokenOut(Struct):
    """A bearer token."""

    access_token: str
    token_type: str
    expires_in: int


class UserIn(Struct, forbid_unknown_fields=True):
    """A new user."""

    email: Annotated[str, Meta(min_length=3, max_length=254)]
    role: Literal["staff", "manager", "admin"]
    password: Annotated[str, Meta(min_length=1, max_length=1024)]
    full_name: ShortText = ""


class UserPatchIn(Struct, forbid_unknown_fields=True):
    """A change to a user: role, active, or both."""

    role: Literal["staff", "manager", "admin"] | None = None
    active: bool | None = None


class PasswordIn(Struct, forbid_unknown_fields=True):
    """A new password, set by an admin."""

    password: Annotated[str, Meta(min_length=1, max_length=1024)]


class UserOut(Struct):
    """A user (never the password hash)."""

    id: int
    email: str
    full_name: str
    role: str
    active: bool


# ------------------------------------------------------------------ catalog


class BrandIn(Struct, forbid_unknown_fields=True):
    """A new brand."""

    name: Annotated[str, Meta(min_length=1, max_length=120)]


class BrandOut(Struct):
    """A brand."""

    id: int
    name: str


class PackIn(Struct, forbid_unknown_fields=True):
    """A box GTIN and how many single units it holds."""

    gtin: Gtin
    units: Annotated[int, Meta(ge=1, le=10_000)]


class PackOut(Struct):
    """A box GTIN."""

    gtin: str
    units: int


class ProductIn(Struct, forbid_unknown_fields=True):
    """A new product."""

    brand_id: Id
    name: Name
    ingredients: Annotated[list[Ingredient], Meta(max_length=100)]
    storage: Literal["room", "fridge"] = "room"
    gtin: Gtin | None = None
    packs: Annotated[list[PackIn], Meta(max_length=20)] = []
    implant: Annotated[
        bool, Meta(description="An implanted medical device (a filler): its uses keep the UDI and get an implant card.")
    ] = False
    unit: Literal["each", "ml", "U"] = "each"
    # How much one container holds in `unit` (1 for each); at most 2 decimal places.
    container_quantity: Annotated[Decimal, Meta(description="how much one container holds, in the unit")] | None = None
    # Hours an opened container may be used; null: single use.
    in_use_hours: Annotated[int, Meta(ge=1, le=24 * 366)] | None = None


class ProductPatch(Struct, forbid_unknown_fields=True):
    """A change to a product (what is absent stays as it is)."""

    implant: (
        Annotated[bool, Meta(description="An implanted medical device: its uses keep the UDI and get an implant card.")]
        | None
    ) = None


class ProductOut(Struct):
    """A product."""

    id: int
    brand_id: int
    brand: str
    name: str
    gtin: str | None
    packs: list[PackOut]
    ingredients: list[str]
    storage: str
    active: bool
    implant: bool = False
    unit: str = "each"
    container_quantity: Amount = 1
    in_use_hours: int | None = None


Timezone = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        description='An IANA time zone name; the location\'s local date is its "today".',
        examples=["Europe/Paris"],
    ),
]


class LocationIn(Struct, forbid_unknown_fields=True):
    """A new location; `timezone` defaults to INVENTORY_TIMEZONE (itself Europe/Paris by default)."""

    name: Annotated[str, Meta(min_length=1, max_length=120)]
    timezone: Timezone | None = None


class LocationPatch(Struct, forbid_unknown_fields=True):
    """A location's new name or time zone (what is absent stays as it is)."""

    name: Annotated[str, Meta(min_length=1, max_length=120)] | None = None
    timezone: Timezone | None = None


class LocationOut(Struct):
    """A location and its IANA time zone."""

    id: int
    name: str
    timezone: str


class RuleIn(Struct, forbid_unknown_fields=True):
    """Reorder parameters, in the product's unit: whole for `each`, up to 2 decimal places for ml and U."""

    reorder_point: Amount
    par_level: Amount
    lead_time_days: Annotated[int, Meta(ge=0, le=365)]


class RuleOut(Struct):
    """A stock rule."""

    id: int
    product_id: int
    location_id: int
    reorder_point: Amount
    par_level: Amount
    lead_time_days: int


# ------------------------------------------------------------------ lots and stock


class LotOut(Struct):
    """A lot."""

    id: int
    product_id: int
    lot_number: str
    expiry_date: date
    status: str
    not_received: bool
    label_code: str


class LotStockOut(Struct):
    """Stock of a lot at a location."""

    location_id: int
    on_hand: Amount


class LotDetailOut(LotOut):
    """A lot with its stock."""

    stock: list[LotStockOut] = []


class ReceiptLineIn(Struct, forbid_unknown_fields=True):
    """A receipt line: a barcode, or product + lot + expiry."""

    quantity: Quantity
    barcode: Barcode | None = None
    product_id: Id | None = None
    lot_number: LotNumber | None = None
    expiry_date: date | None = None


class ReceiptIn(Struct, forbid_unknown_fields=True):
    """A delivery."""

    location_id: Id
    lines: Annotated[list[ReceiptLineIn], Meta(min_length=1, max_length=500)]
    supplier: ShortText | None = None
    reference: ShortText | None = None
    purchase_order_id: Id | None = None


class ReceiptLineOut(Struct):
    """A received line."""

    lot: LotOut
    lot_created: bool
    quantity: Amount
    on_hand: Amount
    label_url: str = ""


class ReceiptOut(Struct):
    """A recorded delivery."""

    id: int
    location_id: int
    supplier: str | None
    reference: str | None
    received_at: datetime
    lines: list[ReceiptLineOut]
    purchase_order_id: int | None = None  # the order this delivery was received against


class StockProductOut(Struct):
    """A product as shown in stock lists."""

    id: int
    name: str
    brand: str
    brand_id: int
    gtin: str | None


class StockItemOut(Struct):
    """On-hand of one lot at one location."""

    lot: LotOut
    product: StockProductOut
    location: LocationOut
    on_hand: Amount


class StockOut(Struct):
    """Stock per lot and location."""

    items: list[StockItemOut]


class TransferIn(Struct, forbid_unknown_fields=True):
    """A move between locations."""

    lot_id: Id
    from_location_id: Id
    to_location_id: Id
    quantity: Quantity
    reason: LongText | None = None


class TransferOut(Struct):
    """A recorded transfer."""

    transfer_id: str
    lot: LotOut
    from_location_id: int
    to_location_id: int
    quantity: Amount
    from_on_hand: Amount
    to_on_hand: Amount


class AdjustmentIn(Struct, forbid_unknown_fields=True):
    """A stock correction: a count, or a delta."""

    lot_id: Id
    location_id: Id
    reason: Annotated[str, Meta(min_length=1, max_length=2000)]
    # In the product's unit: whole for each, up to 2 decimal places for ml and U.
    counted: Amount | None = None
    delta: Amount | None = None


class AdjustmentOut(Struct):
    """A recorded adjustment."""

    lot: LotOut
    location_id: int
    before: Amount
    delta: Amount
    on_hand: Amount
    reason: str


class DisposalIn(Struct, forbid_unknown_fields=True):
    """Units thrown away, in the product's unit (whole for each, up to 2 decimal places for ml and U)."""

    lot_id: Id
    location_id: Id
    quantity: Amount
    reason: Annotated[str, Meta(min_length=1, max_length=2000)]


class DisposalOut(Struct):
    """A recorded disposal."""

    lot: LotOut
    location_id: int
    quantity: Amount
    on_hand: Amount
    reason: str


class MovementOut(Struct):
    """A ledger row."""

    id: int
    lot_id: int
    location_id: int
    quantity: Amount
    kind: str
    reason: str | None
    user_id: int | None
    created_at: datetime
    receipt_line_id: int | None
    usage_id: int | None
    transfer_group: str | None
    recall_id: int | None


class AuditEventOut(Struct):
    """An audit event."""

    id: int
    actor_id: int | None
    actor_email: str | None
    action: str
    entity: str
    entity_id: int | None
    details: dict[str, Any]
    created_at: datetime


S = TypeVar("S")


def encode(value: Any) -> bytes:
    """JSON bytes of a response: decimal quantities as JSON numbers (0.3), never strings."""
    return _ENCODER.encode(value)


_ENCODER = msgspec.json.Encoder(decimal_format="number")


def to(struct_type: type[S], value: Any) -> S:
    """Convert a service result (dicts, dates) into a response struct."""
    return msgspec.convert(value, struct_type, from_attributes=True)
