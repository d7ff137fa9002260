"""Stock over HTTP: the stock list, lots, transfers, adjustments, disposals, the ledger and idempotency."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from inventory.domain.models import Actor
from inventory.store import stock as stock_store
from inventory.store.stock import ledger_sum, on_hand
from tests.support import factories as f
from tests.support.db import row_counts
from tests.support.http import H, is_problem

STOCK_TABLES = ("stock_movement", "stock_level", "audit_event", "reorder_alert", "lot", "idempotency_record")
_seeds = itertools.count(950_000, 3)


@dataclass
class Shelf:
    """A product, a lot with stock at location `a`, and an empty location `b`."""

    product: dict[str, Any]
    lot_id: int
    a: dict[str, Any]
    b: dict[str, Any]


async def shelf(actors: dict[str, Actor], on_hand: int = 10) -> Shelf:
    """Build the shelf through the services."""
    manager = actors["manager"]
    product = await f.product(manager, gtin=f.make_gtin(next(_seeds)))
    a, b = await f.location(manager), await f.location(manager)
    received = await f.receive(
        manager,
        location_id=a["id"],
        product_id=product["id"],
        lot_number="SH1",
        expiry=f.in_days(150),
        quantity=on_hand,
    )
    return Shelf(product=product, lot_id=received["lot"]["id"], a=a, b=b)


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Row counts of the tables stock changes write."""
    return await row_counts(conn, STOCK_TABLES)


# ------------------------------------------------------------------ reading


async def test_stock_list_has_the_contract_shape_and_filters(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await shelf(actors)
    other = await f.product(actors["manager"])
    await f.receive(
        actors["manager"],
        location_id=s.b["id"],
        product_id=other["id"],
        lot_number="O1",
        expiry=f.in_days(30),
        quantity=2,
    )
    response = await client.get("/api/stock", params={"location_id": s.a["id"]}, headers=auth_headers["staff"])
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert set(item) == {"lot", "product", "location", "on_hand"}
    assert {"id", "lot_number", "expiry_date", "status"} <= set(item["lot"])
    assert (item["lot"]["id"], item["lot"]["lot_number"], item["lot"]["expiry_date"], item["lot"]["status"]) == (
        s.lot_id,
        "SH1",
        f.in_days(150).isoformat(),
        "active",
    )
    assert (item["product"]["id"], item["product"]["name"], item["product"]["gtin"]) == (
        s.product["id"],
        s.product["name"],
        s.product["gtin"],
    )
    assert item["location"] == {"id": s.a["id"], "name": s.a["name"], "timezone": "Europe/Paris"}
    assert item["on_hand"] == 10
    by_product = (
        await client.get("/api/stock", params={"product_id": other["id"]}, headers=auth_headers["staff"])
    ).json()["items"]
    assert [(i["location"]["id"], i["on_hand"]) for i in by_product] == [(s.b["id"], 2)]
    both = (
        await client.get(
            "/api/stock",
            params={"location_id": s.b["id"], "product_id": s.product["id"]},
            headers=auth_headers["staff"],
        )
    ).json()["items"]
    assert both == []
    by_lot = (await client.get("/api/stock", params={"lot_id": s.lot_id}, headers=auth_headers["staff"])).json()
    assert [i["on_hand"] for i in by_lot["items"]] == [10]


async def test_lots_are_listed_and_shown_with_stock(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await shelf(actors)
    lots = (await client.get("/api/lots", params={"product_id": s.product["id"]}, headers=auth_headers["staff"])).json()
    assert [lot["id"] for lot in lots] == [s.lot_id]
    assert (
        await client.get(
            "/api/lots", params={"product_id": s.product["id"], "status": "recalled"}, headers=auth_headers["staff"]
        )
    ).json() == []
    lot = (await client.get(f"/api/lots/{s.lot_id}", headers=auth_headers["staff"])).json()
    assert lot["stock"] == [{"location_id": s.a["id"], "on_hand": 10}]
    assert lot["label_code"].startswith("MIL")
    assert is_problem(await client.get("/api/lots/999999", headers=auth_headers["staff"]), 404, "not_found")


# ------------------------------------------------------------------ transfers


def transfer_body(s: Shelf, quantity: int, **extra: Any) -> dict[str, Any]:
    """A transfer from a to b."""
    return {
        "lot_id": s.lot_id,
        "from_location_id": s.a["id"],
        "to_location_id": s.b["id"],
        "quantity": quantity,
        **extra,
    }


async def test_transfer_moves_stock_and_writes_ledger_and_audit(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await shelf(actors)
    response = await client.post(
        "/api/transfers", json=transfer_body(s, 4, reason="Room B"), headers=auth_headers["manager"]
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["from_on_hand"], body["to_on_hand"], body["quantity"]) == (6, 4, 4)
    assert (body["from_location_id"], body["to_location_id"], body["lot"]["id"]) == (s.a["id"], s.b["id"], s.lot_id)
    movements = (
        await client.get("/api/movements", params={"lot_id": s.lot_id}, headers=auth_headers["manager"])
    ).json()
    transfers = [m for m in movements if m["kind"] == "transfer"]
    assert sorted((m["location_id"], m["quantity"]) for m in transfers) == sorted([(s.a["id"], -4), (s.b["id"], 4)])
    assert {m["transfer_group"] for m in transfers} == {body["transfer_id"]}
    events = (
        await client.get("/api/audit", params={"entity": "lot", "entity_id": s.lot_id}, headers=auth_headers["manager"])
    ).json()["items"]
    assert events[0]["action"] == "stock.transfer"
    assert events[0]["actor_id"] == actors["manager"].id
    for location in (s.a["id"], s.b["id"]):
        assert await on_hand(conn, s.lot_id, location) == await ledger_sum(conn, s.lot_id, location)


async def test_transfer_of_more_than_on_hand_is_409_and_writes_nothing(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await shelf(actors, on_hand=3)
    before = await counts(conn)
    response = await client.post("/api/transfers", json=transfer_body(s, 4), headers=auth_headers["manager"])
    assert is_problem(response, 409, "insufficient_stock")
    assert (response.json()["on_hand"], response.json()["requested"]) == (3, 4)
    assert await counts(conn) == before


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"to_location_id": "from"}, 422),
        ({"quantity": 0}, 422),
        ({"quantity": -1}, 422),
        ({"quantity": 2**40}, 422),
        ({"lot_id": 999_999}, 404),
        ({"to_location_id": 999_999}, 404),
        ({"from_location_id": 999_999}, 404),
        ({"reason": "x" * 10_000}, 422),
    ],
)
async def test_bad_transfers_are_refused_and_write_nothing(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    change: dict[str, Any],
    status: int,
) -> None:
    s = await shelf(actors)
    body = transfer_body(s, 1)
    body.update({k: (s.a["id"] if v == "from" else v) for k, v in change.items()})
    before = await counts(conn)
    assert is_problem(await client.post("/api/transfers", json=body, headers=auth_headers["manager"]), status)
    assert await counts(conn) == before


