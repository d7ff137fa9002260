"""An OSError reads "database not reachable" only when it came up through asyncpg; any other one is a 500."""

from __future__ import annotations

import asyncpg
import httpx
from litestar import Litestar, get

from inventory.api import problems
from tests.support.http import is_problem


def _app() -> Litestar:
    @get("/disk")
    async def disk() -> None:
        raise FileNotFoundError(2, "No such file or directory", "/srv/labels/font.ttf")

    @get("/slow")
    async def slow() -> None:
        raise TimeoutError("a timeout of our own")

    @get("/database")
    async def database() -> None:
        # A unix socket directory that does not exist: asyncpg raises FileNotFoundError, not a ConnectionError.
        await asyncpg.connect(host="/nonexistent-socket-dir", port=5432, user="nobody", timeout=2)

    return Litestar(route_handlers=[disk, slow, database], plugins=[problems.plugin()])


async def get_path(app: Litestar, path: str) -> httpx.Response:
    """One GET through the ASGI app."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.get(path)


async def test_an_os_error_of_our_own_is_an_internal_error_not_a_database_outage() -> None:
    app = _app()
    for path in ("/disk", "/slow"):
        response = await get_path(app, path)
        assert is_problem(response, 500, "internal_error"), path
        assert "database" not in response.text, path


async def test_an_os_error_from_connecting_to_the_database_is_503_with_retry_after() -> None:
    response = await get_path(_app(), "/database")
    assert is_problem(response, 503, "unavailable")
    assert "not reachable" in response.json()["detail"]
    assert response.headers["retry-after"] == "1"
