"""Sign-in, tokens, sign-out, role guards and users over HTTP."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest

from inventory.config import Settings
from inventory.domain.models import Actor
from inventory.services import auth
from inventory.store import users
from tests.support import factories as f
from tests.support.http import H, is_problem

PASSWORD = "a long enough password"


_HASH: list[str] = []


def new_email() -> str:
    """An e-mail address no other user has."""
    return f"{f.unique('user').replace(' ', '-')}-{secrets.token_hex(3)}@clinic.test"


async def fresh_user(conn: asyncpg.Connection, role: str = "staff") -> users.User:
    """A user with PASSWORD inserted in the test transaction (its Argon2 hash computed once per module)."""
    if not _HASH:
        _HASH.append(await auth.hash_password(PASSWORD))
    return await users.create(conn, email=new_email(), full_name="", password_hash=_HASH[0], role=role)


async def fail(conn: asyncpg.Connection, email: str, times: int) -> None:
    """Record failed sign-ins as the service does, without paying for Argon2 each time."""
    for _ in range(times):
        await users.claim_attempt(conn, email)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """POST /api/auth/token."""
    return await client.post("/api/auth/token", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------ tokens


async def test_token_has_the_contract_shape(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    user = await fresh_user(conn)
    response = await sign_in(client, user.email)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.token_ttl_seconds
    assert (await client.get("/api/brands", headers=bearer(body["access_token"]))).status_code == 200


async def test_sign_in_ignores_the_case_and_surrounding_spaces_of_the_email(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    user = await fresh_user(conn)
    response = await sign_in(client, f"  {user.email.upper()} ")
    assert response.status_code == 200, response.text


async def test_wrong_password_is_401_problem(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    user = await fresh_user(conn)
    assert is_problem(await sign_in(client, user.email, "wrong password!"), 401, "invalid_credentials")


async def test_unknown_email_is_401_problem(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    assert is_problem(await sign_in(client, "nobody-here@clinic.test"), 401, "invalid_credentials")


async def test_disabled_user_cannot_sign_in_and_its_tokens_stop_working(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    user = await fresh_user(conn)
    token = (await sign_in(client, user.email)).json()["access_token"]
    await conn.execute("UPDATE app_user SET active = false WHERE id = $1", user.id)
    assert is_problem(await sign_in(client, user.email), 401)
    assert is_problem(await client.get("/api/brands", headers=bearer(token)), 401)


async def test_five_failures_in_the_window_lock_sign_in_even_with_the_right_password(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    user = await auth.create_user(actor=None, email=new_email(), role="staff", password=PASSWORD)
    for _ in range(5):
        assert is_problem(await sign_in(client, user.email, "not the password"), 401)
    assert is_problem(await sign_in(client, user.email), 429, "too_many_attempts")
    assert is_problem(await sign_in(client, user.email.upper()), 429, "too_many_attempts")


async def test_failures_of_unknown_emails_are_limited_too(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    email = f"ghost-{secrets.token_hex(4)}@clinic.test"
    await fail(conn, email, 4)
    assert is_problem(await sign_in(client, email, "guess"), 401)
    assert await conn.fetchval("SELECT count(*) FROM login_attempt WHERE email = $1", email) == 5
    assert is_problem(await sign_in(client, email, "guess"), 429, "too_many_attempts")


async def test_four_failures_do_not_lock(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    user = await fresh_user(conn)
    await fail(conn, user.email, 3)
    assert is_problem(await sign_in(client, user.email, "not the password"), 401)
    assert (await sign_in(client, user.email)).status_code == 200


async def test_a_success_starts_the_count_again(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    user = await fresh_user(conn)
    await conn.executemany(
        "INSERT INTO login_attempt (email, succeeded, attempted_at) VALUES ($1, $2, now() - $3 * interval '1s')",
        [(user.email, False, 60 - i) for i in range(4)] + [(user.email, True, 30)],
    )
    await fail(conn, user.email, 4)
    assert (await sign_in(client, user.email)).status_code == 200


async def test_failures_older_than_the_window_do_not_count(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    user = await fresh_user(conn)
    await conn.executemany(
        "INSERT INTO login_attempt (email, succeeded, attempted_at) VALUES ($1, false, $2)",
        [(user.email.lower(), datetime.now(UTC) - timedelta(seconds=settings.login_window_seconds + 60))] * 6,
    )
    assert (await sign_in(client, user.email)).status_code == 200


# ------------------------------------------------------------------ bearer tokens


def forge(settings: Settings, *, key: str | None = None, **claims: Any) -> str:
    """A token signed with the service's key (or another), with these claims."""
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "sub": "1",
        "role": "admin",
        "jti": secrets.token_hex(16),
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key or settings.secret_key, algorithm="HS256")


