"""The scan decision at the chair: refuse the use of a locked lot, or record it with these warnings.

Pure, in the manner of Cosmic Python's `allocate()`: frozen values in, a frozen `ScanDecision` out or a domain
error raised. The service locks the session and the lot, reads what is listed here, asks `decide_scan`, writes
what it decided. One warning depends on the write itself: `stock_discrepancy` (a use beyond recorded stock), worded
here by `STOCK_DISCREPANCY` and applied by the write's own statement to the on-hand it leaves, because a recorded
use is never rewritten afterwards (the app role may not, and a trigger refuses it).

The rules run in a fixed order, one small function each, so a new rule (opened containers, protocols) is one
more function in `_REFUSALS` or `_WARNINGS`:

    refusals  quantity_not_whole | quantity_precision (422), session_closed, client_erased, lot_recalled,
              lot_quarantined, lot_expired, serial_already_used, repeat_scan, allergy_conflict (unless an override
              reason is given),
              then for a multi-use product container_expired | container_insufficient (domain/containers.py)
    warnings  lot_not_received | lot_inferred, expiry_mismatch, allergy_overridden, expires_soon, fefo_violation,
              not_in_protocol, container_opened; after the write: stock_discrepancy
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from functools import cached_property
from typing import Any

from inventory.domain import quantities
from inventory.domain.containers import Draw, OpenContainer, plan_draw
from inventory.domain.errors import Conflict, InventoryError
from inventory.domain.protocols import not_in_protocol
from inventory.domain.quantities import Quantity
from inventory.domain.rules import REPEAT_SCAN_WINDOW, allergy_conflicts, expires_soon, is_expired, repeat_seconds_ago
from inventory.domain.udi import implant_udi


class LotFound(Enum):
    """How the scanned barcode led to the lot."""

    KNOWN = "known"
    """The barcode named a lot that was received."""
    KNOWN_NOT_RECEIVED = "known_not_received"
    """The barcode named a known lot that was first recorded at a scan and never received."""
    CREATED = "created"
    """The barcode named a lot never seen: it was created from the barcode's data just now."""
    INFERRED = "inferred"
    """The barcode carried no lot: the only usable lot of the product at the location is used."""


@dataclass(frozen=True)
class ScanSession:
    """The treatment session as locked for the scan."""

    status: str  # planned | open | closed
    allergies: tuple[str, ...] = ()
    client_erased: bool = False  # the client asked to be erased: no new record may name them
    # The products of the session's protocol; None when it follows none.
    protocol_products: tuple[int, ...] | None = None


@dataclass(frozen=True)
class EarlierLot:
    """A usable lot of the same product on the shelf here that expires earlier (FEFO)."""

    id: int
    lot_number: str
    expiry_date: date


@dataclass(frozen=True)
class PriorUse:
    """The latest live use of the same barcode on the session."""

    id: int
    used_at: datetime


@dataclass(frozen=True)
class LockedLot:
    """The lot as the store read it under its lock, with its product and what the rules look up around it."""

    id: int
    lot_number: str
    expiry_date: date
    status: str  # active | quarantined | recalled
    product_id: int
    product_name: str
    brand_name: str
    ingredients: tuple[str, ...] = ()
    earlier: EarlierLot | None = None
    repeat_of: PriorUse | None = None
    serial_used: bool = False
    implant: bool = False  # the product is an implanted device: its use keeps the UDI
    unit: str = "each"
    container_quantity: Quantity = 1
    in_use_hours: int | None = None  # set: multi-use, drawn from an opened container

    @property
    def multi_use(self) -> bool:
        """Whether doses of this product are drawn from an opened container."""
        return self.in_use_hours is not None


@dataclass(frozen=True)
class ScanReading:
    """What the barcode itself says beyond the lot: the GTIN scanned (unit or pack), its expiry and serial."""

    gtin: str | None = None
    expiry: date | None = None
    serial: str | None = None


