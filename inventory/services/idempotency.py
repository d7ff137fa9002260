"""Idempotency-Key handling: the first response to a write is kept and replayed, in the write's transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from inventory import db
from inventory.domain.errors import Conflict, Unprocessable
from inventory.store import idempotency as records

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    """A response as first sent: status and encoded body."""

    status: int
    body: bytes
    replayed: bool = False


async def run_once(
    *, user_id: int, key: str, fingerprint: str, operation: Callable[[], Awaitable[StoredResponse]]
) -> StoredResponse:
    """Run `operation` once per (user, key); a retry with the same fingerprint gets the first response back.

    The key row is inserted in the same transaction as the write it guards: a concurrent retry waits on the
    unique index and then replays the committed response; if the first attempt fails, nothing is kept and
    the retry runs afresh. Raises Unprocessable(idempotency_key_reused) when the body differs.
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Unprocessable("Idempotency-Key must be 1 to 255 printable characters.", code="idempotency_key_invalid")
    # The write runs inside this transaction, so its own retry loop cannot run: retry the whole here.
    return await db.with_retries(lambda: _attempt(user_id, key, fingerprint, operation))


async def _attempt(
    user_id: int, key: str, fingerprint: str, operation: Callable[[], Awaitable[StoredResponse]]
) -> StoredResponse:
    async with db.transaction() as conn:
        await records.forget_expired_key(conn, user_id=user_id, key=key)
        inserted = await records.claim(conn, user_id=user_id, key=key, fingerprint=fingerprint)
        if inserted is None:
            row = await records.get(conn, user_id=user_id, key=key)
            if row is None:  # pragma: no cover - only if it expired between the two statements
                raise Conflict(
                    "The request with this Idempotency-Key is still in flight.", code="idempotency_key_in_flight"
                )
            if row.fingerprint != fingerprint:
                raise Unprocessable(
                    "This Idempotency-Key was already used with a different request.", code="idempotency_key_reused"
                )
            if row.response_status == 0:
                raise Conflict(
                    "The request with this Idempotency-Key is still in flight.", code="idempotency_key_in_flight"
                )
            return StoredResponse(row.response_status, row.response_body.encode(), replayed=True)
        response = await operation()
        await records.save_response(conn, inserted, status=response.status, body=response.body.decode())
    return response


async def purge_expired() -> int:
    """Delete keys past retention; returns how many."""
    async with db.transaction() as conn:
        return await records.purge_expired(conn)
