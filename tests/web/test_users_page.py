"""/ui/users over HTTP: admins only; every refusal next to its control, in French, with nothing written."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from inventory.domain.models import Actor
from inventory.services import auth
from tests.conftest import PASSWORD
from tests.support.pages import Pages, field_error

FR = {"Accept-Language": "fr-FR,fr;q=0.9"}
GOOD_PASSWORD = "quatre chevaux au galop"


async def _user_count(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM app_user"))


async def _user_row(conn: asyncpg.Connection, user_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT role, active, password_hash, tokens_valid_after FROM app_user WHERE id = $1", user_id
    )
    assert row is not None
    return row


async def _audit_count(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM audit_event WHERE action LIKE 'user.%'"))


@pytest.mark.parametrize("role", ["staff", "manager"])
async def test_only_admins_open_the_users_page_or_post_to_it(
    pages: Pages, page_cookies: dict[str, str], conn: asyncpg.Connection, actors: dict[str, Actor], role: str
) -> None:
    pages.sign_in_as(page_cookies[role])
    page = await pages.get("/ui/users", headers=FR)
    assert page.status_code == 403
    assert "Vous ne pouvez pas ouvrir cette page." in page.text
    before = await _user_count(conn)
    created = await pages.post(
        "/ui/users", {"email": "x@clinic.test", "role": "admin", "password": GOOD_PASSWORD}, headers=FR
    )
    assert created.status_code == 403
    promoted = await pages.post(f"/ui/users/{actors[role].id}/role", {"role": "admin"})
    assert promoted.status_code == 403
    assert await _user_count(conn) == before
    assert (await _user_row(conn, actors[role].id))["role"] == role


async def test_signed_out_the_users_page_goes_to_sign_in(client: httpx.AsyncClient) -> None:
    page = await client.get("/ui/users")
    assert page.status_code == 303
    assert page.headers["location"] == "/ui/?next=%2Fui%2Fusers"


async def test_the_admin_sees_every_user_with_role_status_and_creation(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    await auth.create_user(
        actor=actors["admin"], email="lea@clinic.test", role="manager", password=GOOD_PASSWORD, full_name="Léa Dupré"
    )
    await auth.update_user(actor=actors["admin"], user_id=actors["staff2"].id, role=None, active=False)
    page = await pages.sign_in_as(page_cookies["admin"]).get("/ui/users", headers=FR)
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    for email in ("staff@clinic.test", "manager@clinic.test", "admin@clinic.test", "lea@clinic.test"):
        assert f'data-email="{email}"' in page.text
    assert "Léa Dupré" in page.text
    row = page.text.split('data-email="staff2@clinic.test"')[1].split("</tr>")[0]
    assert "Désactivé" in row
    assert f'action="/ui/users/{actors["staff2"].id}/reactivate"' in row
    # Their own row offers no role change or deactivation: another admin must do that.
    own = page.text.split('data-email="admin@clinic.test"')[1].split("</tr>")[0]
    assert "/role" not in own
    assert "/deactivate" not in own
    assert "Un autre administrateur peut changer votre rôle" in own


async def test_an_admin_creates_a_user_who_can_sign_in(
    pages: Pages, page_cookies: dict[str, str], conn: asyncpg.Connection
) -> None:
    pages.sign_in_as(page_cookies["admin"])
    created = await pages.post(
        "/ui/users",
        # Spaces around a password are part of it: the user types them at sign-in too.
        {"email": "Nora@Clinic.test", "full_name": "Nora Ben Ali", "role": "manager", "password": " " + GOOD_PASSWORD},
        headers=FR,
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/ui/users"
    row = await conn.fetchrow("SELECT full_name, role, active FROM app_user WHERE email = 'nora@clinic.test'")
    assert row is not None
    assert dict(row) == {"full_name": "Nora Ben Ali", "role": "manager", "active": True}
    listed = await pages.get("/ui/users", headers=FR)
    assert "nora@clinic.test peut maintenant se connecter avec le mot de passe initial." in listed.text
    await auth.check_password(
        settings=pages.settings, email="nora@clinic.test", password=" " + GOOD_PASSWORD, client=None, action="auth.page"
    )


@pytest.mark.parametrize(
    ("form", "field", "status", "message"),
    [
        (
            {"email": "new@clinic.test", "password": "court1"},
            "password",
            422,
            "Le mot de passe est trop court (au moins 10 caractères).",
        ),
        (
            {"email": "new@clinic.test", "password": "password123"},
            "password",
            422,
            "Ce mot de passe fait partie des plus courants ; choisissez-en un autre.",
        ),
        (
            {"email": "new@clinic.test", "password": "abcabcabcabc"},
            "password",
            422,
            "Le mot de passe est une répétition ou une suite ; choisissez une phrase plus longue.",
        ),
        (
            {"email": "newcomer@clinic.test", "password": "newcomer is here 2027"},
            "password",
            422,
            "Le mot de passe ne doit contenir ni l’adresse e-mail ni le nom du produit.",
        ),
        (
            {"email": "new@clinic.test", "password": ""},
            "password",
            422,
            "Ce champ est obligatoire.",
        ),
        (
            {"email": "not-an-address", "password": GOOD_PASSWORD},
            "email",
            422,
            "Saisissez une adresse e-mail valide (par exemple nom@clinique.fr), sans espaces.",
        ),
        (
            {"email": "new@clinic", "password": GOOD_PASSWORD},
            "email",
            422,
            "Saisissez une adresse e-mail valide (par exemple nom@clinique.fr), sans espaces.",
        ),
        (
            {"email": "STAFF@clinic.test", "password": GOOD_PASSWORD},
            "email",
            409,
            "Un utilisateur a déjà cette adresse e-mail.",
        ),
        (
            {"email": "new@clinic.test", "password": GOOD_PASSWORD, "role": "owner"},
            "role",
            422,
            "Choisissez l’une des options.",
        ),
        ({"email": "", "password": GOOD_PASSWORD}, "email", 422, "Ce champ est obligatoire."),
    ],
)
async def test_a_new_user_refused_is_told_why_next_to_the_field_in_french_and_nothing_is_written(
    pages: Pages,
    page_cookies: dict[str, str],
    conn: asyncpg.Connection,
    form: dict[str, str],
    field: str,
    status: int,
    message: str,
) -> None:
    pages.sign_in_as(page_cookies["admin"])
    before, audited = await _user_count(conn), await _audit_count(conn)
    page = await pages.post("/ui/users", {"full_name": "Léa", "role": "staff", **form}, headers=FR)
    assert page.status_code == status
    assert '<html lang="fr">' in page.text
    assert field_error(page.text, field) == message
    assert f'aria-describedby="{"password-hint " if field == "password" else ""}{field}-error"' in page.text
    # What was typed is kept, except the password.
    assert 'value="Léa"' in page.text
    assert GOOD_PASSWORD not in page.text
    assert await _user_count(conn) == before
    assert await _audit_count(conn) == audited


async def test_an_admin_changes_a_role(
    pages: Pages, page_cookies: dict[str, str], conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    pages.sign_in_as(page_cookies["admin"])
    changed = await pages.post(f"/ui/users/{actors['staff'].id}/role", {"role": "manager"}, headers=FR)
    assert changed.status_code == 303
    assert (await _user_row(conn, actors["staff"].id))["role"] == "manager"
    listed = await pages.get("/ui/users", headers=FR)
    assert "staff@clinic.test a maintenant le rôle Responsable." in listed.text


async def test_the_only_admin_cannot_demote_or_deactivate_themselves_and_nothing_is_written(
    pages: Pages, page_cookies: dict[str, str], conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    admin_id = actors["admin"].id
    assert await conn.fetchval("SELECT count(*) FROM app_user WHERE role = 'admin' AND active") == 1
    pages.sign_in_as(page_cookies["admin"])
    audited = await _audit_count(conn)
    demoted = await pages.post(f"/ui/users/{admin_id}/role", {"role": "staff"}, headers=FR)
    assert demoted.status_code == 409
    assert field_error(demoted.text, f"role-{admin_id}") == "Vous ne pouvez pas modifier votre propre compte ici."
    gone = await pages.post(f"/ui/users/{admin_id}/deactivate", headers=FR)
    assert gone.status_code == 409
    assert field_error(gone.text, f"active-{admin_id}") == "Vous ne pouvez pas modifier votre propre compte ici."
    row = await _user_row(conn, admin_id)
    assert (row["role"], row["active"], row["tokens_valid_after"]) == ("admin", True, None)
    assert await _audit_count(conn) == audited
    # Still signed in: the refusal changed nothing.
    assert (await pages.get("/ui/users")).status_code == 200


async def test_with_a_second_admin_one_admin_demotes_the_other(
    pages: Pages, page_cookies: dict[str, str], conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    other = await auth.create_user(
        actor=actors["admin"], email="second@clinic.test", role="admin", password=GOOD_PASSWORD
    )
    pages.sign_in_as(page_cookies["admin"])
    demoted = await pages.post(f"/ui/users/{other.id}/role", {"role": "manager"})
    assert demoted.status_code == 303
    assert (await _user_row(conn, other.id))["role"] == "manager"


async def test_a_role_that_does_not_exist_is_refused_next_to_the_row(
    pages: Pages, page_cookies: dict[str, str], conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    pages.sign_in_as(page_cookies["admin"])
    page = await pages.post(f"/ui/users/{actors['staff'].id}/role", {"role": "owner"}, headers=FR)
    assert page.status_code == 422
    assert field_error(page.text, f"role-{actors['staff'].id}") == "Choisissez l’une des options."
    assert (await _user_row(conn, actors["staff"].id))["role"] == "staff"


async def test_a_deactivated_users_page_cookie_and_bearer_token_stop_at_once_and_reactivation_does_not_revive_them(
    pages: Pages,
    page_cookies: dict[str, str],
    auth_headers: dict[str, dict[str, str]],
    conn: asyncpg.Connection,
    actors: dict[str, Actor],
) -> None:
    staff_id = actors["staff"].id
    assert (await pages.sign_in_as(page_cookies["staff"]).get("/ui/scan")).status_code == 200
    assert (await pages.http.get("/api/stock", headers=auth_headers["staff"])).status_code == 200

    pages.sign_in_as(page_cookies["admin"])
    gone = await pages.post(f"/ui/users/{staff_id}/deactivate", headers=FR)
    assert gone.status_code == 303
    listed = await pages.get("/ui/users", headers=FR)
    assert "staff@clinic.test est désactivé : ses connexions ont pris fin immédiatement." in listed.text
    assert (await _user_row(conn, staff_id))["active"] is False

    page = await pages.sign_in_as(page_cookies["staff"]).get("/ui/scan")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/ui/?next=")
    assert (await pages.http.get("/api/stock", headers=auth_headers["staff"])).status_code == 401

    back = await pages.sign_in_as(page_cookies["admin"]).post(f"/ui/users/{staff_id}/reactivate")
    assert back.status_code == 303
    assert (await _user_row(conn, staff_id))["active"] is True
    assert (await pages.sign_in_as(page_cookies["staff"]).get("/ui/scan")).status_code == 303
    assert (await pages.http.get("/api/stock", headers=auth_headers["staff"])).status_code == 401
    await auth.check_password(
        settings=pages.settings, email="staff@clinic.test", password=PASSWORD, client=None, action="auth.page"
    )


async def test_an_admin_resets_a_password_and_the_users_sign_ins_end(
    pages: Pages, page_cookies: dict[str, str], conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    staff_id = actors["staff2"].id
    pages.sign_in_as(page_cookies["admin"])
    reset = await pages.post(f"/ui/users/{staff_id}/password", {"password": GOOD_PASSWORD}, headers=FR)
    assert reset.status_code == 303
    assert (await _user_row(conn, staff_id))["tokens_valid_after"] is not None
    assert (await pages.sign_in_as(page_cookies["staff2"]).get("/ui/scan")).status_code == 303
    await auth.check_password(
        settings=pages.settings, email="staff2@clinic.test", password=GOOD_PASSWORD, client=None, action="auth.page"
    )


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("si court", "Le mot de passe est trop court (au moins 10 caractères)."),
        ("iloveyou123", "Ce mot de passe fait partie des plus courants ; choisissez-en un autre."),
        ("staff2 at the clinic", "Le mot de passe ne doit contenir ni l’adresse e-mail ni le nom du produit."),
        ("", "Ce champ est obligatoire."),
    ],
)
async def test_a_weak_new_password_is_refused_next_to_the_field_in_french_and_nothing_is_written(
    pages: Pages,
    page_cookies: dict[str, str],
    conn: asyncpg.Connection,
    actors: dict[str, Actor],
    password: str,
    message: str,
) -> None:
    staff_id = actors["staff2"].id
    before = await _user_row(conn, staff_id)
    pages.sign_in_as(page_cookies["admin"])
    page = await pages.post(f"/ui/users/{staff_id}/password", {"password": password}, headers=FR)
    assert page.status_code == 422
    assert field_error(page.text, f"password-{staff_id}") == message
    # The row's reset form is open again, its field marked and focused.
    row = page.text.split('data-email="staff2@clinic.test"')[1].split("</tr>")[0]
    assert '<details class="reset" open>' in row
    assert 'aria-invalid="true"' in row
    assert "autofocus" in row
    assert await _user_row(conn, staff_id) == before
    assert (await pages.sign_in_as(page_cookies["staff2"]).get("/ui/scan")).status_code == 200


async def test_forms_without_the_csrf_token_are_refused(
    pages: Pages, page_cookies: dict[str, str], conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    pages.sign_in_as(page_cookies["admin"])
    refused = await pages.http.post(f"/ui/users/{actors['staff'].id}/deactivate", data={})
    assert refused.status_code == 403
    assert "csrf_failed" in refused.text
    assert (await _user_row(conn, actors["staff"].id))["active"] is True


async def test_an_unknown_user_is_the_not_found_page(pages: Pages, page_cookies: dict[str, str]) -> None:
    pages.sign_in_as(page_cookies["admin"])
    page = await pages.post("/ui/users/999999/deactivate", headers=FR)
    assert page.status_code == 404
    assert '<html lang="fr">' in page.text
    assert (await pages.post("/ui/users/999999/password", {"password": GOOD_PASSWORD})).status_code == 404
