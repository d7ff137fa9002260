"""The append-only audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inventory import db
from inventory.db import Connection


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
) -> list[dict[str, Any]]:
    """Audit events, newest first, filtered (`since` inclusive, `until` exclusive)."""
    rows = await conn.fetch(
        "SELECT e.id, e.actor AS actor_id, u.email AS actor_email, e.action, e.entity, e.entity_id,"
        " e.details, e.created_at FROM audit_event e LEFT JOIN app_user u ON u.id = e.actor"
        " WHERE ($1::text IS NULL OR e.entity = $1) AND ($2::int IS NULL OR e.entity_id = $2)"
        " AND ($3::int IS NULL OR e.actor = $3) AND ($4::int IS NULL OR e.id < $4)"
        " AND ($6::text IS NULL OR e.action = $6) AND ($7::timestamptz IS NULL OR e.created_at >= $7)"
        " AND ($8::timestamptz IS NULL OR e.created_at < $8)"
        " ORDER BY e.id DESC LIMIT $5",
        entity,
        entity_id,
        actor_id,
        before_id,
        limit,
        action,
        since,
        until,
    )
    return [dict(r) for r in rows]
