"""Checks services share before they write."""

from __future__ import annotations

from inventory.db import Connection
from inventory.domain.errors import NotFound
from inventory.store import common
from inventory.store.common import Entity


async def require(conn: Connection, entity: Entity, entity_id: int) -> None:
    """Raise NotFound unless the entity exists."""
    if not await common.exists(conn, entity, entity_id):
        raise NotFound.of(entity, entity_id)
