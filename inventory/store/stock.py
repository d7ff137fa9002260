"""The stock ledger and on-hand levels, changed together by single atomic statements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from asyncpg import Record

from inventory import db
from inventory.db import Connection
from inventory.domain.quantities import Quantity, plain
from inventory.store.common import unit_gtin_sql


def level_change_sql(lot: str, location: str, delta: str, at: str) -> str:
    """SQL adding `delta` to a lot's on-hand at a location at time `at`, creating the level if needed; returns on_hand.

    The one way on-hand grows or is used (statements that also write the ledger row embed it as a CTE).
    """
    return (
        f"INSERT INTO stock_level (lot, location, on_hand, updated_at) VALUES ({lot}, {location}, {delta}, {at})"
        " ON CONFLICT (lot, location) DO UPDATE SET on_hand = stock_level.on_hand + EXCLUDED.on_hand,"
        " updated_at = EXCLUDED.updated_at RETURNING on_hand"
    )


_LEDGER_ROW = """ledger AS (
    INSERT INTO stock_movement (lot, location, quantity, kind, reason, "user", created_at,
                                receipt_line, usage, transfer_group, recall_id, container)
    SELECT $1, $2, $3, $4, $5, $6, $11, $7, $8, $9, $10, $12 FROM level
)"""

# One statement: change the level and append the ledger row, or do neither.
_ADD = f"""
WITH level AS ({level_change_sql("$1", "$2", "$3", "$11::timestamptz")}), {_LEDGER_ROW}
SELECT on_hand FROM level
"""

# Guarded decrement: no row changes unless enough is on hand.
_TAKE = f"""
WITH level AS (
    UPDATE stock_level SET on_hand = on_hand + $3, updated_at = $11
    WHERE lot = $1 AND location = $2 AND on_hand + $3 >= 0
    RETURNING on_hand
), {_LEDGER_ROW}
SELECT on_hand FROM level
"""


async def move(
    conn: Connection,
    *,
    lot_id: int,
    location_id: int,
    delta: Quantity,
    kind: str,
    user_id: int | None,
    reason: str | None = None,
    guard: bool = True,
    receipt_line_id: int | None = None,
    usage_id: int | None = None,
    transfer_group: str | None = None,
    recall_id: int | None = None,
    container_id: int | None = None,
    at: datetime | None = None,
) -> Quantity | None:
    """Apply a signed change to on-hand and append its ledger row; returns the new on-hand.

    With `guard`, a decrease that would take on-hand below zero changes nothing and returns None.
    Recorded use passes guard=False: traceability wins over bookkeeping.
    """
    statement = _TAKE if (guard and delta < 0) else _ADD
    value = await conn.fetchval(
        statement,
        lot_id,
        location_id,
        delta,
        kind,
        reason,
        user_id,
        receipt_line_id,
        usage_id,
        transfer_group,
        recall_id,
        db.now() if at is None else at,
        container_id,
    )
    return None if value is None else plain(value)


# Guarded decrement that also gives the ledger row's id (a document that explains the row keeps it).
_TAKE_RETURNING = """
WITH level AS (
    UPDATE stock_level SET on_hand = on_hand - $3, updated_at = $7
    WHERE lot = $1 AND location = $2 AND on_hand - $3 >= 0
    RETURNING on_hand
), ledger AS (
    INSERT INTO stock_movement (lot, location, quantity, kind, reason, "user", created_at)
    SELECT $1, $2, -$3, $4, $5, $6, $7 FROM level
    RETURNING id
)
SELECT level.on_hand, ledger.id AS movement_id FROM level, ledger
"""


async def take(
    conn: Connection, *, lot_id: int, location_id: int, quantity: Quantity, kind: str, user_id: int, reason: str
) -> tuple[Quantity, int] | None:
    """Take `quantity` units off a lot at a location with one ledger row; (on-hand after, the row's id).

    Changes nothing and returns None when fewer than `quantity` are on hand.
    """
    row = await conn.fetchrow(_TAKE_RETURNING, lot_id, location_id, quantity, kind, reason, user_id, db.now())
    return None if row is None else (plain(row["on_hand"]), int(row["movement_id"]))


async def on_hand(conn: Connection, lot_id: int, location_id: int, *, for_update: bool = False) -> Quantity | None:
    """On-hand of a lot at a location (None when it was never stocked there)."""
    lock = " FOR UPDATE" if for_update else ""
    value = await conn.fetchval(
        f"SELECT on_hand FROM stock_level WHERE lot = $1 AND location = $2{lock}", lot_id, location_id
    )
    return None if value is None else plain(value)


async def lock_levels(conn: Connection, lot_id: int, location_ids: list[int]) -> None:
    """Lock a lot's levels at these locations in location order (so opposite transfers cannot deadlock)."""
    await conn.execute(
        "SELECT 1 FROM stock_level WHERE lot = $1 AND location = ANY($2::int[]) ORDER BY location FOR UPDATE",
        lot_id,
        location_ids,
    )


async def levels_of_lots(conn: Connection, lot_ids: list[int]) -> list[dict[str, Any]]:
    """Every non-zero level of these lots."""
    rows = await conn.fetch(
        "SELECT lot AS lot_id, location AS location_id, on_hand FROM stock_level"
        " WHERE lot = ANY($1::int[]) AND on_hand <> 0 ORDER BY lot, location",
        lot_ids,
    )
    return [dict(r) for r in rows]


async def list_levels(
    conn: Connection, *, location_id: int | None, product_id: int | None, lot_id: int | None, include_empty: bool
) -> list[dict[str, Any]]:
    """Stock per lot and location, with lot, product and location details."""
    rows = await conn.fetch(
        "SELECT s.on_hand, l.id AS lot_id, l.lot_number, l.expiry_date, l.status, l.not_received,"
        " p.id AS product_id, p.name AS product_name, p.unit, b.name AS brand_name, b.id AS brand_id,"
        f" {unit_gtin_sql('p.id')} AS gtin,"
        " o.id AS location_id, o.name AS location_name, o.timezone AS location_timezone"
        " FROM stock_level s JOIN lot l ON l.id = s.lot JOIN product p ON p.id = l.product"
        " JOIN brand b ON b.id = p.brand JOIN location o ON o.id = s.location"
        " WHERE ($1::int IS NULL OR s.location = $1) AND ($2::int IS NULL OR l.product = $2)"
        " AND ($3::int IS NULL OR l.id = $3) AND ($4 OR s.on_hand <> 0)"
        " ORDER BY lower(p.name), l.expiry_date, l.id, o.id",
        location_id,
        product_id,
        lot_id,
        include_empty,
    )
    return [dict(r) for r in rows]


async def ledger_sum(conn: Connection, lot_id: int, location_id: int) -> Quantity:
    """Sum of the ledger rows of a lot at a location."""
    value = await conn.fetchval(
        "SELECT coalesce(sum(quantity), 0) FROM stock_movement WHERE lot = $1 AND location = $2", lot_id, location_id
    )
    return plain(value)


async def movements(
    conn: Connection, *, lot_id: int | None, location_id: int | None, limit: int
) -> list[dict[str, Any]]:
    """Ledger rows, newest first."""
    rows = await conn.fetch(
        'SELECT id, lot AS lot_id, location AS location_id, quantity, kind, reason, "user" AS user_id,'
        " created_at, receipt_line AS receipt_line_id, usage AS usage_id, transfer_group, recall_id"
        " FROM stock_movement WHERE ($1::int IS NULL OR lot = $1) AND ($2::int IS NULL OR location = $2)"
        " ORDER BY id DESC LIMIT $3",
        lot_id,
        location_id,
        limit,
    )
    return [dict(r) for r in rows]


# $1 = the instant; `today` is each location's local date then. A level is flagged for each fact that a manager
# must reconcile; zero levels never are (nothing is on the shelf, nothing to count or throw away). A never-received
# lot stops being flagged at a location once a manager's adjustment (a count) was written there.
_FLAGGED_LEVELS = f"""
SELECT s.on_hand, s.location AS location_id, o.name AS location_name, o.timezone AS location_timezone,
       l.id AS lot_id, l.product AS product_id, l.lot_number, l.expiry_date, l.status,
       p.name AS product_name, p.unit, b.name AS brand_name, {unit_gtin_sql("p.id")} AS gtin, f.*
FROM stock_level s JOIN lot l ON l.id = s.lot JOIN product p ON p.id = l.product
JOIN brand b ON b.id = p.brand JOIN location o ON o.id = s.location
CROSS JOIN LATERAL (SELECT ($1::timestamptz AT TIME ZONE o.timezone)::date AS today) t
CROSS JOIN LATERAL (
    SELECT t.today,
           l.not_received AND NOT EXISTS (
               SELECT 1 FROM stock_movement m WHERE m.lot = s.lot AND m.location = s.location AND m.kind = 'adjust'
           ) AS never_received,
           s.on_hand < 0 AS below_zero,
           s.on_hand > 0 AND l.expiry_date < t.today AS expired_on_shelf,
           s.on_hand > 0 AND l.status <> 'active' AS held_on_shelf
) f
WHERE s.on_hand <> 0 AND ($2::int IS NULL OR s.location = $2)
  AND (f.never_received OR f.below_zero OR f.expired_on_shelf OR f.held_on_shelf)
ORDER BY lower(o.name), o.id, l.expiry_date, lower(p.name), l.id
"""


async def flagged_levels(conn: Connection, *, at: datetime, location_id: int | None) -> list[Record]:
    """Levels to reconcile at instant `at`: never received, below zero, expired or held with units on the shelf."""
    rows: list[Record] = await conn.fetch(_FLAGGED_LEVELS, at, location_id)
    return rows


# The lot's newest ledger rows with where, who and what each points at (the receipt, the use's session, the other
# side of a transfer), the on-hand at that location right after each row, and how many rows the lot has in all.
_LOT_LEDGER = """
WITH newest AS (
    SELECT m.*, sum(m.quantity) OVER (PARTITION BY m.location ORDER BY m.id) AS balance, count(*) OVER () AS total
    FROM stock_movement m WHERE m.lot = $1
    ORDER BY m.id DESC
    LIMIT $2
)
SELECT m.id, m.location AS location_id, o.name AS location_name, o.timezone AS location_timezone,
       m.quantity, m.balance, m.total, m.kind, m.reason, m.created_at, m.recall_id,
       u.email AS user_email, u.full_name AS user_full_name,
       r.supplier, r.reference, us.session AS session_id, x.name AS other_location_name
FROM newest m JOIN location o ON o.id = m.location
LEFT JOIN app_user u ON u.id = m."user"
LEFT JOIN receipt_line rl ON rl.id = m.receipt_line LEFT JOIN receipt r ON r.id = rl.receipt
LEFT JOIN usage us ON us.id = m.usage
LEFT JOIN LATERAL (
    SELECT o2.name FROM stock_movement t JOIN location o2 ON o2.id = t.location
    WHERE m.transfer_group IS NOT NULL AND t.lot = m.lot AND t.transfer_group = m.transfer_group AND t.id <> m.id
    LIMIT 1
) x ON true
ORDER BY m.id DESC
"""


async def lot_ledger(conn: Connection, lot_id: int, *, limit: int) -> list[Record]:
    """A lot's newest `limit` ledger rows, each with its location, user, receipt, session, transfer and balance."""
    rows: list[Record] = await conn.fetch(_LOT_LEDGER, lot_id, limit)
    return rows
