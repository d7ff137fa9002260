"""Reading the audit log (managers)."""

from __future__ import annotations

from typing import Any

from inventory import db
from inventory.store import audit


async def list_events(
    *,
    entity: str | None = None,
    entity_id: int | None = None,
    actor_id: int | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Audit events, newest first."""
    async with db.connection() as conn:
        return await audit.list_events(
            conn, entity=entity, entity_id=entity_id, actor_id=actor_id, before_id=before_id, limit=limit
        )
