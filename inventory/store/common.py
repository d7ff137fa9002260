"""Queries shared by every entity."""

from __future__ import annotations

from typing import Literal

from inventory.db import Connection

Entity = Literal["brand", "client", "location", "lot", "product"]


async def exists(conn: Connection, entity: Entity, entity_id: int) -> bool:
    """Whether a row with this id exists (the literal type keeps the table name out of user hands)."""
    return bool(await conn.fetchval(f"SELECT 1 FROM {entity} WHERE id = $1", entity_id))


def unit_gtin_sql(product: str) -> str:
    """SQL for the GTIN of one ampoule of the product in column `product` (NULL when it has none)."""
    return f"(SELECT g.gtin FROM product_gtin g WHERE g.product = {product} AND g.units = 1 ORDER BY g.id LIMIT 1)"
