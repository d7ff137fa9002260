"""The clients pages over HTTP: search, registration, a client's page, allergies, courses; every refusal next to
its field, in the page's language, with nothing written."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import asyncpg
import httpx
import pytest

from inventory import clock
from inventory.domain.models import Actor
from inventory.services import clinical, scanning
from inventory.web import i18n
from tests.support import factories as f
from tests.support.clinic import build
from tests.support.pages import Pages, field_error

FR = {"Accept-Language": "fr-FR,fr;q=0.9"}
MARKUP_NAME = '<b>Ana</b> "O\'Neil"'


async def _count(conn: asyncpg.Connection, table: str) -> int:
    value = await conn.fetchval(f"SELECT count(*) FROM {table}")  # table names from this file only
    return int(value)


async def _changes_audited(conn: asyncpg.Connection) -> int:
    """Audit events of changes: a client's page shown again records its history look-up, like every view."""
    value = await conn.fetchval("SELECT count(*) FROM audit_event WHERE action <> 'client.history'")
    return int(value)


def _client_id(response: httpx.Response) -> int:
    found = re.fullmatch(r"/ui/clients/(\d+)", response.headers["location"])
    assert found is not None, response.headers["location"]
    return int(found.group(1))


def _new_client(**values: str) -> dict[str, str]:
    return {
        "full_name": f.unique("Léa Martin"),
        "date_of_birth": "",
        "allergies": "",
        "email": "",
        "phone": "",
    } | values


# ------------------------------------------------------------------ search


async def test_staff_finds_a_client_by_part_of_the_name(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    wanted = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Zoé Quérard"), allergies=["Latex"])
    other = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Paul Durand"))
    page = await pages.sign_in_as(page_cookies["staff"]).get("/ui/clients", params={"q": "quéra"})
    assert page.status_code == 200
    assert f'href="/ui/clients/{wanted["id"]}"' in page.text
    assert f'href="/ui/clients/{other["id"]}"' not in page.text
    assert "Latex" in page.text
    # % and _ are letters here, not wildcards.
    none = await pages.get("/ui/clients", params={"q": "%_%"})
    assert none.status_code == 200
    assert 'id="no-clients"' in none.text


@pytest.mark.parametrize(
    ("query", "english", "french"),
    [
        ("x" * 101, "At most 100 characters.", "100 caractères au plus."),
        ("Ana\x01", "Remove the control characters.", "Retirez les caractères de contrôle."),
    ],
)
async def test_a_bad_search_is_refused_next_to_the_field_in_both_languages(
    pages: Pages, page_cookies: dict[str, str], query: str, english: str, french: str
) -> None:
    pages.sign_in_as(page_cookies["staff"])
    page = await pages.get("/ui/clients", params={"q": query})
    assert page.status_code == 422
    assert field_error(page.text, "q") == english
    assert 'aria-invalid="true"' in page.text
    page = await pages.get("/ui/clients", params={"q": query}, headers=FR)
    assert page.status_code == 422
    assert '<html lang="fr">' in page.text
    assert unescape(field_error(page.text, "q") or "") == french


# ------------------------------------------------------------------ registering a client


async def test_a_client_is_registered_with_allergies_split_on_commas_and_lines(
    pages: Pages, page_cookies: dict[str, str], conn: asyncpg.Connection
) -> None:
    name = f.unique("Léa Dupont")
    sent = await pages.sign_in_as(page_cookies["staff"]).post(
        "/ui/clients",
        _new_client(
            full_name=f"  {name}  ",
            date_of_birth="1990-03-01",
            allergies="Latex, lidocaïne\nHyaluronidase;  latex ",
            email="lea@example.com",
            phone="+33 6 11 22 33 44",
        ),
    )
    assert sent.status_code == 303
    client_id = _client_id(sent)
    row = await conn.fetchrow("SELECT * FROM client WHERE id = $1", client_id)
    assert row is not None
    assert row["full_name"] == name
    assert row["date_of_birth"] == date(1990, 3, 1)
    assert list(row["allergies"]) == ["Latex", "lidocaïne", "Hyaluronidase"]
    assert (row["email"], row["phone"]) == ("lea@example.com", "+33 6 11 22 33 44")
    audited = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'client.create' AND entity_id = $1", client_id
    )
    assert audited == 1
    page = await pages.get(sent.headers["location"])
    assert page.status_code == 200
    assert f"Client registered: {name}." in page.text


