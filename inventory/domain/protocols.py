"""Protocols (treatment templates): what a session of one should use, what it did use, what is missing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from inventory.domain.errors import Unprocessable
from inventory.domain.quantities import Quantity, plain

MAX_ITEMS = 50


@dataclass(frozen=True)
class ProtocolItem:
    """A product of a protocol and what one session uses of it, in the product's unit."""

    product_id: int
    quantity: Quantity
    product_name: str = ""
    unit: str = "each"


@dataclass(frozen=True)
class ChecklistItem:
    """A protocol item on a session: what it should use and what its live (non-voided) uses add up to."""

    product_id: int
    quantity: Quantity
    used: Quantity
    product_name: str = ""
    unit: str = "each"

    @property
    def done(self) -> bool:
        """Whether the session used at least the protocol's quantity."""
        return self.used >= self.quantity

    def as_dict(self) -> dict[str, Any]:
        """As the API shows it."""
        return {
            "product_id": self.product_id,
            "product_name": self.product_name,
            "unit": self.unit,
            "quantity": self.quantity,
            "used": self.used,
            "done": self.done,
        }


def check_items(items: Sequence[tuple[int, Quantity]]) -> None:
    """Raise Unprocessable unless the items are 1 to 50 distinct products with positive quantities."""
    if not 1 <= len(items) <= MAX_ITEMS:
        raise Unprocessable(f"A protocol lists 1 to {MAX_ITEMS} products.", code="validation_error")
    if len({product for product, _ in items}) != len(items):
        raise Unprocessable("A product is listed twice.", code="validation_error")
    if any(quantity <= 0 for _, quantity in items):
        raise Unprocessable("Quantities are above zero.", code="validation_error")


def checklist(items: Iterable[ProtocolItem], used: Iterable[tuple[int, Quantity]]) -> list[ChecklistItem]:
    """The protocol's items with what the session's live uses of each product add up to."""
    totals: dict[int, Decimal] = {}
    for product_id, quantity in used:
        totals[product_id] = totals.get(product_id, Decimal(0)) + Decimal(quantity)
    return [
        ChecklistItem(
            item.product_id,
            item.quantity,
            plain(totals.get(item.product_id, Decimal(0))),
            item.product_name,
            item.unit,
        )
        for item in items
    ]


def incomplete(items: Sequence[ChecklistItem]) -> dict[str, Any] | None:
    """The protocol_incomplete warning of a session closed with protocol items not (fully) used, or None."""
    missing = [item for item in items if not item.done]
    if not missing:
        return None
    return {
        "code": "protocol_incomplete",
        "message": f"{len(missing)} item(s) of the protocol were not used in full; the session is closed anyway.",
        "items": [item.as_dict() for item in missing],
    }


def not_in_protocol(product_id: int, protocol_products: tuple[int, ...] | None) -> bool:
    """Whether a scanned product falls outside the session's protocol (never when it follows none)."""
    return protocol_products is not None and product_id not in protocol_products
