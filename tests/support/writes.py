"""Rows written in the test's transaction, per table, from PostgreSQL's own counters (pg_stat_xact_user_tables)."""

from __future__ import annotations

import asyncpg

Writes = dict[str, tuple[int, int, int]]


async def table_writes(conn: asyncpg.Connection) -> Writes:
    """Rows inserted, updated and deleted so far in this transaction, per table that has any."""
    rows = await conn.fetch(
        "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables"
        " WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
    )
    return {r["relname"]: (r["n_tup_ins"], r["n_tup_upd"], r["n_tup_del"]) for r in rows}


def written(before: Writes, after: Writes) -> Writes:
    """What was written between two snapshots: (inserted, updated, deleted) per table that changed."""
    changed: Writes = {}
    for table, counts in after.items():
        base = before.get(table, (0, 0, 0))
        delta = (counts[0] - base[0], counts[1] - base[1], counts[2] - base[2])
        if delta != (0, 0, 0):
            changed[table] = delta
    return changed