TOO_LONG_ALLERGY = "a" * 121


def _future_birth() -> str:
    return (clock.today() + timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("values", "field", "english", "french"),
    [
        ({"full_name": "   "}, "full_name", "This field is required.", "Ce champ est obligatoire."),
        ({"full_name": "L" * 201}, "full_name", "At most 200 characters.", "200 caractères au plus."),
        (
            {"full_name": "Léa\x00"},
            "full_name",
            "Remove the control characters.",
            "Retirez les caractères de contrôle.",
        ),
        ({"date_of_birth": "1990-02-30"}, "date_of_birth", "Enter a date.", "Saisissez une date."),
        ({"date_of_birth": "yesterday"}, "date_of_birth", "Enter a date.", "Saisissez une date."),
        (
            {"date_of_birth": "future"},
            "date_of_birth",
            "Enter a date of birth between 1 January 1900 and today.",
            "Saisissez une date de naissance entre le 1er janvier 1900 et aujourd’hui.",
        ),
        (
            {"allergies": f"Latex, {TOO_LONG_ALLERGY}"},
            "allergies",
            "Each allergy has at most 120 characters.",
            "Chaque allergie compte 120 caractères au plus.",
        ),
        (
            {"allergies": ",".join(f"A{n}" for n in range(51))},
            "allergies",
            "At most 50 allergies.",
            "50 allergies au plus.",
        ),
        (
            {"email": "not an address"},
            "email",
            "Enter an e-mail address such as name@example.com.",
            "Saisissez une adresse e-mail comme nom@exemple.fr.",
        ),
        ({"email": "a@b.c" + "x" * 250}, "email", "At most 254 characters.", "254 caractères au plus."),
        (
            {"phone": "call me"},
            "phone",
            "Enter a phone number: digits, spaces and + ( ) . - / only.",
            "Saisissez un numéro de téléphone : chiffres, espaces et + ( ) . - / uniquement.",
        ),
        ({"phone": "0" * 41}, "phone", "At most 40 characters.", "40 caractères au plus."),
    ],
)
async def test_a_bad_new_client_is_refused_next_to_the_field_and_nothing_is_written(
    pages: Pages,
    page_cookies: dict[str, str],
    conn: asyncpg.Connection,
    values: dict[str, str],
    field: str,
    english: str,
    french: str,
) -> None:
    if values.get("date_of_birth") == "future":
        values = {"date_of_birth": _future_birth()}
    before = (await _count(conn, "client"), await _count(conn, "audit_event"))
    pages.sign_in_as(page_cookies["staff"])
    form = _new_client(**values)
    page = await pages.post("/ui/clients", form)
    assert page.status_code == 422
    assert field_error(page.text, field) == english
    assert f'aria-describedby="{field}-error"' in page.text or f'{field}-error"' in page.text
    # What was typed is kept, so the fix is one field.
    if field != "full_name":
        assert f'value="{form["full_name"]}"' in page.text
    page = await pages.post("/ui/clients", form, headers=FR)
    assert page.status_code == 422
    assert '<html lang="fr">' in page.text
    assert unescape(field_error(page.text, field) or "") == french
    assert (await _count(conn, "client"), await _count(conn, "audit_event")) == before


async def test_a_name_with_markup_is_shown_as_text(pages: Pages, page_cookies: dict[str, str]) -> None:
    sent = await pages.sign_in_as(page_cookies["staff"]).post("/ui/clients", _new_client(full_name=MARKUP_NAME))
    assert sent.status_code == 303
    page = await pages.get(sent.headers["location"])
    assert "<b>Ana</b>" not in page.text
    assert "&lt;b&gt;Ana&lt;/b&gt; &#34;O&#39;Neil&#34;" in page.text
    listed = await pages.get("/ui/clients", params={"q": "Ana"})
    assert "<b>Ana</b>" not in listed.text
    assert "&lt;b&gt;Ana&lt;/b&gt;" in listed.text


