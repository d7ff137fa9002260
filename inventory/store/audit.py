"""The append-only audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inventory import db
from inventory.db import Connection
from inventory.store import query
from inventory.tables import AuditEvent


async def record(
    conn: Connection,
    *,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one audit event in the caller's transaction."""
    await conn.execute(
        "INSERT INTO audit_event (actor, action, entity, entity_id, details, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        actor_id,
        action,
        entity,
        entity_id,
        details or {},
        db.now(),
    )


async def record_many(conn: Connection, rows: list[tuple[int | None, str, str, int | None, dict[str, Any]]]) -> None:
    """Append several audit events at once (actor, action, entity, entity_id, details)."""
    if rows:
        at = db.now()
        await conn.executemany(
            "INSERT INTO audit_event (actor, action, entity, entity_id, details, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            [(*row, at) for row in rows],
        )


@dataclass(frozen=True)
class Event:
    """One audit event: who (None: the system), what, on which entity, its details, when."""

    id: int
    actor_id: int | None
    actor_email: str | None
    action: str
    entity: str
    entity_id: int | None
    details: dict[str, Any]  # free-form JSON: each action records what it needs
    created_at: datetime


_EVENT_COLUMNS = (
    AuditEvent.id,
    AuditEvent.actor.as_alias("actor_id"),
    AuditEvent.actor.email.as_alias("actor_email"),
    AuditEvent.action,
    AuditEvent.entity,
    AuditEvent.entity_id,
    AuditEvent.details,
    AuditEvent.created_at,
)


async def list_events(
    conn: Connection,
    *,
    entity: str | None,
    entity_id: int | None,
    actor_id: int | None,
    before_id: int | None,
    limit: int,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Event]:
    """Audit events, newest first, filtered (`since` inclusive, `until` exclusive)."""
    filters: list[Any] = []
    if entity is not None:
        filters.append(AuditEvent.entity == entity)
    if entity_id is not None:
        filters.append(AuditEvent.entity_id == entity_id)
    if actor_id is not None:
        filters.append(AuditEvent.actor == actor_id)
    if before_id is not None:
        filters.append(AuditEvent.id < before_id)
    if action is not None:
        filters.append(AuditEvent.action == action)
    if since is not None:
        filters.append(AuditEvent.created_at >= since)
    if until is not None:
        filters.append(AuditEvent.created_at < until)
    events = AuditEvent.select(*_EVENT_COLUMNS).order_by(AuditEvent.id, ascending=False).limit(limit)
    rows = await query.fetch(conn, events.where(*filters) if filters else events)
    return [
        Event(
            r["id"],
            r["actor_id"],
            r["actor_email"],
            r["action"],
            r["entity"],
            r["entity_id"],
            r["details"] or {},
            r["created_at"],
        )
        for r in rows
    ]
