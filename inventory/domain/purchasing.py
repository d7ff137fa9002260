"""Purchasing rules: reorder needs grouped into one draft per supplier and location, packs, order states.

- A **need** is an open reorder alert's suggested quantity (single units) for a product at a location, less what
  is already ordered and not counted by the alert (the lines of open drafts: the alert's arithmetic counts only
  sent orders as on order).
- A product's **supplier** is the one of its supplier offers with the shortest lead time (then the lowest
  supplier id): the soonest delivery. A product without an offer is *unassigned* and reported, never dropped.
  The reorder arithmetic uses that same supplier's lead time (`domain.reorder.lead_time_for`).
- Quantities are rounded **up** to whole packs of that supplier (`pack_units` single units each).
- Status: draft → sent → partially_received → received; draft, sent and partially_received may be cancelled.
  Receiving moves a sent order to received when every line has received at least its quantity, else to
  partially_received; a draft or cancelled order cannot be received against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from inventory.domain.errors import Conflict

STATUSES = ("draft", "sent", "partially_received", "received", "cancelled")
ON_ORDER = ("sent", "partially_received")  # the statuses whose outstanding quantities count as on order
CANCELLABLE = ("draft", "sent", "partially_received")
RECEIVABLE = ("sent", "partially_received", "received")  # a late extra box after "received" is an over-delivery


@dataclass(frozen=True)
class Need:
    """Single units an open reorder alert suggests for a product at a location."""

    product_id: int
    location_id: int
    quantity: int


@dataclass(frozen=True)
class Offer:
    """How one supplier sells one product."""

    supplier_id: int
    product_id: int
    pack_units: int
    lead_time_days: int


@dataclass(frozen=True)
class PlannedLine:
    """Single units to add to a draft for one product (a whole number of packs)."""

    product_id: int
    quantity: int
    packs: int


@dataclass(frozen=True)
class PlannedOrder:
    """What to add to the draft of one supplier at one location."""

    supplier_id: int
    location_id: int
    lines: tuple[PlannedLine, ...]


@dataclass(frozen=True)
class Unassigned:
    """A need no supplier sells: shown to the manager rather than dropped."""

    product_id: int
    location_id: int
    quantity: int


@dataclass(frozen=True)
class Plan:
    """The drafts to make or add to, and the needs without a supplier."""

    orders: tuple[PlannedOrder, ...]
    unassigned: tuple[Unassigned, ...]


def packs_for(quantity: int, pack_units: int) -> int:
    """Whole packs covering `quantity` single units (0 for no need)."""
    if quantity <= 0:
        return 0
    units = max(1, pack_units)
    return -(-quantity // units)


class _Offering(Protocol):
    @property
    def supplier_id(self) -> int: ...

    @property
    def lead_time_days(self) -> int: ...


OfferT = TypeVar("OfferT", bound=_Offering)


def choose_offer(offers: Iterable[OfferT]) -> OfferT | None:
    """The offer with the shortest lead time, then the lowest supplier id; None without offers."""
    return min(offers, key=lambda o: (o.lead_time_days, o.supplier_id), default=None)


def plan_orders(
    needs: Iterable[Need], offers: Iterable[Offer], already: Mapping[tuple[int, int], int] | None = None
) -> Plan:
    """Group needs into drafts per supplier and location, in whole packs.

    `already` holds, per (product, location), single units already ordered that the need does not account for;
    a need they cover orders nothing. Orders and lines come out sorted by ids, so the result is deterministic.
    """
    already = already or {}
    by_product: dict[int, list[Offer]] = {}
    for each in offers:
        by_product.setdefault(each.product_id, []).append(each)
    grouped: dict[tuple[int, int], list[PlannedLine]] = {}
    unassigned: list[Unassigned] = []
    for need in sorted(needs, key=lambda n: (n.location_id, n.product_id)):
        remaining = need.quantity - max(0, already.get((need.product_id, need.location_id), 0))
        if remaining <= 0:
            continue
        offer = choose_offer(by_product.get(need.product_id, ()))
        if offer is None:
            unassigned.append(Unassigned(need.product_id, need.location_id, remaining))
            continue
        packs = packs_for(remaining, offer.pack_units)
        line = PlannedLine(product_id=need.product_id, quantity=packs * max(1, offer.pack_units), packs=packs)
        grouped.setdefault((offer.supplier_id, need.location_id), []).append(line)
    orders = tuple(
        PlannedOrder(supplier_id=supplier, location_id=location, lines=tuple(lines))
        for (supplier, location), lines in sorted(grouped.items())
    )
    return Plan(orders=orders, unassigned=tuple(unassigned))


@dataclass(frozen=True)
class LineState:
    """Units ordered and received on one line."""

    quantity: int
    received: int


def status_after_receipt(lines: Sequence[LineState]) -> str:
    """received when every line has received at least its quantity, else partially_received."""
    return "received" if all(line.received >= line.quantity for line in lines) else "partially_received"


def outstanding(line: LineState) -> int:
    """Units still expected on a line (never negative: an over-delivery owes nothing)."""
    return max(0, line.quantity - line.received)


def over_delivered(line: LineState) -> int:
    """Units received beyond a line's quantity (a product the order did not name has quantity 0)."""
    return max(0, line.received - line.quantity)


def is_late(status: str, expected_on: date | None, today: date) -> bool:
    """A sent or partially received order whose expected date is before the location's today."""
    return status in ON_ORDER and expected_on is not None and expected_on < today


def _refuse(order_id: int, status: str, action: str) -> Conflict:
    return Conflict(
        f"Purchase order {order_id} is {status.replace('_', ' ')}: it cannot be {action}.",
        code="invalid_transition",
        order_id=order_id,
        order_status=status,
    )


def check_editable(order_id: int, status: str) -> None:
    """Only a draft's lines change; raises Conflict(invalid_transition)."""
    if status != "draft":
        raise _refuse(order_id, status, "edited")


def check_sendable(order_id: int, status: str) -> None:
    """Only a draft is sent; raises Conflict(invalid_transition)."""
    if status != "draft":
        raise _refuse(order_id, status, "sent")


def check_cancellable(order_id: int, status: str) -> None:
    """A draft, sent or partially received order may be cancelled; raises Conflict(invalid_transition)."""
    if status not in CANCELLABLE:
        raise _refuse(order_id, status, "cancelled")


def check_receivable(order_id: int, status: str) -> None:
    """Deliveries are received against sent orders only; raises Conflict(invalid_transition)."""
    if status not in RECEIVABLE:
        raise _refuse(order_id, status, "received against")
