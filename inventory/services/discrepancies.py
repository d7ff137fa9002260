"""Lots to reconcile: stock that bookkeeping and the shelf disagree on, or that must leave the shelf."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from inventory import clock, db
from inventory.domain.quantities import Quantity, plain
from inventory.store import stock


class Reason(StrEnum):
    """Why a lot's stock at a location needs a manager."""

    NEVER_RECEIVED = "never_received"  # a scan named a lot no receipt brought in, and nobody has counted it since
    BELOW_ZERO = "below_zero"  # more recorded as used than was recorded on the shelf
    EXPIRED_ON_SHELF = "expired_on_shelf"  # units past their expiry (the location's local day) still on hand
    HELD_ON_SHELF = "held_on_shelf"  # units of a quarantined or recalled lot still on hand


@dataclass(frozen=True)
class FlaggedLot:
    """A lot's stock at one location, with every reason it is to be reconciled."""

    lot_id: int
    lot_number: str
    expiry_date: date
    status: str
    product_id: int
    product_name: str
    unit: str
    brand_name: str
    gtin: str | None
    location_id: int
    location_name: str
    location_timezone: str
    on_hand: Quantity
    today: date
    reasons: tuple[Reason, ...]

    @property
    def days_left(self) -> int:
        """Days from the location's today to the expiry (negative: expired)."""
        return (self.expiry_date - self.today).days

    @classmethod
    def of(cls, row: Any) -> FlaggedLot:
        """From a row of `stock.flagged_levels`."""
        return cls(
            lot_id=row["lot_id"],
            lot_number=row["lot_number"],
            expiry_date=row["expiry_date"],
            status=row["status"],
            product_id=row["product_id"],
            product_name=row["product_name"],
            unit=row["unit"],
            brand_name=row["brand_name"],
            gtin=row["gtin"],
            location_id=row["location_id"],
            location_name=row["location_name"],
            location_timezone=row["location_timezone"],
            on_hand=plain(row["on_hand"]),
            today=row["today"],
            reasons=tuple(reason for reason in Reason if row[reason.value]),
        )


async def flagged(*, location_id: int | None = None) -> list[FlaggedLot]:
    """Every lot to reconcile now (at one location, or everywhere), by location then expiry."""
    async with db.connection() as conn:
        rows = await stock.flagged_levels(conn, at=clock.now(), location_id=location_id)
    return [FlaggedLot.of(row) for row in rows]
