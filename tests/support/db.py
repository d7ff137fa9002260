"""Database helpers for assertions that a refused request wrote nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import asyncpg


async def row_counts(conn: asyncpg.Connection, tables: Iterable[str]) -> dict[str, int]:
    """Row counts of the given tables, as the test's transaction sees them."""
    return {table: int(await conn.fetchval(f"SELECT count(*) FROM {table}")) for table in tables}


async def wait_until_blocked_by(conn: asyncpg.Connection, *, count: int = 1, seconds: float = 10.0) -> None:
    """Wait until `count` other backends wait on a lock `conn` holds (pg_blocking_pids says who waits for whom).

    Asserting "the other request is still waiting" after a sleep passes by luck on a slow machine and proves
    nothing on a fast one; PostgreSQL itself can say who waits for whom.
    """
    holder = conn.get_server_pid()
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        # pg_stat_activity is read once per transaction and cached: clear it, or a waiter that arrived after
        # the first look inside `conn`'s open transaction would never be seen.
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", holder
        )
        if waiting >= count:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{waiting} of {count} backends waited on backend {holder} within {seconds} s")
        await asyncio.sleep(0.01)
