"""One lot for people: where its units are, and its ledger rows with who, when, where and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from inventory import clock, db
from inventory.domain.errors import NotFound
from inventory.domain.quantities import Quantity, plain
from inventory.store import catalog, lots, stock


@dataclass(frozen=True)
class LotLevel:
    """A lot's on-hand at one location, with that location's today."""

    location_id: int
    location_name: str
    location_timezone: str
    on_hand: Quantity
    today: date


@dataclass(frozen=True)
class LotStock:
    """A lot, its product, and its stock at every location that ever held it."""

    lot_id: int
    lot_number: str
    expiry_date: date
    status: str
    not_received: bool
    product_id: int
    product_name: str
    brand_name: str
    gtin: str | None
    levels: tuple[LotLevel, ...]


@dataclass(frozen=True)
class Movement:
    """A ledger row of the lot, with the on-hand at its location right after it."""

    id: int
    kind: str
    quantity: Quantity
    balance: Quantity
    at: datetime
    location_id: int
    location_name: str
    location_timezone: str
    reason: str | None
    user_email: str | None
    user_full_name: str | None
    supplier: str | None
    reference: str | None
    session_id: int | None
    other_location_name: str | None
    recall_id: int | None

    @classmethod
    def of(cls, row: Any) -> Movement:
        """From a row of `stock.lot_ledger`."""
        return cls(
            id=row["id"],
            kind=row["kind"],
            quantity=plain(row["quantity"]),
            balance=plain(row["balance"]),
            at=row["created_at"],
            location_id=row["location_id"],
            location_name=row["location_name"],
            location_timezone=row["location_timezone"],
            reason=row["reason"],
            user_email=row["user_email"],
            user_full_name=row["user_full_name"],
            supplier=row["supplier"],
            reference=row["reference"],
            session_id=row["session_id"],
            other_location_name=row["other_location_name"],
            recall_id=row["recall_id"],
        )


@dataclass(frozen=True)
class Ledger:
    """A lot's newest ledger rows, and how many it has in all."""

    movements: tuple[Movement, ...]
    total: int


async def lot_stock(*, lot_id: int) -> LotStock:
    """A lot with its product and its stock per location; raises NotFound."""
    async with db.connection() as conn:
        lot = await lots.get(conn, lot_id)
        if lot is None:
            raise NotFound.of("lot", lot_id)
        product = await catalog.get_product(conn, lot["product_id"])
        rows = await stock.list_levels(conn, location_id=None, product_id=None, lot_id=lot_id, include_empty=True)
    assert product is not None
    return LotStock(
        lot_id=lot_id,
        lot_number=lot["lot_number"],
        expiry_date=lot["expiry_date"],
        status=lot["status"],
        not_received=lot["not_received"],
        product_id=product["id"],
        product_name=product["name"],
        brand_name=product["brand_name"],
        gtin=product["gtin"],
        levels=tuple(
            LotLevel(
                location_id=row["location_id"],
                location_name=row["location_name"],
                location_timezone=row["location_timezone"],
                on_hand=plain(row["on_hand"]),
                today=clock.today_in(row["location_timezone"]),
            )
            for row in rows
        ),
    )


async def lot_ledger(*, lot_id: int, limit: int = 200) -> Ledger:
    """The lot's newest `limit` ledger rows (receipts, uses, voids, transfers, adjustments, disposals, holds)."""
    async with db.connection() as conn:
        rows = await stock.lot_ledger(conn, lot_id, limit=limit)
    return Ledger(movements=tuple(Movement.of(row) for row in rows), total=int(rows[0]["total"]) if rows else 0)
