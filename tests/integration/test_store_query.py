"""Piccolo-built queries run on the caller's connection, inside its transaction, with their arguments bound."""

from __future__ import annotations

import asyncpg

from inventory import db
from inventory.store import query
from inventory.tables import AppUser, Brand


async def test_a_built_insert_belongs_to_the_callers_transaction(pool: None) -> None:
    engine = db.get_engine()
    assert engine.pool is not None
    # A connection of our own, not registered with Piccolo: Piccolo's run() would have used another one.
    async with engine.pool.acquire() as mine, engine.pool.acquire() as other:
        transaction = mine.transaction()
        await transaction.start()
        try:
            brand = Brand(name="Inside a transaction", created_at=db.now())
            row = await query.fetchrow(mine, Brand.insert(brand).returning(Brand.id))
            assert row is not None
            assert await mine.fetchval("SELECT name FROM brand WHERE id = $1", row["id"]) == "Inside a transaction"
            assert await other.fetchval("SELECT count(*) FROM brand WHERE id = $1", row["id"]) == 0
        finally:
            await transaction.rollback()
        assert await other.fetchval("SELECT count(*) FROM brand WHERE id = $1", row["id"]) == 0


async def test_values_are_bound_not_spliced_into_the_text(conn: asyncpg.Connection) -> None:
    hostile = "x'; DROP TABLE app_user; --"
    rows = await query.fetch(conn, AppUser.select(AppUser.id).where(AppUser.email == hostile))
    assert rows == []
    assert await conn.fetchval("SELECT count(*) FROM app_user") > 0


async def test_an_update_changes_only_the_rows_it_selects(conn: asyncpg.Connection) -> None:
    first, second = [r["id"] for r in await conn.fetch("SELECT id FROM app_user ORDER BY id LIMIT 2")]
    await query.execute(conn, AppUser.update({AppUser.locale: "fr"}).where(AppUser.id == first))
    locales = dict(await conn.fetch("SELECT id, locale FROM app_user WHERE id = ANY($1)", [first, second]))
    assert locales == {first: "fr", second: None}
