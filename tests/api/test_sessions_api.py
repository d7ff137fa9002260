"""Treatment sessions over HTTP: open, read with their uses, close once; scans refused after closing."""

from __future__ import annotations

import asyncpg
import httpx

from inventory.domain.models import Actor
from tests.support.clinic import build
from tests.support.db import row_counts
from tests.support.http import H, is_problem


async def test_a_session_is_opened_read_with_its_uses_and_closed_once(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=4)
    opened = await client.post(
        "/api/sessions",
        json={"client_id": clinic.client["id"], "location_id": clinic.location_id, "treatment": "Glow"},
        headers=auth_headers["staff"],
    )
    assert opened.status_code == 201, opened.text
    session = opened.json()
    assert (session["status"], session["treatment"], session["client_name"]) == (
        "open",
        "Glow",
        clinic.client["full_name"],
    )
    scanned = await client.post(
        f"/api/sessions/{session['id']}/scans", json={"barcode": clinic.code()}, headers=auth_headers["staff"]
    )
    assert scanned.status_code == 201, scanned.text
    detail = (await client.get(f"/api/sessions/{session['id']}", headers=auth_headers["staff"])).json()
    assert [(u["lot_id"], u["quantity"]) for u in detail["usages"]] == [(clinic.lot["id"], 1)]

    closed = await client.post(f"/api/sessions/{session['id']}/close", headers=auth_headers["staff"])
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    again = await client.post(f"/api/sessions/{session['id']}/close", headers=auth_headers["staff"])
    assert is_problem(again, 409, "session_closed")
    late = await client.post(
        f"/api/sessions/{session['id']}/scans",
        json={"barcode": clinic.code(), "repeat": True},
        headers=auth_headers["staff"],
    )
    assert is_problem(late, 409, "session_closed")


async def test_a_session_for_an_unknown_client_or_location_writes_nothing(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    before = await row_counts(conn, ["treatment_session", "audit_event"])
    for body in (
        {"client_id": 999999999, "location_id": clinic.location_id},
        {"client_id": clinic.client["id"], "location_id": 999999999},
    ):
        assert is_problem(await client.post("/api/sessions", json=body, headers=auth_headers["staff"]), 404)
    assert is_problem(
        await client.post("/api/sessions", json={"client_id": 0, "location_id": 1}, headers=auth_headers["staff"]),
        422,
    )
    assert await row_counts(conn, ["treatment_session", "audit_event"]) == before


async def test_sessions_are_listed_per_client_and_status(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    await client.post(f"/api/sessions/{clinic.session['id']}/close", headers=auth_headers["staff"])
    listed = await client.get(
        "/api/sessions", params={"client_id": clinic.client["id"], "status": "closed"}, headers=auth_headers["staff"]
    )
    assert [s["id"] for s in listed.json()] == [clinic.session["id"]]
    none_open = await client.get(
        "/api/sessions", params={"client_id": clinic.client["id"], "status": "open"}, headers=auth_headers["staff"]
    )
    assert none_open.json() == []
    assert is_problem(await client.get("/api/sessions/999999999", headers=auth_headers["staff"]), 404)
