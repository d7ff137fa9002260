"""Clients over HTTP: registering, finding, reading; contact details only for the roles that need them."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.support import factories as f
from tests.support.db import row_counts
from tests.support.http import H, is_problem


async def test_a_client_is_registered_with_cleaned_allergies_and_found_by_part_of_the_name(
    client: httpx.AsyncClient, auth_headers: H
) -> None:
    name = f.unique("Léa Dupont")
    created = await client.post(
        "/api/clients",
        json={
            "full_name": f"  {name}  ",
            "allergies": ["Lidocaine", " lidocaine ", "Vitamin  C"],
            "email": "lea@example.com",
        },
        headers=auth_headers["staff"],
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["full_name"] == name
    assert body["allergies"] == ["Lidocaine", "Vitamin C"]  # case-insensitive duplicates and spaces collapsed
    found = await client.get("/api/clients", params={"q": name.split()[-1].lower()}, headers=auth_headers["staff"])
    assert found.status_code == 200
    assert body["id"] in [c["id"] for c in found.json()]
    one = await client.get(f"/api/clients/{body['id']}", headers=auth_headers["staff"])
    assert one.json()["full_name"] == name


async def test_staff_never_get_contacts_and_managers_do(client: httpx.AsyncClient, auth_headers: H) -> None:
    created = await client.post(
        "/api/clients",
        json={"full_name": f.unique("Inès"), "email": "ines@example.com", "phone": "+33 6 11 22 33 44"},
        headers=auth_headers["staff"],
    )
    assert (created.json()["email"], created.json()["phone"]) == (None, None)  # not even to who typed them
    client_id = created.json()["id"]
    for role in ("staff", "staff2"):
        seen = (await client.get(f"/api/clients/{client_id}", headers=auth_headers[role])).json()
        assert (seen["email"], seen["phone"]) == (None, None)
    listed = await client.get("/api/clients", params={"q": "Inès"}, headers=auth_headers["staff"])
    assert "ines@example.com" not in listed.text
    for role in ("manager", "admin"):
        seen = (await client.get(f"/api/clients/{client_id}", headers=auth_headers[role])).json()
        assert (seen["email"], seen["phone"]) == ("ines@example.com", "+33 6 11 22 33 44")


@pytest.mark.parametrize(
    "body",
    [
        {"full_name": "   "},
        {"full_name": "Zoé", "email": "not an address"},
        {"full_name": "Zoé", "phone": "call me"},
        {"full_name": "Zoé", "date_of_birth": "1850-01-01"},
        {"full_name": "Zoé", "date_of_birth": "2999-01-01"},
        {"full_name": "Zoé", "allergies": [""]},
        {"full_name": "Zoé", "unknown": 1},
    ],
)
async def test_a_bad_client_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, body: dict[str, object]
) -> None:
    before = await row_counts(conn, ["client", "audit_event"])
    response = await client.post("/api/clients", json=body, headers=auth_headers["staff"])
    assert is_problem(response, 422)
    assert await row_counts(conn, ["client", "audit_event"]) == before


async def test_an_unknown_client_is_404_and_a_search_with_control_characters_is_422(
    client: httpx.AsyncClient, auth_headers: H
) -> None:
    assert is_problem(await client.get("/api/clients/999999999", headers=auth_headers["staff"]), 404, "not_found")
    assert is_problem(await client.get("/api/clients", params={"q": "a\x00b"}, headers=auth_headers["staff"]), 422)


async def test_clients_need_a_token(client: httpx.AsyncClient) -> None:
    assert is_problem(await client.get("/api/clients"), 401)
    assert is_problem(await client.post("/api/clients", json={"full_name": "X"}), 401)
