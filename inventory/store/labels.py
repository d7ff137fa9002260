"""What a lot's label prints: the lot with its product, brand and unit GTIN."""

from __future__ import annotations

from typing import Any

from inventory.db import Connection
from inventory.store.common import unit_gtin_sql

_LOTS_SQL = f"""
SELECT l.id, l.lot_number, l.expiry_date, p.name AS product_name, p.storage, b.name AS brand_name,
       {unit_gtin_sql("p.id")} AS gtin
FROM lot l JOIN product p ON p.id = l.product JOIN brand b ON b.id = p.brand
WHERE l.id = ANY($1::int[])
"""


async def label_rows(conn: Connection, lot_ids: list[int]) -> list[dict[str, Any]]:
    """One row per existing lot of these ids, in one query."""
    return [dict(r) for r in await conn.fetch(_LOTS_SQL, lot_ids)]
