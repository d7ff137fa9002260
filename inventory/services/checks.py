"""Checks services share before they write."""

from __future__ import annotations

from inventory.db import Connection
from inventory.domain.errors import NotFound, Unprocessable
from inventory.store import common
from inventory.store.common import Entity


async def require(conn: Connection, entity: Entity, entity_id: int) -> None:
    """Raise NotFound unless the entity exists."""
    if not await common.exists(conn, entity, entity_id):
        raise NotFound.of(entity, entity_id)


def text(value: str | None, what: str, *, required: bool, limit: int) -> str | None:
    """`value` stripped (None when empty); raises Unprocessable when required and empty, or too long."""
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise Unprocessable(f"A {what} is required.", code="validation_error")
        return None
    if len(cleaned) > limit:
        raise Unprocessable(f"The {what} is longer than {limit} characters.", code="validation_error")
    return cleaned