# ------------------------------------------------------------------ adjustments


async def adjust(
    client: httpx.AsyncClient, headers: H, s: Shelf, key: str | None = None, **fields: Any
) -> httpx.Response:
    """POST /api/adjustments at location a."""
    extra = {"Idempotency-Key": key} if key else {}
    return await client.post(
        "/api/adjustments",
        json={"lot_id": s.lot_id, "location_id": s.a["id"], **fields},
        headers={**headers["manager"], **extra},
    )


async def test_adjustment_by_count_and_by_delta(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await shelf(actors)
    counted = await adjust(client, auth_headers, s, counted=8, reason="Monthly count")
    assert counted.status_code == 201, counted.text
    assert {k: counted.json()[k] for k in ("before", "delta", "on_hand", "reason", "location_id")} == {
        "before": 10,
        "delta": -2,
        "on_hand": 8,
        "reason": "Monthly count",
        "location_id": s.a["id"],
    }
    delta = await adjust(client, auth_headers, s, delta=3, reason="Found")
    assert delta.status_code == 201, delta.text
    assert (delta.json()["before"], delta.json()["on_hand"]) == (8, 11)
    rows = await conn.fetch(
        "SELECT quantity, reason FROM stock_movement WHERE lot = $1 AND kind = 'adjust' ORDER BY id", s.lot_id
    )
    assert [(r["quantity"], r["reason"]) for r in rows] == [(-2, "Monthly count"), (3, "Found")]
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM audit_event WHERE entity = 'lot' AND entity_id = $1 AND action = 'stock.adjust'",
            s.lot_id,
        )
        == 2
    )
    assert await on_hand(conn, s.lot_id, s.a["id"]) == await ledger_sum(conn, s.lot_id, s.a["id"]) == 11


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"delta": -11, "reason": "Lost"}, 409, "insufficient_stock"),
        ({"counted": 5, "delta": 1, "reason": "Both"}, 422, "validation_error"),
        ({"reason": "Neither"}, 422, "validation_error"),
        ({"counted": 5}, 422, "validation_error"),
        ({"counted": 5, "reason": ""}, 422, "validation_error"),
        ({"counted": 5, "reason": "   "}, 422, "validation_error"),
        ({"counted": -1, "reason": "Negative"}, 422, "validation_error"),
        ({"delta": 0, "reason": "Zero"}, 422, "validation_error"),
        ({"delta": 2**40, "reason": "Huge"}, 422, "validation_error"),
        ({"counted": "five", "reason": "Type"}, 422, "validation_error"),
    ],
)
async def test_bad_adjustments_are_refused_and_write_nothing(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    fields: dict[str, Any],
    status: int,
    code: str,
) -> None:
    s = await shelf(actors)
    before = await counts(conn)
    assert is_problem(await adjust(client, auth_headers, s, **fields), status, code)
    assert await counts(conn) == before


