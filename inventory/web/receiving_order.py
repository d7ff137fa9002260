"""Receiving against a purchase order on the page: what the order still expects beside what the draft holds.

The draft's lines are checked by the receiving service (`LinePreview`, with the product each names); here they are
summed per product and set against the order's lines, so under- and over-deliveries show before booking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from inventory.domain.errors import InventoryError
from inventory.services import purchasing
from inventory.services.purchasing import OrderRow
from inventory.services.receiving import LinePreview
from inventory.web.forms import refusal_message
from inventory.web.i18n import N_, gettext

RECEIVABLE = ("sent", "partially_received")
STATUS_NAMES = {
    "draft": N_("Draft"),
    "sent": N_("Sent"),
    "partially_received": N_("Partially received"),
    "received": N_("Received"),
    "cancelled": N_("Cancelled"),
}
_NOT_RECEIVABLE = N_("This order is not sent, or already received or cancelled: it cannot be received against.")
_OTHER_LOCATION = N_("This order is for another location: choose the location it is for.")
_NO_ORDER = N_("This order does not exist (any more).")


def order_status_name(status: str) -> str:
    """An order's status in the page's language."""
    return gettext(STATUS_NAMES[status]) if status in STATUS_NAMES else status


def order_refusal(error: InventoryError) -> str:
    """Why the delivery cannot be booked against the order, in the page's language."""
    if error.code == "invalid_transition":
        return gettext(_NOT_RECEIVABLE)
    if error.code == "location_mismatch":
        return gettext(_OTHER_LOCATION)
    if error.code == "not_found":
        return gettext(_NO_ORDER)
    return refusal_message(error)


@dataclass(frozen=True)
class ExpectedLine:
    """One product of the order: ordered, received before, in this delivery, and what would remain."""

    product_id: int
    product: str
    ordered: int
    received: int
    in_delivery: int

    @property
    def due(self) -> int:
        """Units still to come before this delivery."""
        return max(0, self.ordered - self.received)

    @property
    def after(self) -> int:
        """Units received once this delivery is booked."""
        return self.received + self.in_delivery

    @property
    def short(self) -> int:
        """Units still to come after this delivery (an under-delivery)."""
        return max(0, self.ordered - self.after)

    @property
    def over(self) -> int:
        """Units beyond the order after this delivery (an over-delivery)."""
        return max(0, self.after - self.ordered)


@dataclass(frozen=True)
class OrderCheck:
    """The order being received against, its lines set against the draft, and products it does not name."""

    order: OrderRow
    lines: tuple[ExpectedLine, ...]
    not_ordered: tuple[tuple[str, int], ...]  # (product, units) in the delivery that the order does not name

    @property
    def receivable(self) -> bool:
        """Whether the order can be received against."""
        return self.order.status in RECEIVABLE

    def prefill(self, values: Mapping[str, str]) -> dict[str, str]:
        """The typed line's fields, filled with the next product still to come and its units (typed values win)."""
        out = dict(values)
        waiting = [line for line in self.lines if line.short > 0]
        if not waiting or not self.receivable:
            return out
        if not out.get("product_id"):
            out["product_id"] = str(waiting[0].product_id)
        if not out.get("quantity"):
            same = next((line for line in waiting if str(line.product_id) == out["product_id"]), None)
            if same is not None:
                out["quantity"] = str(same.short)
        return out


def set_against(order: OrderRow, previews: Sequence[LinePreview]) -> OrderCheck:
    """The order's lines with the draft's units per product (refused lines count for nothing)."""
    units: dict[int, int] = {}
    names: dict[int, str] = {}
    for preview in previews:
        if preview.product_id is None or preview.refusal is not None:
            continue
        units[preview.product_id] = units.get(preview.product_id, 0) + preview.total
        names[preview.product_id] = preview.product or ""
    named = {line.product_id for line in order.lines}
    return OrderCheck(
        order=order,
        lines=tuple(
            ExpectedLine(
                product_id=line.product_id,
                product=line.product_name,
                ordered=line.quantity,
                received=line.received,
                in_delivery=units.get(line.product_id, 0),
            )
            for line in order.lines
        ),
        not_ordered=tuple((names[p], n) for p, n in units.items() if p not in named),
    )


async def check_order(order_id: int, previews: Sequence[LinePreview]) -> OrderCheck | None:
    """The order set against the draft, or None when it does not exist."""
    try:
        view = await purchasing.get_order(order_id)
    except InventoryError:
        return None
    return set_against(view.order, previews)


async def receivable_orders(location_id: int | None) -> list[OrderRow]:
    """Sent and partially received orders (at the location, when chosen), oldest first: the ones to receive."""
    found = []
    for status in RECEIVABLE:
        found += [v.order for v in await purchasing.list_orders(status=status, location_id=location_id, limit=200)]
    return sorted(found, key=lambda order: (order.sent_at or order.created_at, order.id))
