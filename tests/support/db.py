"""Database helpers for assertions that a refused request wrote nothing."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg


async def row_counts(conn: asyncpg.Connection, tables: Iterable[str]) -> dict[str, int]:
    """Row counts of the given tables, as the test's transaction sees them."""
    return {table: int(await conn.fetchval(f"SELECT count(*) FROM {table}")) for table in tables}
