"""/ui/audit over HTTP: managers and admins; filters narrow the events; newest first, a page at a time; CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import asyncpg
import pytest

from inventory import clock
from inventory.domain.models import Actor
from inventory.services import clinical
from inventory.web.routes.audit import PAGE_SIZE
from tests.support import factories as f
from tests.support.pages import Pages, field_error

FR = {"Accept-Language": "fr-FR,fr;q=0.9"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}


def _events(html: str) -> list[int]:
    """The ids of the events the page lists, in order."""
    return [int(found) for found in re.findall(r'data-event="(\d+)"', html)]


def _actions(html: str) -> set[str]:
    return set(re.findall(r'data-action="([^"]+)"', html))


async def _newest_id(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM audit_event"))


async def test_staff_cannot_open_the_audit_log(pages: Pages, page_cookies: dict[str, str]) -> None:
    page = await pages.sign_in_as(page_cookies["staff"]).get("/ui/audit", headers=FR)
    assert page.status_code == 403
    assert "Vous ne pouvez pas ouvrir cette page." in page.text
    assert (await pages.get("/ui/audit?format=csv")).status_code == 403


@pytest.mark.parametrize("role", ["manager", "admin"])
async def test_managers_and_admins_read_the_log_newest_first_with_readable_actions(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], role: str
) -> None:
    brand = await f.brand(actors["manager"])
    client = await clinical.create_client(actor=actors["staff"], full_name="Léa Martin", allergies=[])
    page = await pages.sign_in_as(page_cookies[role]).get("/ui/audit", headers=FR)
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    ids = _events(page.text)
    assert ids == sorted(ids, reverse=True)
    first = page.text.split(f'data-event="{ids[0]}"')[1].split("</tr>")[0]
    assert "Création d’un client" in first
    assert "staff@clinic.test" in first
    assert f"Client nº {client['id']}" in first
    assert "Création d’une marque" in page.text
    assert f"Marque nº {brand['id']}" in page.text


async def test_when_is_shown_in_the_services_time_zone_and_the_pages_locale(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    # 22:30 UTC on 14 July is 00:30 on 15 July in Paris (the service's default time zone).
    clock.set(datetime(2027, 7, 14, 22, 30, tzinfo=UTC))
    brand = await f.brand(actors["manager"])
    pages.sign_in_as(page_cookies["manager"])
    french = await pages.get(f"/ui/audit?entity=brand&entity_id={brand['id']}", headers=FR)
    assert _events(french.text) and "15 juil. 2027, 00:30" in french.text
    english = await pages.get(f"/ui/audit?entity=brand&entity_id={brand['id']}", headers=EN)
    assert "15 Jul 2027, 00:30" in english.text
    assert "Europe/Paris" in english.text


async def test_each_filter_narrows_the_events(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    start = await _newest_id(conn)
    clock.set(datetime(2027, 3, 1, 10, 0, tzinfo=UTC))
    early = await f.brand(actors["manager"])
    clock.set(datetime(2027, 3, 5, 10, 0, tzinfo=UTC))
    client = await clinical.create_client(actor=actors["staff"], full_name="Nora", allergies=[])
    later = await f.brand(actors["admin"])
    pages.sign_in_as(page_cookies["manager"])

    def newer(html: str) -> set[int]:
        return {i for i in _events(html) if i > start}

    everything = newer((await pages.get("/ui/audit")).text)
    assert len(everything) == 3

    by_actor = await pages.get(f"/ui/audit?actor={actors['staff'].id}")
    assert _actions(by_actor.text) <= {"client.create", "auth.page", "auth.token"}
    assert len(newer(by_actor.text)) == 1
    assert f'<option value="{actors["staff"].id}" selected>staff@clinic.test</option>' in by_actor.text

    by_action = await pages.get("/ui/audit?action=brand.create")
    assert _actions(by_action.text) == {"brand.create"}
    assert len(newer(by_action.text)) == 2

    by_entity = await pages.get(f"/ui/audit?entity=client&entity_id={client['id']}")
    assert _actions(by_entity.text) == {"client.create"}
    assert len(_events(by_entity.text)) == 1

    on_the_first = await pages.get("/ui/audit?from=2027-03-01&to=2027-03-01&action=brand.create")
    assert len(_events(on_the_first.text)) == 1
    assert f"Marque nº {early['id']}" in (await pages.get("/ui/audit?from=2027-03-01&to=2027-03-01", headers=FR)).text
    from_the_fifth = await pages.get("/ui/audit?from=2027-03-05&action=brand.create")
    assert f"no. {later['id']}" in from_the_fifth.text
    assert f"no. {early['id']}" not in from_the_fifth.text

    nothing = await pages.get("/ui/audit?action=brand.create&actor=" + str(actors["staff"].id), headers=FR)
    assert nothing.status_code == 200
    assert "Aucun événement ne correspond à ces filtres." in nothing.text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2027-02-30", "from", "Saisissez une date."),
        ("to=yesterday", "to", "Saisissez une date."),
        ("from=2027-03-05&to=2027-03-01", "to", "La date de fin est antérieure à la date de début."),
        ("actor=abc", "actor", "Saisissez un nombre entier."),
        ("entity_id=0", "entity_id", "Saisissez un nombre d’au moins 1."),
        ("action=%3Cscript%3E", "action", "Choisissez l’une des options."),
    ],
)
async def test_a_bad_filter_is_told_next_to_its_field_in_french(
    pages: Pages, page_cookies: dict[str, str], query: str, field: str, message: str
) -> None:
    page = await pages.sign_in_as(page_cookies["manager"]).get(f"/ui/audit?{query}", headers=FR)
    assert page.status_code == 422
    assert field_error(page.text, field) == message
    assert f'aria-describedby="{field}-error"' in page.text
    assert _events(page.text) == []
    assert "<script>" not in page.text


async def test_the_log_comes_a_page_at_a_time_with_an_older_link(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    start = await _newest_id(conn)
    await conn.executemany(
        "INSERT INTO audit_event (actor, action, entity, entity_id, details, created_at)"
        " VALUES ($1, 'stock.adjust', 'lot', $2, $3, $4)",
        [(actors["manager"].id, n, {"delta": n}, clock.now()) for n in range(1, PAGE_SIZE + 6)],
    )
    pages.sign_in_as(page_cookies["manager"])
    first = await pages.get("/ui/audit?action=stock.adjust", headers=FR)
    ids = [i for i in _events(first.text) if i > start]
    assert len(ids) == PAGE_SIZE
    older = re.search(r'id="older" href="([^"]+)"', first.text)
    assert older is not None
    href = older.group(1).replace("&amp;", "&")
    assert "action=stock.adjust" in href
    assert f"before={ids[-1]}" in href
    second = await pages.get(href, headers=FR)
    rest = [i for i in _events(second.text) if i > start]
    assert len(rest) == 5
    assert max(rest) < min(ids)
    assert "Événements les plus récents" in second.text
    assert 'id="older"' not in second.text


async def test_the_csv_has_a_bom_every_selected_event_and_names_intact(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    brand = await f.brand(actors["manager"], name="Crème de Léa")
    # More events than a page holds: the download has them all.
    await conn.executemany(
        "INSERT INTO audit_event (actor, action, entity, entity_id, details, created_at)"
        " VALUES ($1, 'brand.create', 'brand', $2, '{}', $3)",
        [(actors["manager"].id, brand["id"], clock.now()) for _ in range(PAGE_SIZE + 5)],
    )
    pages.sign_in_as(page_cookies["manager"])
    response = await pages.get(f"/ui/audit?entity=brand&entity_id={brand['id']}&format=csv", headers=FR)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="audit-')
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Quand", "Qui", "Action", "Code", "Concerne", "Numéro", "Détails"]
    assert len(rows) == 1 + PAGE_SIZE + 6
    assert {row[3] for row in rows[1:]} == {"brand.create"}
    oldest = rows[-1]
    assert oldest[1] == "manager@clinic.test"
    assert oldest[2] == "Création d’une marque"
    assert oldest[4:6] == ["Marque", str(brand["id"])]
    assert oldest[6] == '{"name": "Crème de Léa"}'
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00", oldest[0])
    # The page shows the name too (the oldest of these events is on the last page).
    created = await conn.fetchval(
        "SELECT min(id) FROM audit_event WHERE entity = 'brand' AND entity_id = $1", brand["id"]
    )
    page = await pages.get(f"/ui/audit?entity=brand&entity_id={brand['id']}&before={created + 1}", headers=FR)
    assert "Crème de Léa" in page.text


async def test_a_csv_cell_never_becomes_a_spreadsheet_formula(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    await f.brand(actors["manager"], name="=HYPERLINK(1)")
    pages.sign_in_as(page_cookies["manager"])
    response = await pages.get("/ui/audit?action=brand.create&format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