async def test_missing_malformed_or_garbage_tokens_are_401(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, actors: dict[str, Actor]
) -> None:
    headers: list[dict[str, str]] = [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer    "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Bearer a.b.c"},
        {"Authorization": "Bearer " + "x" * 5000},
        bearer(forge(settings, key="another key that is long enough to sign", sub=str(actors["admin"].id))),
        bearer(forge(settings, sub=str(actors["admin"].id), exp=datetime.now(UTC) - timedelta(seconds=5))),
        bearer(forge(settings, sub=str(actors["admin"].id), jti=None)),
        bearer(forge(settings, sub="not-a-number")),
        bearer(forge(settings, sub="999999")),
        bearer(jwt.encode({"sub": str(actors["admin"].id), "jti": "x", "exp": 9999999999}, key="", algorithm="none")),
    ]
    for header in headers:
        assert is_problem(await client.get("/api/brands", headers=header), 401), header


async def test_expired_token_is_401(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, actors: dict[str, Actor]
) -> None:
    token = forge(
        settings,
        sub=str(actors["staff"].id),
        iat=datetime.now(UTC) - timedelta(hours=9),
        exp=datetime.now(UTC) - timedelta(hours=1),
    )
    assert is_problem(await client.get("/api/stock", headers=bearer(token)), 401, "invalid_token")


async def test_role_comes_from_the_user_not_from_the_token(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, actors: dict[str, Actor]
) -> None:
    token = forge(settings, sub=str(actors["staff"].id), role="admin")
    assert is_problem(await client.get("/api/users", headers=bearer(token)), 403, "forbidden")


async def test_logout_revokes_the_token(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    user = await fresh_user(conn)
    first = (await sign_in(client, user.email)).json()["access_token"]
    second = (await sign_in(client, user.email)).json()["access_token"]
    assert (await client.get("/api/brands", headers=bearer(first))).status_code == 200
    response = await client.post("/api/auth/logout", headers=bearer(first))
    assert response.status_code == 204, response.text
    assert is_problem(await client.get("/api/brands", headers=bearer(first)), 401)
    assert is_problem(await client.post("/api/auth/logout", headers=bearer(first)), 401)
    assert (await client.get("/api/brands", headers=bearer(second))).status_code == 200
    assert (
        await conn.fetchval("SELECT count(*) FROM audit_event WHERE action = 'auth.logout' AND actor = $1", user.id)
        == 1
    )


async def test_logout_needs_a_token(client: httpx.AsyncClient) -> None:
    assert is_problem(await client.post("/api/auth/logout"), 401)


# ------------------------------------------------------------------ role guards

MANAGER_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/api/brands", {"name": "Guarded brand"}),
    ("POST", "/api/products", {"brand_id": 1, "name": "Guarded", "ingredients": []}),
    ("POST", "/api/locations", {"name": "Guarded room"}),
    ("PUT", "/api/locations/1/rules/1", {"reorder_point": 1, "par_level": 2, "lead_time_days": 1}),
    ("POST", "/api/transfers", {"lot_id": 1, "from_location_id": 1, "to_location_id": 2, "quantity": 1}),
    ("POST", "/api/adjustments", {"lot_id": 1, "location_id": 1, "delta": 1, "reason": "x"}),
    ("POST", "/api/disposals", {"lot_id": 1, "location_id": 1, "quantity": 1, "reason": "x"}),
    ("GET", "/api/movements", None),
    ("GET", "/api/audit", None),
]
ADMIN_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/api/users", {"email": "guarded@clinic.test", "role": "staff", "password": PASSWORD}),
    ("GET", "/api/users", None),
]
STAFF_ROUTES = ["/api/brands", "/api/products", "/api/locations", "/api/rules", "/api/stock", "/api/lots"]


@pytest.mark.parametrize(("method", "path", "body"), MANAGER_ROUTES + ADMIN_ROUTES)
async def test_staff_is_403_on_manager_and_admin_routes(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, method: str, path: str, body: Any
) -> None:
    audit = await conn.fetchval("SELECT count(*) FROM audit_event")
    response = await client.request(method, path, json=body, headers=auth_headers["staff"])
    assert is_problem(response, 403, "forbidden")
    assert await conn.fetchval("SELECT count(*) FROM audit_event") == audit


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
async def test_manager_is_403_on_admin_routes(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, method: str, path: str, body: Any
) -> None:
    response = await client.request(method, path, json=body, headers=auth_headers["manager"])
    assert is_problem(response, 403, "forbidden")


@pytest.mark.parametrize(("method", "path", "body"), MANAGER_ROUTES + ADMIN_ROUTES)
async def test_routes_without_a_token_are_401(
    client: httpx.AsyncClient, conn: asyncpg.Connection, method: str, path: str, body: Any
) -> None:
    assert is_problem(await client.request(method, path, json=body), 401)


