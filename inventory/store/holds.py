"""Taking lots out of usable stock and back: fencing scans off, locking lots, their status and ledger rows."""

from __future__ import annotations

from dataclasses import dataclass

from inventory import db
from inventory.db import Connection
from inventory.domain.quantities import Quantity, plain
from inventory.store.records import LotRef, lot_ref


@dataclass(frozen=True)
class HeldLevel:
    """A stock level of a lot being held or released: where, how much, and the lot's product."""

    lot_id: int
    location_id: int
    on_hand: Quantity
    product_id: int


async def fence_scans(conn: Connection) -> None:
    """Hold back new row locks on lots until the caller commits.

    Scans take FOR SHARE on their lot; PostgreSQL lets a new share locker in while another one still holds the
    row, so a steady stream of scans could keep a FOR UPDATE waiting until lock_timeout. EXCLUSIVE mode (the
    weakest mode that conflicts with ROW SHARE) waits only for the scans already in flight, and the lock queue
    makes new ones wait behind it for the few milliseconds a recall takes. Plain reads are not affected.
    """
    await conn.execute("LOCK TABLE lot IN EXCLUSIVE MODE")


async def lock_lots(conn: Connection, lot_ids: list[int]) -> list[LotRef]:
    """Lock these lots for update in id order (the order every recall uses, so two never deadlock)."""
    rows = await conn.fetch(
        "SELECT id, product AS product_id, lot_number, expiry_date, status, not_received FROM lot"
        " WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE",
        lot_ids,
    )
    return [lot_ref(r) for r in rows]


async def set_lot_status(conn: Connection, lot_ids: list[int], status: str) -> None:
    """Change the status of lots."""
    await conn.execute("UPDATE lot SET status = $2 WHERE id = ANY($1::int[])", lot_ids, status)


async def held_stock(conn: Connection, lot_ids: list[int]) -> list[HeldLevel]:
    """Every stock level of these lots (zero and negative included), with the lot's product."""
    rows = await conn.fetch(
        "SELECT s.lot AS lot_id, s.location AS location_id, s.on_hand, l.product AS product_id"
        " FROM stock_level s JOIN lot l ON l.id = s.lot WHERE s.lot = ANY($1::int[]) ORDER BY s.lot, s.location",
        lot_ids,
    )
    return [HeldLevel(r["lot_id"], r["location_id"], plain(r["on_hand"]), r["product_id"]) for r in rows]


async def write_status_rows(
    conn: Connection, *, lot_ids: list[int], kind: str, reason: str, user_id: int, recall_id: int | None
) -> int:
    """One zero-quantity ledger row (quarantine or release) per location holding stock of these lots.

    On-hand stays the physical count; the row records when the stock left (or re-entered) usable stock.
    """
    result = await conn.execute(
        'INSERT INTO stock_movement (lot, location, quantity, kind, reason, "user", created_at, recall_id)'
        " SELECT s.lot, s.location, 0, $2, $3, $4, $6, $5 FROM stock_level s"
        " WHERE s.lot = ANY($1::int[]) AND s.on_hand > 0 ORDER BY s.lot, s.location",
        lot_ids,
        kind,
        reason,
        user_id,
        recall_id,
        db.now(),
    )
    return int(result.split()[-1])
