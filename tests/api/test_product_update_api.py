"""PATCH /api/products/{id}: a manager marks a product as an implant or not, audited, replayed by its key."""

from __future__ import annotations

import asyncpg
import httpx

from inventory.domain.models import Actor
from tests.support import factories as f

H = dict[str, dict[str, str]]


async def _updates(conn: asyncpg.Connection, product_id: int) -> list[object]:
    rows = await conn.fetch(
        "SELECT details FROM audit_event WHERE action = 'product.update' AND entity_id = $1 ORDER BY id", product_id
    )
    return [row["details"] for row in rows]


async def test_a_manager_marks_a_product_as_an_implant_and_back(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    product = await f.product(actors["manager"])
    path = f"/api/products/{product['id']}"
    marked = await client.patch(path, json={"implant": True}, headers=auth_headers["manager"])
    assert marked.status_code == 200, marked.text
    assert marked.json()["implant"] is True and marked.json()["name"] == product["name"]
    assert (await client.get(path, headers=auth_headers["staff"])).json()["implant"] is True
    # The same again changes nothing and leaves no second event.
    again = await client.patch(path, json={"implant": True}, headers=auth_headers["manager"])
    assert again.status_code == 200 and again.json()["implant"] is True
    unmarked = await client.patch(path, json={"implant": False}, headers=auth_headers["manager"])
    assert unmarked.status_code == 200 and unmarked.json()["implant"] is False
    assert await _updates(conn, product["id"]) == [
        {"implant": {"from": False, "to": True}},
        {"implant": {"from": True, "to": False}},
    ]
    actor = await conn.fetchval(
        "SELECT actor FROM audit_event WHERE action = 'product.update' AND entity_id = $1 LIMIT 1", product["id"]
    )
    assert actor == actors["manager"].id


async def test_an_idempotency_key_replays_the_first_answer_without_writing_again(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    product = await f.product(actors["manager"])
    path = f"/api/products/{product['id']}"
    keyed = {**auth_headers["manager"], "Idempotency-Key": f"implant-{product['id']}"}
    first = await client.patch(path, json={"implant": True}, headers=keyed)
    assert first.status_code == 200 and first.json()["implant"] is True
    await client.patch(path, json={"implant": False}, headers=auth_headers["manager"])
    replay = await client.patch(path, json={"implant": True}, headers=keyed)
    assert replay.status_code == 200 and replay.headers.get("Idempotency-Replayed") == "true"
    assert replay.json() == first.json()
    # The replay ran nothing: the product stays as the unkeyed change left it.
    assert await conn.fetchval("SELECT implant FROM product WHERE id = $1", product["id"]) is False
    assert len(await _updates(conn, product["id"])) == 2
    reused = await client.patch(path, json={"implant": False}, headers=keyed)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"


async def test_staff_may_not_and_an_unknown_product_is_404(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    product = await f.product(actors["manager"])
    staff = await client.patch(f"/api/products/{product['id']}", json={"implant": True}, headers=auth_headers["staff"])
    assert staff.status_code == 403
    unknown = await client.patch("/api/products/999999", json={"implant": True}, headers=auth_headers["manager"])
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    assert await conn.fetchval("SELECT implant FROM product WHERE id = $1", product["id"]) is False
    assert await _updates(conn, product["id"]) == []