@dataclass(frozen=True)
class ScanWarning:
    """A warning recorded with the use and shown at the chair."""

    code: str
    message: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The warning as stored with the usage and returned: {"code", "message", **extra}."""
        return {"code": self.code, "message": self.message, **self.extra}


@dataclass(frozen=True)
class ContainerState:
    """For a multi-use product: the open container of the lot here (locked), and the use-by a new one would get."""

    open: OpenContainer | None
    new_use_by: datetime
    open_new: bool = False


@dataclass(frozen=True)
class ScanDecision:
    """The use may be recorded: with these warnings, this override reason, and the session opened if planned."""

    warnings: tuple[ScanWarning, ...]
    override_reason: str | None
    open_session: bool
    udi: str | None = None  # an implant's UDI as a GS1 element string, kept with the use; None for other products
    quantity: Quantity = 1
    draw: Draw | None = None  # a multi-use product's container plan


@dataclass(frozen=True)
class _Scan:
    """Everything one decision looks at, with the values several rules share computed once."""

    session: ScanSession
    lot: LockedLot
    found: LotFound
    reading: ScanReading
    today: date
    now: datetime
    override_reason: str | None
    repeat: bool
    quantity: Quantity = 1
    container: ContainerState | None = None

    @cached_property
    def draw(self) -> Draw | None:
        """Which container a multi-use dose comes from (raises the container refusals)."""
        if self.container is None or not self.lot.multi_use:
            return None
        return plan_draw(
            container=self.container.open,
            capacity=self.lot.container_quantity,
            quantity=self.quantity,
            now=self.now,
            new_use_by=self.container.new_use_by,
            open_new=self.container.open_new,
            unit=self.lot.unit,
        )

    @cached_property
    def expiry(self) -> date:
        """The expiry that counts: the earlier of the recorded one and the barcode's."""
        if self.reading.expiry is None:
            return self.lot.expiry_date
        return min(self.lot.expiry_date, self.reading.expiry)

    @cached_property
    def conflicts(self) -> list[str]:
        """The product's ingredients the client is allergic to."""
        return allergy_conflicts(self.session.allergies, self.lot.ingredients)

    @cached_property
    def item(self) -> dict[str, Any]:
        """The product and lot every refusal names, so the chair can say which ampoule it means."""
        lot = self.lot
        return {
            "product": {
                "id": lot.product_id,
                "name": lot.product_name,
                "brand": lot.brand_name,
                "gtin": self.reading.gtin,
                "unit": lot.unit,
            },
            "lot": {"id": lot.id, "lot_number": lot.lot_number, "expiry_date": lot.expiry_date.isoformat()},
        }


def check_session(session: ScanSession) -> None:
    """Raise Conflict(session_closed, client_erased) when the session takes no more scans (before the barcode)."""
    if session.status == "closed":
        raise Conflict("The session is closed; open a new one to record more.", code="session_closed")
    if session.client_erased:
        raise Conflict("The session's client was erased: no new use may be recorded on them.", code="client_erased")


def serial_already_used(serial: str | None, **extra: Any) -> Conflict:
    """The refusal of an ampoule serial that a live use already carries."""
    return Conflict(f"Ampoule serial {serial} was already used.", code="serial_already_used", serial=serial, **extra)


# ------------------------------------------------------------------ refusals, in the order they are checked


def _session_closed(scan: _Scan) -> InventoryError | None:
    try:
        check_session(scan.session)
    except Conflict as error:
        return error
    return None


def _recalled(scan: _Scan) -> InventoryError | None:
    if scan.lot.status != "recalled":
        return None
    return Conflict(
        f"Lot {scan.lot.lot_number} is recalled: do not use it.", code="lot_recalled", lot_id=scan.lot.id, **scan.item
    )


def _quarantined(scan: _Scan) -> InventoryError | None:
    if scan.lot.status != "quarantined":
        return None
    return Conflict(
        f"Lot {scan.lot.lot_number} is quarantined: do not use it.",
        code="lot_quarantined",
        lot_id=scan.lot.id,
        **scan.item,
    )


def _expired(scan: _Scan) -> InventoryError | None:
    if not is_expired(scan.expiry, scan.today):
        return None
    expiry = scan.expiry.isoformat()
    return Conflict(
        f"Lot {scan.lot.lot_number} expired on {scan.expiry}: do not use it.",
        code="lot_expired",
        lot_id=scan.lot.id,
        expiry_date=expiry,
        **{**scan.item, "lot": {**scan.item["lot"], "expiry_date": expiry}},
    )


def _serial_reused(scan: _Scan) -> InventoryError | None:
    if scan.reading.serial is None or not scan.lot.serial_used:
        return None
    return serial_already_used(scan.reading.serial, **scan.item)


