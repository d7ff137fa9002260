"""Database access: the engine, the one transaction helper, the pool lifespan and embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import msgspec
from asyncpg import Connection
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

from inventory import clock
from inventory.domain import quantities

_JSON = msgspec.json.Encoder(decimal_format="number")

T = TypeVar("T")

__all__ = ["DISCONNECTED", "CommitOutcomeUnknown", "Connection", "connection", "now", "transaction", "with_retries"]

# The Python clock's instant when the current transaction began: the transaction's time, from our clock.
_began: ContextVar[datetime | None] = ContextVar("inventory_transaction_began", default=None)


# Errors after which the whole transaction may be retried from the start, outside its scope.
RETRYABLE = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)

# The connection broke under a statement: the backend was terminated (pg_terminate_backend, a restart), the
# socket closed, or asyncpg's protocol was left mid-operation ("cannot switch to state 12").
DISCONNECTED: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
)


class PoolStartError(RuntimeError):
    """PostgreSQL refused the pool's first connections: the message says why and what to change."""


# SQLSTATE 53300: max_connections, a role's or a database's CONNECTION LIMIT is reached.
TOO_MANY_CONNECTIONS = asyncpg.TooManyConnectionsError


class CommitOutcomeUnknown(Exception):
    """The connection broke during COMMIT: the write may or may not have happened, so it must not be re-run."""


class InventoryEngine(PostgresEngine):
    """Piccolo's Postgres engine, without the blocking version probe it runs at import time."""

    async def check_version(self) -> None:
        """Skip Piccolo's synchronous connect-at-import; readiness is checked by /ready instead."""
        return None

    async def prep_database(self) -> None:
        """No extensions to create."""
        return None


def _initial_config() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL", "").strip()
    return {"dsn": url} if url else {}


ENGINE = InventoryEngine(config=_initial_config())


def get_engine() -> InventoryEngine:
    """The process-wide engine."""
    return ENGINE


def configure(dsn: str) -> None:
    """Point the engine at a database (before its pool starts)."""
    ENGINE.config = {"dsn": dsn}


# A stuck lock must surface as an error, never as a hung scan at the chair. Sent in the connection's start-up
# packet, they are its defaults: they cost no round trip, and a RESET ALL (asyncpg's default reset, which the
# pool below no longer runs) would return to them rather than to the server's (a SET after connecting would be lost).
SERVER_SETTINGS = {"lock_timeout": "5s", "statement_timeout": "30s"}


async def init_connection(connection: Connection) -> None:
    await connection.set_type_codec("jsonb", encoder=_json_dumps, decoder=_json_loads, schema="pg_catalog")
    # Quantities are numeric(12,2): whole ones come back as the ints they always were, the others as exact Decimals.
    await connection.set_type_codec(
        "numeric", encoder=quantities.encode, decoder=quantities.decode, schema="pg_catalog", format="text"
    )


def _json_dumps(value: Any) -> str:
    # Decimal quantities (alert figures, audit details) as JSON numbers, as the API writes them.
    return _JSON.encode(value).decode()


def _json_loads(value: str) -> Any:
    import msgspec

    return msgspec.json.decode(value)


async def keep_session(connection: Connection) -> None:
    """The pool's reset on release: nothing to send, since no session state outlives a use of a connection.

    asyncpg's default reset (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) is a round trip on
    every release, two per scan. It undoes nothing here: every use of a pool connection ends its transaction
    (`transaction` commits or rolls back, and the pool still rolls back one left open and drops its listeners
    before calling this), advisory locks are transaction-scoped (`pg_advisory_xact_lock`), pgqueuer's session
    lock for its schema upgrade is taken on a connection of its own (`jobs._single_connection`) and its LISTEN
    connection is reset by its driver before going back, no cursor is held across transactions, and settings are
    start-up parameters (SERVER_SETTINGS) or SET LOCAL. tests/unit/test_pool_reset.py keeps the code that way.
    """
    return None


def pool_options() -> dict[str, Any]:
    """What every pool of the app's connections is made with: the connection set-up, its reset and timeouts."""
    return {
        "init": init_connection,
        "reset": keep_session,
        "server_settings": dict(SERVER_SETTINGS),
        "command_timeout": 30,
    }


async def start_pool(*, min_size: int = 2, max_size: int = 16, idle_seconds: float = 30.0) -> None:
    """Open the connection pool (idempotent); raises PoolStartError when PostgreSQL refuses its connections.

    A connection idle for `idle_seconds` is closed, so a quiet process holds only `min_size` of the server's
    max_connections.
    """
    if ENGINE.pool is not None:
        return
    try:
        ENGINE.pool = await asyncpg.create_pool(
            **ENGINE.config,
            min_size=min_size,
            max_size=max_size,
            max_inactive_connection_lifetime=idle_seconds,
            timeout=5,
            **pool_options(),
        )
    except TOO_MANY_CONNECTIONS as error:
        raise PoolStartError(
            f"PostgreSQL refused a connection: {error}. Its max_connections (or a role's or database's CONNECTION"
            " LIMIT) is used up by other clients: lower INVENTORY_DB_CONNECTIONS / INVENTORY_POOL_MAX or the"
            " number of workers, or raise the server's max_connections (see README, Operations)."
        ) from error


