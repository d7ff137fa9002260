"""Sign-in limits: per (e-mail, address) and per address, in PostgreSQL; never a lock-out of the real user."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg
import httpx
import pytest
from litestar import Litestar

from inventory.config import Settings
from inventory.domain.errors import TooManyRequests, Unauthorized
from inventory.services import auth
from inventory.store import users
from tests.support.http import is_problem

PASSWORD = "ampoule fridge seventeen"
_HASH: list[str] = []

From = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def from_address(app: Litestar, conn: asyncpg.Connection) -> From:
    """An HTTP client whose requests come from the given address (in the test's transaction)."""

    @asynccontextmanager
    async def make(address: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(address, 40_000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

    return make


async def new_user(conn: asyncpg.Connection) -> str:
    """A staff user with PASSWORD; returns the e-mail."""
    if not _HASH:
        _HASH.append(await auth.hash_password(PASSWORD))
    email = f"limit-{secrets.token_hex(4)}@clinic.test"
    await users.create(conn, email=email, full_name="", password_hash=_HASH[0], role="staff")
    return email


async def sign_in(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """POST /api/auth/token."""
    return await http.post("/api/auth/token", json={"email": email, "password": password})


def retry_after(response: httpx.Response, settings: Settings) -> int:
    """The Retry-After of a 429, checked to be whole seconds within the window."""
    assert is_problem(response, 429, "too_many_attempts")
    seconds = int(response.headers["retry-after"])
    assert 1 <= seconds <= settings.login_window_seconds
    assert response.json()["retry_after"] == seconds
    return seconds


async def test_failures_from_one_address_do_not_lock_the_user_out_elsewhere(
    conn: asyncpg.Connection, from_address: From, settings: Settings
) -> None:
    email = await new_user(conn)
    async with from_address("203.0.113.7") as attacker, from_address("10.1.2.3") as chair:
        for n in range(settings.login_max_failures):
            assert is_problem(await sign_in(attacker, email, f"guess number {n}"), 401, "invalid_credentials")
        retry_after(await sign_in(attacker, email), settings)  # even the right password, from there
        assert (await sign_in(chair, email)).status_code == 200
        retry_after(await sign_in(attacker, email, "another guess"), settings)
        assert (await sign_in(chair, email)).status_code == 200


async def test_a_success_from_the_chair_does_not_reset_the_attackers_count(
    conn: asyncpg.Connection, from_address: From, settings: Settings
) -> None:
    email = await new_user(conn)
    for _ in range(settings.login_max_failures):
        await users.claim_attempt(conn, email, "203.0.113.8")
    async with from_address("203.0.113.8") as attacker, from_address("10.1.2.4") as chair:
        assert (await sign_in(chair, email)).status_code == 200
        retry_after(await sign_in(attacker, email), settings)


async def test_an_address_guessing_across_many_emails_is_limited(
    conn: asyncpg.Connection, from_address: From, settings: Settings
) -> None:
    email = await new_user(conn)
    for n in range(settings.login_max_failures_per_address - 1):
        await users.claim_attempt(conn, f"victim-{n}-{secrets.token_hex(3)}@clinic.test", "198.51.100.9")
    async with from_address("198.51.100.9") as sprayer, from_address("10.1.2.5") as chair:
        last = await sign_in(sprayer, f"victim-last-{secrets.token_hex(3)}@clinic.test", "spring2026!")
        assert is_problem(last, 401, "invalid_credentials")
        retry_after(await sign_in(sprayer, f"victim-new-{secrets.token_hex(3)}@clinic.test", "guess"), settings)
        retry_after(await sign_in(sprayer, email), settings)  # a real user's right password: still that address
        assert (await sign_in(chair, email)).status_code == 200


async def test_retry_after_is_when_the_oldest_counted_failure_leaves_the_window(
    conn: asyncpg.Connection, from_address: From, settings: Settings
) -> None:
    email = await new_user(conn)
    window = settings.login_window_seconds
    ages = [window - 100] + [10] * (settings.login_max_failures - 1)
    await conn.executemany(
        "INSERT INTO login_attempt (email, client, succeeded, attempted_at)"
        " VALUES ($1, $2, false, now() - $3 * interval '1s')",
        [(email, "192.0.2.44", float(age)) for age in ages],
    )
    async with from_address("192.0.2.44") as http:
        assert 95 <= retry_after(await sign_in(http, email), settings) <= 101


async def test_attempts_are_recorded_with_the_client_address(conn: asyncpg.Connection, from_address: From) -> None:
    email = await new_user(conn)
    async with from_address("192.0.2.45") as http:
        await sign_in(http, email, "not the password at all")
        await sign_in(http, email)
    rows = await conn.fetch("SELECT client, succeeded FROM login_attempt WHERE email = $1 ORDER BY id", email)
    assert [(r["client"], r["succeeded"]) for r in rows] == [("192.0.2.45", False), ("192.0.2.45", True)]


@pytest.mark.race
async def test_parallel_guesses_across_emails_from_one_address_cannot_pass_the_address_limit(
    race_pool: None, settings: Settings
) -> None:
    tight = dataclasses.replace(settings, login_max_failures_per_address=4)
    address = f"198.51.100.{secrets.randbelow(200) + 20}"

    async def guess(n: int) -> str:
        try:
            await auth.issue_token(
                settings=tight, email=f"spray-{n}-{secrets.token_hex(3)}@clinic.test", password="x" * 12, client=address
            )
        except Unauthorized:
            return "wrong"
        except TooManyRequests as error:
            return "limited" if isinstance(error.extra["retry_after"], int) else "limited without retry_after"
        return "signed in"

    outcomes = await asyncio.gather(*[guess(n) for n in range(10)])
    assert outcomes.count("wrong") == 4
    assert outcomes.count("limited") == 6