def _repeated(scan: _Scan) -> InventoryError | None:
    prior = scan.lot.repeat_of
    seconds_ago = repeat_seconds_ago(prior.used_at if prior else None, scan.now)
    if prior is None or seconds_ago is None or scan.repeat:
        return None
    return Conflict(
        f"This barcode was recorded on this session {seconds_ago} s ago; if this is another ampoule,"
        " scan it again with repeat confirmed.",
        code="repeat_scan",
        usage_id=prior.id,
        seconds_ago=seconds_ago,
        window_seconds=int(REPEAT_SCAN_WINDOW.total_seconds()),
        **scan.item,
    )


def _allergic(scan: _Scan) -> InventoryError | None:
    if not scan.conflicts or scan.override_reason is not None:
        return None
    return Conflict(
        f"The client is allergic to {', '.join(scan.conflicts)}. Give an override reason to use it anyway.",
        code="allergy_conflict",
        ingredients=scan.conflicts,
        **scan.item,
    )


def _container(scan: _Scan) -> InventoryError | None:
    try:
        scan.draw  # noqa: B018 - computing the plan is the check
    except Conflict as error:
        error.extra.update(scan.item)
        return error
    return None


_REFUSALS: Sequence[Callable[[_Scan], InventoryError | None]] = (
    _session_closed,
    _recalled,
    _quarantined,
    _expired,
    _serial_reused,
    _repeated,
    _allergic,
    _container,
)


# ------------------------------------------------------------------ warnings, in the order they are listed


def _lot_origin(scan: _Scan) -> ScanWarning | None:
    number = scan.lot.lot_number
    if scan.found is LotFound.CREATED:
        return ScanWarning(
            "lot_not_received", f"Lot {number} was never received; it is recorded and flagged for a manager."
        )
    if scan.found is LotFound.INFERRED:
        return ScanWarning("lot_inferred", f"The barcode carries no lot; the only usable lot here, {number}, is used.")
    if scan.found is LotFound.KNOWN_NOT_RECEIVED:
        return ScanWarning("lot_not_received", f"Lot {number} was never received.")
    return None


def _expiry_mismatch(scan: _Scan) -> ScanWarning | None:
    recorded, printed = scan.lot.expiry_date, scan.reading.expiry
    if printed is None or printed == recorded:
        return None
    return ScanWarning(
        "expiry_mismatch",
        f"The barcode says expiry {printed}, the lot is recorded with {recorded}; the earlier counts.",
    )


def _allergy_overridden(scan: _Scan) -> ScanWarning | None:
    if not scan.conflicts:
        return None
    return ScanWarning(
        "allergy_overridden",
        f"Allergy to {', '.join(scan.conflicts)} overridden.",
        {"ingredients": scan.conflicts},
    )


def _expires_soon(scan: _Scan) -> ScanWarning | None:
    if not expires_soon(scan.expiry, scan.today):
        return None
    return ScanWarning(
        "expires_soon",
        f"Lot {scan.lot.lot_number} expires on {scan.expiry}.",
        {"expiry_date": scan.expiry.isoformat()},
    )


def _fefo_violation(scan: _Scan) -> ScanWarning | None:
    earlier = scan.lot.earlier
    if earlier is None:
        return None
    return ScanWarning(
        "fefo_violation",
        f"Lot {earlier.lot_number} expires earlier ({earlier.expiry_date}) and is on the shelf here.",
        {"lot_id": earlier.id},
    )


def _not_in_protocol(scan: _Scan) -> ScanWarning | None:
    if not not_in_protocol(scan.lot.product_id, scan.session.protocol_products):
        return None
    return ScanWarning(
        "not_in_protocol", f"{scan.lot.product_name} is not part of this session's protocol; the use is recorded."
    )


def _container_opened(scan: _Scan) -> ScanWarning | None:
    draw = scan.draw
    if draw is None or not draw.opens:
        return None
    disposed = draw.disposal
    message = f"A new container of lot {scan.lot.lot_number} was opened."
    if disposed is not None:
        message += f" The previous one's {disposed.container.remaining} {scan.lot.unit} left was disposed."
    return ScanWarning(
        "container_opened",
        message,
        {"disposed_container_id": disposed.container.id, "disposed_reason": disposed.reason} if disposed else {},
    )


