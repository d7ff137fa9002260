"""Each location's IANA time zone: set on creation (default INVENTORY_TIMEZONE), changed by a manager, audited."""

from __future__ import annotations

import dataclasses

import asyncpg
import httpx

from inventory.app import create_app
from inventory.config import Settings
from tests.support import factories as f
from tests.support.http import H, is_problem


async def test_a_location_keeps_the_time_zone_it_is_created_in(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    name = f.unique("Tokyo room")
    created = await client.post(
        "/api/locations", json={"name": name, "timezone": "Asia/Tokyo"}, headers=auth_headers["manager"]
    )
    assert created.status_code == 201, created.text
    assert created.json() == {"id": created.json()["id"], "name": name, "timezone": "Asia/Tokyo"}
    listed = (await client.get("/api/locations", headers=auth_headers["staff"])).json()
    assert created.json() in listed


async def test_a_location_without_a_time_zone_gets_the_service_default(
    settings: Settings, auth_headers: H, conn: asyncpg.Connection
) -> None:
    app = create_app(dataclasses.replace(settings, timezone="America/New_York"), manage_pool=False)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        created = await http.post("/api/locations", json={"name": f.unique("Room")}, headers=auth_headers["manager"])
    assert created.status_code == 201, created.text
    assert created.json()["timezone"] == "America/New_York"


async def test_an_unknown_time_zone_is_refused_and_nothing_is_created(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    before = await conn.fetchval("SELECT count(*) FROM location")
    refused = await client.post(
        "/api/locations", json={"name": f.unique("Room"), "timezone": "Paris"}, headers=auth_headers["manager"]
    )
    assert is_problem(refused, 422, "timezone_unknown")
    assert refused.json()["timezone"] == "Paris"
    assert await conn.fetchval("SELECT count(*) FROM location") == before


async def test_a_manager_changes_the_time_zone_and_the_change_is_audited(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    room = (
        await client.post("/api/locations", json={"name": f.unique("Room")}, headers=auth_headers["manager"])
    ).json()
    assert room["timezone"] == "Europe/Paris"
    changed = await client.patch(
        f"/api/locations/{room['id']}", json={"timezone": "America/New_York"}, headers=auth_headers["manager"]
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {**room, "timezone": "America/New_York"}
    renamed = await client.patch(
        f"/api/locations/{room['id']}", json={"name": room["name"] + " B"}, headers=auth_headers["manager"]
    )
    assert renamed.json() == {**room, "name": room["name"] + " B", "timezone": "America/New_York"}
    audit = (
        await client.get(
            "/api/audit", params={"entity": "location", "entity_id": room["id"]}, headers=auth_headers["manager"]
        )
    ).json()["items"]
    assert [(e["action"], e["details"]) for e in audit] == [
        ("location.update", {"name": {"from": room["name"], "to": room["name"] + " B"}}),
        ("location.update", {"timezone": {"from": "Europe/Paris", "to": "America/New_York"}}),
        ("location.create", {"name": room["name"], "timezone": "Europe/Paris"}),
    ]


async def test_staff_may_not_change_a_location(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    room = (
        await client.post("/api/locations", json={"name": f.unique("Room")}, headers=auth_headers["manager"])
    ).json()
    refused = await client.patch(
        f"/api/locations/{room['id']}", json={"timezone": "Asia/Tokyo"}, headers=auth_headers["staff"]
    )
    assert is_problem(refused, 403)
    assert await conn.fetchval("SELECT timezone FROM location WHERE id = $1", room["id"]) == "Europe/Paris"


async def test_the_openapi_document_describes_the_time_zone(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    assert "timezone" in schemas["LocationOut"]["required"]
    assert "timezone" in schemas["LocationIn"]["properties"]
    assert "timezone" in schemas["LocationPatch"]["properties"]
