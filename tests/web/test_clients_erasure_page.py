"""A client's page over HTTP: an admin erases the client (a reason and a tick, audited, the trace kept under the
pseudonym; managers and staff never can), and an implant use shows its UDI with its printable card (PDF)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html import unescape
from typing import Any

import asyncpg
import pypdfium2
import pytest

from inventory import clock
from inventory.domain.erasure import pseudonym
from inventory.domain.models import Actor
from inventory.services import clinical, scanning
from tests.conftest import SECRET
from tests.support import factories as f
from tests.support.clinic import Clinic, build
from tests.support.db import row_counts
from tests.support.implants import implant_uses
from tests.support.pages import Pages, field_error

FR = {"Accept-Language": "fr-FR,fr;q=0.9"}
NAME = "Margaux Oubliée"
PERSONAL = ("Margaux", "Oubliée", "margaux.oubliee", "12 34 56 78", "1984-05-09", "Lidocaine")
WRITTEN = ["client", "idempotency_record", "treatment_session", "course"]


def _pdf_text(content: bytes) -> str:
    document = pypdfium2.PdfDocument(content)
    return "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


async def _person(actors: dict[str, Actor], clinic: Clinic) -> dict[str, Any]:
    """A client with every personal detail, who received the clinic's lot in a session."""
    person = await clinical.create_client(
        actor=actors["manager"],
        full_name=NAME,
        email="margaux.oubliee@example.com",
        phone="+33 6 12 34 56 78",
        date_of_birth=date(1984, 5, 9),
        allergies=["Lidocaine"],
    )
    session = await clinical.create_session(
        actor=actors["staff"], client_id=person["id"], location_id=clinic.location_id
    )
    await scanning.record_use(actor=actors["staff"], session_id=session["id"], barcode=clinic.code())
    return person


async def _changes_audited(conn: asyncpg.Connection) -> int:
    """Audit events of changes: showing a client's page again records its history look-up, like every view."""
    return int(await conn.fetchval("SELECT count(*) FROM audit_event WHERE action <> 'client.history'"))


def _erase_form(reason: str = "Asked by e-mail on 3 March", *, confirm: bool = True, key: str = "") -> dict[str, str]:
    return {"reason": reason, **({"confirm": "yes"} if confirm else {}), "idempotency_key": key}


def _key(html: str) -> str:
    found = re.search(r'id="erase-form".*?name="idempotency_key" value="([^"]+)"', html, re.S)
    assert found is not None
    return found.group(1)


# ------------------------------------------------------------------ erasure


