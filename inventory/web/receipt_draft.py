"""A delivery being received on the page: its lines travel in the form's hidden fields, one JSON object each.

Nothing is stored on the server until the delivery is booked: every post carries the whole draft back, and the
page checks it again with the receiving service (so what it shows is always what booking would do).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from inventory.domain.lots import lot_key
from inventory.services import receiving

MAX_LINES = receiving.MAX_LINES
MAX_QUANTITY = receiving.MAX_QUANTITY


@dataclass(frozen=True)
class DraftLine:
    """A line as entered: a scanned code, or product + lot + expiry typed in; and how many of it."""

    quantity: int
    barcode: str | None = None
    product_id: int | None = None
    lot_number: str | None = None
    expiry_date: date | None = None

    def encode(self) -> str:
        """The line as the hidden field's value."""
        if self.barcode is not None:
            return json.dumps({"barcode": self.barcode, "quantity": self.quantity})
        assert self.expiry_date is not None
        return json.dumps(
            {
                "product_id": self.product_id,
                "lot_number": self.lot_number,
                "expiry_date": self.expiry_date.isoformat(),
                "quantity": self.quantity,
            }
        )

    @property
    def identity(self) -> tuple[Any, ...]:
        """Lines of one identity are one line: the same code scanned again, or the same lot typed again."""
        if self.barcode is not None:
            return ("code", self.barcode)
        return ("typed", self.product_id, lot_key(self.lot_number or ""), self.expiry_date)

    def line_in(self) -> receiving.LineIn:
        """The line for the receiving service."""
        return receiving.LineIn(
            quantity=self.quantity,
            barcode=self.barcode,
            product_id=self.product_id,
            lot_number=self.lot_number,
            expiry_date=self.expiry_date,
        )


def decode(value: str) -> DraftLine | None:
    """A line from its hidden field, or None when it is not one (a tampered or truncated form)."""
    try:
        data = json.loads(value)
        if not isinstance(data, dict):
            return None
        quantity = data["quantity"]
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
            return None
        barcode = data.get("barcode")
        if isinstance(barcode, str) and barcode and len(data) == 2:
            return DraftLine(quantity=quantity, barcode=barcode)
        product_id, lot_number = data.get("product_id"), data.get("lot_number")
        if not isinstance(product_id, int) or not isinstance(lot_number, str) or not lot_number:
            return None
        return DraftLine(
            quantity=quantity,
            product_id=product_id,
            lot_number=lot_number,
            expiry_date=date.fromisoformat(str(data["expiry_date"])),
        )
    except (ValueError, KeyError, TypeError):
        return None


def decode_all(values: list[str]) -> list[DraftLine] | None:
    """Every line of the draft, or None when any hidden field is not a line."""
    lines = [decode(value) for value in values[: MAX_LINES + 1]]
    if any(line is None for line in lines) or len(values) > MAX_LINES:
        return None
    return [line for line in lines if line is not None]


def added(lines: list[DraftLine], line: DraftLine) -> tuple[list[DraftLine], int]:
    """The draft with `line` added (to the line of the same identity, if any) and the index it is at."""
    for index, existing in enumerate(lines):
        if existing.identity == line.identity:
            merged = replace(existing, quantity=existing.quantity + line.quantity)
            return [*lines[:index], merged, *lines[index + 1 :]], index
    return [*lines, line], len(lines)


def fingerprint(
    location_id: int,
    supplier: str | None,
    reference: str | None,
    lines: list[DraftLine],
    *,
    purchase_order_id: int | None = None,
) -> str:
    """What the booking sends, hashed: a retry with the same key books once only when it sends the same."""
    sent: dict[str, Any] = {
        "location_id": location_id,
        "supplier": supplier,
        "reference": reference,
        "lines": [json.loads(line.encode()) for line in lines],
    }
    if purchase_order_id is not None:  # absent otherwise: a delivery without an order hashes as it always did
        sent["purchase_order_id"] = purchase_order_id
    body = json.dumps(sent, sort_keys=True)
    return hashlib.sha256(b"POST /ui/receive\n" + body.encode()).hexdigest()