# ------------------------------------------------------------------ disposals


async def test_disposal_removes_units_with_a_ledger_row_and_an_audit_event(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await shelf(actors)
    response = await client.post(
        "/api/disposals",
        json={"lot_id": s.lot_id, "location_id": s.a["id"], "quantity": 3, "reason": "Broken ampoules"},
        headers=auth_headers["manager"],
    )
    assert response.status_code == 201, response.text
    assert {k: response.json()[k] for k in ("quantity", "on_hand", "reason")} == {
        "quantity": 3,
        "on_hand": 7,
        "reason": "Broken ampoules",
    }
    row = await conn.fetchrow(
        "SELECT quantity, reason, \"user\" FROM stock_movement WHERE lot = $1 AND kind = 'dispose'", s.lot_id
    )
    assert row is not None
    assert (row["quantity"], row["reason"], row["user"]) == (-3, "Broken ampoules", actors["manager"].id)
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM audit_event WHERE entity = 'lot' AND entity_id = $1 AND action = 'stock.dispose'",
            s.lot_id,
        )
        == 1
    )


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"quantity": 11, "reason": "Too many"}, 409, "insufficient_stock"),
        ({"quantity": 0, "reason": "Zero"}, 422, "validation_error"),
        ({"quantity": -2, "reason": "Negative"}, 422, "validation_error"),
        ({"quantity": 1}, 422, "validation_error"),
        ({"quantity": 1, "reason": " "}, 422, "validation_error"),
        ({"quantity": 1, "reason": "x", "lot_id": 999_999}, 404, "not_found"),
        ({"quantity": 1, "reason": "x", "location_id": 999_999}, 404, "not_found"),
    ],
)
async def test_bad_disposals_are_refused_and_write_nothing(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    fields: dict[str, Any],
    status: int,
    code: str,
) -> None:
    s = await shelf(actors)
    before = await counts(conn)
    body = {"lot_id": s.lot_id, "location_id": s.a["id"], **fields}
    response = await client.post("/api/disposals", json=body, headers=auth_headers["manager"])
    assert is_problem(response, status, code)
    assert await counts(conn) == before


# ------------------------------------------------------------------ idempotency


def _adjustment_body(s: Shelf, n: int) -> dict[str, Any]:
    return {"lot_id": s.lot_id, "location_id": s.a["id"], "delta": -n, "reason": "Count"}


def _disposal_body(s: Shelf, n: int) -> dict[str, Any]:
    return {"lot_id": s.lot_id, "location_id": s.a["id"], "quantity": n, "reason": "Broken"}


WRITES: dict[str, tuple[str, Callable[[Shelf, int], dict[str, Any]]]] = {
    "transfer": ("/api/transfers", transfer_body),
    "adjustment": ("/api/adjustments", _adjustment_body),
    "disposal": ("/api/disposals", _disposal_body),
}


