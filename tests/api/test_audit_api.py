"""The audit log over HTTP: newest first, filters, managers only, append-only at the database."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from inventory.domain.models import Actor
from tests.support import factories as f

H = dict[str, dict[str, str]]


async def brand_via_api(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    """Create a brand over HTTP; returns its id."""
    response = await client.post("/api/brands", json={"name": f.unique("Audited")}, headers=headers)
    assert response.status_code == 201, response.text
    brand_id: int = response.json()["id"]
    return brand_id


async def test_audit_log_is_newest_first_with_actor_and_details(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    first = await brand_via_api(client, auth_headers["manager"])
    second = await brand_via_api(client, auth_headers["admin"])
    response = await client.get("/api/audit", params={"entity": "brand"}, headers=auth_headers["manager"])
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [e["entity_id"] for e in items[:2]] == [second, first]
    ids = [e["id"] for e in items]
    assert ids == sorted(ids, reverse=True)
    newest = items[0]
    assert set(newest) >= {"id", "actor_id", "actor_email", "action", "entity", "entity_id", "details", "created_at"}
    assert (newest["actor_id"], newest["actor_email"], newest["action"]) == (
        actors["admin"].id,
        "admin@clinic.test",
        "brand.create",
    )
    assert newest["details"]["name"].startswith("Audited")


async def test_audit_log_filters_by_entity_entity_id_and_actor(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    by_manager = await brand_via_api(client, auth_headers["manager"])
    by_admin = await brand_via_api(client, auth_headers["admin"])
    location = await client.post(
        "/api/locations", json={"name": f.unique("Audited room")}, headers=auth_headers["manager"]
    )
    headers = auth_headers["manager"]

    async def events(**params: Any) -> list[dict[str, Any]]:
        response = await client.get("/api/audit", params=params, headers=headers)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    one = await events(entity="brand", entity_id=by_manager)
    assert [(e["entity"], e["entity_id"], e["action"]) for e in one] == [("brand", by_manager, "brand.create")]
    mine = await events(actor_id=actors["admin"].id)
    assert {e["actor_id"] for e in mine} == {actors["admin"].id}
    assert by_admin in [e["entity_id"] for e in mine]
    assert by_manager not in [e["entity_id"] for e in mine if e["entity"] == "brand"]
    locations = await events(entity="location")
    assert {e["entity"] for e in locations} == {"location"}
    assert locations[0]["entity_id"] == location.json()["id"]
    assert await events(entity="brand", entity_id=999_999) == []
    assert await events(entity="no-such-entity") == []


async def test_audit_log_pages_with_before_id_and_limit(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    created = [await brand_via_api(client, auth_headers["manager"]) for _ in range(3)]
    headers = auth_headers["manager"]
    page = (await client.get("/api/audit", params={"entity": "brand", "limit": 2}, headers=headers)).json()["items"]
    assert [e["entity_id"] for e in page] == created[:0:-1]
    rest = (
        await client.get(
            "/api/audit", params={"entity": "brand", "limit": 2, "before_id": page[-1]["id"]}, headers=headers
        )
    ).json()["items"]
    assert rest[0]["entity_id"] == created[0]


@pytest.mark.parametrize("role", ["staff", "staff2"])
async def test_staff_cannot_read_the_audit_log(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, role: str
) -> None:
    response = await client.get("/api/audit", headers=auth_headers[role])
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": "ten"},
        {"entity_id": 0},
        {"actor_id": -1},
        {"before_id": 2**31},
        {"entity": "x" * 33},
    ],
)
async def test_bad_audit_filters_are_422(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, params: dict[str, Any]
) -> None:
    response = await client.get("/api/audit", params=params, headers=auth_headers["manager"])
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


async def test_the_audit_log_refuses_update_delete_and_truncate(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    brand_id = await brand_via_api(client, auth_headers["manager"])
    count = await conn.fetchval("SELECT count(*) FROM audit_event")
    for statement in (
        "UPDATE audit_event SET action = 'tampered' WHERE entity = 'brand' AND entity_id = $1",
        "DELETE FROM audit_event WHERE entity = 'brand' AND entity_id = $1",
    ):
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            async with conn.transaction():
                await conn.execute(statement, brand_id)
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        async with conn.transaction():
            await conn.execute("TRUNCATE audit_event CASCADE")
    assert await conn.fetchval("SELECT count(*) FROM audit_event") == count
    assert (
        await conn.fetchval("SELECT action FROM audit_event WHERE entity = 'brand' AND entity_id = $1", brand_id)
        == "brand.create"
    )


async def test_the_stock_ledger_refuses_update_delete_and_truncate(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    product = await f.product(actors["manager"])
    location = await f.location(actors["manager"])
    line = await f.receive(
        actors["manager"],
        location_id=location["id"],
        product_id=product["id"],
        lot_number="AO1",
        expiry=f.in_days(100),
        quantity=5,
    )
    for statement in (
        "UPDATE stock_movement SET quantity = 500 WHERE lot = $1",
        "DELETE FROM stock_movement WHERE lot = $1",
    ):
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            async with conn.transaction():
                await conn.execute(statement, line["lot"]["id"])
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        async with conn.transaction():
            await conn.execute("TRUNCATE stock_movement CASCADE")
    assert await conn.fetchval("SELECT sum(quantity) FROM stock_movement WHERE lot = $1", line["lot"]["id"]) == 5
