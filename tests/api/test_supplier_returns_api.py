"""Returns to a supplier over HTTP: managers only, 201 with a document number, 409 insufficient_stock, replay,
the list, and the return note PDF read back as text."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pypdfium2

from inventory.domain.models import Actor
from tests.support import factories as f
from tests.support.clinic import Clinic, build
from tests.support.db import row_counts

H = dict[str, dict[str, str]]
TABLES = ("supplier_return", "stock_movement", "audit_event", "idempotency_record")


async def _supplier(client: httpx.AsyncClient, h: H) -> dict[str, Any]:
    response = await client.post(
        "/api/suppliers", json={"name": f.unique("Returns Ltd"), "email": "back@s.test"}, headers=h["manager"]
    )
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    return body


def _body(clinic: Clinic, **changes: Any) -> dict[str, Any]:
    return {"lot_id": clinic.lot["id"], "location_id": clinic.location_id, "quantity": 2, "reason": "damaged"} | changes


async def test_a_manager_returns_stock_and_gets_a_document_number(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=10)
    supplier = await _supplier(client, auth_headers)
    response = await client.post(
        "/api/supplier-returns",
        json=_body(clinic, supplier_id=supplier["id"], note="Vials cracked in transit"),
        headers=auth_headers["manager"],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["number"] == f"RET-{body['id']:06d}"
    assert (body["quantity"], body["reason"], body["on_hand"]) == (2, "damaged", 8)
    assert body["supplier"] == {"id": supplier["id"], "name": supplier["name"]}
    assert body["lot"]["id"] == clinic.lot["id"] and body["location"]["id"] == clinic.location_id
    assert body["created_by"]["email"] == "manager@clinic.test"
    stock = await client.get(f"/api/stock?location_id={clinic.location_id}", headers=auth_headers["staff"])
    assert [i["on_hand"] for i in stock.json()["items"] if i["lot"]["id"] == clinic.lot["id"]] == [8]
    moves = await client.get(f"/api/movements?lot_id={clinic.lot['id']}", headers=auth_headers["manager"])
    newest = moves.json()[0]
    assert (newest["kind"], newest["quantity"], newest["id"]) == ("return", -2, body["movement_id"])
    got = await client.get(f"/api/supplier-returns/{body['id']}", headers=auth_headers["manager"])
    assert got.status_code == 200
    assert {k: v for k, v in body.items() if k != "on_hand"} == got.json()


async def test_staff_may_not_return_or_read_returns(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=10)
    assert (
        await client.post("/api/supplier-returns", json=_body(clinic), headers=auth_headers["staff"])
    ).status_code == 403
    assert (await client.get("/api/supplier-returns", headers=auth_headers["staff"])).status_code == 403
    assert (await client.post("/api/supplier-returns", json=_body(clinic))).status_code == 401


async def test_more_than_on_hand_is_409_insufficient_stock_and_writes_nothing(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=3)
    before = await row_counts(conn, TABLES)
    refused = await client.post(
        "/api/supplier-returns", json=_body(clinic, quantity=4), headers=auth_headers["manager"]
    )
    assert refused.status_code == 409
    problem = refused.json()
    assert (problem["code"], problem["on_hand"], problem["requested"]) == ("insufficient_stock", 3, 4)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert await row_counts(conn, TABLES) == before


async def test_a_recalled_lot_is_returned_over_http(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=4)
    recall = await client.post(
        "/api/recalls", json={"lot_ids": [clinic.lot["id"]], "reason": "Notice 12"}, headers=auth_headers["manager"]
    )
    assert recall.status_code == 201
    response = await client.post(
        "/api/supplier-returns", json=_body(clinic, quantity=4, reason="recalled"), headers=auth_headers["manager"]
    )
    assert response.status_code == 201, response.text
    assert (response.json()["lot"]["status"], response.json()["on_hand"]) == ("recalled", 0)


async def test_the_same_idempotency_key_replays_and_writes_once(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    headers = {**auth_headers["manager"], "Idempotency-Key": "return-1"}
    first = await client.post("/api/supplier-returns", json=_body(clinic), headers=headers)
    replay = await client.post("/api/supplier-returns", json=_body(clinic), headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.headers.get("Idempotency-Replayed") == "true" and replay.json() == first.json()
    count = await conn.fetchval("SELECT count(*) FROM supplier_return WHERE lot = $1", clinic.lot["id"])
    assert count == 1
    other = await client.post("/api/supplier-returns", json=_body(clinic, quantity=3), headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


async def test_returns_are_listed_by_lot_supplier_and_reason(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=10)
    supplier = await _supplier(client, auth_headers)
    h = auth_headers["manager"]
    one = (await client.post("/api/supplier-returns", json=_body(clinic, supplier_id=supplier["id"]), headers=h)).json()
    two = (await client.post("/api/supplier-returns", json=_body(clinic, reason="expired"), headers=h)).json()

    async def ids(query: str) -> list[int]:
        response = await client.get(f"/api/supplier-returns?{query}", headers=h)
        assert response.status_code == 200
        return [r["id"] for r in response.json()["items"]]

    assert await ids(f"lot_id={clinic.lot['id']}") == [two["id"], one["id"]]
    assert await ids(f"supplier_id={supplier['id']}") == [one["id"]]
    assert await ids(f"location_id={clinic.location_id}&reason=expired") == [two["id"]]


async def test_the_return_note_pdf_names_the_document_the_lot_and_the_supplier(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=10)
    supplier = await _supplier(client, auth_headers)
    made = await client.post(
        "/api/supplier-returns",
        json=_body(clinic, quantity=3, supplier_id=supplier["id"], reason="recalled", note="Batch notice 7"),
        headers=auth_headers["manager"],
    )
    body = made.json()
    pdf = await client.get(f"/api/supplier-returns/{body['id']}.pdf", headers=auth_headers["manager"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert 'filename="return-' in pdf.headers["content-disposition"]
    document = pypdfium2.PdfDocument(pdf.content)
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    for shown in (
        body["number"],
        clinic.lot["lot_number"],
        clinic.gtin,
        clinic.product["name"],
        supplier["name"],
        "back@s.test",
        "3 unit(s)",
        "recalled lot",
        "Batch notice 7",
    ):
        assert shown in text, shown
    missing = await client.get("/api/supplier-returns/999999.pdf", headers=auth_headers["manager"])
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