@pytest.mark.parametrize("kind", sorted(WRITES))
async def test_same_key_and_body_replay_the_first_response_and_write_once(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection, kind: str
) -> None:
    s = await shelf(actors)
    path, body = WRITES[kind]
    headers = {**auth_headers["manager"], "Idempotency-Key": f"{kind}-key-1"}
    first = await client.post(path, json=body(s, 2), headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotency-replayed" not in first.headers
    before = await counts(conn)
    for _ in range(2):
        again = await client.post(path, json=body(s, 2), headers=headers)
        assert again.status_code == 201
        assert again.headers["idempotency-replayed"] == "true"
        assert again.json() == first.json()
    assert await counts(conn) == before
    assert await on_hand(conn, s.lot_id, s.a["id"]) == 8


@pytest.mark.parametrize("kind", sorted(WRITES))
async def test_same_key_with_another_body_is_422_idempotency_key_reused(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection, kind: str
) -> None:
    s = await shelf(actors)
    path, body = WRITES[kind]
    headers = {**auth_headers["manager"], "Idempotency-Key": f"{kind}-key-2"}
    assert (await client.post(path, json=body(s, 1), headers=headers)).status_code == 201
    before = await counts(conn)
    response = await client.post(path, json=body(s, 2), headers=headers)
    assert is_problem(response, 422, "idempotency_key_reused")
    other_route = "/api/disposals" if path != "/api/disposals" else "/api/transfers"
    assert is_problem(await client.post(other_route, json=body(s, 1), headers=headers), 422)
    assert await counts(conn) == before
    assert await on_hand(conn, s.lot_id, s.a["id"]) == 9


async def test_a_refused_write_keeps_no_key(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await shelf(actors, on_hand=1)
    headers = {**auth_headers["manager"], "Idempotency-Key": "refused-1"}
    response = await client.post("/api/transfers", json=transfer_body(s, 2), headers=headers)
    assert is_problem(response, 409, "insufficient_stock")
    assert await conn.fetchval("SELECT count(*) FROM idempotency_record WHERE key = 'refused-1'") == 0
    await adjust(client, auth_headers, s, delta=5, reason="Delivery found")
    retried = await client.post("/api/transfers", json=transfer_body(s, 2), headers=headers)
    assert retried.status_code == 201, retried.text


# ------------------------------------------------------------------ the ledger


async def test_every_stock_change_is_a_ledger_row_and_levels_equal_ledger_sums(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await shelf(actors, on_hand=20)
    m = auth_headers["manager"]
    await client.post("/api/transfers", json=transfer_body(s, 5), headers=m)
    await adjust(client, auth_headers, s, counted=12, reason="Count")
    await client.post(
        "/api/disposals",
        json={"lot_id": s.lot_id, "location_id": s.b["id"], "quantity": 1, "reason": "Broken"},
        headers=m,
    )
    await client.post("/api/transfers", json=transfer_body(s, 50), headers=m)  # refused
    movements = (await client.get("/api/movements", params={"lot_id": s.lot_id}, headers=m)).json()
    assert [mv["kind"] for mv in movements] == ["dispose", "adjust", "transfer", "transfer", "receive"]
    ids = [mv["id"] for mv in movements]
    assert ids == sorted(ids, reverse=True)
    for location in (s.a["id"], s.b["id"]):
        shown = sum(mv["quantity"] for mv in movements if mv["location_id"] == location)
        assert await on_hand(conn, s.lot_id, location) == shown
    assert (await on_hand(conn, s.lot_id, s.a["id"]), await on_hand(conn, s.lot_id, s.b["id"])) == (12, 4)


async def test_negative_on_hand_from_recorded_use_is_listed_for_managers(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await shelf(actors)
    after = await stock_store.move(
        conn, lot_id=s.lot_id, location_id=s.b["id"], delta=-2, kind="use", user_id=actors["staff"].id, guard=False
    )
    assert after == -2
    items = (await client.get("/api/stock", params={"location_id": s.b["id"]}, headers=auth_headers["manager"])).json()[
        "items"
    ]
    assert [(i["lot"]["id"], i["on_hand"]) for i in items] == [(s.lot_id, -2)]
    response = await client.post(
        "/api/adjustments",
        json={"lot_id": s.lot_id, "location_id": s.b["id"], "counted": 0, "reason": "Recount"},
        headers=auth_headers["manager"],
    )
    assert response.status_code == 201, response.text
    assert (response.json()["before"], response.json()["delta"], response.json()["on_hand"]) == (-2, 2, 0)
    assert await ledger_sum(conn, s.lot_id, s.b["id"]) == 0