# ------------------------------------------------------------------ a client's page


async def test_staff_never_sees_a_clients_contacts_and_a_manager_does(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)  # the client has c@example.com and +33 6 12 34 56 78
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    path = f"/ui/clients/{clinic.client['id']}"
    staff = await pages.sign_in_as(page_cookies["staff"]).get(path)
    assert staff.status_code == 200
    assert clinic.lot["lot_number"] in staff.text  # the history is there…
    text = re.sub(r"\s+", "", staff.text)
    for secret in ("c@example.com", "c&#64;example.com", "+33612345678", "612345678"):
        assert secret not in text  # …the contacts are not, in any spelling
    assert "Contact details are shown to managers only." in staff.text
    search = await pages.get("/ui/clients", params={"q": clinic.client["full_name"]})
    assert "c@example.com" not in search.text and "12 34 56 78" not in search.text

    manager = await pages.sign_in_as(page_cookies["manager"]).get(path)
    assert manager.status_code == 200
    assert 'href="mailto:c@example.com"' in manager.text
    assert "+33 6 12 34 56 78" in manager.text
    assert 'href="tel:+33612345678"' in manager.text


async def test_the_page_shows_allergies_and_each_lot_used_in_the_locations_time(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    # 20:00 UTC on 1 March is 09:00 on 2 March in Auckland: the date of use is the location's.
    clock.set(datetime(2027, 3, 1, 20, 0, tzinfo=UTC))
    clinic = await build(actors, timezone="Pacific/Auckland", allergies=["Latex", "Lidocaine"])
    used = await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    page = await pages.sign_in_as(page_cookies["staff"]).get(f"/ui/clients/{clinic.client['id']}")
    assert page.status_code == 200
    allergies = page.text.split('id="allergy-card"')[1].split("</section>")[0]
    assert "has-allergies" in page.text
    assert '<span class="allergy">Latex</span>' in allergies
    assert '<span class="allergy">Lidocaine</span>' in allergies
    history = page.text.split('id="history-card"')[1]
    assert clinic.product["name"] in history
    assert clinic.lot["lot_number"] in history
    assert "2 Mar 2027, 09:00" in history
    assert f">{used['session_id']}<" in history
    french = await pages.get(f"/ui/clients/{clinic.client['id']}", headers=FR)
    assert "2 mars 2027, 09:00" in french.text
    assert "Lots reçus" in french.text


async def test_a_voided_use_stays_in_the_history_marked_with_its_reason(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    used = await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    await scanning.void_usage(actor=actors["staff"], usage_id=used["usage_id"], reason="Scanned on the wrong client")
    page = await pages.sign_in_as(page_cookies["staff"]).get(f"/ui/clients/{clinic.client['id']}")
    history = page.text.split('id="history-card"')[1]
    row = history.split('<tr class="voided">')[1].split("</tr>")[0]
    assert clinic.lot["lot_number"] in row
    assert "Voided" in row and "Scanned on the wrong client" in row


async def test_an_unknown_client_is_the_not_found_page(pages: Pages, page_cookies: dict[str, str]) -> None:
    page = await pages.sign_in_as(page_cookies["staff"]).get("/ui/clients/999999", headers=FR)
    assert page.status_code == 404
    assert '<html lang="fr">' in page.text


# ------------------------------------------------------------------ allergies


async def test_allergies_are_added_and_removed_and_each_change_is_audited(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    client = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Ana"), allergies=["Latex"])
    path = f"/ui/clients/{client['id']}"
    pages.sign_in_as(page_cookies["staff"])
    added = await pages.post(f"{path}/allergies", {"allergies": "lidocaine, LATEX"})
    assert added.status_code == 303
    assert await conn.fetchval("SELECT allergies FROM client WHERE id = $1", client["id"]) == ["Latex", "lidocaine"]
    removed = await pages.post(f"{path}/allergies/remove", {"allergy": "latex"}, headers=FR)
    assert removed.status_code == 303
    assert await conn.fetchval("SELECT allergies FROM client WHERE id = $1", client["id"]) == ["lidocaine"]
    events = await conn.fetch(
        "SELECT actor, details FROM audit_event WHERE action = 'client.allergies' AND entity_id = $1 ORDER BY id",
        client["id"],
    )
    assert [(e["details"]["before"], e["details"]["after"]) for e in events] == [
        (["Latex"], ["Latex", "lidocaine"]),
        (["Latex", "lidocaine"], ["lidocaine"]),
    ]
    assert {e["actor"] for e in events} == {actors["staff"].id}
    page = await pages.get(path, headers=FR)
    assert "Allergie retirée : latex." in unescape(page.text)  # the message of the page that sent the form


@pytest.mark.parametrize(
    ("typed", "english", "french"),
    [
        ("  , ", "Type the allergy to add.", "Saisissez l’allergie à ajouter."),
        (
            TOO_LONG_ALLERGY,
            "Each allergy has at most 120 characters.",
            "Chaque allergie compte 120 caractères au plus.",
        ),
    ],
)
async def test_a_bad_allergy_is_refused_next_to_the_field_and_nothing_is_written(
    pages: Pages,
    page_cookies: dict[str, str],
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    typed: str,
    english: str,
    french: str,
) -> None:
    client = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Ana"), allergies=["Latex"])
    before = await _changes_audited(conn)
    pages.sign_in_as(page_cookies["staff"])
    page = await pages.post(f"/ui/clients/{client['id']}/allergies", {"allergies": typed})
    assert page.status_code == 422
    assert field_error(page.text, "allergies") == english
    page = await pages.post(f"/ui/clients/{client['id']}/allergies", {"allergies": typed}, headers=FR)
    assert unescape(field_error(page.text, "allergies") or "") == french
    assert await conn.fetchval("SELECT allergies FROM client WHERE id = $1", client["id"]) == ["Latex"]
    assert await _changes_audited(conn) == before


async def test_a_client_may_have_at_most_fifty_allergies(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    many = [f"A{n}" for n in range(50)]
    client = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Ana"), allergies=many)
    page = await pages.sign_in_as(page_cookies["staff"]).post(
        f"/ui/clients/{client['id']}/allergies", {"allergies": "One more"}
    )
    assert page.status_code == 422
    assert field_error(page.text, "allergies") == "Each allergy has at most 120 characters, and a client at most 50."
    assert await conn.fetchval("SELECT allergies FROM client WHERE id = $1", client["id"]) == many


# ------------------------------------------------------------------ courses and sessions


def _course(location_id: int, **values: str) -> dict[str, str]:
    return {
        "treatment": "Mesotherapy, face",
        "location_id": str(location_id),
        "start_date": f.in_days(7).isoformat(),
        "sessions": "4",
        "interval_days": "21",
        "product_1": "",
        "quantity_1": "",
        "product_2": "",
        "quantity_2": "",
        "product_3": "",
        "quantity_3": "",
    } | values


async def test_a_course_is_booked_from_the_clients_page_with_its_planned_sessions(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    path = f"/ui/clients/{clinic.client['id']}"
    pages.sign_in_as(page_cookies["staff"])
    form = _course(clinic.location_id, product_1=str(clinic.product["id"]), quantity_1="2")
    sent = await pages.post(f"{path}/courses", form)
    assert sent.status_code == 303, field_error(sent.text, "course")
    course_id = int(sent.headers["location"].rpartition("#course-")[2])
    sessions = await conn.fetch(
        "SELECT id, sequence, status FROM treatment_session WHERE course = $1 ORDER BY sequence", course_id
    )
    assert [(s["sequence"], s["status"]) for s in sessions] == [(n, "planned") for n in (1, 2, 3, 4)]
    products = await conn.fetch("SELECT product, quantity FROM course_product WHERE course = $1", course_id)
    assert [(p["product"], p["quantity"]) for p in products] == [(clinic.product["id"], 2)]

    page = await pages.get(path)
    assert "Course booked: 4 sessions." in page.text
    course = page.text.split(f'id="course-{course_id}"')[1].split("</article>")[0]
    assert "Mesotherapy, face" in course
    for session in sessions:
        assert f'href="/ui/scan?session={session["id"]}"' in course
    i18n.use("en")
    assert f"{i18n.format_date(f.in_days(7))}, 09:00" in course  # 09:00 at the location


@pytest.mark.parametrize(
    ("values", "field", "english", "french"),
    [
        ({"treatment": ""}, "treatment", "This field is required.", "Ce champ est obligatoire."),
        ({"location_id": ""}, "location_id", "This field is required.", "Ce champ est obligatoire."),
        ({"location_id": "999999"}, "location_id", "Choose one of the options.", "Choisissez l’une des options."),
        ({"sessions": "0"}, "sessions", "Enter a number of at least 1.", "Saisissez un nombre d’au moins 1."),
        ({"sessions": "53"}, "sessions", "Enter a number of at most 52.", "Saisissez un nombre d’au plus 52."),
        ({"sessions": "four"}, "sessions", "Enter a whole number.", "Saisissez un nombre entier."),
        ({"interval_days": "0"}, "interval_days", "Enter a number of at least 1.", "Saisissez un nombre d’au moins 1."),
        ({"start_date": "2027-02-30"}, "start_date", "Enter a date.", "Saisissez une date."),
        ({"start_date": "far-past"}, "start_date", "Choose a first date between", "Choisissez une première date entre"),
        ({"quantity_1": "0"}, "quantity_1", "Enter a number of at least 1.", "Saisissez un nombre d’au moins 1."),
        (
            {"product_2": "same"},
            "product_2",
            "This product is already listed above.",
            "Ce produit figure déjà plus haut.",
        ),
    ],
)
async def test_a_bad_course_is_refused_next_to_the_field_and_nothing_is_written(
    pages: Pages,
    page_cookies: dict[str, str],
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    values: dict[str, str],
    field: str,
    english: str,
    french: str,
) -> None:
    clinic = await build(actors)
    product = str(clinic.product["id"])
    form = _course(clinic.location_id, product_1=product)
    if values.get("start_date") == "far-past":
        values = {"start_date": f.in_days(-400).isoformat()}
    if values.get("product_2") == "same":
        values = {"product_2": product}
    form |= values
    before = (await _count(conn, "course"), await _count(conn, "treatment_session"), await _changes_audited(conn))
    pages.sign_in_as(page_cookies["staff"])
    path = f"/ui/clients/{clinic.client['id']}/courses"
    page = await pages.post(path, form)
    assert page.status_code == 422
    assert (field_error(page.text, field) or "").startswith(english), page.text
    page = await pages.post(path, form, headers=FR)
    assert page.status_code == 422
    assert unescape(field_error(page.text, field) or "").startswith(french)
    after = (await _count(conn, "course"), await _count(conn, "treatment_session"), await _changes_audited(conn))
    assert after == before


async def test_a_session_started_from_the_clients_page_opens_at_the_chair(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    pages.sign_in_as(page_cookies["staff"])
    sent = await pages.post(
        f"/ui/clients/{clinic.client['id']}/sessions", {"session_location_id": str(clinic.location_id)}
    )
    assert sent.status_code == 303
    session_id = int(sent.headers["location"].rpartition("=")[2])
    assert sent.headers["location"] == f"/ui/scan?session={session_id}"
    row = await conn.fetchrow("SELECT client, location, status FROM treatment_session WHERE id = $1", session_id)
    assert row is not None
    assert (row["client"], row["location"], row["status"]) == (clinic.client["id"], clinic.location_id, "open")
    page = await pages.get(f"/ui/clients/{clinic.client['id']}")
    assert f'href="/ui/scan?session={session_id}"' in page.text

    before = await _count(conn, "treatment_session")
    refused = await pages.post(f"/ui/clients/{clinic.client['id']}/sessions", {"session_location_id": ""})
    assert refused.status_code == 422
    assert field_error(refused.text, "session_location_id") == "This field is required."
    assert await _count(conn, "treatment_session") == before


async def test_a_form_without_its_token_writes_nothing(
    pages: Pages, page_cookies: dict[str, str], conn: asyncpg.Connection
) -> None:
    pages.sign_in_as(page_cookies["staff"])
    before = await _count(conn, "client")
    page = await pages.http.post("/ui/clients", data=_new_client())
    assert page.status_code == 403
    assert await _count(conn, "client") == before
