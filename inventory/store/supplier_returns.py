"""Returns to a supplier: the SQL behind `services.supplier_returns` (the ledger row is written by `store.stock`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from inventory.db import Connection
from inventory.domain.supplier_returns import document_number
from inventory.store.common import unit_gtin_sql


@dataclass(frozen=True)
class ReturnRow:
    """A return with its lot, product, location, supplier and who made it."""

    id: int
    number: str
    lot_id: int
    lot_number: str
    expiry_date: date
    lot_status: str
    product_id: int
    product_name: str
    brand_name: str
    gtin: str | None
    location_id: int
    location_name: str
    location_timezone: str
    supplier_id: int | None
    supplier_name: str | None
    supplier_email: str | None
    quantity: int
    reason: str
    note: str | None
    movement_id: int
    created_at: datetime
    created_by_id: int
    created_by_email: str


_SELECT = f"""
SELECT r.id, r.quantity, r.reason, r.note, r.movement AS movement_id, r.created_at,
       r.created_by AS created_by_id, u.email AS created_by_email,
       l.id AS lot_id, l.lot_number, l.expiry_date, l.status AS lot_status,
       p.id AS product_id, p.name AS product_name, b.name AS brand_name, {unit_gtin_sql("p.id")} AS gtin,
       o.id AS location_id, o.name AS location_name, o.timezone AS location_timezone,
       s.id AS supplier_id, s.name AS supplier_name, s.email AS supplier_email
FROM supplier_return r
JOIN lot l ON l.id = r.lot JOIN product p ON p.id = l.product JOIN brand b ON b.id = p.brand
JOIN location o ON o.id = r.location JOIN app_user u ON u.id = r.created_by
LEFT JOIN supplier s ON s.id = r.supplier
"""


def _row(r: Any) -> ReturnRow:
    return ReturnRow(
        id=r["id"],
        number=document_number(r["id"]),
        lot_id=r["lot_id"],
        lot_number=r["lot_number"],
        expiry_date=r["expiry_date"],
        lot_status=r["lot_status"],
        product_id=r["product_id"],
        product_name=r["product_name"],
        brand_name=r["brand_name"],
        gtin=r["gtin"],
        location_id=r["location_id"],
        location_name=r["location_name"],
        location_timezone=r["location_timezone"],
        supplier_id=r["supplier_id"],
        supplier_name=r["supplier_name"],
        supplier_email=r["supplier_email"],
        quantity=r["quantity"],
        reason=r["reason"],
        note=r["note"],
        movement_id=r["movement_id"],
        created_at=r["created_at"],
        created_by_id=r["created_by_id"],
        created_by_email=r["created_by_email"],
    )


async def next_id(conn: Connection) -> int:
    """Reserve the next return's id (its document number is known before the ledger row that names it)."""
    value = await conn.fetchval("SELECT nextval(pg_get_serial_sequence('supplier_return', 'id'))")
    return int(value)


async def insert(
    conn: Connection,
    *,
    return_id: int,
    lot_id: int,
    location_id: int,
    supplier_id: int | None,
    quantity: int,
    reason: str,
    note: str | None,
    movement_id: int,
    user_id: int,
    at: datetime,
) -> None:
    """Record a return under its reserved id."""
    await conn.execute(
        "INSERT INTO supplier_return (id, lot, location, supplier, quantity, reason, note, movement, created_by,"
        " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        return_id,
        lot_id,
        location_id,
        supplier_id,
        quantity,
        reason,
        note,
        movement_id,
        user_id,
        at,
    )


async def get(conn: Connection, return_id: int) -> ReturnRow | None:
    """One return."""
    row = await conn.fetchrow(_SELECT + " WHERE r.id = $1", return_id)
    return None if row is None else _row(row)


async def list_returns(
    conn: Connection,
    *,
    lot_id: int | None,
    location_id: int | None,
    supplier_id: int | None,
    reason: str | None,
    limit: int,
    offset: int,
) -> list[ReturnRow]:
    """Returns, newest first, by lot, location, supplier and reason."""
    rows = await conn.fetch(
        _SELECT + " WHERE ($1::int IS NULL OR r.lot = $1) AND ($2::int IS NULL OR r.location = $2)"
        " AND ($3::int IS NULL OR r.supplier = $3) AND ($4::text IS NULL OR r.reason = $4)"
        " ORDER BY r.id DESC LIMIT $5 OFFSET $6",
        lot_id,
        location_id,
        supplier_id,
        reason,
        limit,
        offset,
    )
    return [_row(r) for r in rows]
