"""Idempotency keys: the first response to a write, kept per user and key for replay."""

from __future__ import annotations

from dataclasses import dataclass

from inventory import db
from inventory.db import Connection

RETENTION = "48 hours"  # the draft asks for at least 24 hours


async def forget_expired_key(conn: Connection, *, user_id: int, key: str) -> None:
    """Delete this user's key if it is past retention, so it can be used afresh."""
    await conn.execute(
        f"DELETE FROM idempotency_record WHERE user_id = $1 AND key = $2"
        f" AND created_at < $3::timestamptz - interval '{RETENTION}'",
        user_id,
        key,
        db.now(),
    )


async def claim(conn: Connection, *, user_id: int, key: str, fingerprint: str) -> int | None:
    """Insert the key with no response yet; returns its id, or None when the key is already taken.

    A concurrent claim of the same key waits on the unique index until the first transaction ends.
    """
    value = await conn.fetchval(
        "INSERT INTO idempotency_record (user_id, key, fingerprint, response_status, response_body, created_at)"
        " VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
        user_id,
        key,
        fingerprint,
        db.now(),
    )
    return None if value is None else int(value)


@dataclass(frozen=True)
class KeyRecord:
    """What a user's key holds: the request's fingerprint and the response (status 0: still in flight)."""

    fingerprint: str
    response_status: int
    response_body: str


async def get(conn: Connection, *, user_id: int, key: str) -> KeyRecord | None:
    """The stored fingerprint and response of a user's key."""
    row = await conn.fetchrow(
        "SELECT fingerprint, response_status, response_body FROM idempotency_record WHERE user_id = $1 AND key = $2",
        user_id,
        key,
    )
    return KeyRecord(row["fingerprint"], row["response_status"], row["response_body"]) if row else None


async def save_response(conn: Connection, record_id: int, *, status: int, body: str) -> None:
    """Keep the response sent for a claimed key."""
    await conn.execute(
        "UPDATE idempotency_record SET response_status = $2, response_body = $3 WHERE id = $1",
        record_id,
        status,
        body,
    )


async def purge_expired(conn: Connection) -> int:
    """Delete every key past retention; returns how many."""
    result = await conn.execute(
        f"DELETE FROM idempotency_record WHERE created_at < $1::timestamptz - interval '{RETENTION}'", db.now()
    )
    return int(result.split()[-1])
