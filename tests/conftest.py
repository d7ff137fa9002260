"""Shared fixtures: a real, migrated PostgreSQL; each test inside a rolled-back transaction; HTTP via ASGI."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from litestar import Litestar
from piccolo.engine.postgres import PostgresTransaction

from inventory import clock, db
from inventory.app import create_app
from inventory.config import Settings
from inventory.domain.models import Actor

SECRET = secrets.token_urlsafe(48)
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Databases:
    """The migrated database the tests run in, a clone for race tests that commit, and a template for job tests.

    Nothing connects to `jobs_template`: each job test clones it into a database of its own.
    """

    main: str
    race: str
    admin: str
    jobs_template: str = ""
    app_role: str = ""  # the session's own application role (roles are cluster-wide), granted by `migrate`
    app_password: str = ""

    def as_app(self, url: str) -> str:
        """The same database's URL, signed in as the application role."""
        return _as_role(url, self.app_role, self.app_password)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _as_role(url: str, role: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{role}:{password}@{host}"))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """TEST_DATABASE_URL, or a throw-away embedded PostgreSQL."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="inventory-pg-") as folder:
        with warnings.catch_warnings():
            # pgserver's platformdirs warns when XDG_RUNTIME_DIR is unset; that is harmless here.
            warnings.simplefilter("ignore")
            from pgserver import get_server  # type: ignore[attr-defined]

            server = get_server(Path(folder), cleanup_mode="stop")
            uri = server.get_uri()
        yield uri
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


@pytest.fixture(scope="session")
async def databases(server_url: str) -> AsyncIterator[Databases]:
    """Create, migrate and seed users in a fresh database; clone it for race tests; drop both after."""
    suffix = secrets.token_hex(4)
    main_name, race_name = f"inventory_test_{suffix}", f"inventory_race_{suffix}"
    jobs_name = f"inventory_jobs_{suffix}"
    app_role, app_password = f"inventory_app_test_{suffix}", secrets.token_urlsafe(24)
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{main_name}"')
        main = _with_database(server_url, main_name)
        db.configure(main)
        from inventory import migrate

        await migrate.forwards(quiet=True, app_role=app_role, app_password=app_password)
        await db.start_pool(min_size=1, max_size=10)
        from inventory.services import auth

        for role in ("staff", "manager", "admin"):
            await auth.create_user(actor=None, email=f"{role}@clinic.test", role=role, password=PASSWORD)
        await auth.create_user(actor=None, email="staff2@clinic.test", role="staff", password=PASSWORD)
        await db.close_pool()
        await admin.execute(f'CREATE DATABASE "{race_name}" TEMPLATE "{main_name}"')
        await admin.execute(f'CREATE DATABASE "{jobs_name}" TEMPLATE "{main_name}"')
        yield Databases(
            main=main,
            race=_with_database(server_url, race_name),
            admin=server_url,
            jobs_template=jobs_name,
            app_role=app_role,
            app_password=app_password,
        )
    finally:
        await db.close_pool()
        for name in (main_name, race_name, jobs_name):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # Its grants went with the databases; a test that cloned one drops its clone before this.
        with contextlib.suppress(asyncpg.DependentObjectsStillExistError):
            await admin.execute(f'DROP ROLE IF EXISTS "{app_role}"')
        await admin.close()


@pytest.fixture(scope="session")
def settings(databases: Databases) -> Settings:
    """Settings pointing at the test database."""
    return Settings(database_url=databases.main, secret_key=SECRET, login_max_failures=5)


@pytest.fixture(scope="session")
async def pool(databases: Databases) -> AsyncIterator[None]:
    """The engine's pool on the main test database for the whole session."""
    db.configure(databases.main)
    await db.start_pool(min_size=1, max_size=10)
    yield
    await db.close_pool()


@pytest.fixture
async def conn(pool: None) -> AsyncIterator[asyncpg.Connection]:
    """A transaction around the whole test, rolled back at the end; services nest in it as savepoints."""
    engine = db.get_engine()
    assert engine.pool is not None
    connection = await engine.pool.acquire()
    transaction = connection.transaction()
    await transaction.start()
    shim = PostgresTransaction(engine)
    shim.connection = connection
    token = engine.current_transaction.set(shim)
    try:
        yield connection
    finally:
        engine.current_transaction.reset(token)
        await transaction.rollback()
        await engine.pool.release(connection)
        clock.reset()


@pytest.fixture
async def actors(conn: asyncpg.Connection) -> dict[str, Actor]:
    """The seeded users as actors, by role (plus staff2)."""
    rows = await conn.fetch("SELECT id, email, role FROM app_user WHERE email LIKE '%@clinic.test'")
    by_email = {r["email"]: Actor(id=r["id"], role=r["role"], email=r["email"]) for r in rows}
    return {
        "staff": by_email["staff@clinic.test"],
        "staff2": by_email["staff2@clinic.test"],
        "manager": by_email["manager@clinic.test"],
        "admin": by_email["admin@clinic.test"],
    }


@pytest.fixture(scope="session")
async def tokens(settings: Settings, pool: None) -> dict[str, str]:
    """A bearer token per seeded user (issued once: Argon2 is deliberately slow)."""
    from inventory.services import auth

    result = {}
    for name in ("staff", "staff2", "manager", "admin"):
        issued = await auth.issue_token(settings=settings, email=f"{name}@clinic.test", password=PASSWORD)
        result[name] = issued.access_token
    return result


@pytest.fixture(scope="session")
def app(settings: Settings) -> Litestar:
    """The app, built once: it holds no per-test state (the database is the state)."""
    return create_app(settings, manage_pool=False)


@pytest.fixture
async def client(app: Litestar, conn: asyncpg.Connection) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the ASGI app, in the test's transaction (same task, so the same connection)."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def auth_headers(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """Authorization headers by role."""
    return {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}


@pytest.fixture
async def race_pool(databases: Databases, pool: None) -> AsyncIterator[None]:
    """Swap the engine's pool for one on the race database: tests here commit from many connections."""
    engine = db.get_engine()
    saved = engine.pool
    engine.pool = await asyncpg.create_pool(databases.race, min_size=2, max_size=30, **db.pool_options())
    try:
        yield
    finally:
        await engine.pool.close()
        engine.pool = saved
        clock.reset()
