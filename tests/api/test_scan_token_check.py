"""The scan checks its bearer token in its own first statement: a revoked token or disabled user is refused at once."""

from __future__ import annotations

import asyncpg
import httpx

from inventory.domain.models import Actor
from tests.api.test_auth_api import bearer, fresh_user, sign_in
from tests.api.test_metrics import value
from tests.support.clinic import Clinic, build
from tests.support.http import is_problem


async def _scanner(client: httpx.AsyncClient, conn: asyncpg.Connection) -> tuple[int, str]:
    user = await fresh_user(conn)
    response = await sign_in(client, user.email)
    assert response.status_code == 200, response.text
    return user.id, response.json()["access_token"]


async def _scan(client: httpx.AsyncClient, clinic: Clinic, token: str, session_id: int | None = None) -> httpx.Response:
    return await client.post(
        f"/api/sessions/{session_id or clinic.session['id']}/scans",
        json={"barcode": clinic.code(), "repeat": True},
        headers=bearer(token),
    )


async def _uses(conn: asyncpg.Connection, clinic: Clinic) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM usage WHERE session = $1", clinic.session["id"])
    return count


async def test_a_scan_with_a_good_token_is_recorded_as_its_user(
    client: httpx.AsyncClient, conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    user_id, token = await _scanner(client, conn)
    response = await _scan(client, clinic, token)
    assert response.status_code == 201, response.text
    used_by = await conn.fetchval("SELECT used_by FROM usage WHERE id = $1", response.json()["usage_id"])
    audited = await conn.fetchval(
        "SELECT actor FROM audit_event WHERE action = 'usage.record' AND entity_id = $1", response.json()["usage_id"]
    )
    assert (used_by, audited) == (user_id, user_id)


async def test_a_scan_after_sign_out_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    _, token = await _scanner(client, conn)
    assert (await _scan(client, clinic, token)).status_code == 201
    assert (await client.post("/api/auth/logout", headers=bearer(token))).status_code == 204
    assert is_problem(await _scan(client, clinic, token), 401, "invalid_token")
    assert await _uses(conn, clinic) == 1
    # As when the middleware refused it, a refused token is no scan outcome.
    assert value("inventory_scans_total", outcome="invalid_token") == 0


async def test_a_scan_by_a_disabled_user_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    user_id, token = await _scanner(client, conn)
    await conn.execute("UPDATE app_user SET active = false WHERE id = $1", user_id)
    assert is_problem(await _scan(client, clinic, token), 401, "invalid_token")
    assert await _uses(conn, clinic) == 0


async def test_a_token_cut_off_by_a_password_reset_cannot_scan(
    client: httpx.AsyncClient, conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    user_id, token = await _scanner(client, conn)
    await conn.execute("UPDATE app_user SET tokens_valid_after = now() + interval '1 minute' WHERE id = $1", user_id)
    assert is_problem(await _scan(client, clinic, token), 401, "invalid_token")
    assert await _uses(conn, clinic) == 0


async def test_a_refused_token_learns_nothing_about_sessions(
    client: httpx.AsyncClient, conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    _, token = await _scanner(client, conn)
    assert is_problem(await _scan(client, clinic, token, session_id=2_000_000_000), 404, "not_found")
    assert (await client.post("/api/auth/logout", headers=bearer(token))).status_code == 204
    assert is_problem(await _scan(client, clinic, token, session_id=2_000_000_000), 401, "invalid_token")


async def test_a_revoked_token_cannot_replay_a_scan_by_its_idempotency_key(
    client: httpx.AsyncClient, conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    _, token = await _scanner(client, conn)
    headers = {**bearer(token), "Idempotency-Key": "scan-token-check-1"}
    body = {"barcode": clinic.code(), "repeat": True}
    path = f"/api/sessions/{clinic.session['id']}/scans"
    assert (await client.post(path, json=body, headers=headers)).status_code == 201
    replay = await client.post(path, json=body, headers=headers)
    assert replay.status_code == 201 and replay.headers.get("Idempotency-Replayed") == "true"
    assert (await client.post("/api/auth/logout", headers=bearer(token))).status_code == 204
    assert is_problem(await client.post(path, json=body, headers=headers), 401, "invalid_token")
    assert await _uses(conn, clinic) == 1
