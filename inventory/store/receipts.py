"""Receipts of deliveries and their lines."""

from __future__ import annotations

from datetime import datetime

from inventory import db
from inventory.db import Connection


async def create(
    conn: Connection, *, location_id: int, supplier: str | None, reference: str | None, received_by: int
) -> tuple[int, datetime]:
    """Insert a receipt received now; returns its id and time."""
    row = await conn.fetchrow(
        "INSERT INTO receipt (location, supplier, reference, received_by, received_at)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING id, received_at",
        location_id,
        supplier,
        reference,
        received_by,
        db.now(),
    )
    assert row is not None
    return int(row["id"]), row["received_at"]


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
