"""Piccolo's query builder on our own connection: the plain CRUD is written against tables.py, not SQL text.

Piccolo builds the statement and its arguments; asyncpg runs it on the connection the service's transaction
holds (Piccolo's own `run()` would take a connection of its own outside that transaction). A column renamed
in tables.py then breaks these queries where they are written, at import and type-check time.
"""

from __future__ import annotations

from typing import Any

from asyncpg import Record
from piccolo.query.base import Query

from inventory.db import Connection


def _compiled(query: Query[Any, Any]) -> tuple[str, list[Any]]:
    [statement] = query.querystrings  # every query built here is one statement
    sql, args = statement.compile_string(engine_type="postgres")
    return sql, list(args)


async def fetch(conn: Connection, query: Query[Any, Any]) -> list[Record]:
    """Every row the query returns."""
    sql, args = _compiled(query)
    return list(await conn.fetch(sql, *args))


async def fetchrow(conn: Connection, query: Query[Any, Any]) -> Record | None:
    """The query's first row, or None."""
    sql, args = _compiled(query)
    return await conn.fetchrow(sql, *args)


async def execute(conn: Connection, query: Query[Any, Any]) -> None:
    """Run a query whose rows nobody reads (an UPDATE without RETURNING)."""
    sql, args = _compiled(query)
    await conn.execute(sql, *args)
