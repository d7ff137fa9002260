"""Daily digests: the locations to report on and the delivery of each digest to the webhook."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from asyncpg import Record

from inventory.db import Connection

_LAST_DELIVERY = """
SELECT max(created_at) FILTER (WHERE status = 'delivered') AS last_delivered,
       bool_or(status = 'delivered' AND payload->>'date' = $2) AS delivered_today
FROM notification_delivery WHERE location = $1 AND payload->>'kind' = 'inventory.alerts.digest'
"""


async def last_delivery(conn: Connection, location_id: int, day: str) -> Record:
    """When a location's digest was last delivered, and whether the one of `day` (ISO) was (other events aside)."""
    row: Record | None = await conn.fetchrow(_LAST_DELIVERY, location_id, day)
    assert row is not None
    return row


async def digest_locations(conn: Connection, location_id: int | None) -> list[Record]:
    """One location's id, name and time zone, or every location's, by id."""
    rows: list[Record] = await conn.fetch(
        "SELECT id, name, timezone FROM location WHERE ($1::int IS NULL OR id = $1) ORDER BY id", location_id
    )
    return rows


async def create_delivery(conn: Connection, *, location_id: int | None, payload: dict[str, Any], at: datetime) -> int:
    """Record a digest about to be sent; returns the delivery's id."""
    delivery_id: int = await conn.fetchval(
        "INSERT INTO notification_delivery (location, payload, status, attempts, created_at)"
        " VALUES ($1, $2, 'queued', 0, $3) RETURNING id",
        location_id,
        payload,
        at,
    )
    return delivery_id


async def lock_pending_delivery(conn: Connection, delivery_id: int) -> Record | None:
    """Lock a delivery still to be sent (queued or retrying); None when it is finished or locked by a sender."""
    row: Record | None = await conn.fetchrow(
        "SELECT id, location, payload, attempts FROM notification_delivery"
        " WHERE id = $1 AND status IN ('queued', 'retrying') FOR UPDATE SKIP LOCKED",
        delivery_id,
    )
    return row


async def finish_delivery(
    conn: Connection, *, delivery_id: int, status: str, attempts: int, error: str | None, at: datetime
) -> None:
    """Record an attempt's outcome; `at` is kept as delivered_at only when it was delivered."""
    await conn.execute(
        "UPDATE notification_delivery SET status = $2::text, attempts = $3, last_error = $4,"
        " delivered_at = CASE WHEN $2::text = 'delivered' THEN $5::timestamptz END WHERE id = $1",
        delivery_id,
        status,
        attempts,
        error,
        at,
    )
