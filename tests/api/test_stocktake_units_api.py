"""Stocktake counts over HTTP in the product's unit: JSON decimals for ml and U, whole numbers for `each`."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from inventory.domain.models import Actor
from tests.support.clinic import build
from tests.support.db import row_counts
from tests.support.http import H, is_problem
from tests.support.vials import build_vials

WRITTEN = ("stocktake_count", "audit_event", "idempotency_record")


def exact(response: httpx.Response) -> Any:
    """The body with JSON numbers read as exact decimals."""
    return json.loads(response.text, parse_float=Decimal)


async def _open(client: httpx.AsyncClient, auth_headers: H, location_id: int) -> int:
    response = await client.post("/api/stocktakes", json={"location_id": location_id}, headers=auth_headers["manager"])
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _count(client: httpx.AsyncClient, headers: dict[str, str], st: int, body: str) -> httpx.Response:
    return await client.post(
        f"/api/stocktakes/{st}/counts", content=body, headers={**headers, "content-type": "application/json"}
    )


async def test_ml_counts_are_json_decimals_that_add_exactly(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build_vials(actors, unit="ml", container_quantity=1, vials=1)
    st = await _open(client, auth_headers, clinic.location_id)
    lot_id = clinic.lot["id"]
    staff = auth_headers["staff"]
    first = await _count(client, staff, st, f'{{"lot_id": {lot_id}, "quantity": 0.1}}')
    assert first.status_code == 201, first.text
    second = await _count(client, staff, st, f'{{"lot_id": {lot_id}, "quantity": 0.2}}')
    body = exact(second)
    assert body["quantity"] == Decimal("0.2") and body["your_total"] == Decimal("0.3")
    assert '"your_total":0.3' in second.text.replace(" ", "") and body["product"]["unit"] == "ml"
    review = exact(await client.get(f"/api/stocktakes/{st}", headers=auth_headers["manager"]))
    (line,) = review["lines"]
    assert (line["expected"], line["counted"], line["variance"]) == (1, Decimal("0.3"), Decimal("-0.7"))
    approved = exact(await client.post(f"/api/stocktakes/{st}/approve", headers=auth_headers["manager"]))
    assert approved["adjustments"][0]["delta"] == Decimal("-0.7")
    assert approved["adjustments"][0]["on_hand"] == Decimal("0.3")


async def test_decimals_refused_for_each_and_beyond_two_places_write_nothing(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    each = await build(actors, on_hand=3)
    vial = await build_vials(actors, unit="U", container_quantity=100, vials=1)
    each_st = await _open(client, auth_headers, each.location_id)
    vial_st = await _open(client, auth_headers, vial.location_id)
    staff = auth_headers["staff"]
    before = await row_counts(conn, WRITTEN)
    refused = await _count(client, staff, each_st, f'{{"lot_id": {each.lot["id"]}, "quantity": 1.5}}')
    assert is_problem(refused, 422, "quantity_not_whole")
    refused = await _count(client, staff, vial_st, f'{{"lot_id": {vial.lot["id"]}, "quantity": 2.125}}')
    assert is_problem(refused, 422, "quantity_precision")
    for bad in ("0", "-1", "0.00", "100000.5", "true"):
        refused = await _count(client, staff, vial_st, f'{{"lot_id": {vial.lot["id"]}, "quantity": {bad}}}')
        assert is_problem(refused, 422), bad
    assert await row_counts(conn, WRITTEN) == before
    whole = await _count(client, staff, each_st, f'{{"lot_id": {each.lot["id"]}, "quantity": 2.0}}')
    assert whole.status_code == 201, whole.text
    assert exact(whole)["quantity"] == 2 and '"quantity":2,' in whole.text.replace(" ", "")
