"""Returns to a supplier (pure): the reasons, the document number, what a return may take off the shelf.

- A return sends units of one lot from one location back to a supplier, for a reason: `recalled`, `damaged`,
  `expired` or `other` (a note says more). It is one `return` ledger row of minus the quantity at the location.
- It never takes more than is on hand there (insufficient_stock), whatever the lot's status: recalled and
  quarantined lots are exactly what goes back, so their status is no bar.
- Its document number is `RET-` and its id on six digits or more (`RET-000042`): printed on the return note,
  written in the ledger row's reason, searchable.
"""

from __future__ import annotations

from inventory.domain.errors import Conflict, Unprocessable
from inventory.domain.quantities import Quantity

REASONS = ("recalled", "damaged", "expired", "other")
NUMBER_PREFIX = "RET-"
MAX_QUANTITY = 100_000
MAX_NOTE = 500


def document_number(return_id: int) -> str:
    """The return note's number: RET- and the id, zero-padded to six digits."""
    return f"{NUMBER_PREFIX}{return_id:06d}"


def check_reason(reason: str) -> str:
    """The reason if it is one of REASONS; raises Unprocessable(validation_error)."""
    if reason not in REASONS:
        raise Unprocessable(f"reason is one of {', '.join(REASONS)}.", code="validation_error", field="reason")
    return reason


def check_quantity(quantity: int) -> int:
    """A whole number of units from 1 to MAX_QUANTITY; raises Unprocessable(validation_error)."""
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Unprocessable(
            f"quantity is a whole number from 1 to {MAX_QUANTITY}.", code="validation_error", field="quantity"
        )
    return quantity


def clean_note(note: str | None) -> str | None:
    """The note trimmed, None when empty; raises Unprocessable for control characters or over MAX_NOTE."""
    text = None if note is None else note.strip()
    if not text:
        return None
    if len(text) > MAX_NOTE:
        raise Unprocessable(f"The note is at most {MAX_NOTE} characters.", code="validation_error", field="note")
    if not all(ch.isprintable() or ch in "\n\t" for ch in text):
        raise Unprocessable("The note contains control characters.", code="validation_error", field="note")
    return text


def insufficient(*, lot_number: str, location_id: int, on_hand: Quantity, quantity: Quantity) -> Conflict:
    """The refusal of a return of more than is on hand at the location: Conflict(insufficient_stock)."""
    return Conflict(
        f"Only {max(on_hand, 0)} of lot {lot_number} on hand at location {location_id}; {quantity} to return.",
        code="insufficient_stock",
        on_hand=max(on_hand, 0),
        requested=quantity,
    )


def ledger_reason(number: str, reason: str, note: str | None) -> str:
    """The ledger row's reason: the reason's code, then the document number and the note ("damaged: RET-000007")."""
    return f"{reason}: {number}" + (f" ({note})" if note else "")
