"""Stocktakes and their append-only counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from asyncpg import Record

from inventory.db import Connection
from inventory.domain.quantities import Quantity, plain
from inventory.domain.scan_decision import StockedLot
from inventory.domain.stocktake import CountedLot
from inventory.store.common import unit_gtin_sql


@dataclass(frozen=True)
class StocktakeHead:
    """A stocktake with its location."""

    id: int
    location_id: int
    location_name: str
    location_timezone: str
    status: str
    started_by: int
    started_at: datetime
    approved_by: int | None
    approved_at: datetime | None
    cancelled_by: int | None
    cancelled_at: datetime | None


@dataclass(frozen=True)
class CountWrite:
    """One count to append: a known lot, or what the code said of a lot the system does not know."""

    product_id: int
    quantity: Quantity
    lot_id: int | None
    gtin: str | None = None
    lot_number: str | None = None
    expiry_date: date | None = None
    barcode: str | None = None


_HEAD = (
    "SELECT s.id, s.location AS location_id, o.name AS location_name, o.timezone AS location_timezone, s.status,"
    " s.started_by, s.started_at, s.approved_by, s.approved_at, s.cancelled_by, s.cancelled_at"
    " FROM stocktake s JOIN location o ON o.id = s.location"
)


def _head(row: Record) -> StocktakeHead:
    return StocktakeHead(**dict(row))


async def create(conn: Connection, *, location_id: int, user_id: int, at: datetime) -> int | None:
    """Open a stocktake at a location; None when one is already open there (the partial unique index)."""
    value = await conn.fetchval(
        "INSERT INTO stocktake (location, status, started_by, started_at) VALUES ($1, 'open', $2, $3)"
        " ON CONFLICT (location) WHERE status = 'open' DO NOTHING RETURNING id",
        location_id,
        user_id,
        at,
    )
    return None if value is None else int(value)


async def open_at(conn: Connection, location_id: int) -> int | None:
    """The id of the open stocktake at a location, if any."""
    value = await conn.fetchval("SELECT id FROM stocktake WHERE location = $1 AND status = 'open'", location_id)
    return None if value is None else int(value)


async def get(conn: Connection, stocktake_id: int, *, lock: str | None = None) -> StocktakeHead | None:
    """A stocktake; `lock` "share" (a count: many at once) or "update" (approve, cancel: alone)."""
    suffix = {None: "", "share": " FOR SHARE OF s", "update": " FOR UPDATE OF s"}[lock]
    row = await conn.fetchrow(f"{_HEAD} WHERE s.id = $1{suffix}", stocktake_id)
    return None if row is None else _head(row)


async def close(conn: Connection, stocktake_id: int, *, status: str, user_id: int, at: datetime) -> None:
    """Mark a locked open stocktake approved or cancelled."""
    column = {"approved": "approved", "cancelled": "cancelled"}[status]
    await conn.execute(
        f"UPDATE stocktake SET status = $2, {column}_by = $3, {column}_at = $4 WHERE id = $1",
        stocktake_id,
        status,
        user_id,
        at,
    )


async def add_count(
    conn: Connection, *, stocktake_id: int, location_id: int, count: CountWrite, user_id: int, at: datetime
) -> int:
    """Append one count; a known lot's row keeps its on-hand at the location now. Returns the count's id."""
    value = await conn.fetchval(
        "INSERT INTO stocktake_count (stocktake, lot, product, quantity, on_hand_at_count, gtin, lot_number,"
        " expiry_date, barcode, counted_by, counted_at)"
        " SELECT $1, $2, $3, $4, CASE WHEN $2::int IS NULL THEN NULL ELSE coalesce("
        "   (SELECT on_hand FROM stock_level WHERE lot = $2 AND location = $11), 0) END,"
        " $5, $6, $7, $8, $9, $10 RETURNING id",
        stocktake_id,
        count.lot_id,
        count.product_id,
        count.quantity,
        count.gtin,
        count.lot_number,
        count.expiry_date,
        count.barcode,
        user_id,
        at,
        location_id,
    )
    return int(value)


async def counted_by_user(
    conn: Connection, stocktake_id: int, *, user_id: int, lot_id: int | None, lot_number: str | None
) -> Quantity:
    """How much this user has counted of a lot (or of an unknown lot number) in this stocktake."""
    value = await conn.fetchval(
        "SELECT coalesce(sum(quantity), 0) FROM stocktake_count WHERE stocktake = $1 AND counted_by = $2"
        " AND (lot = $3 OR ($3::int IS NULL AND lot IS NULL AND lower(lot_number) = lower($4)))",
        stocktake_id,
        user_id,
        lot_id,
        lot_number,
    )
    return plain(value)


async def stocked_lots(conn: Connection, product_id: int, location_id: int) -> list[StockedLot]:
    """Lots of a product with units at a location, whatever their status or expiry (they are on the shelf)."""
    rows = await conn.fetch(
        "SELECT l.id, l.lot_number, l.expiry_date, s.on_hand FROM lot l JOIN stock_level s ON s.lot = l.id"
        " WHERE l.product = $1 AND s.location = $2 AND s.on_hand > 0 ORDER BY l.expiry_date, l.id",
        product_id,
        location_id,
    )
    return [
        StockedLot(id=r["id"], lot_number=r["lot_number"], expiry_date=r["expiry_date"], on_hand=r["on_hand"])
        for r in rows
    ]


# Per known lot: the sum of its counts, the first count's on-hand (the expected figure), and on-hand now.
_COUNTED = f"""
WITH c AS (
    SELECT lot, sum(quantity) AS counted, count(*) AS counts, min(id) AS first_id, min(counted_at) AS first_at,
           max(counted_at) AS last_at
    FROM stocktake_count WHERE stocktake = $1 AND lot IS NOT NULL GROUP BY lot
)
SELECT c.lot AS lot_id, c.counted, c.counts, c.first_at, c.last_at, f.on_hand_at_count AS expected,
       coalesce(s.on_hand, 0) AS on_hand, (s.lot IS NOT NULL) AS known_here,
       l.lot_number, l.expiry_date, l.status, l.not_received,
       p.id AS product_id, p.name AS product_name, p.unit, b.id AS brand_id, b.name AS brand_name,
       {unit_gtin_sql("p.id")} AS gtin
