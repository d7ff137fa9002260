"""Claiming the scheduled periods that are due, once across every process, by the service's clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from inventory import clock, db
from inventory.db import Connection
from inventory.domain.schedule import Period, due
from inventory.store import jobs as store

# Queues the work of a claimed period (its scheduled_run id) in the claiming transaction; returns the job's id.
OnClaim = Callable[[Connection, int, Period], Awaitable[int]]


async def claim_due(*, default_zone: str, digest_hour: int, digest: bool, on_claim: OnClaim) -> list[Period]:
    """Claim every period that has begun and nobody has claimed yet; `on_claim` queues each one's work.

    Each claim and its `on_claim` share one transaction: a period is either claimed and queued, or neither.
    Returns the periods this call claimed (empty when another process got there first).
    """
    now = clock.now()
    async with db.connection() as conn:
        zones = await store.location_zones(conn, default_zone)
    periods = due(now, zones, default_zone=default_zone, digest_hour=digest_hour, digest=digest)
    if not periods:
        return []
    async with db.connection() as conn:
        taken = await store.claimed_since(conn, min(p.day for p in periods))
    claimed: list[Period] = []
    for period in periods:
        if period in taken:
            continue
        async with db.transaction() as conn:
            run_id = await store.claim(conn, period, at=now)
            if run_id is None:
                continue
            await store.set_job(conn, run_id, await on_claim(conn, run_id, period))
        claimed.append(period)
    return claimed


async def finish(run_id: int, outcome: str) -> None:
    """Record that a claimed period's work is done, and how it went."""
    async with db.transaction() as conn:
        await store.finish(conn, run_id, at=clock.now(), outcome=outcome)


async def purge() -> int:
    """Forget periods older than the retention; returns how many."""
    async with db.transaction() as conn:
        return await store.purge(conn, before=clock.today() - timedelta(days=store.RETENTION_DAYS))
