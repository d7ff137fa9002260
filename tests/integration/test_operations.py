"""Operations: readiness follows the database, the CLI refuses an unmigrated database, users from stdin."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from inventory import db
from inventory.app import create_app
from inventory.config import Settings
from inventory.domain.models import Actor
from tests.conftest import Databases

pytestmark = pytest.mark.race


def _database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _cli(*args: str, url: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "INVENTORY_SECRET_KEY": secrets.token_urlsafe(48)}
    return subprocess.run(
        [sys.executable, "-m", "inventory.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


async def test_ready_is_503_while_the_database_is_unreachable(settings: Settings) -> None:
    engine = db.get_engine()
    saved = engine.pool
    # A pool that connects lazily to a port nobody listens on.
    engine.pool = await asyncpg.create_pool("postgresql://postgres@127.0.0.1:9/none", min_size=0, max_size=1)
    try:
        app = create_app(settings, manage_pool=False)
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await http.get("/ready")).status_code == 503
            assert (await http.get("/health")).status_code == 200
    finally:
        await engine.pool.close()
        engine.pool = saved


async def test_ready_recovers_by_itself_after_connections_are_dropped(race_pool: None, databases: Databases) -> None:
    assert await db.ping()
    admin = await asyncpg.connect(databases.admin)
    try:
        name = urlsplit(databases.race).path.lstrip("/")
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()
    results = []
    for _ in range(5):
        results.append(await db.ping())
        if results[-1]:
            break
        await asyncio.sleep(0.1)
    assert results[-1] is True


async def test_serve_refuses_an_unmigrated_database_and_user_create_reads_stdin(databases: Databases) -> None:
    name = f"inventory_cli_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(databases.admin)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _database(databases.admin, name)
    try:
        refused = await asyncio.to_thread(_cli, "serve", "--port", "1", url=url)
        assert refused.returncode == 2
        assert "not migrated" in refused.stderr
        assert (await asyncio.to_thread(_cli, "migrate", url=url)).returncode == 0
        created = await asyncio.to_thread(
            _cli,
            "user",
            "create",
            "nurse@clinic.test",
            "--role",
            "staff",
            "--password-stdin",
            url=url,
            stdin="a long enough password\n",
        )
        assert created.returncode == 0, created.stderr
        duplicate = await asyncio.to_thread(
            _cli,
            "user",
            "create",
            "nurse@clinic.test",
            "--role",
            "staff",
            "--password-stdin",
            url=url,
            stdin="a long enough password\n",
        )
        assert duplicate.returncode == 1
        conn = await asyncpg.connect(url)
        try:
            row = await conn.fetchrow("SELECT role, password_hash FROM app_user WHERE email = 'nurse@clinic.test'")
        finally:
            await conn.close()
        assert row["role"] == "staff"
        assert row["password_hash"].startswith("$argon2id$")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_purge_forgets_only_what_is_past_retention(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    from inventory.services import maintenance

    user = actors["staff"].id
    await conn.execute(
        "INSERT INTO idempotency_record (user_id, key, fingerprint, response_status, response_body, created_at)"
        " VALUES ($1, 'old', 'f', 201, '{}', now() - interval '3 days'), ($1, 'new', 'f', 201, '{}', now())",
        user,
    )
    await conn.execute(
        "INSERT INTO login_attempt (email, succeeded, attempted_at) VALUES"
        " ('x@clinic.test', false, now() - interval '40 days'), ('x@clinic.test', false, now())"
    )
    await conn.execute(
        "INSERT INTO revoked_token (jti, expires_at) VALUES ('gone', now() - interval '1 hour'),"
        " ('live', now() + interval '1 hour')"
    )
    counts = await maintenance.purge()
    assert counts["idempotency_keys"] >= 1
    assert await conn.fetchval(
        "SELECT array_agg(key ORDER BY key) FROM idempotency_record WHERE user_id = $1", user
    ) == ["new"]
    assert await conn.fetchval("SELECT count(*) FROM login_attempt WHERE email = 'x@clinic.test'") == 1
    assert await conn.fetchval("SELECT array_agg(jti) FROM revoked_token WHERE jti IN ('gone', 'live')") == ["live"]