FROM c JOIN stocktake_count f ON f.id = c.first_id JOIN lot l ON l.id = c.lot JOIN product p ON p.id = l.product
JOIN brand b ON b.id = p.brand LEFT JOIN stock_level s ON s.lot = c.lot AND s.location = $2
ORDER BY lower(p.name), l.expiry_date, l.id
"""


async def counted_lots(conn: Connection, stocktake_id: int, location_id: int) -> list[Record]:
    """Every known lot counted, with counted, expected (at its first count), on-hand now and what to show."""
    rows: list[Record] = await conn.fetch(_COUNTED, stocktake_id, location_id)
    return rows


def counted_lot(row: Record) -> CountedLot:
    """The arithmetic's view of a counted_lots row."""
    return CountedLot(
        lot_id=row["lot_id"],
        product_id=row["product_id"],
        counted=plain(row["counted"]),
        expected=plain(row["expected"]),
        on_hand=plain(row["on_hand"]),
        known_here=bool(row["known_here"]),
    )


async def not_counted(conn: Connection, stocktake_id: int, location_id: int) -> list[Record]:
    """Lots with units at the location (or below zero) that no count of this stocktake names."""
    rows: list[Record] = await conn.fetch(
        "SELECT s.lot AS lot_id, s.on_hand, l.lot_number, l.expiry_date, l.status, l.not_received,"
        " p.id AS product_id, p.name AS product_name, p.unit, b.id AS brand_id, b.name AS brand_name,"
        f" {unit_gtin_sql('p.id')} AS gtin"
        " FROM stock_level s JOIN lot l ON l.id = s.lot JOIN product p ON p.id = l.product"
        " JOIN brand b ON b.id = p.brand"
        " WHERE s.location = $2 AND s.on_hand <> 0"
        " AND NOT EXISTS (SELECT 1 FROM stocktake_count c WHERE c.stocktake = $1 AND c.lot = s.lot)"
        " ORDER BY lower(p.name), l.expiry_date, l.id",
        stocktake_id,
        location_id,
    )
    return rows


async def unknown_lots(conn: Connection, stocktake_id: int) -> list[Record]:
    """Counts of lots the system does not know, grouped by product, lot number (ignoring case) and expiry."""
    rows: list[Record] = await conn.fetch(
        "SELECT c.product AS product_id, p.name AS product_name, p.unit, b.id AS brand_id, b.name AS brand_name,"
        " min(c.gtin) AS gtin, min(c.lot_number) AS lot_number, c.expiry_date, sum(c.quantity) AS counted,"
        " count(*) AS counts, min(c.counted_at) AS first_at"
        " FROM stocktake_count c JOIN product p ON p.id = c.product JOIN brand b ON b.id = p.brand"
        " WHERE c.stocktake = $1 AND c.lot IS NULL"
        " GROUP BY c.product, p.name, p.unit, b.id, b.name, lower(c.lot_number), c.expiry_date"
        " ORDER BY lower(p.name), lower(min(c.lot_number)), c.expiry_date",
        stocktake_id,
    )
    return rows


async def lock_levels(conn: Connection, location_id: int, lot_ids: list[int]) -> None:
    """Lock these lots' levels at the location in lot order (approvals and other stock changes cannot deadlock)."""
    await conn.execute(
        "SELECT 1 FROM stock_level WHERE location = $1 AND lot = ANY($2::int[]) ORDER BY lot FOR UPDATE",
        location_id,
        lot_ids,
    )


async def list_(
    conn: Connection, *, location_id: int | None, status: str | None, limit: int = 100
) -> list[StocktakeHead]:
    """Stocktakes, newest first, at a location and in a status when given."""
    rows = await conn.fetch(
        f"{_HEAD} WHERE ($1::int IS NULL OR s.location = $1) AND ($2::text IS NULL OR s.status = $2)"
        " ORDER BY s.started_at DESC, s.id DESC LIMIT $3",
        location_id,
        status,
        limit,
    )
    return [_head(r) for r in rows]


@dataclass(frozen=True)
class NamedLot:
    """A lot a typed number names, as a counter chooses it: no quantities (the count is blind)."""

    id: int
    lot_number: str
    expiry_date: date
    product_id: int
    product_name: str
    brand_name: str


async def lots_named(conn: Connection, key: str, *, limit: int = 20) -> list[NamedLot]:
    """The lots of any product whose normalised number is `key`, by product and expiry."""
    rows = await conn.fetch(
        "SELECT l.id, l.lot_number, l.expiry_date, p.id AS product_id, p.name AS product_name, b.name AS brand_name"
        " FROM lot l JOIN product p ON p.id = l.product JOIN brand b ON b.id = p.brand"
        " WHERE l.lot_key = $1 ORDER BY lower(p.name), l.expiry_date, l.id LIMIT $2",
        key,
        limit,
    )
    return [NamedLot(**dict(r)) for r in rows]
