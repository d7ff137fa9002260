"""Reading the audit log (managers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from inventory import db
from inventory.store import audit, users
from inventory.store.audit import Event

__all__ = ["AuditActor", "Event", "actors", "list_events"]


@dataclass(frozen=True)
class AuditActor:
    """A user an audit event can name, for choosing whose events to see."""

    id: int
    email: str


async def list_events(
    *,
    entity: str | None = None,
    entity_id: int | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[Event]:
    """Audit events, newest first; `since` inclusive and `until` exclusive bound when they were recorded."""
    async with db.connection() as conn:
        return await audit.list_events(
            conn,
            entity=entity,
            entity_id=entity_id,
            actor_id=actor_id,
            action=action,
            since=since,
            until=until,
            before_id=before_id,
            limit=limit,
        )


async def actors() -> list[AuditActor]:
    """Every user, by e-mail, deactivated ones included (their events stay in the log)."""
    async with db.connection() as conn:
        rows = await users.list_users(conn)
    return sorted((AuditActor(id=r.id, email=r.email) for r in rows), key=lambda a: a.email)
