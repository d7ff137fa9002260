"""Quantities in a product's unit: exact decimals with at most two places, whole numbers for `each`.

A quantity is an `int` when it is whole and a `Decimal` otherwise (never a float): whole quantities stay the plain
integers every single-use path has always used (and serialise as JSON integers), while 0.1 + 0.2 ml is exactly 0.3.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Final

from inventory.domain.errors import Unprocessable

Quantity = int | Decimal

UNITS: Final = ("each", "ml", "U")
PLACES: Final = 2
_STEP = Decimal(1).scaleb(-PLACES)


def plain(value: int | Decimal | str) -> Quantity:
    """The quantity in its one canonical form: an int when whole, else a normalised Decimal (0.30 -> 0.3)."""
    if isinstance(value, bool):
        raise TypeError("a quantity is not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        raise TypeError("quantities are never floats")
    number = Decimal(value)
    if number == number.to_integral_value():
        return int(number)
    return number.normalize()


def decode(text: str) -> Quantity:
    """A PostgreSQL numeric as text, in canonical form (the connection's codec for numeric)."""
    return plain(text)


def encode(value: int | Decimal) -> str:
    """A quantity as PostgreSQL numeric text; refuses floats, which would carry binary noise."""
    if isinstance(value, (float, bool)):
        raise TypeError(f"refusing to store {value!r} as an exact quantity")
    return str(value)


def places(value: Quantity) -> int:
    """How many decimal places the quantity has (0 when whole)."""
    if isinstance(value, int):
        return 0
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def check(value: Quantity, unit: str, *, field: str = "quantity") -> Quantity:
    """The quantity in canonical form if it fits the unit; raises Unprocessable otherwise.

    `each` counts whole containers (422 `quantity_not_whole`); ml and U take up to two decimal places
    (422 `quantity_precision`).
    """
    try:
        number = plain(value)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise Unprocessable(f"{field} must be a number.", code="validation_error") from error
    if unit == "each" and places(number):
        raise Unprocessable(
            f"{field} must be a whole number: this product is counted in units.", code="quantity_not_whole", unit=unit
        )
    if places(number) > PLACES:
        raise Unprocessable(f"{field} may have at most {PLACES} decimal places.", code="quantity_precision", unit=unit)
    return number


def containers(count: Quantity, container_quantity: Quantity) -> Quantity:
    """How much `count` whole containers hold (receipts and transfers count containers)."""
    return plain(Decimal(count) * Decimal(container_quantity))


def containers_for(amount: Quantity, container_quantity: Quantity) -> int:
    """The whole containers needed to hold at least `amount` (rounded up; 0 for nothing or less)."""
    if amount <= 0:
        return 0
    whole, rest = divmod(Decimal(amount), Decimal(container_quantity))
    return int(whole) + (1 if rest else 0)


def check_packaging(
    unit: str, container_quantity: int | Decimal | None, in_use_hours: int | None
) -> tuple[str, Quantity, int | None]:
    """A product's unit, container quantity and in-use hours as stored; raises Unprocessable when they disagree.

    `each` holds one unit per container and is single use; ml and U hold a positive quantity with at most two
    decimal places (1 when not given) and may be multi-use (`in_use_hours`).
    """
    if unit not in UNITS:
        raise Unprocessable("unit must be each, ml or U.", code="validation_error")
    size = plain(container_quantity) if container_quantity is not None else 1
    if unit == "each":
        if size != 1:
            raise Unprocessable("A product counted in units holds 1 per container.", code="container_quantity_invalid")
        if in_use_hours is not None:
            raise Unprocessable(
                "Only products counted in ml or U can be multi-use (in_use_hours).", code="in_use_hours_invalid"
            )
        return unit, 1, None
    if size <= 0 or places(size) > PLACES or size >= 10**9:
        raise Unprocessable(
            f"container_quantity must be above 0 with at most {PLACES} decimal places.",
            code="container_quantity_invalid",
        )
    return unit, size, in_use_hours
