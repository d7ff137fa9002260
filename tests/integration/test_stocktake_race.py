"""Stocktake under real concurrency, on the race database: counters at once, and a count racing the approval."""

from __future__ import annotations

import asyncio

import pytest

from inventory import db
from inventory.domain.errors import Conflict
from inventory.domain.models import Actor
from inventory.services import stocktake
from tests.integration.test_concurrency import ledger_matches_levels, race_actors
from tests.support.clinic import build
from tests.support.db import wait_until_blocked_by

pytestmark = pytest.mark.race


async def _until_waiting(how_many: int, *, seconds: float = 5.0) -> None:
    """Wait until `how_many` backends of this database wait on a lock (PostgreSQL says so; no sleep-and-hope).

    Polled from a connection of its own outside any transaction: pg_stat_activity is a snapshot per transaction.
    """
    deadline = asyncio.get_running_loop().time() + seconds
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND cardinality(pg_blocking_pids(pid)) > 0"
    )
    async with db.connection() as watcher:
        while await watcher.fetchval(query) < how_many:
            assert asyncio.get_running_loop().time() < deadline, "the counts never queued behind the lock"
            await asyncio.sleep(0.01)


async def test_two_counters_scanning_the_same_lot_at_once_both_count(race_pool: None) -> None:
    actors: dict[str, Actor] = await race_actors()
    clinic = await build(actors, on_hand=10)
    st = (await stocktake.start(actor=actors["manager"], location_id=clinic.location_id))["id"]
    async with db.connection() as other:
        blocker = other.transaction()
        await blocker.start()
        # Hold the stocktake as an approval would: both counts queue behind it, then run at the same moment.
        await other.execute("SELECT 1 FROM stocktake WHERE id = $1 FOR UPDATE", st)
        counts = [
            asyncio.create_task(
                stocktake.count(actor=actors[who], stocktake_id=st, barcode=clinic.code(), quantity=quantity)
            )
            for who, quantity in (("staff", 4), ("staff2", 5))
        ]
        # The second waits behind the first for the row's tuple lock: count every backend waiting on a lock.
        await _until_waiting(2)
        await blocker.rollback()
    first, second = await asyncio.wait_for(asyncio.gather(*counts), timeout=10)
    assert (first["your_total"], second["your_total"]) == (4, 5)
    review = await stocktake.review(stocktake_id=st)
    (line,) = review["lines"]
    assert (line["counted"], line["counts"], line["expected"], line["variance"]) == (9, 2, 10, -1)
    approved = await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    assert approved["adjustments"] == [{"lot_id": clinic.lot["id"], "before": 10, "delta": -1, "on_hand": 9}]
    assert await ledger_matches_levels(clinic.lot["id"]) == []


async def test_many_counters_at_once_lose_no_count(race_pool: None) -> None:
    actors: dict[str, Actor] = await race_actors()
    clinic = await build(actors, on_hand=50)
    st = (await stocktake.start(actor=actors["manager"], location_id=clinic.location_id))["id"]
    who = ["staff", "staff2"] * 10
    await asyncio.gather(
        *(stocktake.count(actor=actors[w], stocktake_id=st, lot_id=clinic.lot["id"], quantity=2) for w in who)
    )
    (line,) = (await stocktake.review(stocktake_id=st))["lines"]
    assert (line["counted"], line["counts"]) == (40, 20)


async def test_a_count_arriving_while_the_stocktake_is_approved_is_refused_not_lost(race_pool: None) -> None:
    actors: dict[str, Actor] = await race_actors()
    clinic = await build(actors, on_hand=3)
    st = (await stocktake.start(actor=actors["manager"], location_id=clinic.location_id))["id"]
    await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=clinic.lot["id"], quantity=3)
    async with db.connection() as other:
        approving = other.transaction()
        await approving.start()
        await other.execute("SELECT 1 FROM stocktake WHERE id = $1 FOR UPDATE", st)
        late = asyncio.create_task(
            stocktake.count(actor=actors["staff2"], stocktake_id=st, lot_id=clinic.lot["id"], quantity=1)
        )
        await wait_until_blocked_by(other)
        await other.execute("UPDATE stocktake SET status = 'approved' WHERE id = $1", st)
        await approving.commit()
    with pytest.raises(Conflict) as refused:
        await asyncio.wait_for(late, timeout=10)
    assert refused.value.code == "stocktake_closed"
    (line,) = (await stocktake.review(stocktake_id=st))["lines"]
    assert line["counted"] == 3
