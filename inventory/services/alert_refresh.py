"""Re-evaluating reorder alerts after time alone moved on: the nightly refresh and the catch-up of writers.

Stock changes keep reorder alerts current inside their own transactions (`alerting.reevaluate`). What changes
with the calendar alone (a lot expiring overnight, a booked session entering the lead-time window, yesterday's
use entering the 28-day trend) is re-evaluated here: `refresh_location` after each location's local midnight
(the `alerts.refresh` job), `refresh_all` by hand, and `catch_up` by the writers that need current alerts
first (a digest about to be sent). Each refresh records its instant as an audit event
(`reorder_alert.refresh`), the watermark every process reads. Reads never call these: they ask `stale_pairs`
which pairs are not evaluated for today yet and compute those as of now without writing.
"""

from __future__ import annotations

import asyncio
import weakref
from datetime import UTC, date, datetime, time
from typing import Any

from inventory import clock, db
from inventory.db import Connection
from inventory.domain.reorder import TREND_DAYS
from inventory.services import alerting
from inventory.store import alerts as store
from inventory.store import audit

CHUNK = 1000  # pairs per transaction: keeps each refresh transaction (and the rows it locks) short
MAX_CATCH_UP_DAYS = TREND_DAYS  # beyond this, a full refresh is as cheap as working out what changed


_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


async def _reevaluate_in_chunks(pairs: list[tuple[int, int]]) -> tuple[int, int]:
    opened = resolved = 0
    for start in range(0, len(pairs), CHUNK):

        async def run(chunk: list[tuple[int, int]] = pairs[start : start + CHUNK]) -> tuple[int, int]:
            async with db.transaction() as conn:
                return await alerting.reevaluate_counted(conn, chunk)

        o, r = await db.with_retries(run)
        opened, resolved = opened + o, resolved + r
    return opened, resolved


def _covered_until(details: Any) -> datetime | None:
    """The instant a refresh event evaluated its locations at (older events recorded only a UTC date)."""
    if not isinstance(details, dict):
        return None
    try:
        if "at" in details:
            at = datetime.fromisoformat(str(details["at"]))
            return at if at.tzinfo is not None else None
        return datetime.combine(date.fromisoformat(str(details["date"])), time(0), tzinfo=UTC)
    except (KeyError, ValueError):
        return None


async def _due(location_id: int | None, now: datetime) -> tuple[list[int], list[tuple[int, date, date]]]:
    async with db.connection() as conn:
        return await _due_in(conn, location_id, now)


async def _due_in(
    conn: Connection, location_id: int | None, now: datetime
) -> tuple[list[int], list[tuple[int, date, date]]]:
    """Locations to evaluate in full, and (location, last day, today) to catch up, in each one's local days."""
    rows = await store.watermarks(conn, location_id)
    full: list[int] = []
    changed: list[tuple[int, date, date]] = []
    for row in rows:
        today = clock.today_in(row["timezone"], now)
        instants = [i for i in (_covered_until(row["everywhere"]), _covered_until(row["own"])) if i is not None]
        last = clock.today_in(row["timezone"], max(instants)) if instants else None
        if last == today:
            continue
        if last is None or last > today or (today - last).days > MAX_CATCH_UP_DAYS:
            full.append(row["id"])
        else:
            changed.append((row["id"], last, today))
    return full, changed


async def _pairs(
    conn: Connection, location_id: int | None, full: list[int], changed: list[tuple[int, date, date]]
) -> set[tuple[int, int]]:
    """Every pair of the `full` locations and the pairs the calendar may have changed at the others."""
    pairs: set[tuple[int, int]] = set()
    if location_id is None and full and not changed:
        pairs.update(await store.all_pairs(conn, None))
    else:
        for place in full:
            pairs.update(await store.all_pairs(conn, place))
    if changed:
        pairs.update(await store.changed_pairs(conn, changed))
    return pairs


async def _refresh(
    now: datetime, location_id: int | None, full: list[int], changed: list[tuple[int, date, date]]
) -> int:
    """Re-evaluate `full` locations entirely and what changed at the others; record `now` as evaluated."""
    async with db.connection() as conn:
        ordered = sorted(await _pairs(conn, location_id, full, changed))
    opened, resolved = await _reevaluate_in_chunks(ordered)
    details: dict[str, Any] = {
        # Each location was evaluated on its own local date at this instant (the watermark every process reads).
        "at": now.isoformat(),
        "date": now.date().isoformat(),
        "mode": "catch_up" if changed else "full",
        "pairs": len(ordered),
        "opened": opened,
        "resolved": resolved,
    }
    async with db.transaction() as conn:
        await audit.record(
            conn,
            actor_id=None,
            action="reorder_alert.refresh",
            entity="reorder_alert_refresh",
            entity_id=location_id or 0,
            details=details,
        )
    return len(ordered)


async def refresh_all() -> int:
    """Re-evaluate the reorder alert of every product and location with a rule or an open alert."""
    now = clock.now()
    async with db.connection() as conn:
        everywhere = [row["id"] for row in await store.watermarks(conn, None)]
    return await _refresh(now, None, everywhere, [])


async def refresh_location(location_id: int) -> int:
    """Re-evaluate every reorder alert of one location (the nightly job, after its local midnight)."""
    return await _refresh(clock.now(), location_id, [location_id], [])


async def catch_up(location_id: int | None = None) -> int:
    """Bring reorder alerts (of one location, or all) up to each location's local today after time alone moved on.

    Returns the number of pairs re-evaluated: 0 when every location's day was already evaluated.
    """
    now = clock.now()
    full, changed = await _due(location_id, now)
    if not full and not changed:
        return 0
    async with _lock():
        full, changed = await _due(location_id, now)
        if not full and not changed:
            return 0
        return await _refresh(now, location_id, full, changed)


async def stale_pairs(conn: Connection, location_id: int | None, now: datetime) -> set[tuple[int, int]]:
    """Pairs (of one location, or all) whose stored alert may be out of date at `now`; reads only.

    Empty once every location in scope was refreshed on its local today: stock changes keep the rest current.
    """
    full, changed = await _due_in(conn, location_id, now)
    if not full and not changed:
        return set()
    return await _pairs(conn, location_id, full, changed)