async def test_an_admin_erases_a_client_and_the_trace_keeps_their_use_under_the_pseudonym(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clock.set(datetime(2027, 3, 3, 23, 30, tzinfo=UTC))  # 4 March in Paris, the deployment's zone
    clinic = await build(actors)
    person = await _person(actors, clinic)
    path = f"/ui/clients/{person['id']}"
    page = await pages.sign_in_as(page_cookies["admin"]).get(path)
    assert page.status_code == 200
    card = page.text.split('id="erase-card"')[1].split("</section>")[0]
    for said in ("Erase this client", "pseudonym", "birth date and allergies", "cannot be undone"):
        assert said in card, said
    key = _key(page.text)

    sent = await pages.post(f"{path}/erase", _erase_form(f"{NAME} asked by phone", key=key))
    assert sent.status_code == 303 and sent.headers["location"] == path
    alias = pseudonym(person["id"], SECRET)
    row = await conn.fetchrow("SELECT * FROM client WHERE id = $1", person["id"])
    assert row is not None
    assert (row["full_name"], row["email"], row["phone"], row["date_of_birth"], list(row["allergies"])) == (
        alias,
        None,
        None,
        None,
        [],
    )
    assert clock.today_in(f.PARIS, row["erased_at"]) == date(2027, 3, 4)
    [event] = await conn.fetch(
        "SELECT actor, details FROM audit_event WHERE action = 'client.erase' AND entity_id = $1", person["id"]
    )
    assert event["actor"] == actors["admin"].id
    assert event["details"] == {"reason": f"{alias} asked by phone", "pseudonym": alias}

    # The same form sent twice (a double click, a lost answer) erases once and says the same.
    again = await pages.post(f"{path}/erase", _erase_form(f"{NAME} asked by phone", key=key))
    assert again.status_code == 303 and again.headers["location"] == path
    assert await conn.fetchval("SELECT count(*) FROM audit_event WHERE action = 'client.erase'") == 1

    shown = await pages.get(path)
    assert f"Client erased: from now on the records name them {alias}." in shown.text
    assert f'<h1 id="client-name">{alias}</h1>' in shown.text
    assert '<span class="badge erased-badge" id="erased-badge">Erased on 4 Mar 2027</span>' in shown.text
    for gone in ('id="erase-form"', 'id="erase-card"', 'id="start-session"', 'id="course-form"', 'id="add-allergies"'):
        assert gone not in shown.text, gone
    assert 'href="/ui/scan?session=' not in shown.text
    assert clinic.lot["lot_number"] in shown.text.split('id="history-card"')[1]  # the lots received stay
    for hidden in PERSONAL:
        assert hidden not in shown.text, hidden
    french = await pages.get(path, headers=FR)
    assert "Effacé le 4 mars 2027" in french.text

    # The recall desk's trace of the lot still lists the use, under the pseudonym.
    trace = await pages.sign_in_as(page_cookies["manager"]).get("/ui/recall", params={"lot": clinic.lot["lot_number"]})
    assert trace.status_code == 200
    assert alias in trace.text
    for hidden in PERSONAL:
        assert hidden not in trace.text, hidden
    assert await conn.fetchval("SELECT count(*) FROM usage WHERE client = $1", person["id"]) == 1


@pytest.mark.parametrize(
    ("form", "field", "english", "french"),
    [
        (_erase_form("   "), "reason", "This field is required.", "Ce champ est obligatoire."),
        (_erase_form("x" * 1001), "reason", "At most 1000 characters.", "1000 caractères au plus."),
        (_erase_form("asked\x00"), "reason", "Remove the control characters.", "Retirez les caractères de contrôle."),
        (
            _erase_form(confirm=False),
            "confirm",
            "Tick the box to confirm: the erasure cannot be undone.",
            "Cochez la case pour confirmer : l’effacement est définitif.",
        ),
    ],
)
async def test_an_erasure_without_a_reason_or_the_tick_is_refused_next_to_the_field_and_writes_nothing(
    pages: Pages,
    page_cookies: dict[str, str],
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    form: dict[str, str],
    field: str,
    english: str,
    french: str,
) -> None:
    clinic = await build(actors)
    person = await _person(actors, clinic)
    path = f"/ui/clients/{person['id']}"
    before = (await row_counts(conn, WRITTEN), await _changes_audited(conn))
    pages.sign_in_as(page_cookies["admin"])
    page = await pages.post(f"{path}/erase", form | {"idempotency_key": "k-" + f.unique("e").replace(" ", "")})
    assert page.status_code == 422
    assert field_error(page.text, field) == english
    assert f'aria-describedby="{field}-error"' in page.text or f' {field}-error"' in page.text
    assert 'id="erase-form"' in page.text  # the form again, with what was typed
    if field == "confirm":
        assert "Asked by e-mail on 3 March</textarea>" in page.text
    else:
        assert 'name="confirm" value="yes" checked' in page.text
    page = await pages.post(f"{path}/erase", form, headers=FR)
    assert page.status_code == 422
    assert '<html lang="fr">' in page.text
    assert unescape(field_error(page.text, field) or "") == french
    row = await conn.fetchrow("SELECT full_name, email, erased_at FROM client WHERE id = $1", person["id"])
    assert row is not None and (row["full_name"], row["email"], row["erased_at"]) == (
        NAME,
        "margaux.oubliee@example.com",
        None,
    )
    assert (await row_counts(conn, WRITTEN), await _changes_audited(conn)) == before


@pytest.mark.parametrize("role", ["manager", "staff"])
async def test_managers_and_staff_never_see_the_erasure_and_their_post_is_the_403_page(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection, role: str
) -> None:
    clinic = await build(actors)
    person = await _person(actors, clinic)
    path = f"/ui/clients/{person['id']}"
    pages.sign_in_as(page_cookies[role])
    page = await pages.get(path)
    assert page.status_code == 200
    assert 'id="erase-card"' not in page.text and "/erase" not in page.text
    before = (await row_counts(conn, WRITTEN), await _changes_audited(conn))
    refused = await pages.post(f"{path}/erase", _erase_form(), headers=FR)
    assert refused.status_code == 403
    assert '<html lang="fr">' in refused.text
    assert (await row_counts(conn, WRITTEN), await _changes_audited(conn)) == before
    assert await conn.fetchval("SELECT full_name FROM client WHERE id = $1", person["id"]) == NAME


async def test_an_erased_client_gets_no_new_session_course_or_allergy_and_the_page_says_why(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    person = await _person(actors, clinic)
    path = f"/ui/clients/{person['id']}"
    pages.sign_in_as(page_cookies["admin"])
    assert (await pages.post(f"{path}/erase", _erase_form())).status_code == 303
    page = await pages.get(path)
    assert "No new session or course: this client was erased." in page.text
    # A second erasure (another tab's form, without its key) changes nothing and says so.
    again = await pages.post(f"{path}/erase", _erase_form())
    assert again.status_code == 303
    assert "This client was already erased." in (await pages.get(path)).text

    before = (await row_counts(conn, WRITTEN), await _changes_audited(conn))
    pages.sign_in_as(page_cookies["staff"])
    course = {
        "treatment": "Glow",
        "location_id": str(clinic.location_id),
        "start_date": f.in_days(7).isoformat(),
        "sessions": "2",
        "interval_days": "21",
    }
    for sent in (
        await pages.post(f"{path}/sessions", {"session_location_id": str(clinic.location_id)}),
        await pages.post(f"{path}/courses", course),
        await pages.post(f"{path}/allergies", {"allergies": "Latex"}),
    ):
        assert sent.status_code == 409
        assert (
            '<p class="banner error" role="alert" id="erased-refusal">This client was erased: no new session, course'
            " or allergy can be recorded for them.</p>" in sent.text
        )
    french = await pages.post(f"{path}/sessions", {"session_location_id": str(clinic.location_id)}, headers=FR)
    assert french.status_code == 409
    assert "Ce client a été effacé : aucune nouvelle séance" in unescape(french.text)
    assert (await row_counts(conn, WRITTEN), await _changes_audited(conn)) == before
    assert await conn.fetchval("SELECT allergies FROM client WHERE id = $1", person["id"]) == []


# ------------------------------------------------------------------ implant cards


def _row(html: str, lot_text: str) -> str:
    """The history row whose cells hold `lot_text`."""
    history = html.split('id="history-card"')[1].split("</table>")[0]
    [row] = [r for r in history.split("<tr")[1:] if lot_text in r]
    return row


async def test_an_implant_use_shows_its_udi_and_a_card_link_and_other_uses_none(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    uses = await implant_uses(actors, clinic)
    udi = uses.implant["udi"]
    assert udi and udi.endswith("(21)SN0042")
    page = await pages.sign_in_as(page_cookies["staff"]).get(f"/ui/clients/{clinic.client['id']}")
    assert page.status_code == 200
    implant_row = _row(page.text, "SN0042")
    assert uses.lot_number in implant_row
    assert f'<span class="mono">{udi}</span>' in implant_row.replace("<wbr>", "")  # a line may break before a "("
    link = f'href="/ui/usages/{uses.implant["usage_id"]}/implant-card.pdf"'
    assert link in implant_row and "Print implant card (PDF)" in implant_row
    voided_row = _row(page.text, "SN0043")
    assert "Voided" in voided_row and "implant-card" not in voided_row
    plain_row = _row(page.text, clinic.lot["lot_number"])
    assert "implant-card" not in plain_row and "UDI" not in plain_row
    assert page.text.count("implant-card.pdf") == 1
    french = await pages.get(f"/ui/clients/{clinic.client['id']}", headers=FR)
    assert "Imprimer la carte d’implant (PDF)" in unescape(french.text)
    assert "IUD" in _row(french.text, "SN0042")


@pytest.mark.parametrize("role", ["staff", "manager"])
async def test_the_implant_card_pdf_under_ui_names_the_lot_and_udi_and_is_audited(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection, role: str
) -> None:
    clinic = await build(actors)
    uses = await implant_uses(actors, clinic)
    usage_id = uses.implant["usage_id"]
    path = f"/ui/usages/{usage_id}/implant-card.pdf"
    signed_out = await pages.get(path)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/ui/?next=")
    card = await pages.sign_in_as(page_cookies[role]).get(path)
    assert card.status_code == 200
    assert card.headers["content-type"] == "application/pdf"
    assert card.headers["cache-control"] == "no-store"
    text = _pdf_text(card.content).replace("\r", "").replace("\n", "")
    for shown in (uses.lot_number, uses.implant["udi"], "SN0042", clinic.client["full_name"]):
        assert shown in text, shown
    assert "c@example.com" not in text
    audited = await conn.fetch(
        "SELECT actor, details FROM audit_event WHERE action = 'usage.implant_card' AND entity_id = $1", usage_id
    )
    assert [(a["actor"], a["details"]["udi"]) for a in audited] == [(actors[role].id, uses.implant["udi"])]

    for other, code in ((uses.plain["usage_id"], 409), (uses.voided["usage_id"], 409), (999_999, 404)):
        refused = await pages.get(f"/ui/usages/{other}/implant-card.pdf", headers=FR)
        assert refused.status_code == code
        assert '<html lang="fr">' in refused.text
    assert (await pages.get("/ui/usages/0/implant-card.pdf")).status_code in (400, 404)
