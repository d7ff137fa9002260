"""Round trips to PostgreSQL per scan, counted on the wire through real HTTP on a pool made as the app makes it.

Every message exchange asyncpg waits on is counted: a simple query (BEGIN, COMMIT, SET, the pool's reset), a
statement's preparation and each execution of a prepared one. The counts are taken once the connection's statement
cache is warm (the steady state at the chair): a first scan on a fresh connection also prepares its statements.

Before issue 17's work a single-use scan made 11 round trips, an implant's scan 11 and a multi-use (container) scan
drawing from its open vial 13: the token check on a connection of its own, the pool's reset on its release, BEGIN,
SET LOCAL plan_cache_mode, the session lock, the barcode look-up, the lot lock (the container's advisory lock and
its row), the write, the alert gathering, COMMIT, the reset again. Now 6, 6 and 8: BEGIN, the session lock (which
carries the token check, the plan setting and the barcode look-up), the lot lock, the write, the alert gathering,
COMMIT; the pool sends no reset (db.keep_session).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest

from inventory import db
from inventory.app import create_app
from inventory.config import Settings
from inventory.domain.gs1 import format_element_string
from inventory.services import catalog
from tests.conftest import Databases
from tests.integration.test_concurrency import race_actors
from tests.support import factories as f
from tests.support.clinic import build
from tests.support.vials import build_vials

pytestmark = pytest.mark.race

# The protocol's operations that send a request and wait for PostgreSQL's answer: one round trip each.
_ROUND_TRIPS = frozenset(
    {"query", "prepare", "bind_execute", "bind_execute_many", "bind", "execute", "close_statement", "copy_in"}
)


class _CountingProtocol:
    """asyncpg's protocol object behind a connection, logging each round trip it makes."""

    def __init__(self, protocol: Any, log: list[str]) -> None:
        self._protocol = protocol
        self._log = log

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._protocol, name)
        if name not in _ROUND_TRIPS:
            return attribute
        log = self._log

        def counted(*args: Any, **kwargs: Any) -> Awaitable[Any]:
            log.append(f"{name}: {_sql(name, args, kwargs)}")
            result: Awaitable[Any] = attribute(*args, **kwargs)
            return result

        return counted


def _sql(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    values = [*args, *kwargs.values()]
    if name == "prepare":
        text = str(values[1])
    elif values and isinstance(values[0], str):
        text = values[0]
    else:
        text = str(getattr(values[0], "query", "")) if values else ""
    return " ".join(text.split())[:90]


@pytest.fixture
async def wire(databases: Databases, pool: None) -> AsyncIterator[list[str]]:
    """The engine's pool swapped for one on the race database, made with the app's options, counting round trips."""
    log: list[str] = []
    options = db.pool_options()
    setup: Callable[[asyncpg.Connection], Awaitable[None]] = options.pop("init")

    async def init(connection: asyncpg.Connection) -> None:
        await setup(connection)
        connection._protocol = _CountingProtocol(connection._protocol, log)

    engine = db.get_engine()
    saved = engine.pool
    engine.pool = await asyncpg.create_pool(databases.race, min_size=1, max_size=4, init=init, **options)
    try:
        yield log
    finally:
        await engine.pool.close()
        engine.pool = saved


async def _counted(
    http: httpx.AsyncClient, log: list[str], path: str, body: dict[str, Any], headers: dict[str, str]
) -> list[str]:
    """The round trips of one request that must succeed."""
    log.clear()
    response = await http.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return list(log)


def _explain(trips: list[str]) -> str:
    return f"{len(trips)} round trips:\n" + "\n".join(trips)


async def test_a_single_use_scan_makes_at_most_six_round_trips(
    wire: list[str], settings: Settings, tokens: dict[str, str]
) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=10)
    headers = {"Authorization": f"Bearer {tokens['staff']}"}
    path = f"/api/sessions/{clinic.session['id']}/scans"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, manage_pool=False)),  # type: ignore[arg-type]
        base_url="http://testserver",
    ) as http:
        await _counted(http, wire, path, {"barcode": clinic.code(), "repeat": True}, headers)  # warms the cache
        trips = await _counted(http, wire, path, {"barcode": clinic.code(), "repeat": True}, headers)
    assert not [t for t in trips if t.startswith("prepare")], _explain(trips)
    assert len(trips) <= 6, _explain(trips)
    # Unreset, the connection the scans used still has its start-up timeouts and none of the scan's settings.
    async with db.connection() as conn:
        settings_now = await conn.fetchrow(
            "SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement,"
            " current_setting('plan_cache_mode') AS plans"
        )
    assert dict(settings_now or {}) == {"lock": "5s", "statement": "30s", "plans": "auto"}


async def test_an_implant_scan_makes_no_more_round_trips_than_before(
    wire: list[str], settings: Settings, tokens: dict[str, str]
) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=10)
    gtin = f.make_gtin(900_001 + secrets.randbelow(90_000))
    product = await catalog.create_product(
        actor=actors["manager"],
        brand_id=clinic.product["brand_id"],
        name=f.unique("Filler"),
        gtin=gtin,
        packs=[],
        ingredients=["Hyaluronic acid"],
        storage="room",
        implant=True,
    )
    lot_number = f.unique("IMP").replace(" ", "")
    await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=product["id"],
        lot_number=lot_number,
        expiry=f.in_days(400),
        quantity=5,
    )
    headers = {"Authorization": f"Bearer {tokens['staff']}"}
    path = f"/api/sessions/{clinic.session['id']}/scans"

    def code(serial: str) -> dict[str, Any]:
        return {
            "barcode": format_element_string(gtin=gtin, expiry=f.in_days(400), lot_number=lot_number, serial=serial)
        }

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, manage_pool=False)),  # type: ignore[arg-type]
        base_url="http://testserver",
    ) as http:
        await _counted(http, wire, path, code("SN0001"), headers)
        trips = await _counted(http, wire, path, code("SN0002"), headers)
    assert not [t for t in trips if t.startswith("prepare")], _explain(trips)
    assert len(trips) <= 6, _explain(trips)


async def test_a_container_scan_makes_no_more_round_trips_than_before(
    wire: list[str], settings: Settings, tokens: dict[str, str]
) -> None:
    actors = await race_actors()
    clinic = await build_vials(actors, unit="ml", container_quantity=1, in_use_hours=24, vials=2)
    headers = {"Authorization": f"Bearer {tokens['staff']}"}
    path = f"/api/sessions/{clinic.session['id']}/scans"
    body = {"barcode": clinic.code(), "quantity": str(Decimal("0.1")), "repeat": True}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, manage_pool=False)),  # type: ignore[arg-type]
        base_url="http://testserver",
    ) as http:
        await _counted(http, wire, path, body, headers)  # opens the vial
        trips = await _counted(http, wire, path, body, headers)  # draws from the open vial
    assert not [t for t in trips if t.startswith("prepare")], _explain(trips)
    assert len(trips) <= 8, _explain(trips)


async def test_the_session_lock_plans_the_rest_of_the_scan_generically_and_only_the_scan(wire: list[str]) -> None:
    from inventory.store import clinical as sessions

    clinic = await build(await race_actors(), on_hand=1)
    async with db.transaction() as conn:
        assert await conn.fetchval("SELECT current_setting('plan_cache_mode')") == "auto"
        assert await sessions.lock_session_for_scan(conn, clinic.session["id"]) is not None
        assert await conn.fetchval("SELECT current_setting('plan_cache_mode')") == "force_generic_plan"
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT current_setting('plan_cache_mode')") == "auto"