async def close_pool() -> None:
    """Close the connection pool if it is open."""
    pool, ENGINE.pool = ENGINE.pool, None
    if pool is not None:
        await pool.close()


def _pool() -> asyncpg.Pool:
    if ENGINE.pool is None:
        raise RuntimeError("the database pool is not started")
    return ENGINE.pool


def now() -> datetime:
    """The time written as "now" by the current transaction: the service clock when it began (UTC).

    Every row a transaction writes carries the same instant, as a transaction timestamp would, but a shifted
    process clock moves it; outside a transaction it is simply clock.now().
    """
    began = _began.get()
    return clock.now() if began is None else began


@contextlib.asynccontextmanager
async def transaction() -> AsyncIterator[Connection]:
    """One database transaction; nested calls become savepoints of the enclosing one.

    Unlike Piccolo 1.38's own context manager, the connection always goes back to the pool and the
    context variable is always reset, even when COMMIT itself fails (deferred constraint, serialization
    failure, dropped connection): the pool can never leak empty.
    """
    began = _began.set(_began.get() or clock.now())
    try:
        async with _transaction() as conn:
            yield conn
    finally:
        _began.reset(began)


@contextlib.asynccontextmanager
async def _transaction() -> AsyncIterator[Connection]:
    parent = ENGINE.current_transaction.get()
    if parent is not None:
        async with parent.connection.transaction():
            yield parent.connection
        return

    pool = _pool()
    connection: Connection = await pool.acquire(timeout=10)
    try:
        shim = PostgresTransaction(ENGINE)
        shim.connection = connection  # Piccolo queries inside this block run on our connection
        token = ENGINE.current_transaction.set(shim)
        try:
            outer = connection.transaction()
            await outer.start()
            try:
                yield connection
            except BaseException:
                with contextlib.suppress(Exception):
                    await outer.rollback()
                raise
            try:
                await outer.commit()
            except DISCONNECTED as error:
                # Before COMMIT a broken connection leaves nothing written; during it, nobody can tell.
                raise CommitOutcomeUnknown("the connection broke during COMMIT") from error
        finally:
            ENGINE.current_transaction.reset(token)
    finally:
        # release() rolls back anything left open and terminates a broken connection.
        with contextlib.suppress(Exception):
            await pool.release(connection, timeout=5)


@contextlib.asynccontextmanager
async def connection() -> AsyncIterator[Connection]:
    """A connection for read-only work: the current transaction's, or one from the pool."""
    parent = ENGINE.current_transaction.get()
    if parent is not None:
        yield parent.connection
        return
    async with _pool().acquire(timeout=10) as conn:
        yield conn


async def with_retries(operation: Callable[[], Awaitable[T]], *, attempts: int = 3) -> T:
    """Run a whole transactional operation again after a serialization failure or deadlock.

    The loop sits outside the transaction scope, so every attempt gets a fresh transaction.
    Inside an enclosing transaction (tests) there is nothing safe to retry, so it runs once.
    """
    if ENGINE.current_transaction.get() is not None:
        return await operation()
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except RETRYABLE:
            if attempt == attempts:
                raise
            await asyncio.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


async def ping(timeout: float = 2.0) -> bool:
    """True when the database answers within the timeout."""
    try:
        pool = _pool()
        async with asyncio.timeout(timeout):
            async with pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        return True
    except Exception:
        return False


# ---------------------------------------------------------------- embedded PostgreSQL


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) an embedded PostgreSQL under data_dir; returns its superuser's URL.

    pgserver listens on a Unix socket only (no TCP) with trust authentication: a local development server. The
    application role still gets a password, so a stricter pg_hba.conf keeps working.
    """
    from inventory.config import SettingsError

    try:
        from pgserver import get_server  # type: ignore[attr-defined]
    except ImportError as error:  # the image has no embedded server: it is given a DATABASE_URL
        raise SettingsError(
            "No DATABASE_URL is set and the embedded PostgreSQL is not installed: set DATABASE_URL, or install"
            " the 'embedded' extra (make run and make test do)."
        ) from error

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(str(data_dir), cleanup_mode="stop")
    uri: str = server.get_uri()
    return uri


def login_as(url: str, role: str, password: str) -> str:
    """The same server and database, signed in as another role."""
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(role, safe='')}:{quote(password, safe='')}@{host}"))
