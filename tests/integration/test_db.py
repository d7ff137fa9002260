"""The transaction helper survives commit-time failures without leaking pooled connections."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from inventory import db
from tests.conftest import Databases

pytestmark = pytest.mark.race


async def test_commit_time_failures_beyond_the_pool_size_leave_the_pool_healthy(
    race_pool: None, databases: Databases
) -> None:
    engine = db.get_engine()
    saved = engine.pool
    small = await asyncpg.create_pool(databases.race, min_size=1, max_size=3, **db.pool_options())
    engine.pool = small
    try:
        async with db.transaction() as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS commit_probe (id int, CONSTRAINT commit_probe_once UNIQUE (id)"
                " DEFERRABLE INITIALLY DEFERRED)"
            )
            await conn.execute("TRUNCATE commit_probe")
        failures = 0
        for _ in range(7):  # more than the pool's 3 connections
            with pytest.raises(asyncpg.UniqueViolationError):
                async with db.transaction() as conn:
                    # The deferred constraint only fires at COMMIT.
                    await conn.execute("INSERT INTO commit_probe VALUES (1), (1)")
            failures += 1
            assert engine.current_transaction.get() is None
        assert failures == 7
        started = time.perf_counter()
        async with asyncio.timeout(1):
            for _ in range(5):
                async with db.transaction() as conn:
                    assert await conn.fetchval("SELECT 1") == 1
            results = await asyncio.gather(*[db.ping(timeout=1) for _ in range(6)])
        assert all(results)
        assert time.perf_counter() - started < 1
    finally:
        engine.pool = saved
        await small.close()


async def test_retries_run_each_attempt_in_a_fresh_transaction(race_pool: None) -> None:
    attempts: list[int] = []

    async def flaky() -> int:
        async with db.transaction() as conn:
            backend = await conn.fetchval("SELECT txid_current()")
            attempts.append(int(backend))
            if len(attempts) < 3:
                raise asyncpg.SerializationError("simulated serialization failure")
            return len(attempts)

    assert await db.with_retries(flaky) == 3
    assert len(set(attempts)) == 3


async def test_no_column_takes_the_databases_clock(conn: asyncpg.Connection) -> None:
    """Every business time is written by the service (CONTRACT section 4): no default may stamp the database's."""
    stamped = await conn.fetch(
        "SELECT table_name || '.' || column_name AS col FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name <> 'migration' AND table_name NOT LIKE 'pgqueuer%'"
        " AND (column_default ILIKE '%current_timestamp%' OR column_default ILIKE '%current_date%'"
        " OR column_default ILIKE '%now()%')"
    )
    assert [r["col"] for r in stamped] == []
