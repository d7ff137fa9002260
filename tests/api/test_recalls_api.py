"""Recall cases over HTTP: create, scan refused, contact clients, export, close; quarantine; roles."""

from __future__ import annotations

import csv
import io
import secrets
from typing import Any

import asyncpg
import httpx
import pytest

from inventory.domain.models import Actor
from tests.support.clinic import Clinic, build
from tests.support.writes import table_writes, written

H = dict[str, dict[str, str]]


async def scan(client: httpx.AsyncClient, auth_headers: H, clinic: Clinic) -> httpx.Response:
    # Repeated uses of one barcode on one session are deliberate here: confirm them (else 409 repeat_scan).
    return await client.post(
        f"/api/sessions/{clinic.session['id']}/scans",
        json={"barcode": clinic.code(), "repeat": True},
        headers=auth_headers["staff"],
    )


async def recall(client: httpx.AsyncClient, auth_headers: H, lot_ids: list[int], **extra: Any) -> httpx.Response:
    return await client.post(
        "/api/recalls",
        json={"lot_ids": lot_ids, "reason": "Manufacturer notice", **extra},
        headers=auth_headers["manager"],
    )


async def test_recall_case_from_creation_to_closure(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    assert (await scan(client, auth_headers, clinic)).status_code == 201
    created = await recall(client, auth_headers, [clinic.lot["id"]], source="Filorga", reference="FSN-7")
    assert created.status_code == 201, created.text
    case = created.json()
    assert isinstance(case["id"], int)
    assert case["lots"][0]["lot"]["status"] == "recalled"
    assert case["lots"][0]["quarantined_units"] == 9
    assert [c["client"]["id"] for c in case["clients"]] == [clinic.client["id"]]

    refused = await scan(client, auth_headers, clinic)
    assert refused.status_code == 409
    assert refused.json()["code"] == "lot_recalled"

    stock = await client.get("/api/stock", params={"lot_id": clinic.lot["id"]}, headers=auth_headers["staff"])
    assert stock.json()["items"][0]["lot"]["status"] == "recalled"

    listed = await client.get("/api/recalls", headers=auth_headers["manager"])
    assert listed.status_code == 200
    summary = next(item for item in listed.json()["items"] if item["id"] == case["id"])
    assert (summary["lot_count"], summary["client_count"], summary["status"]) == (1, 1, "open")

    path = f"/api/recalls/{case['id']}/clients/{clinic.client['id']}"
    contacted = await client.patch(
        path, json={"contact_status": "contacted", "note": "called"}, headers=auth_headers["manager"]
    )
    assert contacted.status_code == 200, contacted.text
    assert contacted.json()["contact_status"] == "contacted"
    assert contacted.json()["updated_by"]["id"] == actors["manager"].id
    wrong = await client.patch(path, json={"contact_status": "to_contact"}, headers=auth_headers["manager"])
    assert wrong.status_code == 409
    assert wrong.json()["code"] == "invalid_transition"
    acknowledged = await client.post(path, json={"contact_status": "acknowledged"}, headers=auth_headers["manager"])
    assert acknowledged.status_code == 200
    assert acknowledged.json()["contact_status"] == "acknowledged"

    export = await client.get(f"/api/recalls/{case['id']}/clients.csv", headers=auth_headers["manager"])
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    assert export.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads accents right
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [(int(r["client_id"]), r["contact_status"], r["quantity"]) for r in rows] == [
        (clinic.client["id"], "acknowledged", "1")
    ]

    disposal = await client.post(
        "/api/disposals",
        json={"lot_id": clinic.lot["id"], "location_id": clinic.location_id, "quantity": 9, "reason": "recall FSN-7"},
        headers=auth_headers["manager"],
    )
    assert disposal.status_code == 201, disposal.text
    closed = await client.post(
        f"/api/recalls/{case['id']}/close", json={"note": "done"}, headers=auth_headers["manager"]
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["report"] == {
        "clients_affected": 1,
        "clients_to_contact": 0,
        "clients_contacted": 1,
        "clients_acknowledged": 1,
        "clients_unreachable": 0,
        "units_quarantined": 9,
        "units_disposed": 9,
        "units_on_hand": 0,
    }
    again = await client.post(f"/api/recalls/{case['id']}/close", headers=auth_headers["manager"])
    assert again.status_code == 409
    assert again.json()["code"] == "recall_closed"
    shown = await client.get(f"/api/recalls/{case['id']}", headers=auth_headers["manager"])
    assert shown.status_code == 200
    assert shown.json()["closed_by"]["id"] == actors["manager"].id

    log = await client.get(
        "/api/audit", params={"entity": "recall", "entity_id": case["id"]}, headers=auth_headers["manager"]
    )
    actions = [e["action"] for e in log.json()["items"]]
    for action in ("recall.create", "recall.client_status", "recall.export", "recall.close", "recall.view"):
        assert action in actions


async def test_close_without_a_body_is_accepted(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    case = (await recall(client, auth_headers, [clinic.lot["id"]])).json()
    closed = await client.post(f"/api/recalls/{case['id']}/close", headers=auth_headers["manager"])
    assert closed.status_code == 200, closed.text
    assert closed.json()["closing_note"] is None


async def test_same_idempotency_key_replays_the_first_recall(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    headers = {**auth_headers["manager"], "Idempotency-Key": secrets.token_hex(8)}
    body = {"lot_ids": [clinic.lot["id"]], "reason": "notice"}
    first = await client.post("/api/recalls", json=body, headers=headers)
    second = await client.post("/api/recalls", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers.get("idempotency-replayed") == "true"
    count = await conn.fetchval("SELECT count(*) FROM recall_lot WHERE lot = $1", clinic.lot["id"])
    assert count == 1
    other = await client.post("/api/recalls", json={**body, "reason": "other"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


async def test_unknown_lot_is_404_and_writes_nothing(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    before = await conn.fetchval("SELECT count(*) FROM recall")
    response = await recall(client, auth_headers, [clinic.lot["id"], 2_000_000_000])
    assert response.status_code == 404
    assert response.json()["lot_ids"] == [2_000_000_000]
    assert await conn.fetchval("SELECT count(*) FROM recall") == before
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", clinic.lot["id"]) == "active"


@pytest.mark.parametrize(
    "body",
    [
        {"lot_ids": [], "reason": "x"},
        {"lot_ids": [1]},
        {"lot_ids": [1], "reason": ""},
        {"lot_ids": [1], "reason": "   "},
        {"lot_ids": [0], "reason": "x"},
        {"lot_ids": ["a"], "reason": "x"},
        {"lot_ids": [1], "reason": "x", "extra": 1},
        {"lot_ids": [1], "reason": "x" * 2001},
    ],
)
async def test_malformed_recalls_are_422(
    client: httpx.AsyncClient, auth_headers: H, body: dict[str, Any], conn: asyncpg.Connection
) -> None:
    response = await client.post("/api/recalls", json=body, headers=auth_headers["manager"])
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


async def test_unknown_recall_and_client_are_404(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    case = (await recall(client, auth_headers, [clinic.lot["id"]])).json()
    for method, path, body in [
        ("GET", "/api/recalls/2000000000", None),
        ("GET", "/api/recalls/2000000000/clients.csv", None),
        ("POST", "/api/recalls/2000000000/close", None),
        ("PATCH", f"/api/recalls/{case['id']}/clients/{clinic.client['id']}", {"contact_status": "contacted"}),
    ]:
        response = await client.request(method, path, json=body, headers=auth_headers["manager"])
        assert response.status_code == 404, (path, response.text)
    bad_status = await client.patch(
        f"/api/recalls/{case['id']}/clients/1", json={"contact_status": "called"}, headers=auth_headers["manager"]
    )
    assert bad_status.status_code == 422


async def test_quarantine_and_release_over_http(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    held = await client.post(
        f"/api/lots/{clinic.lot['id']}/quarantine", json={"reason": "fridge at 14 °C"}, headers=auth_headers["manager"]
    )
    assert held.status_code == 200, held.text
    assert held.json()["lot"]["status"] == "quarantined"
    refused = await scan(client, auth_headers, clinic)
    assert refused.status_code == 409
    assert refused.json()["code"] == "lot_quarantined"
    released = await client.post(
        f"/api/lots/{clinic.lot['id']}/release", json={"reason": "log checked"}, headers=auth_headers["manager"]
    )
    assert released.status_code == 200
    assert released.json()["lot"]["status"] == "active"
    assert (await scan(client, auth_headers, clinic)).status_code == 201
    await recall(client, auth_headers, [clinic.lot["id"]])
    lifted = await client.post(
        f"/api/lots/{clinic.lot['id']}/release", json={"reason": "mistake"}, headers=auth_headers["manager"]
    )
    assert lifted.status_code == 409
    assert lifted.json()["code"] == "lot_recalled"
    missing_reason = await client.post(
        f"/api/lots/{clinic.lot['id']}/quarantine", json={}, headers=auth_headers["manager"]
    )
    assert missing_reason.status_code == 422
    log = await client.get(
        "/api/audit", params={"entity": "lot", "entity_id": clinic.lot["id"]}, headers=auth_headers["manager"]
    )
    actions = [e["action"] for e in log.json()["items"]]
    assert "lot.quarantine" in actions
    assert "lot.release" in actions


ROUTES = [
    ("GET", "/api/trace/lot?lot_number=A1", None),
    ("GET", "/api/clients/1/history", None),
    ("POST", "/api/recalls", {"lot_ids": [1], "reason": "x"}),
    ("GET", "/api/recalls", None),
    ("GET", "/api/recalls/1", None),
    ("GET", "/api/recalls/1/clients.csv", None),
    ("PATCH", "/api/recalls/1/clients/1", {"contact_status": "contacted"}),
    ("POST", "/api/recalls/1/clients/1", {"contact_status": "contacted"}),
    ("POST", "/api/recalls/1/close", None),
    ("POST", "/api/lots/1/quarantine", {"reason": "x"}),
    ("POST", "/api/lots/1/release", {"reason": "x"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_staff_tokens_get_403_on_every_route_here(
    client: httpx.AsyncClient,
    auth_headers: H,
    conn: asyncpg.Connection,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    before = await conn.fetchval("SELECT count(*) FROM audit_event")
    response = await client.request(method, path, json=body, headers=auth_headers["staff"])
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"
    assert await conn.fetchval("SELECT count(*) FROM audit_event") == before
    assert (await client.request(method, path, json=body)).status_code == 401


async def test_openapi_documents_every_route_here(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for route in (
        "/api/trace/lot",
        "/api/clients/{client_id}/history",
        "/api/recalls",
        "/api/recalls/{recall_id}",
        "/api/recalls/{recall_id}/clients.csv",
        "/api/recalls/{recall_id}/clients/{client_id}",
        "/api/recalls/{recall_id}/close",
        "/api/lots/{lot_id}/quarantine",
        "/api/lots/{lot_id}/release",
    ):
        assert route in paths, route


async def test_the_gets_here_write_only_their_audit_record(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    assert (await scan(client, auth_headers, clinic)).status_code == 201
    recall_id = (await recall(client, auth_headers, [clinic.lot["id"]])).json()["id"]
    audited = {  # the contract: every look-up is written to the audit log; nothing else is written
        f"/api/trace/lot?lot_number={clinic.lot['lot_number']}": "trace.lookup",
        f"/api/clients/{clinic.client['id']}/history": "client.history",
        f"/api/recalls/{recall_id}": "recall.view",
        f"/api/recalls/{recall_id}/clients.csv": "recall.export",
        "/api/recalls": None,
    }
    for path, action in audited.items():
        newest = await conn.fetchval("SELECT coalesce(max(id), 0) FROM audit_event")
        before = await table_writes(conn)
        response = await client.get(path, headers=auth_headers["manager"])
        assert response.status_code == 200, (path, response.text)
        assert written(before, await table_writes(conn)) == ({"audit_event": (1, 0, 0)} if action else {}), path
        actions = await conn.fetch("SELECT action FROM audit_event WHERE id > $1", newest)
        assert [r["action"] for r in actions] == ([action] if action else []), path
