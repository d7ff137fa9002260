"""Stocktakes over HTTP: roles, the blind count, the review, approval with and without an Idempotency-Key."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from inventory.domain.models import Actor
from inventory.store.stock import on_hand
from tests.support import factories as f
from tests.support.clinic import Clinic, build
from tests.support.db import row_counts
from tests.support.http import H, is_problem

WRITTEN = ("stocktake", "stocktake_count", "stock_movement", "stock_level", "audit_event", "idempotency_record")


async def _open(client: httpx.AsyncClient, auth_headers: H, clinic: Clinic) -> int:
    response = await client.post(
        "/api/stocktakes", json={"location_id": clinic.location_id}, headers=auth_headers["manager"]
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "open" and body["location"]["id"] == clinic.location_id
    return int(body["id"])


async def test_staff_count_but_may_not_start_review_approve_or_cancel(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=5)
    staff = auth_headers["staff"]
    refused = await client.post("/api/stocktakes", json={"location_id": clinic.location_id}, headers=staff)
    assert is_problem(refused, 403)
    st = await _open(client, auth_headers, clinic)
    counted = await client.post(f"/api/stocktakes/{st}/counts", json={"barcode": clinic.code()}, headers=staff)
    assert is_problem(counted, 422)  # quantity is required
    counted = await client.post(
        f"/api/stocktakes/{st}/counts", json={"barcode": clinic.code(), "quantity": 2}, headers=staff
    )
    assert counted.status_code == 201, counted.text
    counts = await row_counts(conn, WRITTEN)
    assert is_problem(await client.get(f"/api/stocktakes/{st}", headers=staff), 403)
    assert is_problem(await client.post(f"/api/stocktakes/{st}/approve", headers=staff), 403)
    assert is_problem(await client.post(f"/api/stocktakes/{st}/cancel", headers=staff), 403)
    assert await row_counts(conn, WRITTEN) == counts


async def test_a_count_answer_shows_what_was_counted_and_no_expected_figure(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=17)
    st = await _open(client, auth_headers, clinic)
    response = await client.post(
        f"/api/stocktakes/{st}/counts", json={"barcode": clinic.code(), "quantity": 3}, headers=auth_headers["staff"]
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["lot"] == {
        "id": clinic.lot["id"],
        "lot_number": clinic.lot["lot_number"],
        "expiry_date": clinic.lot["expiry_date"].isoformat(),
    }
    assert body["product"]["id"] == clinic.product["id"] and body["product"]["gtin"] == clinic.gtin
    assert (body["quantity"], body["your_total"], body["unknown_lot"]) == (3, 3, False)
    assert set(body) == {
        "id",
        "stocktake_id",
        "counted_at",
        "product",
        "lot",
        "unknown_lot",
        "quantity",
        "your_total",
    }


async def test_the_review_gives_expected_counted_variance_not_counted_and_unknown_lots(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=10)
    other = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="NOTCOUNTED",
        expiry=f.in_days(250),
        quantity=2,
    )
    st = await _open(client, auth_headers, clinic)
    staff = auth_headers["staff"]
    for body in (
        {"barcode": clinic.code(), "quantity": 6},
        {"lot_id": clinic.lot["id"], "quantity": 2},
        {"barcode": clinic.code("STRANGER1", expiry=f.in_days(99)), "quantity": 1},
    ):
        assert (await client.post(f"/api/stocktakes/{st}/counts", json=body, headers=staff)).status_code == 201
    # A use while counting: it is a movement since the count, not a variance.
    scan = await client.post(
        f"/api/sessions/{clinic.session['id']}/scans", json={"barcode": clinic.code()}, headers=staff
    )
    assert scan.status_code == 201, scan.text
    review = (await client.get(f"/api/stocktakes/{st}", headers=auth_headers["manager"])).json()
    (line,) = review["lines"]
    assert line["lot"]["id"] == clinic.lot["id"]
    assert {k: line[k] for k in ("expected", "counted", "variance", "on_hand", "movements_since_count")} == {
        "expected": 10,
        "counted": 8,
        "variance": -2,
        "on_hand": 9,
        "movements_since_count": -1,
    }
    assert line["on_hand_after_approval"] == 7 and line["counts"] == 2
    assert [(n["lot"]["id"], n["on_hand"]) for n in review["not_counted"]] == [(other["lot"]["id"], 2)]
    (unknown,) = review["unknown_lots"]
    assert (unknown["lot_number"], unknown["gtin"], unknown["counted"]) == ("STRANGER1", clinic.gtin, 1)
    assert review["lots_differing"] == 1


async def test_approve_replays_with_its_key_and_a_second_approval_is_refused(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    st = await _open(client, auth_headers, clinic)
    count = await client.post(
        f"/api/stocktakes/{st}/counts", json={"lot_id": clinic.lot["id"], "quantity": 7}, headers=auth_headers["staff"]
    )
    assert count.status_code == 201
    keyed = {**auth_headers["manager"], "Idempotency-Key": f.unique("approve")}
    first = await client.post(f"/api/stocktakes/{st}/approve", headers=keyed)
    assert first.status_code == 200, first.text
    assert first.json()["adjustments"] == [{"lot_id": clinic.lot["id"], "before": 10, "delta": -3, "on_hand": 7}]
    assert first.json()["reason"] == f"stocktake {st}"
    counts = await row_counts(conn, WRITTEN)
    again = await client.post(f"/api/stocktakes/{st}/approve", headers=keyed)
    assert again.status_code == 200 and again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert is_problem(
        await client.post(f"/api/stocktakes/{st}/approve", headers=auth_headers["manager"]), 409, "stocktake_closed"
    )
    assert is_problem(
        await client.post(
            f"/api/stocktakes/{st}/counts",
            json={"lot_id": clinic.lot["id"], "quantity": 1},
            headers=auth_headers["staff"],
        ),
        409,
        "stocktake_closed",
    )
    assert await row_counts(conn, WRITTEN) == counts
    assert await on_hand(conn, clinic.lot["id"], clinic.location_id) == 7
    review = (await client.get(f"/api/stocktakes/{st}", headers=auth_headers["manager"])).json()
    assert review["status"] == "approved" and review["approved_by"] == actors["manager"].id


async def test_a_second_open_stocktake_at_a_location_is_409_and_cancel_frees_it(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=1)
    st = await _open(client, auth_headers, clinic)
    second = await client.post(
        "/api/stocktakes", json={"location_id": clinic.location_id}, headers=auth_headers["manager"]
    )
    assert is_problem(second, 409, "stocktake_open") and second.json()["stocktake_id"] == st
    cancelled = await client.post(f"/api/stocktakes/{st}/cancel", headers=auth_headers["manager"])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert await _open(client, auth_headers, clinic) != st


async def test_the_openapi_document_describes_the_stocktake_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert {"/api/stocktakes", "/api/stocktakes/{stocktake_id}/counts", "/api/stocktakes/{stocktake_id}"} <= set(paths)
    count = paths["/api/stocktakes/{stocktake_id}/counts"]["post"]
    assert count["operationId"] == "addStocktakeCount" and "201" in count["responses"]


async def test_the_list_shows_the_open_count_at_a_location_to_staff_without_expected_figures(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=9)
    other = await build(actors, on_hand=2)
    first = await _open(client, auth_headers, clinic)
    await client.post(f"/api/stocktakes/{first}/cancel", headers=auth_headers["manager"])
    st = await _open(client, auth_headers, clinic)
    await _open(client, auth_headers, other)
    listed = await client.get(
        "/api/stocktakes", params={"location_id": clinic.location_id, "status": "open"}, headers=auth_headers["staff"]
    )
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert item["id"] == st and item["status"] == "open" and item["location"]["id"] == clinic.location_id
    assert "expected" not in listed.text and "lines" not in item
    every = await client.get(
        "/api/stocktakes", params={"location_id": clinic.location_id}, headers=auth_headers["manager"]
    )
    assert [(i["id"], i["status"]) for i in every.json()["items"]] == [(st, "open"), (first, "cancelled")]
    refused = await client.get("/api/stocktakes", params={"status": "lost"}, headers=auth_headers["staff"])
    assert is_problem(refused, 422, "validation_error")


async def test_a_lot_the_location_never_held_is_flagged_over_http_and_approval_leaves_it(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=3)
    elsewhere = await build(actors, on_hand=2)
    st = await _open(client, auth_headers, clinic)
    counted = await client.post(
        f"/api/stocktakes/{st}/counts",
        json={"lot_id": elsewhere.lot["id"], "quantity": 2},
        headers=auth_headers["staff"],
    )
    assert counted.status_code == 201
    review = (await client.get(f"/api/stocktakes/{st}", headers=auth_headers["manager"])).json()
    assert review["lines"] == []
    assert [(n["lot"]["id"], n["counted"]) for n in review["not_at_location"]] == [(elsewhere.lot["id"], 2)]
    assert [n["lot"]["id"] for n in review["not_counted"]] == [clinic.lot["id"]]  # listed before approval
    approved = await client.post(f"/api/stocktakes/{st}/approve", headers=auth_headers["manager"])
    assert approved.status_code == 200
    assert approved.json()["adjustments"] == [] and approved.json()["not_at_location"] == [elsewhere.lot["id"]]
    level = await conn.fetchval(
        "SELECT count(*) FROM stock_level WHERE lot = $1 AND location = $2", elsewhere.lot["id"], clinic.location_id
    )
    assert level == 0
