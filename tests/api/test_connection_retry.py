"""A broken database connection: retried once when nothing was committed, otherwise 503 busy; never 500."""

from __future__ import annotations

import asyncpg
import httpx
from litestar import Litestar, get, post
from litestar.middleware.base import DefineMiddleware
from litestar.params import JSONBody

from inventory.api import problems
from inventory.api.retry import retry_middleware
from inventory.db import CommitOutcomeUnknown
from tests.support.http import is_problem


def _app(calls: list[str]) -> Litestar:
    @get("/read", sync_to_thread=False)
    def read() -> dict[str, int]:
        calls.append("read")
        if len(calls) == 1:
            raise asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress")
        return {"attempts": len(calls)}

    @get("/always-broken", sync_to_thread=False)
    def always_broken() -> None:
        calls.append("broken")
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    @post("/write", sync_to_thread=False)
    def write(data: JSONBody[dict[str, int]]) -> dict[str, int]:
        calls.append(f"write {data['n']}")
        raise CommitOutcomeUnknown("the connection broke during COMMIT")

    return Litestar(
        route_handlers=[read, always_broken, write],
        middleware=[DefineMiddleware(retry_middleware)],
        plugins=[problems.plugin()],
    )


async def send(app: Litestar, method: str, path: str, **kwargs: object) -> httpx.Response:
    """One request through the ASGI app."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.request(method, path, **kwargs)  # type: ignore[arg-type]


async def test_a_read_that_lost_its_connection_is_run_again_once_and_succeeds() -> None:
    calls: list[str] = []
    response = await send(_app(calls), "GET", "/read")
    assert response.status_code == 200, response.text
    assert response.json() == {"attempts": 2}
    assert problems.RETRY_SAFE_HEADER not in response.headers


async def test_a_second_broken_connection_is_503_busy_with_retry_after_and_no_internal_header() -> None:
    calls: list[str] = []
    response = await send(_app(calls), "GET", "/always-broken")
    assert is_problem(response, 503, "busy")
    assert response.headers["retry-after"] == "1"
    assert problems.RETRY_SAFE_HEADER not in response.headers
    assert calls == ["broken", "broken"]


async def test_a_write_whose_commit_outcome_is_unknown_is_not_run_again() -> None:
    calls: list[str] = []
    response = await send(_app(calls), "POST", "/write", json={"n": 7})
    assert is_problem(response, 503, "busy")
    assert response.headers["retry-after"] == "1"
    assert calls == ["write 7"]
