"""Account management (CONTRACT §11): role and active changes, password resets, and the admins who must remain."""

from __future__ import annotations

import secrets
from typing import Any

import asyncpg
import httpx
import pytest

from inventory.domain.errors import Conflict
from inventory.domain.models import Actor
from inventory.services import auth
from inventory.store import users
from tests.support.http import H, is_problem

PASSWORD = "ampoule fridge seventeen"
NEW_PASSWORD = "a different long phrase"
_HASH: list[str] = []


async def fresh_user(conn: asyncpg.Connection, role: str = "staff") -> users.User:
    """A user with PASSWORD, inserted in the test transaction (the Argon2 hash computed once per module)."""
    if not _HASH:
        _HASH.append(await auth.hash_password(PASSWORD))
    email = f"account-{secrets.token_hex(4)}@clinic.test"
    return await users.create(conn, email=email, full_name="", password_hash=_HASH[0], role=role)


async def token_of(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Sign in and return the bearer token."""
    response = await client.post("/api/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}


async def patch_user(client: httpx.AsyncClient, headers: dict[str, str], user_id: int, **body: Any) -> httpx.Response:
    """PATCH /api/users/{id}."""
    return await client.patch(f"/api/users/{user_id}", headers=headers, json=body)


async def test_admin_changes_a_role_and_the_list_shows_it_with_an_audit_event(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    user = await fresh_user(conn)
    token = await token_of(client, user.email)
    response = await patch_user(client, auth_headers["admin"], user.id, role="manager")
    assert response.status_code == 200, response.text
    assert (response.json()["role"], response.json()["active"]) == ("manager", True)
    listed = {u["id"]: u for u in (await client.get("/api/users", headers=auth_headers["admin"])).json()}
    assert (listed[user.id]["role"], listed[user.id]["active"]) == ("manager", True)
    # The role comes from the user row: the same token now has the manager's rights.
    assert (await client.get("/api/audit", headers=bearer(token))).status_code == 200
    event = await conn.fetchrow(
        "SELECT actor, details FROM audit_event WHERE action = 'user.update' AND entity_id = $1", user.id
    )
    assert event is not None
    assert event["actor"] == actors["admin"].id
    assert event["details"] == {"role": ["staff", "manager"]}


async def test_a_deactivated_users_tokens_stop_at_once_and_reactivation_does_not_revive_them(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    user = await fresh_user(conn)
    token = await token_of(client, user.email)
    assert (await client.get("/api/brands", headers=bearer(token))).status_code == 200
    response = await patch_user(client, auth_headers["admin"], user.id, active=False)
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert is_problem(await client.get("/api/brands", headers=bearer(token)), 401, "invalid_token")
    refused = await client.post("/api/auth/token", json={"email": user.email, "password": PASSWORD})
    assert is_problem(refused, 401, "invalid_credentials")
    assert (await patch_user(client, auth_headers["admin"], user.id, active=True)).status_code == 200
    assert is_problem(await client.get("/api/brands", headers=bearer(token)), 401, "invalid_token")
    fresh = await token_of(client, user.email)
    assert (await client.get("/api/brands", headers=bearer(fresh))).status_code == 200


@pytest.mark.parametrize("change", [{"active": False}, {"role": "manager"}, {"role": "staff", "active": False}])
async def test_an_admin_cannot_demote_or_deactivate_themselves(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, actors: dict[str, Actor], change: Any
) -> None:
    audit = await conn.fetchval("SELECT count(*) FROM audit_event")
    response = await patch_user(client, auth_headers["admin"], actors["admin"].id, **change)
    assert is_problem(response, 409, "cannot_change_self")
    row = await conn.fetchrow("SELECT role, active FROM app_user WHERE id = $1", actors["admin"].id)
    assert row is not None
    assert (row["role"], row["active"]) == ("admin", True)
    assert await conn.fetchval("SELECT count(*) FROM audit_event") == audit


async def test_a_patch_that_changes_nothing_writes_nothing(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    audit = await conn.fetchval("SELECT count(*) FROM audit_event")
    response = await patch_user(client, auth_headers["admin"], actors["admin"].id, role="admin", active=True)
    assert response.status_code == 200, response.text
    assert await conn.fetchval("SELECT count(*) FROM audit_event") == audit


async def test_the_last_active_admin_cannot_be_removed(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    """Reachable by any caller that is not itself a counted admin, such as the command line (actor None)."""
    await conn.execute("UPDATE app_user SET active = false WHERE role = 'admin' AND id <> $1", actors["admin"].id)
    changes: list[tuple[str | None, bool | None]] = [(None, False), ("manager", None)]
    for role, active in changes:
        with pytest.raises(Conflict) as raised:
            await auth.update_user(actor=None, user_id=actors["admin"].id, role=role, active=active)
        assert raised.value.code == "last_admin"
    row = await conn.fetchrow("SELECT role, active FROM app_user WHERE id = $1", actors["admin"].id)
    assert row is not None
    assert (row["role"], row["active"]) == ("admin", True)
    other = await fresh_user(conn, role="admin")
    updated = await auth.update_user(actor=None, user_id=actors["admin"].id, role="manager", active=None)
    assert updated.role == "manager"
    assert other.role == "admin"


async def test_an_empty_patch_is_422(client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]) -> None:
    assert is_problem(await patch_user(client, auth_headers["admin"], actors["staff"].id), 422, "validation_error")


async def test_unknown_user_is_404(client: httpx.AsyncClient, auth_headers: H) -> None:
    assert is_problem(await patch_user(client, auth_headers["admin"], 999_999, active=False), 404, "not_found")
    response = await client.post(
        "/api/users/999999/password", headers=auth_headers["admin"], json={"password": NEW_PASSWORD}
    )
    assert is_problem(response, 404, "not_found")


@pytest.mark.parametrize("role", ["staff", "manager"])
async def test_only_admins_manage_accounts(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, role: str
) -> None:
    user = await fresh_user(conn)
    assert is_problem(await patch_user(client, auth_headers[role], user.id, active=False), 403, "forbidden")
    response = await client.post(
        f"/api/users/{user.id}/password", headers=auth_headers[role], json={"password": NEW_PASSWORD}
    )
    assert is_problem(response, 403, "forbidden")
    assert is_problem(await patch_user(client, {}, user.id, active=False), 401)


async def test_a_password_reset_cuts_the_users_tokens_and_only_the_new_password_signs_in(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    user = await fresh_user(conn)
    old_token = await token_of(client, user.email)
    response = await client.post(
        f"/api/users/{user.id}/password", headers=auth_headers["admin"], json={"password": NEW_PASSWORD}
    )
    assert response.status_code == 204, response.text
    assert is_problem(await client.get("/api/brands", headers=bearer(old_token)), 401, "invalid_token")
    old = await client.post("/api/auth/token", json={"email": user.email, "password": PASSWORD})
    assert is_problem(old, 401, "invalid_credentials")
    new_token = await token_of(client, user.email, NEW_PASSWORD)  # straight away, in the same second
    assert (await client.get("/api/brands", headers=bearer(new_token))).status_code == 200
    event = await conn.fetchrow(
        "SELECT actor, details FROM audit_event WHERE action = 'user.password_reset' AND entity_id = $1", user.id
    )
    assert event is not None
    assert event["actor"] == actors["admin"].id
    assert NEW_PASSWORD not in str(event["details"])


@pytest.mark.parametrize(
    ("password", "code"),
    [("short", "password_too_short"), ("1234567890", "password_too_simple"), ("password1234", "password_too_common")],
)
async def test_a_reset_follows_the_password_rules_and_changes_nothing_when_refused(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, password: str, code: str
) -> None:
    user = await fresh_user(conn)
    token = await token_of(client, user.email)
    response = await client.post(
        f"/api/users/{user.id}/password", headers=auth_headers["admin"], json={"password": password}
    )
    assert is_problem(response, 422, code)
    assert await conn.fetchval("SELECT password_hash FROM app_user WHERE id = $1", user.id) == _HASH[0]
    assert (await client.get("/api/brands", headers=bearer(token))).status_code == 200
