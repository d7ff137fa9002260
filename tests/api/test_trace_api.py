"""Traceability over HTTP: the look-up's contract shape, exact and similar matches, audit, roles."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from inventory.domain.labelcode import format_lot_code
from inventory.domain.models import Actor
from inventory.services import clinical
from tests.support import factories as f
from tests.support.clinic import build

H = dict[str, dict[str, str]]


async def scan(client: httpx.AsyncClient, headers: dict[str, str], session_id: int, barcode: str) -> int:
    # Repeated uses of one barcode on one session are deliberate here: confirm them (else 409 repeat_scan).
    body = {"barcode": barcode, "repeat": True}
    response = await client.post(f"/api/sessions/{session_id}/scans", json=body, headers=headers)
    assert response.status_code == 201, response.text
    usage_id: int = response.json()["usage_id"]
    return usage_id


async def test_look_up_finds_exact_and_similar_matches_and_shows_voided_uses_marked(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    tag = f.unique("T").replace(" ", "") + "Q"
    loose = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number=f"{tag}-0042",
        expiry=f.in_days(100),
        quantity=3,
    )
    exact = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number=f"{tag}42",
        expiry=f.in_days(100),
        quantity=3,
    )
    kept = await scan(client, auth_headers["staff"], clinic.session["id"], format_lot_code(exact["lot"]["id"]))
    voided = await scan(client, auth_headers["staff"], clinic.session["id"], format_lot_code(exact["lot"]["id"]))
    void = await client.post(
        f"/api/usages/{voided}/void", json={"reason": "wrong ampoule"}, headers=auth_headers["staff"]
    )
    assert void.status_code == 200, void.text
    await scan(client, auth_headers["staff"], clinic.session["id"], format_lot_code(loose["lot"]["id"]))

    response = await client.get(
        "/api/trace/lot", params={"lot_number": f"  {tag.lower()}42 "}, headers=auth_headers["manager"]
    )
    assert response.status_code == 200, response.text
    body = response.json()
    [match] = body["matches"]
    assert set(match) >= {"lot", "product", "brand", "received", "stock", "usages"}
    assert match["lot"]["id"] == exact["lot"]["id"]
    assert match["brand"] == clinic.product["brand"]
    assert match["stock"][0]["on_hand"] == 2
    assert set(match["stock"][0]["location"]) >= {"id", "name"}
    assert match["received"][0]["quantity"] == 3
    usages = {u["usage_id"]: u for u in match["usages"]}
    assert set(usages) == {kept, voided}
    assert usages[voided]["voided"] is True
    assert usages[kept]["voided"] is False
    first = usages[kept]
    assert set(first) >= {"usage_id", "used_at", "voided", "session_id", "client", "location", "user", "quantity"}
    assert set(first["client"]) == {"id", "full_name", "email", "phone"}
    assert first["client"]["phone"] == "+33 6 12 34 56 78"
    assert first["user"]["id"] == actors["staff"].id
    assert first["used_at"].endswith(("+00:00", "Z"))
    [similar] = body["similar"]
    assert similar["lot"]["id"] == loose["lot"]["id"]
    assert len(similar["usages"]) == 1


async def test_each_look_up_shows_in_the_audit_log(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())
    for _ in range(2):
        response = await client.get(
            "/api/trace/lot", params={"lot_number": clinic.lot["lot_number"]}, headers=auth_headers["manager"]
        )
        assert response.status_code == 200
    log = await client.get(
        "/api/audit", params={"entity": "lot", "entity_id": clinic.lot["id"]}, headers=auth_headers["manager"]
    )
    assert log.status_code == 200
    lookups = [e for e in log.json()["items"] if e["action"] == "trace.lookup"]
    assert len(lookups) == 2
    assert all(e["actor_id"] == actors["manager"].id for e in lookups)
    assert all(e["details"]["client_ids"] == [clinic.client["id"]] for e in lookups)


async def test_gtin_narrows_and_bad_input_is_a_problem_not_a_crash(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    ok = await client.get(
        "/api/trace/lot",
        params={"lot_number": clinic.lot["lot_number"], "gtin": clinic.box_gtin},
        headers=auth_headers["manager"],
    )
    assert ok.status_code == 200
    assert [m["product"]["id"] for m in ok.json()["matches"]] == [clinic.product["id"]]
    cases: list[tuple[dict[str, str], int, str]] = [
        ({}, 422, "validation_error"),
        ({"lot_number": ""}, 422, "validation_error"),
        ({"lot_number": "   "}, 422, "lot_number_invalid"),
        ({"lot_number": "x" * 65}, 422, "lot_number_invalid"),
        ({"lot_number": "x" * 201}, 422, "validation_error"),
        ({"lot_number": "A1", "gtin": "123"}, 422, "gtin_invalid"),
        ({"lot_number": "A1", "gtin": f.make_gtin(424_242, prefix="999999")}, 404, "product_unknown"),
    ]
    for params, status, code in cases:
        response = await client.get("/api/trace/lot", params=params, headers=auth_headers["manager"])
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code


async def test_client_history_lists_every_lot_used_on_the_client(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())
    response = await client.get(f"/api/clients/{clinic.client['id']}/history", headers=auth_headers["manager"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["client"]["id"] == clinic.client["id"]
    [lot] = body["lots"]
    assert lot["lot"]["id"] == clinic.lot["id"]
    assert lot["quantity"] == 1
    assert lot["usages"][0]["voided"] is False
    log = await client.get(
        "/api/audit", params={"entity": "client", "entity_id": clinic.client["id"]}, headers=auth_headers["manager"]
    )
    assert "client.history" in [e["action"] for e in log.json()["items"]]
    missing = await client.get("/api/clients/2000000000/history", headers=auth_headers["manager"])
    assert missing.status_code == 404


@pytest.mark.parametrize("path", ["/api/trace/lot?lot_number=A1", "/api/clients/1/history"])
async def test_staff_get_403_and_no_token_401(
    client: httpx.AsyncClient, auth_headers: H, path: str, conn: asyncpg.Connection
) -> None:
    assert (await client.get(path, headers=auth_headers["staff"])).status_code == 403
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=auth_headers["admin"])).status_code in {200, 404}


async def test_a_client_without_uses_has_an_empty_history(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    made = await clinical.create_client(actor=actors["manager"], full_name=f.unique("Nobody"))
    response = await client.get(f"/api/clients/{made['id']}/history", headers=auth_headers["manager"])
    assert response.status_code == 200
    assert response.json()["lots"] == []
