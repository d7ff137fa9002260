"""PostgreSQL out of connections: a readable start-up error, and 503 busy with Retry-After while serving."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from inventory import db
from inventory.app import create_app
from inventory.config import Settings
from tests.conftest import Databases
from tests.support.http import H, is_problem

pytestmark = pytest.mark.race


@pytest.fixture
async def one_connection_role(databases: Databases) -> AsyncIterator[str]:
    """The race database's URL as a fresh role allowed a single connection (dropped after the test)."""
    name, password = f"inventory_limit_{secrets.token_hex(4)}", secrets.token_hex(16)
    admin = await asyncpg.connect(databases.admin)
    try:
        await admin.execute(f"CREATE ROLE {name} LOGIN CONNECTION LIMIT 1 PASSWORD '{password}'")
        parts = urlsplit(databases.race)
        yield urlunsplit(parts._replace(netloc=f"{name}:{password}@{parts.hostname}:{parts.port or 5432}"))
    finally:
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", name)
        await admin.execute(f"DROP ROLE IF EXISTS {name}")
        await admin.close()


@pytest.fixture
async def engine_off(pool: None) -> AsyncIterator[None]:
    """The engine without its pool and with its configuration saved, restored after the test."""
    engine = db.get_engine()
    saved_pool, saved_config = engine.pool, engine.config
    engine.pool = None
    try:
        yield
    finally:
        if engine.pool is not None:
            await engine.pool.close()
        engine.pool, engine.config = saved_pool, saved_config


async def test_a_pool_refused_by_a_full_server_stops_start_up_with_a_readable_message(
    one_connection_role: str, engine_off: None
) -> None:
    holder = await asyncpg.connect(one_connection_role)  # the only connection the role may have
    try:
        db.configure(one_connection_role)
        with pytest.raises(db.PoolStartError) as refused:
            await db.start_pool(min_size=1, max_size=4)
    finally:
        await holder.close()
    message = str(refused.value)
    assert "PostgreSQL refused a connection" in message
    assert "too many connections" in message
    assert "INVENTORY_POOL_MAX" in message
    assert db.get_engine().pool is None


async def test_a_request_that_finds_no_connection_free_is_503_busy_with_retry_after(
    one_connection_role: str, engine_off: None, settings: Settings, auth_headers: H
) -> None:
    engine = db.get_engine()
    engine.pool = await asyncpg.create_pool(one_connection_role, min_size=0, max_size=2, **db.pool_options())
    holder = await asyncpg.connect(one_connection_role)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, manage_pool=False))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get("/api/stock", headers=auth_headers["staff"])
    finally:
        await holder.close()
    assert is_problem(response, 503, "busy")
    assert response.headers["retry-after"] == "1"
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_the_pool_closes_idle_connections_after_the_configured_time(
    databases: Databases, engine_off: None
) -> None:
    db.configure(databases.race)
    await db.start_pool(min_size=0, max_size=3, idle_seconds=0.2)
    pool = db.get_engine().pool
    assert pool is not None
    async with pool.acquire() as conn:
        await conn.fetchval("SELECT 1")
    assert pool.get_size() == 1
    for _ in range(30):
        await asyncio.sleep(0.1)
        if pool.get_size() == 0:
            break
    assert pool.get_size() == 0
