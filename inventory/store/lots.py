"""Lots of products: unique per product and normalised lot number."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from inventory import db
from inventory.db import Connection
from inventory.domain.receiving import NewLot, ReceivedLot
from inventory.domain.scan_decision import StockedLot
from inventory.store.common import unit_gtin_sql

LOT_COLUMNS = "l.id, l.product AS product_id, l.lot_number, l.expiry_date, l.status, l.not_received"


async def get(conn: Connection, lot_id: int, *, for_update: bool = False) -> dict[str, Any] | None:
    """A lot by id, optionally locked for the rest of the transaction."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {LOT_COLUMNS} FROM lot l WHERE l.id = $1{lock}", lot_id)
    return dict(row) if row else None


async def get_by_key(conn: Connection, product_id: int, key: str, *, for_update: bool = False) -> dict[str, Any] | None:
    """A product's lot by its normalised number."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {LOT_COLUMNS} FROM lot l WHERE l.product = $1 AND l.lot_key = $2{lock}", product_id, key
    )
    return dict(row) if row else None


async def get_or_create(
    conn: Connection,
    *,
    product_id: int,
    lot_number: str,
    key: str,
    similar: str,
    expiry: date,
    not_received: bool = False,
) -> tuple[dict[str, Any], bool]:
    """The product's lot with this number, created when absent; returns (lot, created).

    A single statement, so two receipts of a new lot racing each other end with one lot.
    """
    row = await conn.fetchrow(
        "INSERT INTO lot (product, lot_number, lot_key, similar_key, expiry_date, status, not_received, created_at)"
        " VALUES ($1, $2, $3, $4, $5, 'active', $6, $7) ON CONFLICT (product, lot_key) DO NOTHING"
        " RETURNING id, product AS product_id, lot_number, expiry_date, status, not_received",
        product_id,
        lot_number,
        key,
        similar,
        expiry,
        not_received,
        db.now(),
    )
    if row is not None:
        return dict(row), True
    existing = await get_by_key(conn, product_id, key)
    assert existing is not None
    return existing, False


async def usable_at_location(conn: Connection, product_id: int, location_id: int, today: date) -> list[StockedLot]:
    """Active, unexpired lots of a product with stock at a location, earliest expiry first."""
    rows = await conn.fetch(
        "SELECT l.id, l.lot_number, l.expiry_date, s.on_hand FROM lot l JOIN stock_level s ON s.lot = l.id"
        " WHERE l.product = $1 AND s.location = $2 AND s.on_hand > 0 AND l.status = 'active'"
        " AND l.expiry_date >= $3 ORDER BY l.expiry_date, l.id",
        product_id,
        location_id,
        today,
    )
    return [
        StockedLot(id=r["id"], lot_number=r["lot_number"], expiry_date=r["expiry_date"], on_hand=r["on_hand"])
        for r in rows
    ]


async def list_lots(
    conn: Connection, *, product_id: int | None, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Lots filtered by product and status."""
    rows = await conn.fetch(
        f"SELECT {LOT_COLUMNS} FROM lot l WHERE ($1::int IS NULL OR l.product = $1)"
        " AND ($2::text IS NULL OR l.status = $2) ORDER BY l.expiry_date, l.id LIMIT $3 OFFSET $4",
        product_id,
        status,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


GTIN_AND_KEY_COLUMNS = ("product_id", "units", "id", "lot_number", "expiry_date", "status", "not_received")


def gtin_and_key_sql(gtin: str, key: str) -> str:
    """SELECT of GTIN_AND_KEY_COLUMNS for the GTIN (parameter `gtin`) and lot key (`key`): none for an unknown GTIN."""
    return (
        "SELECT g.product AS product_id, g.units, l.id, l.lot_number, l.expiry_date, l.status, l.not_received"
        f" FROM product_gtin g LEFT JOIN lot l ON l.product = g.product AND l.lot_key = {key} WHERE g.gtin = {gtin}"
    )


async def find_by_gtin_and_key(conn: Connection, gtin: str, key: str | None) -> dict[str, Any] | None:
    """The product and pack size behind a GTIN and, when `key` names one of its lots, that lot.

    One round trip; the lot columns (id, lot_number, expiry_date, status, not_received) are NULL without a lot.
    """
    row = await conn.fetchrow(gtin_and_key_sql("$1", "$2"), gtin, key)
    return dict(row) if row else None


async def first_two_with_key(conn: Connection, key: str) -> list[dict[str, Any]]:
    """Up to two lots of any product with this normalised number, each with its product's unit GTIN."""
    rows = await conn.fetch(
        "SELECT l.id, l.product AS product_id, l.lot_number, l.expiry_date, l.status, l.not_received,"
        f" {unit_gtin_sql('l.product')}"
        " AS gtin FROM lot l WHERE l.lot_key = $1 LIMIT 2",
        key,
    )
    return [dict(r) for r in rows]


# All the lots a receipt names in one statement: those absent are created (in the order given, so concurrent
# receipts take the unique index's locks in one order), those present are read. ON CONFLICT DO NOTHING takes no
# row lock, as get_or_create: receiving a known lot does not block scans of it.
_UPSERT_LOTS = """
WITH wanted AS (
    SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::date[]) WITH ORDINALITY
        AS w(product, lot_number, lot_key, similar_key, expiry_date, ord)
), created AS (
    INSERT INTO lot (product, lot_number, lot_key, similar_key, expiry_date, status, not_received, created_at)
    SELECT product, lot_number, lot_key, similar_key, expiry_date, 'active', false, $6 FROM wanted ORDER BY ord
    ON CONFLICT (product, lot_key) DO NOTHING
    RETURNING id, product, lot_number, lot_key, expiry_date, status, not_received
)
SELECT id, product AS product_id, lot_number, lot_key, expiry_date, status, not_received, true AS created
FROM created
UNION ALL
SELECT l.id, l.product, l.lot_number, l.lot_key, l.expiry_date, l.status, l.not_received, false
FROM wanted w JOIN lot l ON l.product = w.product AND l.lot_key = w.lot_key
WHERE NOT EXISTS (SELECT 1 FROM created c WHERE c.product = w.product AND c.lot_key = w.lot_key)
"""

# A lot that a concurrent transaction committed while the upsert waited on it is not in that statement's
# snapshot: read it again in a new one.
_LOTS_BY_KEYS = """
SELECT l.id, l.product AS product_id, l.lot_number, l.lot_key, l.expiry_date, l.status, l.not_received,
       false AS created
FROM unnest($1::int[], $2::text[]) AS w(product, lot_key) JOIN lot l ON l.product = w.product AND l.lot_key = w.lot_key
"""


def _received_lot(row: Any) -> tuple[tuple[int, str], ReceivedLot]:
    lot = ReceivedLot(
        id=row["id"],
        product_id=row["product_id"],
        lot_number=row["lot_number"],
        expiry_date=row["expiry_date"],
        status=row["status"],
        not_received=row["not_received"],
        created=row["created"],
    )
    return (row["product_id"], row["lot_key"]), lot


async def get_or_create_many(
    conn: Connection, lots: Sequence[NewLot], *, at: datetime
) -> dict[tuple[int, str], ReceivedLot]:
    """The lots by (product, lot key), each created from `lots` when absent; one statement (two after a race)."""
    rows = await conn.fetch(
        _UPSERT_LOTS,
        [lot.product_id for lot in lots],
        [lot.lot_number for lot in lots],
        [lot.key for lot in lots],
        [lot.similar for lot in lots],
        [lot.expiry for lot in lots],
        at,
    )
    found = dict(_received_lot(row) for row in rows)
    missing = [lot for lot in lots if (lot.product_id, lot.key) not in found]
    if missing:
        rows = await conn.fetch(_LOTS_BY_KEYS, [lot.product_id for lot in missing], [lot.key for lot in missing])
        found.update(_received_lot(row) for row in rows)
    assert len(found) == len(lots)
    return found


async def mark_all_received(conn: Connection, lot_ids: Sequence[int]) -> None:
    """Lots first recorded at a scan have now arrived in a delivery (locked in id order)."""
    await conn.execute(
        "UPDATE lot SET not_received = false WHERE id = ANY($1::int[]) AND not_received", sorted(lot_ids)
    )
