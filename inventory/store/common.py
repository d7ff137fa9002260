"""Queries shared by every entity."""

from __future__ import annotations

from typing import Literal

from inventory.db import Connection

Entity = Literal["brand", "client", "location", "lot", "product"]


async def exists(conn: Connection, entity: Entity, entity_id: int) -> bool:
    """Whether a row with this id exists (the literal type keeps the table name out of user hands)."""
    return bool(await conn.fetchval(f"SELECT 1 FROM {entity} WHERE id = $1", entity_id))
