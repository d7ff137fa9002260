"""Signing in to the pages by cookie: CSRF on every form, revocation in PostgreSQL, the language of each page."""

from __future__ import annotations

import re

import asyncpg
import httpx

from inventory.services import auth
from inventory.web.pages import SESSION_COOKIE, SIGN_IN_COOKIE
from tests.conftest import PASSWORD
from tests.support.pages import Pages


async def _sign_in_form(http: httpx.AsyncClient, **headers: str) -> str:
    page = await http.get("/ui/?next=/ui/scan", headers=headers)
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


async def test_a_page_signed_out_goes_to_sign_in_and_back(client: httpx.AsyncClient) -> None:
    page = await client.get("/ui/scan?session=4")
    assert page.status_code == 303
    assert page.headers["location"] == "/ui/?next=%2Fui%2Fscan%3Fsession%3D4"

    token = await _sign_in_form(client)
    signed = await client.post(
        "/ui/sign-in",
        data={"csrf_token": token, "email": "staff@clinic.test", "password": PASSWORD, "next": "/ui/scan?session=4"},
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/ui/scan?session=4"
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert (await client.get("/ui/scan")).status_code == 200


async def test_sign_in_refuses_a_wrong_password_next_to_the_field_in_the_pages_language(
    client: httpx.AsyncClient,
) -> None:
    token = await _sign_in_form(client, **{"Accept-Language": "fr-FR,fr;q=0.9"})
    page = await client.post(
        "/ui/sign-in",
        data={"csrf_token": token, "email": "staff@clinic.test", "password": "not the password"},
        headers={"Accept-Language": "fr-FR,fr;q=0.9"},
    )
    assert page.status_code == 401
    assert '<html lang="fr">' in page.text
    assert "E-mail ou mot de passe incorrect." in page.text
    assert 'id="signin-error"' in page.text
    assert SESSION_COOKIE not in client.cookies


async def test_sign_in_without_the_forms_token_is_refused(client: httpx.AsyncClient) -> None:
    page = await client.post("/ui/sign-in", data={"email": "staff@clinic.test", "password": PASSWORD})
    assert page.status_code == 403
    assert "csrf_failed" in page.text
    assert SESSION_COOKIE not in client.cookies


async def test_next_never_leaves_the_site(client: httpx.AsyncClient) -> None:
    for target in ("//evil.example/ui", "https://evil.example/ui/scan", "/api/users"):
        client.cookies.clear()
        token = await _sign_in_form(client)
        signed = await client.post(
            "/ui/sign-in",
            data={"csrf_token": token, "email": "staff@clinic.test", "password": PASSWORD, "next": target},
        )
        assert signed.headers["location"] == "/ui/", target


async def test_the_menu_shows_what_the_role_may_do(pages: Pages, page_cookies: dict[str, str]) -> None:
    staff = await pages.sign_in_as(page_cookies["staff"]).get("/ui/")
    assert 'href="/ui/scan"' in staff.text
    assert 'href="/ui/users"' not in staff.text
    admin = await pages.sign_in_as(page_cookies["admin"]).get("/ui/")
    assert 'href="/ui/users"' in admin.text
    assert admin.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in admin.headers["content-security-policy"]


async def test_a_form_without_its_token_changes_nothing(
    pages: Pages, page_cookies: dict[str, str], conn: asyncpg.Connection
) -> None:
    pages.sign_in_as(page_cookies["staff"])
    refused = await pages.http.post("/ui/language", data={"locale": "fr", "csrf_token": "forged"})
    assert refused.status_code == 403
    assert await conn.fetchval("SELECT locale FROM app_user WHERE email = 'staff@clinic.test'") is None


async def test_the_language_chosen_is_the_users_from_then_on(
    pages: Pages, page_cookies: dict[str, str], conn: asyncpg.Connection
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    english = await pages.get("/ui/", headers={"Accept-Language": "en-GB"})
    assert '<html lang="en">' in english.text
    chosen = await pages.post("/ui/language", {"locale": "fr", "next": "/ui/scan"})
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/ui/scan"
    assert await conn.fetchval("SELECT locale FROM app_user WHERE email = 'manager@clinic.test'") == "fr"
    pages.http.cookies.delete("meso_lang")
    french = await pages.get("/ui/", headers={"Accept-Language": "en-GB"})
    assert '<html lang="fr">' in french.text
    assert "Se déconnecter" in french.text


async def test_the_chair_gets_a_bearer_token_of_the_page_sign_in(pages: Pages, page_cookies: dict[str, str]) -> None:
    pages.sign_in_as(page_cookies["staff"])
    assert (await pages.http.post("/ui/api-token")).status_code == 403
    issued = await pages.http.post("/ui/api-token", headers={"X-CSRF-Token": pages.csrf})
    assert issued.status_code == 200
    bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    assert (await pages.get("/api/locations", headers=bearer)).status_code == 200
    # The cookie itself is not a bearer token.
    cookie = {"Authorization": f"Bearer {page_cookies['staff']}"}
    assert (await pages.get("/api/locations", headers=cookie)).status_code == 401


async def test_signing_out_ends_the_cookie_and_the_chairs_token(pages: Pages, page_cookies: dict[str, str]) -> None:
    pages.sign_in_as(page_cookies["staff2"])
    issued = await pages.http.post("/ui/api-token", headers={"X-CSRF-Token": pages.csrf})
    bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    out = await pages.post("/ui/sign-out")
    assert out.status_code == 303
    pages.sign_in_as(page_cookies["staff2"])  # the old cookie, replayed
    assert (await pages.get("/ui/scan")).status_code == 303
    assert (await pages.get("/api/locations", headers=bearer)).status_code == 401


async def test_a_deactivated_users_next_page_asks_to_sign_in(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, object]
) -> None:
    pages.sign_in_as(page_cookies["staff2"])
    assert (await pages.get("/ui/scan")).status_code == 200
    await auth.update_user(actor=None, user_id=actors["staff2"].id, role=None, active=False)  # type: ignore[attr-defined]
    assert (await pages.get("/ui/scan")).status_code == 303


async def test_an_unknown_page_is_a_page_in_the_browsers_language(client: httpx.AsyncClient) -> None:
    page = await client.get("/ui/nowhere/at/all", headers={"Accept-Language": "fr"})
    assert page.status_code == 404
    assert '<html lang="fr">' in page.text
    assert "Cette page n’existe pas." in page.text


async def test_the_sign_in_forms_cookie_is_http_only(client: httpx.AsyncClient) -> None:
    page = await client.get("/ui/")
    cookie = next(c for c in page.headers.get_list("set-cookie") if c.startswith(f"{SIGN_IN_COOKIE}="))
    assert "HttpOnly" in cookie