async def test_staff_reads_catalog_and_stock(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    for path in STAFF_ROUTES:
        response = await client.get(path, headers=auth_headers["staff"])
        assert response.status_code == 200, (path, response.text)


async def test_admin_has_every_manager_right(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    for path in ("/api/movements", "/api/audit", "/api/users"):
        assert (await client.get(path, headers=auth_headers["admin"])).status_code == 200, path


# ------------------------------------------------------------------ users


async def test_admin_creates_a_user_who_can_sign_in(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    email = f"new-{secrets.token_hex(4)}@clinic.test"
    response = await client.post(
        "/api/users",
        headers=auth_headers["admin"],
        json={"email": email, "role": "manager", "password": PASSWORD, "full_name": "New Manager"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: body[k] for k in ("email", "role", "full_name", "active")} == {
        "email": email,
        "role": "manager",
        "full_name": "New Manager",
        "active": True,
    }
    audit = await conn.fetchrow(
        "SELECT actor, details FROM audit_event WHERE action = 'user.create' AND entity_id = $1", body["id"]
    )
    assert audit is not None
    assert audit["actor"] == actors["admin"].id
    assert PASSWORD not in str(audit["details"])
    token = (await sign_in(client, email)).json()["access_token"]
    assert (await client.get("/api/audit", headers=bearer(token))).status_code == 200


async def test_duplicate_email_is_409_duplicate_ignoring_case(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    email = f"dup-{secrets.token_hex(4)}@clinic.test"
    body = {"email": email, "role": "staff", "password": PASSWORD}
    assert (await client.post("/api/users", headers=auth_headers["admin"], json=body)).status_code == 201
    count = await conn.fetchval("SELECT count(*) FROM app_user")
    for variant in (email, email.upper()):
        response = await client.post("/api/users", headers=auth_headers["admin"], json={**body, "email": variant})
        assert is_problem(response, 409, "duplicate")
    assert await conn.fetchval("SELECT count(*) FROM app_user") == count


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"email": "short@clinic.test", "role": "staff", "password": "short"}, "password_too_short"),
        ({"email": "no-at-sign", "role": "staff", "password": PASSWORD}, "validation_error"),
        ({"email": "role@clinic.test", "role": "root", "password": PASSWORD}, "validation_error"),
        ({"email": "role@clinic.test", "password": PASSWORD}, "validation_error"),
        ({"email": " spaced@clinic.test", "role": "staff", "password": PASSWORD}, "validation_error"),
    ],
)
async def test_invalid_new_users_are_422(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, body: dict[str, Any], code: str
) -> None:
    count = await conn.fetchval("SELECT count(*) FROM app_user")
    assert is_problem(await client.post("/api/users", headers=auth_headers["admin"], json=body), 422, code)
    assert await conn.fetchval("SELECT count(*) FROM app_user") == count


async def test_password_and_its_hash_are_never_in_a_response(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    secret = "Zebra-Quartz-" + secrets.token_hex(8)
    email = f"secret-{secrets.token_hex(4)}@clinic.test"
    responses = [
        await client.post(
            "/api/users", headers=auth_headers["admin"], json={"email": email, "role": "staff", "password": secret}
        ),
        await client.post(
            "/api/users", headers=auth_headers["admin"], json={"email": email, "role": "staff", "password": secret}
        ),
        await client.post(
            "/api/users",
            headers=auth_headers["admin"],
            json={"email": email, "role": "staff", "password": secret, "extra": secret},
        ),
        await client.get("/api/users", headers=auth_headers["admin"]),
        await sign_in(client, email, secret),
        await sign_in(client, email, secret + "x"),
        await client.get("/api/audit", headers=auth_headers["admin"]),
    ]
    password_hash = await conn.fetchval("SELECT password_hash FROM app_user WHERE email = $1", email)
    for response in responses:
        assert response.status_code < 500
        assert secret not in response.text
        assert password_hash not in response.text
        assert "password_hash" not in response.text
        assert "$argon2" not in response.text
    users = responses[3].json()
    assert email in [u["email"] for u in users]
    assert all("password" not in key for u in users for key in u)


# ------------------------------------------------------------------ refresh: a sign-in that lasts a working day


def claims_of(settings: Settings, token: str) -> dict[str, Any]:
    """The verified claims of a token."""
    decoded: dict[str, Any] = jwt.decode(token, settings.secret_key, algorithms=["HS256"])
    return decoded


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """POST /api/auth/refresh."""
    return await client.post("/api/auth/refresh", headers=bearer(token))


async def test_refresh_gives_a_fresh_token_of_the_same_sign_in(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    user = await fresh_user(conn)
    first = (await sign_in(client, user.email)).json()["access_token"]
    response = await refresh(client, first)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.token_ttl_seconds
    old, new = claims_of(settings, first), claims_of(settings, body["access_token"])
    assert new["jti"] == old["jti"]
    assert new["auth_time"] == old["auth_time"]
    assert new["iat"] >= old["iat"]
    assert (await client.get("/api/brands", headers=bearer(body["access_token"]))).status_code == 200
    audited = "SELECT count(*) FROM audit_event WHERE action = 'auth.refresh' AND actor = $1"
    assert await conn.fetchval(audited, user.id) == 1


async def test_refresh_needs_a_valid_bearer_token(
    client: httpx.AsyncClient, settings: Settings, actors: dict[str, Actor]
) -> None:
    assert is_problem(await client.post("/api/auth/refresh"), 401)
    assert is_problem(await refresh(client, "not-a-token"), 401, "invalid_token")
    expired = forge(
        settings,
        sub=str(actors["staff"].id),
        iat=datetime.now(UTC) - timedelta(hours=9),
        exp=datetime.now(UTC) - timedelta(seconds=1),
    )
    assert is_problem(await refresh(client, expired), 401, "invalid_token")


async def test_refresh_of_a_sign_in_older_than_the_maximum_is_session_expired(
    client: httpx.AsyncClient, settings: Settings, actors: dict[str, Actor]
) -> None:
    signed_in = datetime.now(UTC) - timedelta(seconds=settings.session_max_seconds + 1)
    token = forge(settings, sub=str(actors["staff"].id), role="staff", auth_time=int(signed_in.timestamp()))
    assert is_problem(await refresh(client, token), 401, "session_expired")


async def test_a_refreshed_token_never_outlives_the_sign_in(
    client: httpx.AsyncClient, settings: Settings, actors: dict[str, Actor]
) -> None:
    signed_in = datetime.now(UTC) - timedelta(seconds=settings.session_max_seconds - 600)
    token = forge(settings, sub=str(actors["staff"].id), role="staff", auth_time=int(signed_in.timestamp()))
    response = await refresh(client, token)
    assert response.status_code == 200, response.text
    assert 590 <= response.json()["expires_in"] <= 600
    claims = claims_of(settings, response.json()["access_token"])
    assert claims["exp"] <= int(signed_in.timestamp()) + settings.session_max_seconds


async def test_tokens_from_before_auth_time_count_their_sign_in_from_iat(
    client: httpx.AsyncClient, settings: Settings, actors: dict[str, Actor]
) -> None:
    old = datetime.now(UTC) - timedelta(seconds=settings.session_max_seconds + 60)
    token = forge(settings, sub=str(actors["staff"].id), role="staff", iat=old)
    assert is_problem(await refresh(client, token), 401, "session_expired")
    recent = forge(settings, sub=str(actors["staff"].id), role="staff")
    assert (await refresh(client, recent)).status_code == 200


async def test_signing_out_after_a_refresh_ends_every_token_of_the_sign_in(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    user = await fresh_user(conn)
    first = (await sign_in(client, user.email)).json()["access_token"]
    second = (await refresh(client, first)).json()["access_token"]
    assert (await client.post("/api/auth/logout", headers=bearer(second))).status_code == 204
    for token in (first, second):
        assert is_problem(await client.get("/api/brands", headers=bearer(token)), 401, "invalid_token")
        assert is_problem(await refresh(client, token), 401, "invalid_token")
    claims = claims_of(settings, first)
    kept_until = await conn.fetchval("SELECT expires_at FROM revoked_token WHERE jti = $1", claims["jti"])
    assert kept_until >= datetime.fromtimestamp(claims["auth_time"] + settings.session_max_seconds, UTC)


async def test_signing_out_with_the_first_token_ends_its_refreshed_tokens(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    user = await fresh_user(conn)
    first = (await sign_in(client, user.email)).json()["access_token"]
    second = (await refresh(client, first)).json()["access_token"]
    assert (await client.post("/api/auth/logout", headers=bearer(first))).status_code == 204
    assert is_problem(await client.get("/api/brands", headers=bearer(second)), 401, "invalid_token")


async def test_a_deactivated_user_cannot_refresh(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    user = await fresh_user(conn)
    token = (await sign_in(client, user.email)).json()["access_token"]
    await conn.execute("UPDATE app_user SET active = false WHERE id = $1", user.id)
    assert is_problem(await refresh(client, token), 401, "invalid_token")


async def test_a_refreshed_token_carries_the_users_current_role(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    user = await fresh_user(conn)
    token = (await sign_in(client, user.email)).json()["access_token"]
    await conn.execute("UPDATE app_user SET role = 'manager' WHERE id = $1", user.id)
    refreshed = (await refresh(client, token)).json()["access_token"]
    assert claims_of(settings, refreshed)["role"] == "manager"
