"""Sending events to the webhook: one delivery row per event (a digest, a purchase order sent), each attempt
recorded, retries with back-off.

An event raised by a write is queued in that write's transaction (`queue_event`): its delivery row and the job
that sends it become visible when the write commits, and vanish with it when it rolls back. The body carries
`kind` (`inventory.alerts.digest`, `purchase_order.sent`).
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

from inventory import clock, db
from inventory.db import Connection
from inventory.store import audit
from inventory.store import digests as store
from inventory.store import jobs as jobs_store

RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)  # exponential back-off between webhook attempts
WEBHOOK_TIMEOUT = 10.0

Enqueue = Callable[[Connection, int], Awaitable[None]]  # queues work for a row, in the caller's transaction
WEBHOOK_JOB = jobs_store.WEBHOOK_ENTRYPOINT
DIGEST_KIND = "inventory.alerts.digest"


async def queue(conn: Connection, delivery_id: int) -> None:
    """Queue one attempt to send a delivery, in the caller's transaction (the outbox: sent after commit)."""
    await jobs_store.enqueue_webhook(conn, delivery_id)


async def record_event(
    conn: Connection, *, location_id: int | None, payload: dict[str, Any], url: str | None
) -> int | None:
    """In the caller's transaction, record an event for the webhook and queue its sending (None: no usable URL)."""
    if webhook_problem(url) is not None:
        return None
    delivery_id = await store.create_delivery(conn, location_id=location_id, payload=payload, at=clock.now())
    await queue(conn, delivery_id)
    return delivery_id


def _post(url: str, body: bytes, key: str) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "meso-inventory", "Idempotency-Key": key},
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:  # http(s) only: checked by callers
        status: int = response.status
        return status


def webhook_problem(url: str | None) -> dict[str, str] | None:
    """Why digests cannot be sent to `url` (a delivery status), or None when it is a usable http(s) URL."""
    if not url:
        return {"status": "not_configured"}
    if not url.lower().startswith(("http://", "https://")):
        return {"status": "not_configured", "error": "INVENTORY_WEBHOOK_URL is not http(s)"}
    return None


async def _post_once(url: str, body: bytes, key: str) -> tuple[str | None, bool]:
    """One POST: (error or None, whether another attempt may succeed)."""
    try:
        await asyncio.to_thread(_post, url, body, key)
        return None, False
    except urllib.error.HTTPError as exc:
        # The receiver refuses this body (4xx but timeout and rate limit): retrying will not help.
        return f"HTTP {exc.code}", exc.code >= 500 or exc.code in (408, 429)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"[:500], True


async def create_delivery(location_id: int, payload: dict[str, Any], enqueue: Enqueue | None = None) -> int:
    """Record a digest to send (status `queued`); `enqueue` (in the same transaction) queues its sending."""
    async with db.transaction() as conn:
        delivery_id = await store.create_delivery(conn, location_id=location_id, payload=payload, at=clock.now())
        if enqueue is not None:
            await enqueue(conn, delivery_id)
    return delivery_id


async def attempt_delivery(delivery_id: int, url: str, *, delays: tuple[float, ...] = RETRY_DELAYS) -> dict[str, Any]:
    """POST a queued event once and record the attempt (count, error, status) on its delivery row.

    The row stays locked during the POST, so two workers never send one attempt twice. Returns the delivery
    as `{"id","status","attempts","error"}` plus `retry_in` (seconds until the next attempt, None when
    there is none): after a retryable failure `delays[attempts - 1]`, while delays remain; otherwise the
    delivery is `failed` (or `delivered`) for good and audited.
    """
    async with db.transaction() as conn:
        row = await store.lock_pending_delivery(conn, delivery_id)
        if row is None:  # already finished, or another worker is sending it right now
            return {"id": delivery_id, "status": "busy_or_done", "attempts": None, "error": None, "retry_in": None}
        attempts = int(row["attempts"]) + 1
        kind = (row["payload"] or {}).get("kind", DIGEST_KIND)
        digest = kind == DIGEST_KIND
        key = f"digest-{delivery_id}" if digest else f"{kind}-{delivery_id}"  # one key per delivery, kept on retries
        error, retryable = await _post_once(url, json.dumps(row["payload"]).encode(), key)
        retry_in = delays[attempts - 1] if error is not None and retryable and attempts <= len(delays) else None
        status = "delivered" if error is None else ("retrying" if retry_in is not None else "failed")
        await store.finish_delivery(
            conn, delivery_id=delivery_id, status=status, attempts=attempts, error=error, at=clock.now()
        )
        if status != "retrying":
            await audit.record(
                conn,
                actor_id=None,
                action=f"digest.{status}" if digest else f"webhook.{status}",
                entity="notification_delivery",
                entity_id=delivery_id,
                details={"location_id": row["location"], "attempts": attempts, "error": error}
                | ({} if digest else {"kind": kind}),
            )
    return {"id": delivery_id, "status": status, "attempts": attempts, "error": error, "retry_in": retry_in}


async def deliver_now(url: str, location_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    """POST one digest now, retrying with exponential back-off (RETRY_DELAYS) in this task: for manual runs."""
    delivery_id = await create_delivery(location_id, payload)
    while True:
        result = await attempt_delivery(delivery_id, url, delays=RETRY_DELAYS)
        if result["retry_in"] is None:
            result.pop("retry_in")
            return result
        await asyncio.sleep(result["retry_in"])
