"""The receiving decision: each delivery line checked on its own, then against the lot it names.

Pure: the service reads (the location's day, barcodes, the lots as upserted), these functions decide, and the
service writes all lines at once. The order of the refusals is the service's order of work:

    the receipt   validation_error (no lines, too many, a quantity out of bounds)
    each line     (in the order given) date_out_of_range, lot_expired
    each lot      (in `receiving_order`) lot_expiry_mismatch, lot_recalled / lot_quarantined
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from inventory.domain import dates
from inventory.domain.errors import Conflict, Unprocessable
from inventory.domain.lots import lot_key, similar_key
from inventory.domain.quantities import Quantity
from inventory.domain.rules import is_expired

MAX_LINES = 500
MAX_QUANTITY = 100_000


def check_receipt(quantities: Sequence[int]) -> None:
    """Raise Unprocessable(validation_error) unless there are 1 to MAX_LINES lines of 1 to MAX_QUANTITY each."""
    if not quantities:
        raise Unprocessable("A receipt needs at least one line.", code="validation_error")
    if len(quantities) > MAX_LINES:
        raise Unprocessable(f"A receipt has at most {MAX_LINES} lines.", code="validation_error")
    for quantity in quantities:
        if quantity < 1 or quantity > MAX_QUANTITY:
            raise Unprocessable("Quantity must be a positive whole number.", code="validation_error")


@dataclass(frozen=True)
class PlannedLine:
    """A delivery line that passed its own checks: which lot of which product, and how many units arrive."""

    index: int
    product_id: int
    lot_number: str  # as printed, trimmed
    expiry: date
    quantity: Quantity  # the product's unit: the quantity entered times the pack's units (and container's)
    gtin: str | None = None
    barcode: str | None = None

    @property
    def key(self) -> tuple[int, str]:
        """The lot this line names: product and normalised lot number."""
        return self.product_id, lot_key(self.lot_number)


def plan_line(
    *,
    index: int,
    product_id: int,
    lot_number: str,
    expiry: date,
    quantity: int,
    units: int = 1,
    gtin: str | None = None,
    barcode: str | None = None,
    today: date,
) -> PlannedLine:
    """Check one line at the location's local `today`; `units` is the scanned pack's (a box of 10 multiplies).

    Raises DateOutOfRange (an expiry beyond MAX_EXPIRY_YEARS) and Unprocessable(lot_expired).
    """
    dates.require_not_after(
        expiry, dates.years_after(today, dates.MAX_EXPIRY_YEARS), what=f"Line {index + 1}: the expiry date"
    )
    if is_expired(expiry, today):
        raise Unprocessable(
            f"Line {index + 1}: lot {lot_number} expired on {expiry}; it cannot be received.",
            code="lot_expired",
            line=index,
        )
    return PlannedLine(index, product_id, lot_number, expiry, units * quantity, gtin, barcode)


def receiving_order(lines: Iterable[PlannedLine]) -> list[PlannedLine]:
    """The lines in the order their lots are locked and checked: product, lot, then line.

    A fixed order of row locks keeps concurrent receipts of the same lots from deadlocking.
    """
    return sorted(lines, key=lambda line: (*line.key, line.index))


@dataclass(frozen=True)
class NewLot:
    """A lot to create when absent, from the first line (in receiving order) that names it."""

    product_id: int
    lot_number: str
    key: str
    similar: str
    expiry: date


def lots_named(ordered: Sequence[PlannedLine]) -> list[NewLot]:
    """The distinct lots the lines name, each as its first line would create it, in receiving order."""
    seen: dict[tuple[int, str], NewLot] = {}
    for line in ordered:
        if line.key not in seen:
            seen[line.key] = NewLot(
                line.product_id, line.lot_number, line.key[1], similar_key(line.lot_number), line.expiry
            )
    return list(seen.values())


@dataclass(frozen=True)
class ReceivedLot:
    """A lot as the store found or created it for the receipt."""

    id: int
    product_id: int
    lot_number: str
    expiry_date: date
    status: str
    not_received: bool
    created: bool  # created by this receipt


@dataclass(frozen=True)
class LineDecision:
    """A line to write: its lot, and whether this line is the one that created it."""

    line: PlannedLine
    lot: ReceivedLot
    lot_created: bool


def decide_lines(ordered: Sequence[PlannedLine], lots: Mapping[tuple[int, str], ReceivedLot]) -> list[LineDecision]:
    """Check each line, in receiving order, against its lot; the first refusal is raised.

    Raises Conflict lot_expiry_mismatch (the lot is recorded with another expiry, or an earlier line of this
    receipt created it with another) and lot_recalled / lot_quarantined.
    """
    decisions: list[LineDecision] = []
    credited: set[int] = set()
    for line in ordered:
        lot = lots[line.key]
        if lot.expiry_date != line.expiry:
            raise Conflict(
                f"Lot {lot.lot_number} is already recorded with expiry {lot.expiry_date},"
                f" not {line.expiry}. Check the box; correct the existing lot if it was entered wrongly.",
                code="lot_expiry_mismatch",
                lot_id=lot.id,
                recorded_expiry=lot.expiry_date.isoformat(),
                line=line.index,
            )
        if lot.status != "active":
            raise Conflict(
                f"Lot {lot.lot_number} is {lot.status} and cannot be received.",
                code=f"lot_{lot.status}",
                lot_id=lot.id,
                line=line.index,
            )
        decisions.append(LineDecision(line, lot, lot_created=lot.created and lot.id not in credited))
        credited.add(lot.id)
    return decisions