_WARNINGS: Sequence[Callable[[_Scan], ScanWarning | None]] = (
    _lot_origin,
    _expiry_mismatch,
    _allergy_overridden,
    _expires_soon,
    _fefo_violation,
    _not_in_protocol,
    _container_opened,
)


def decide_scan(
    *,
    session: ScanSession,
    lot: LockedLot,
    found: LotFound,
    reading: ScanReading,
    today: date,
    now: datetime,
    override_reason: str | None = None,
    repeat: bool = False,
    quantity: Quantity = 1,
    container: ContainerState | None = None,
) -> ScanDecision:
    """Decide the use of `lot` on the session's client: the first refusal that applies, raised, or the decision.

    `today` is the location's local date (expiry, expires-soon), `now` the instant of the scan (repeat window).
    `override_reason` is the checked reason typed at the chair, if any; it is recorded only when it overrides an
    allergy. `repeat` confirms a second use of a barcode recorded on the session within the repeat window.

    Raises Conflict: session_closed, lot_recalled, lot_quarantined, lot_expired, serial_already_used, repeat_scan,
    allergy_conflict, container_expired, container_insufficient; each but session_closed carries the `product`
    and `lot` it refuses. Unprocessable quantity_not_whole / quantity_precision when `quantity` does not fit the
    product's unit. `container` is the opened-container state of a multi-use product (None: single use).
    """
    quantity = quantities.check(quantity, lot.unit)
    scan = _Scan(session, lot, found, reading, today, now, override_reason, repeat, quantity, container)
    for refusal in _REFUSALS:
        error = refusal(scan)
        if error is not None:
            raise error
    warnings = tuple(warning for rule in _WARNINGS if (warning := rule(scan)) is not None)
    return ScanDecision(
        warnings=warnings,
        override_reason=override_reason if scan.conflicts else None,
        open_session=session.status == "planned",
        udi=_udi(scan),
        quantity=quantity,
        draw=scan.draw,
    )


def _udi(scan: _Scan) -> str | None:
    """The implant's UDI from what was scanned: the GTIN, the printed expiry (else the lot's), lot and serial."""
    if not scan.lot.implant:
        return None
    return implant_udi(
        gtin=scan.reading.gtin,
        expiry=scan.reading.expiry or scan.lot.expiry_date,
        lot_number=scan.lot.lot_number,
        serial=scan.reading.serial,
    )


# The one warning decided by the write's own statement from the on-hand it leaves (the before and after figures
# fill the two %s), so the stored use carries it from the start: exact under concurrent scans of the lot.
STOCK_DISCREPANCY = "Recorded stock here was %s; the use is recorded and on-hand goes to %s."


def stock_discrepancy(*, on_hand_after: Quantity, quantity: Quantity) -> ScanWarning | None:
    """The warning the write adds for a use that leaves `on_hand_after` below zero (what the SQL applies)."""
    if on_hand_after >= 0:
        return None
    return ScanWarning("stock_discrepancy", STOCK_DISCREPANCY % (on_hand_after + quantity, on_hand_after))


# ------------------------------------------------------------------ which lot a barcode without one means


@dataclass(frozen=True)
class StockedLot:
    """A usable lot of the product with stock at the location."""

    id: int
    lot_number: str
    expiry_date: date
    on_hand: int


def infer_lot(usable: Sequence[StockedLot]) -> StockedLot:
    """The lot a barcode without one means: the only usable lot here; raises Conflict lot_required / lot_ambiguous."""
    if not usable:
        raise Conflict(
            "The barcode carries no lot and no usable lot of this product is in stock here; scan the lot"
            " label or type the lot number.",
            code="lot_required",
        )
    if len(usable) > 1:
        raise Conflict(
            "The barcode carries no lot and several lots are in stock here; scan the lot label.",
            code="lot_ambiguous",
            candidates=[
                {
                    "lot_id": lot.id,
                    "lot_number": lot.lot_number,
                    "expiry_date": lot.expiry_date.isoformat(),
                    "on_hand": lot.on_hand,
                }
                for lot in usable
            ],
        )
    return usable[0]


def unknown_lot_without_expiry(lot_number: str) -> Conflict:
    """The refusal of a barcode naming a lot never received that carries no expiry to create it from."""
    return Conflict(
        f"Lot {lot_number} was never received and the barcode carries no expiry date; receive it first.",
        code="lot_required",
    )
