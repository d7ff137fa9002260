"""Receipts of deliveries and their lines."""

from __future__ import annotations

from datetime import datetime

from inventory.db import Connection


async def create(
    conn: Connection, *, location_id: int, supplier: str | None, reference: str | None, received_by: int
) -> int:
    """Insert a receipt received now; returns its id."""
    value = await conn.fetchval(
        "INSERT INTO receipt (location, supplier, reference, received_by, received_at)"
        " VALUES ($1, $2, $3, $4, now()) RETURNING id",
        location_id,
        supplier,
        reference,
        received_by,
    )
    return int(value)


async def add_line(
    conn: Connection, *, receipt_id: int, lot_id: int, quantity: int, gtin: str | None, barcode: str | None
) -> int:
    """Insert a receipt line; returns its id."""
    value = await conn.fetchval(
        "INSERT INTO receipt_line (receipt, lot, quantity, gtin, barcode) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        receipt_id,
        lot_id,
        quantity,
        gtin,
        barcode,
    )
    return int(value)


async def received_at(conn: Connection, receipt_id: int) -> datetime:
    """When a receipt was recorded."""
    value: datetime = await conn.fetchval("SELECT received_at FROM receipt WHERE id = $1", receipt_id)
    return value
