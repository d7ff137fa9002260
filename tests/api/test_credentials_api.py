"""Password and e-mail rules over HTTP: refusals write nothing; look-alike addresses cannot make a second account."""

from __future__ import annotations

import secrets

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher

from inventory.store import users
from tests.support.http import H, is_problem

PASSWORD = "ampoule fridge seventeen"


def fullwidth(text: str) -> str:
    """The letters of text as their fullwidth forms (U+FF21 for A), which NFKC turns back."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in text)


def address(prefix: str = "cred") -> str:
    """An e-mail address no other user has."""
    return f"{prefix}-{secrets.token_hex(4)}@clinic.test"


async def create(client: httpx.AsyncClient, headers: H, email: str, password: str = PASSWORD) -> httpx.Response:
    """POST /api/users as admin."""
    return await client.post(
        "/api/users", headers=headers["admin"], json={"email": email, "role": "admin", "password": password}
    )


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """POST /api/auth/token."""
    return await client.post("/api/auth/token", json={"email": email, "password": password})


@pytest.mark.parametrize(
    ("password", "code"),
    [
        (" " * 10, "password_too_simple"),
        ("1234567890", "password_too_simple"),
        ("aaaaaaaaaa", "password_too_simple"),
        ("ten chars\x00", "password_invalid"),
        ("password1234", "password_too_common"),
        ("kq3-" * 40, "password_too_long"),
    ],
)
async def test_weak_passwords_are_422_with_their_code_and_create_no_user(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, password: str, code: str
) -> None:
    before = await conn.fetchval("SELECT count(*) FROM app_user")
    assert is_problem(await create(client, auth_headers, address(), password), 422, code)
    assert await conn.fetchval("SELECT count(*) FROM app_user") == before


async def test_password_with_the_email_local_part_is_refused(client: httpx.AsyncClient, auth_headers: H) -> None:
    email = address("dr.lefebvre")
    local = email.split("@")[0]
    response = await create(client, auth_headers, email, f"{local.upper()} at work")
    assert is_problem(response, 422, "password_contains_context")


@pytest.mark.parametrize(
    "disguise",
    ["admin\u200b@clinic.test", "\u200badmin@clinic.test", "adm\u00adin@clinic.test", "admin@clinic.test\u2060"],
)
async def test_an_invisible_character_cannot_make_a_look_alike_admin(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, disguise: str
) -> None:
    before = await conn.fetchval("SELECT count(*) FROM app_user")
    assert is_problem(await create(client, auth_headers, disguise), 422, "validation_error")
    assert await conn.fetchval("SELECT count(*) FROM app_user") == before


@pytest.mark.parametrize("variant", [fullwidth("ADMIN") + "@clinic.test", "Admin@Clinic.Test", "ADMIN@CLINIC.TEST"])
async def test_the_same_address_in_another_form_is_a_duplicate(
    client: httpx.AsyncClient, auth_headers: H, variant: str
) -> None:
    assert is_problem(await create(client, auth_headers, variant), 409, "duplicate")


async def test_a_new_address_is_stored_normalised_and_signs_in_in_any_case(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    email = address("Mixed.Case")
    response = await create(client, auth_headers, email)
    assert response.status_code == 201, response.text
    assert response.json()["email"] == email.lower()
    assert await conn.fetchval("SELECT email FROM app_user WHERE id = $1", response.json()["id"]) == email.lower()
    for typed in (
        email,
        email.upper(),
        email.lower(),
        f" {email.swapcase()} ",
        fullwidth(email),
    ):
        assert (await sign_in(client, typed)).status_code == 200, typed


async def test_passwords_are_normalised_before_hashing_and_verifying(
    client: httpx.AsyncClient, auth_headers: H
) -> None:
    email = address()
    composed, decomposed = "le café du matin", "le cafe\u0301 du matin"
    assert (await create(client, auth_headers, email, decomposed)).status_code == 201
    assert (await sign_in(client, email, composed)).status_code == 200
    assert (await sign_in(client, email, decomposed)).status_code == 200
    assert is_problem(await sign_in(client, email, "le cafe du matin"), 401, "invalid_credentials")


async def test_a_password_hashed_before_normalisation_still_signs_in(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    email, typed = address(), fullwidth("fullwidth") + " passphrase"
    legacy_hash = PasswordHasher().hash(typed)  # as the service hashed it before: not normalised
    await users.create(conn, email=email, full_name="", password_hash=legacy_hash, role="staff")
    assert (await sign_in(client, email, typed)).status_code == 200


async def test_a_nul_or_control_character_at_sign_in_is_a_plain_401(client: httpx.AsyncClient) -> None:
    for password in ("\x00" * 12, "right\x07password"):
        assert is_problem(await sign_in(client, "staff@clinic.test", password), 401, "invalid_credentials")
    assert is_problem(await sign_in(client, "staff\u200b@clinic.test"), 401, "invalid_credentials")
