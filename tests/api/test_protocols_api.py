"""Protocols over HTTP: create and read them, sessions and courses that follow one, the checklist, the warnings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from inventory.domain.models import Actor
from tests.support import factories as f
from tests.support.clinic import build
from tests.support.http import is_problem
from tests.support.vials import build_vials

H = dict[str, dict[str, str]]


async def _protocol(client: httpx.AsyncClient, headers: dict[str, str], items: list[dict[str, Any]]) -> Any:
    made = await client.post("/api/protocols", json={"name": f.unique("Protocol"), "items": items}, headers=headers)
    assert made.status_code == 201, made.text
    return made.json()


async def test_a_protocol_is_created_by_a_manager_and_read_by_staff(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    ampoules = await build(actors)
    vials = await build_vials(actors, unit="ml")
    items = [
        {"product_id": ampoules.product["id"], "quantity": 2},
        {"product_id": vials.product["id"], "quantity": 0.3},
    ]
    body = {"name": "Glow cocktail", "items": items}
    refused = await client.post("/api/protocols", json=body, headers=auth_headers["staff"])
    assert refused.status_code == 403
    made = await client.post("/api/protocols", json=body, headers=auth_headers["manager"])
    assert made.status_code == 201, made.text
    assert made.json()["items"] == items and b'"quantity":0.3' in made.content
    again = await client.post("/api/protocols", json={**body, "name": "GLOW cocktail"}, headers=auth_headers["manager"])
    assert is_problem(again, 409, "duplicate")
    one = await client.get(f"/api/protocols/{made.json()['id']}", headers=auth_headers["staff"])
    assert one.json() == made.json()
    listed = await client.get("/api/protocols", headers=auth_headers["staff"])
    assert made.json()["id"] in [p["id"] for p in listed.json()]
    precise = await client.post(
        "/api/protocols",
        json={"name": "Too fine", "items": [{"product_id": vials.product["id"], "quantity": 0.333}]},
        headers=auth_headers["manager"],
    )
    assert is_problem(precise, 422, "quantity_precision")


async def test_a_session_following_a_protocol_ticks_its_checklist_and_warns_outside_it(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    other = await f.product(actors["manager"], gtin=f.make_gtin(912_345))
    protocol = await _protocol(
        client,
        auth_headers["manager"],
        [{"product_id": clinic.product["id"], "quantity": 2}, {"product_id": other["id"], "quantity": 1}],
    )
    made = await client.post(
        "/api/sessions",
        json={"client_id": clinic.client["id"], "location_id": clinic.location_id, "protocol_id": protocol["id"]},
        headers=auth_headers["staff"],
    )
    assert made.status_code == 201 and made.json()["protocol_id"] == protocol["id"]
    session_id = made.json()["id"]
    before = (await client.get(f"/api/sessions/{session_id}", headers=auth_headers["staff"])).json()
    assert [(i["product_id"], i["quantity"], i["used"]) for i in before["checklist"]] == [
        (clinic.product["id"], 2, 0),
        (other["id"], 1, 0),
    ]
    scanned = await client.post(
        f"/api/sessions/{session_id}/scans", json={"barcode": clinic.code()}, headers=auth_headers["staff"]
    )
    assert scanned.status_code == 201 and scanned.json()["warnings"] == []
    after = (await client.get(f"/api/sessions/{session_id}", headers=auth_headers["staff"])).json()
    assert after["checklist"][0]["used"] == 1 and after["checklist"][0]["done"] is False
    outside = await build(actors)
    # Another product, its lot received elsewhere: recorded (traceability wins), flagged outside the protocol.
    foreign = await client.post(
        f"/api/sessions/{session_id}/scans", json={"barcode": outside.code()}, headers=auth_headers["staff"]
    )
    assert foreign.status_code == 201, foreign.text
    assert "not_in_protocol" in [w["code"] for w in foreign.json()["warnings"]]
    closed = await client.post(f"/api/sessions/{session_id}/close", headers=auth_headers["staff"])
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    [warning] = closed.json()["warnings"]
    assert warning["code"] == "protocol_incomplete"
    assert [i["product_id"] for i in warning["items"]] == [clinic.product["id"], other["id"]]


async def test_a_session_with_every_protocol_item_used_closes_without_warning(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    vials = await build_vials(actors, unit="ml")
    protocol = await _protocol(client, auth_headers["manager"], [{"product_id": vials.product["id"], "quantity": 0.3}])
    made = await client.post(
        "/api/sessions",
        json={"client_id": vials.client["id"], "location_id": vials.location_id, "protocol_id": protocol["id"]},
        headers=auth_headers["staff"],
    )
    session_id = made.json()["id"]
    for dose in (0.1, 0.2):
        scanned = await client.post(
            f"/api/sessions/{session_id}/scans",
            json={"barcode": vials.code(), "quantity": dose, "repeat": True},
            headers=auth_headers["staff"],
        )
        assert scanned.status_code == 201, scanned.text
    detail = (await client.get(f"/api/sessions/{session_id}", headers=auth_headers["staff"])).json()
    assert detail["checklist"] == [
        {
            "product_id": vials.product["id"],
            "product_name": vials.product["name"],
            "unit": "ml",
            "quantity": 0.3,
            "used": 0.3,
            "done": True,
        }
    ]
    closed = await client.post(f"/api/sessions/{session_id}/close", headers=auth_headers["staff"])
    assert closed.json()["warnings"] == []


async def test_a_session_without_a_protocol_has_no_checklist_and_no_protocol_warnings(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    detail = (await client.get(f"/api/sessions/{clinic.session['id']}", headers=auth_headers["staff"])).json()
    assert detail["checklist"] == [] and detail["protocol_id"] is None
    closed = await client.post(f"/api/sessions/{clinic.session['id']}/close", headers=auth_headers["staff"])
    assert closed.json()["warnings"] == []


async def test_a_course_following_a_protocol_forecasts_its_quantities(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    vials = await build_vials(actors, unit="ml", container_quantity=1, vials=1)
    protocol = await _protocol(client, auth_headers["manager"], [{"product_id": vials.product["id"], "quantity": 0.4}])
    await client.put(
        f"/api/locations/{vials.location_id}/rules/{vials.product['id']}",
        json={"reorder_point": 0, "par_level": 2, "lead_time_days": 30},
        headers=auth_headers["manager"],
    )
    course = await client.post(
        "/api/courses",
        json={
            "client_id": vials.client["id"],
            "location_id": vials.location_id,
            "treatment": "Glow",
            "start_date": f.in_days(1).isoformat(),
            "sessions": 4,
            "interval_days": 7,
            "protocol_id": protocol["id"],
        },
        headers=auth_headers["staff"],
    )
    assert course.status_code == 201, course.text
    assert course.json()["protocol_id"] == protocol["id"]
    assert course.json()["products"] == [{"product_id": vials.product["id"], "quantity": 0.4}]
    assert {s["protocol_id"] for s in course.json()["planned_sessions"]} == {protocol["id"]}
    details = await conn.fetchval(
        "SELECT details FROM reorder_alert WHERE product = $1 AND location = $2 AND status = 'open'",
        vials.product["id"],
        vials.location_id,
    )
    # Four sessions of 0.4 ml in the lead time: 1.6 ml booked against 1 ml on hand.
    assert details is not None and Decimal(str(details["forecast_courses"])) == Decimal("1.6")
