"""Scheduled job periods and each location's time zone: the SQL behind `services.schedule`."""

from __future__ import annotations

import json
from datetime import date, datetime

from inventory.db import Connection
from inventory.domain.schedule import Period

RETENTION_DAYS = 90  # how long a period's record is kept (what ran when) before the purge forgets it


async def location_zones(conn: Connection, default: str) -> dict[int, str]:
    """Every location's IANA time zone (`location.timezone`; `default` only should one be empty), by id."""
    rows = await conn.fetch("SELECT id, coalesce(nullif(timezone, ''), $1) AS zone FROM location ORDER BY id", default)
    return {int(r["id"]): str(r["zone"]) for r in rows}


async def claimed_since(conn: Connection, day: date) -> set[Period]:
    """The periods already claimed on `day` or later."""
    rows = await conn.fetch("SELECT job, scope, day FROM scheduled_run WHERE day >= $1", day)
    return {Period(r["job"], r["scope"], r["day"]) for r in rows}


async def claim(conn: Connection, period: Period, *, at: datetime) -> int | None:
    """Claim a period in the caller's transaction: its row's id, or None when someone else has it.

    A concurrent claim of the same period waits on this row's unique-index entry until this transaction
    ends, then finds it and does nothing.
    """
    run_id: int | None = await conn.fetchval(
        "INSERT INTO scheduled_run (job, scope, day, claimed_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (job, scope, day) DO NOTHING RETURNING id",
        period.job,
        period.scope,
        period.day,
        at,
    )
    return run_id


async def set_job(conn: Connection, run_id: int, job_id: int) -> None:
    """Remember which queued job runs the period."""
    await conn.execute("UPDATE scheduled_run SET job_id = $2 WHERE id = $1", run_id, job_id)


async def finish(conn: Connection, run_id: int, *, at: datetime, outcome: str) -> None:
    """Record that a period's job finished, and how."""
    await conn.execute(
        "UPDATE scheduled_run SET finished_at = $2, outcome = $3 WHERE id = $1", run_id, at, outcome[:1000]
    )


async def purge(conn: Connection, *, before: date) -> int:
    """Forget periods of days before `before`; returns how many."""
    result = await conn.execute("DELETE FROM scheduled_run WHERE day < $1", before)
    return int(result.split()[-1])


WEBHOOK_ENTRYPOINT = "webhook.deliver"  # the job that makes one attempt to POST a notification_delivery


async def enqueue_webhook(conn: Connection, delivery_id: int) -> None:
    """Queue the sending of a delivery in the caller's transaction: it goes out only if that transaction commits."""
    from pgqueuer import Queries

    await Queries.from_asyncpg_connection(conn).enqueue(
        WEBHOOK_ENTRYPOINT, json.dumps({"delivery_id": delivery_id}).encode()
    )
