"""The recall desk over HTTP: trace, quarantine, open a case, contacts and notes, disposal, CSV, close; every
refusal shown next to its field in the page's language, with nothing written."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from inventory import clock
from inventory.domain.models import Actor
from inventory.services import clinical, quarantine, recall_cases, recall_contacts, scanning
from tests.support.clinic import Clinic, build
from tests.support.pages import Pages, field_error

FR = {"Accept-Language": "fr"}


@dataclass
class Traced:
    """A clinic whose lot was used on two clients (Léa and another), 6 units left on the shelf."""

    clinic: Clinic
    lea: dict[str, Any]
    other: dict[str, Any]

    @property
    def lot_id(self) -> int:
        return int(self.clinic.lot["id"])

    @property
    def lot_number(self) -> str:
        return str(self.clinic.lot["lot_number"])


async def traced(actors: dict[str, Actor]) -> Traced:
    """Two clients who each received one unit of the clinic's lot."""
    clinic = await build(actors, on_hand=8)
    lea = await clinical.create_client(
        actor=actors["manager"], full_name="Léa Dupré", email="lea@example.fr", phone="+33 6 11 22 33 44", allergies=[]
    )
    session = await clinical.create_session(actor=actors["staff"], client_id=lea["id"], location_id=clinic.location_id)
    await scanning.record_use(actor=actors["staff"], session_id=session["id"], barcode=clinic.code())
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code(serial="S2"))
    return Traced(clinic=clinic, lea=lea, other=clinic.client)


async def open_case(actors: dict[str, Actor], case: Traced) -> int:
    """A recall case on the traced lot."""
    opened = await recall_cases.create_recall(actor=actors["manager"], lot_ids=[case.lot_id], reason="FSN-1")
    return opened.id


def disposal(case: Traced, quantity: str, reason: str) -> dict[str, str]:
    """The disposal form of the traced lot's shelf."""
    return {
        "lot_id": str(case.lot_id),
        "location_id": str(case.clinic.location_id),
        "quantity": quantity,
        "reason": reason,
    }


async def count(conn: asyncpg.Connection, sql: str, *args: Any) -> int:
    value = await conn.fetchval(sql, *args)
    return int(value)


async def ledger(conn: asyncpg.Connection, lot_id: int) -> list[tuple[str, int]]:
    rows = await conn.fetch("SELECT kind, quantity FROM stock_movement WHERE lot = $1 ORDER BY id", lot_id)
    return [(r["kind"], r["quantity"]) for r in rows]


@pytest.fixture
def manager(pages: Pages, page_cookies: dict[str, str]) -> Pages:
    return pages.sign_in_as(page_cookies["manager"])


# ------------------------------------------------------------------ who may open it


async def test_the_recall_desk_is_for_managers(pages: Pages, page_cookies: dict[str, str], conn: Any) -> None:
    signed_out = await pages.get("/ui/recall")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/ui/?next=%2Fui%2Frecall")
    pages.sign_in_as(page_cookies["staff"])
    for path in ("/ui/recall", "/ui/recall/1", "/ui/recall/1/clients.csv"):
        assert (await pages.get(path)).status_code == 403, path
    refused = await pages.post("/ui/recall/quarantine", {"lot_id": "1", "reason": "x"})
    assert refused.status_code == 403


# ------------------------------------------------------------------ trace


async def test_trace_shows_each_client_with_the_local_session_time_who_scanned_it_and_the_shelves(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    before = await count(conn, "SELECT count(*) FROM audit_event WHERE action = 'trace.lookup'")
    page = await manager.get("/ui/recall", params={"lot": f"  {case.lot_number.lower()} "})
    assert page.status_code == 200
    html = page.text
    card = html[html.index(f'data-lot="{case.lot_id}"') :]
    assert "Léa Dupré" in card and case.other["full_name"] in card
    assert "staff@clinic.test" in card  # who scanned it (the seeded users have no full name)
    used_at = await conn.fetchval("SELECT min(used_at) FROM usage WHERE lot = $1", case.lot_id)
    local = used_at.astimezone(clock.zone("Europe/Paris")).strftime("%H:%M")
    assert local in card  # the session's time at the location (Paris), not UTC
    assert re.search(r"data-location=\"\d+\">[^<]*: <strong>6</strong>", card)
    assert 'action="/ui/recall/quarantine"' in card
    assert await count(conn, "SELECT count(*) FROM audit_event WHERE action = 'trace.lookup'") == before + 1


async def test_trace_of_an_unreadable_lot_number_says_so_next_to_the_field_in_french(
    manager: Pages, conn: asyncpg.Connection
) -> None:
    page = await manager.get("/ui/recall", params={"lot": "A" * 201}, headers=FR)
    assert page.status_code == 422
    assert field_error(page.text, "trace-lot") == "Ce numéro de lot n’est pas valable."
    assert '<html lang="fr">' in page.text


async def test_trace_of_an_unknown_number_says_nothing_matched(manager: Pages, conn: asyncpg.Connection) -> None:
    page = await manager.get("/ui/recall", params={"lot": "NOPE-404-XYZ"}, headers=FR)
    assert page.status_code == 200
    assert "Aucun lot ne porte le numéro NOPE-404-XYZ." in page.text


# ------------------------------------------------------------------ quarantine


@pytest.mark.parametrize(("headers", "message"), [({}, "This field is required."), (FR, "Ce champ est obligatoire.")])
async def test_quarantine_without_a_reason_is_refused_next_to_the_field_and_writes_nothing(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, headers: dict[str, str], message: str
) -> None:
    case = await traced(actors)
    before = await ledger(conn, case.lot_id)
    page = await manager.post(
        "/ui/recall/quarantine",
        {"lot": case.lot_number, "lot_id": str(case.lot_id), "reason": "   "},
        headers=headers,
    )
    assert page.status_code == 422
    assert field_error(page.text, f"quarantine-{case.lot_id}-reason") == message
    assert f'id="quarantine-{case.lot_id}-reason"' in page.text
    assert 'aria-invalid="true"' in page.text
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", case.lot_id) == "active"
    assert await ledger(conn, case.lot_id) == before


async def test_quarantine_holds_the_lot_everywhere_and_back_at_the_trace_it_shows(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    done = await manager.post(
        "/ui/recall/quarantine",
        {"lot": case.lot_number, "lot_id": str(case.lot_id), "reason": "Supplier notice"},
        headers=FR,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/ui/recall?lot={case.lot_number}"
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", case.lot_id) == "quarantined"
    page = await manager.get(done.headers["location"], headers=FR)
    assert "est en quarantaine partout" in page.text  # the flash message, in French
    assert "badge status-quarantined" in page.text
    assert 'action="/ui/recall/quarantine"' not in page.text  # nothing more to quarantine


async def test_quarantine_of_a_lot_already_in_quarantine_is_refused_in_french(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    await quarantine.quarantine_lot(actor=actors["manager"], lot_id=case.lot_id, reason="first")
    before = await ledger(conn, case.lot_id)
    page = await manager.post(
        "/ui/recall/quarantine",
        {"lot": case.lot_number, "lot_id": str(case.lot_id), "reason": "again"},
        headers=FR,
    )
    assert page.status_code == 409
    assert field_error(page.text, f"quarantine-{case.lot_id}-reason") == "Ce lot est en quarantaine."
    assert await ledger(conn, case.lot_id) == before


async def test_a_tampered_lot_id_is_the_error_page_and_writes_nothing(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    page = await manager.post("/ui/recall/quarantine", {"lot": case.lot_number, "lot_id": "abc", "reason": "x"})
    assert page.status_code == 422
    unknown = await manager.post("/ui/recall/quarantine", {"lot": "", "lot_id": "2000000000", "reason": "x"})
    assert unknown.status_code == 404
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", case.lot_id) == "active"


async def test_a_form_without_the_csrf_token_is_refused(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    page = await manager.http.post(
        "/ui/recall/quarantine", data={"lot_id": str(case.lot_id), "reason": "x", "csrf_token": "forged"}
    )
    assert page.status_code == 403
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", case.lot_id) == "active"


# ------------------------------------------------------------------ opening a case


async def test_opening_a_case_without_a_lot_or_a_reason_is_refused_in_french_and_writes_nothing(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    cases = await count(conn, "SELECT count(*) FROM recall")
    page = await manager.post("/ui/recall/cases", {"lot": case.lot_number, "reason": "", "source": "ANSM"}, headers=FR)
    assert page.status_code == 422
    assert field_error(page.text, "recall-lot_ids") == "Cochez au moins un lot à rappeler."
    assert field_error(page.text, "recall-reason") == "Ce champ est obligatoire."
    assert 'value="ANSM"' in page.text  # what was typed stays
    assert f'value="{case.lot_id}">' in page.text  # and the box is unticked, as sent
    assert await count(conn, "SELECT count(*) FROM recall") == cases
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", case.lot_id) == "active"


async def test_opening_a_case_recalls_the_lot_and_the_trace_then_links_to_the_open_case(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    form = {
        "lot": case.lot_number,
        "lot_ids[]": [str(case.lot_id)],
        "reason": "Particles in ampoules",
        "source": "Supplier",
        "reference": "FSN-7",
        "form_key": "k-open-1",
    }
    done = await manager.post("/ui/recall/cases", form)
    assert done.status_code == 303
    recall_id = int(done.headers["location"].rsplit("/", 1)[1])
    again = await manager.post("/ui/recall/cases", form)  # a double click: the same case, not a second one
    assert again.status_code == 303
    assert again.headers["location"] == done.headers["location"]
    assert await count(conn, "SELECT count(*) FROM recall_lot WHERE lot = $1", case.lot_id) == 1
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", case.lot_id) == "recalled"
    row = await conn.fetchrow("SELECT reason, source, reference FROM recall WHERE id = $1", recall_id)
    assert tuple(row) == ("Particles in ampoules", "Supplier", "FSN-7")

    trace = await manager.get("/ui/recall", params={"lot": case.lot_number})
    assert f'href="/ui/recall/{recall_id}"' in trace.text
    assert f"Recall case #{recall_id} is open for this lot" in trace.text
    assert re.search(rf'<tr data-case="{recall_id}">', trace.text[trace.text.index('id="open-cases"') :])


async def test_the_same_form_key_with_other_values_is_refused(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    form = {"lot": case.lot_number, "lot_ids[]": [str(case.lot_id)], "reason": "one", "form_key": "k-2"}
    assert (await manager.post("/ui/recall/cases", form)).status_code == 303
    page = await manager.post("/ui/recall/cases", {**form, "reason": "two"}, headers=FR)
    assert page.status_code == 422
    assert field_error(page.text, "recall-form") == (
        "Ce formulaire a déjà été envoyé avec d’autres valeurs ; rechargez la page."
    )
    assert await count(conn, "SELECT count(*) FROM recall_lot WHERE lot = $1", case.lot_id) == 1


# ------------------------------------------------------------------ the case: clients


async def test_the_case_page_shows_lots_clients_with_their_contacts_and_the_forms(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    recall_id = await open_case(actors, case)
    page = await manager.get(f"/ui/recall/{recall_id}")
    assert page.status_code == 200
    html = page.text
    lea = html[html.index(f'data-client="{case.lea["id"]}"') :]
    assert "Léa Dupré" in lea
    assert 'href="mailto:lea@example.fr"' in lea and "+33 6 11 22 33 44" in lea
    assert 'data-status="to_contact"' in lea
    assert f'action="/ui/recall/{recall_id}/clients/{case.lea["id"]}"' in lea
    assert f'id="dispose-{case.lot_id}-{case.clinic.location_id}-quantity"' in html
    assert 'value="6"' in html  # the disposal proposes what is on the shelf
    assert f'href="/ui/recall/{recall_id}/clients.csv"' in html
    assert 'id="close-form"' in html


async def test_marking_a_client_contacted_with_a_note_and_then_only_a_note(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    recall_id = await open_case(actors, case)
    path = f"/ui/recall/{recall_id}/clients/{case.lea['id']}"
    done = await manager.post(path, {"contact_status": "contacted", "note": "Appelée, RDV lundi"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/ui/recall/{recall_id}#client-{case.lea['id']}"
    sql = "SELECT contact_status, note FROM recall_client WHERE recall = $1 AND client = $2"
    assert tuple(await conn.fetchrow(sql, recall_id, case.lea["id"])) == ("contacted", "Appelée, RDV lundi")
    assert (await manager.post(path, {"contact_status": "", "note": "Rappelle jeudi"})).status_code == 303
    assert tuple(await conn.fetchrow(sql, recall_id, case.lea["id"])) == ("contacted", "Rappelle jeudi")
    page = await manager.get(f"/ui/recall/{recall_id}")
    assert "Rappelle jeudi" in page.text
    assert page.text.count('data-status="contacted"') == 1


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Choose a new contact status or write a note."),
        (FR, "Choisissez un nouveau statut de contact ou écrivez une note."),
    ],
)
async def test_saving_a_client_with_nothing_chosen_is_refused_next_to_the_status(
    manager: Pages,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    headers: dict[str, str],
    message: str,
) -> None:
    case = await traced(actors)
    recall_id = await open_case(actors, case)
    page = await manager.post(
        f"/ui/recall/{recall_id}/clients/{case.lea['id']}", {"contact_status": "", "note": " "}, headers=headers
    )
    assert page.status_code == 422
    assert field_error(page.text, f"client-{case.lea['id']}-contact_status") == message
    sql = "SELECT contact_status, note, updated_at FROM recall_client WHERE client = $1"
    row = await conn.fetchrow(sql, case.lea["id"])
    assert tuple(row) == ("to_contact", None, None)


async def test_a_status_the_client_cannot_reach_from_here_is_refused_in_french_and_writes_nothing(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    recall_id = await open_case(actors, case)
    # A form opened before someone else marked the client acknowledged: acknowledged is final.
    await recall_contacts.set_client_status(
        actor=actors["manager"], recall_id=recall_id, client_id=case.lea["id"], contact_status="contacted"
    )
    await recall_contacts.set_client_status(
        actor=actors["manager"], recall_id=recall_id, client_id=case.lea["id"], contact_status="acknowledged"
    )
    page = await manager.post(
        f"/ui/recall/{recall_id}/clients/{case.lea['id']}",
        {"contact_status": "unreachable", "note": "no answer"},
        headers=FR,
    )
    assert page.status_code == 409
    assert field_error(page.text, f"client-{case.lea['id']}-contact_status") == (
        "Ce n’est pas possible dans l’état actuel."
    )
    assert "no answer" in page.text  # the note typed is kept for another try
    sql = "SELECT contact_status, note FROM recall_client WHERE recall = $1 AND client = $2"
    assert tuple(await conn.fetchrow(sql, recall_id, case.lea["id"])) == ("acknowledged", None)


async def test_an_unknown_status_or_a_client_outside_the_case_is_refused(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    recall_id = await open_case(actors, case)
    page = await manager.post(f"/ui/recall/{recall_id}/clients/{case.lea['id']}", {"contact_status": "gone"})
    assert page.status_code == 422
    assert field_error(page.text, f"client-{case.lea['id']}-contact_status") == "Choose one of the options."
    stranger = await clinical.create_client(actor=actors["manager"], full_name="Nobody", allergies=[])
    outside = await manager.post(f"/ui/recall/{recall_id}/clients/{stranger['id']}", {"note": "hello"})
    assert outside.status_code == 404
    notes = "SELECT count(*) FROM recall_client WHERE recall = $1 AND note IS NOT NULL"
    assert await count(conn, notes, recall_id) == 0


# ------------------------------------------------------------------ the case: disposal


async def test_disposing_of_more_than_is_on_the_shelf_is_refused_in_french_and_writes_nothing(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    recall_id = await open_case(actors, case)
    before = await ledger(conn, case.lot_id)
    page = await manager.post(f"/ui/recall/{recall_id}/dispose", disposal(case, "7", "recall"), headers=FR)
    assert page.status_code == 409
    name = f"dispose-{case.lot_id}-{case.clinic.location_id}"
    assert field_error(page.text, f"{name}-quantity") == "Il n’y en a pas autant en stock ici."
    assert 'value="7"' in page.text
    assert await ledger(conn, case.lot_id) == before


@pytest.mark.parametrize(
    ("quantity", "reason", "field", "message"),
    [
        ("3", "", "reason", "Ce champ est obligatoire."),
        ("0", "recall", "quantity", "Saisissez un nombre d’au moins 1."),
        ("two", "recall", "quantity", "Saisissez un nombre entier."),
    ],
)
async def test_a_disposal_without_a_reason_or_a_whole_positive_quantity_is_refused(
    manager: Pages,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    quantity: str,
    reason: str,
    field: str,
    message: str,
) -> None:
    case = await traced(actors)
    recall_id = await open_case(actors, case)
    before = await ledger(conn, case.lot_id)
    page = await manager.post(f"/ui/recall/{recall_id}/dispose", disposal(case, quantity, reason), headers=FR)
    assert page.status_code == 422
    assert field_error(page.text, f"dispose-{case.lot_id}-{case.clinic.location_id}-{field}") == message
    assert await ledger(conn, case.lot_id) == before


async def test_disposing_of_the_shelf_writes_one_ledger_row_once_and_the_case_counts_it(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    recall_id = await open_case(actors, case)
    form = {**disposal(case, "6", "Recall FSN-1"), "form_key": "k-dispose"}
    done = await manager.post(f"/ui/recall/{recall_id}/dispose", form)
    assert done.status_code == 303
    assert (await manager.post(f"/ui/recall/{recall_id}/dispose", form)).status_code == 303  # a double click
    assert [row for row in await ledger(conn, case.lot_id) if row[0] == "dispose"] == [("dispose", -6)]
    page = await manager.get(f"/ui/recall/{recall_id}")
    assert "units of lot" in page.text  # the flash
    assert 'id="shelves-empty"' in page.text


async def test_a_lot_outside_the_case_cannot_be_disposed_of_from_it(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    recall_id = await open_case(actors, case)
    other = await build(actors, on_hand=4)
    form = {"lot_id": str(other.lot["id"]), "location_id": str(other.location_id), "quantity": "1", "reason": "x"}
    page = await manager.post(f"/ui/recall/{recall_id}/dispose", form)
    assert page.status_code == 404
    assert await ledger(conn, other.lot["id"]) == [("receive", 4)]


# ------------------------------------------------------------------ CSV and closing


async def test_the_client_list_is_utf8_csv_with_a_bom_and_local_session_dates(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    recall_id = await open_case(actors, case)
    export = await manager.get(f"/ui/recall/{recall_id}/clients.csv")
    assert export.status_code == 200
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert export.headers["content-disposition"] == f'attachment; filename="recall-{recall_id}-clients.csv"'
    assert export.content.startswith("\ufeff".encode())
    text = export.content.decode("utf-8-sig")
    rows = {row["full_name"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {"Léa Dupré", case.other["full_name"]}
    used_at = await conn.fetchval("SELECT min(used_at) FROM usage WHERE client = $1", case.lea["id"])
    assert rows["Léa Dupré"]["session_dates"] == used_at.astimezone(clock.zone("Europe/Paris")).date().isoformat()
    exports = "SELECT count(*) FROM audit_event WHERE action = 'recall.export' AND entity_id = $1"
    assert await count(conn, exports, recall_id) == 1


async def test_closing_shows_the_report_and_closing_twice_is_refused_in_french_with_nothing_written(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    recall_id = await open_case(actors, case)
    await recall_contacts.set_client_status(
        actor=actors["manager"], recall_id=recall_id, client_id=case.lea["id"], contact_status="contacted"
    )
    await recall_contacts.set_client_status(
        actor=actors["manager"], recall_id=recall_id, client_id=case.other["id"], contact_status="unreachable"
    )
    assert (await manager.post(f"/ui/recall/{recall_id}/dispose", disposal(case, "6", "recall"))).status_code == 303
    done = await manager.post(f"/ui/recall/{recall_id}/close", {"note": "Tous prévenus"})
    assert done.status_code == 303
    closed_at = await conn.fetchval("SELECT closed_at FROM recall WHERE id = $1", recall_id)
    page = await manager.get(f"/ui/recall/{recall_id}", headers=FR)
    report = page.text[page.text.index('id="report"') :]
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', report))
    assert counts["clients_contacted"] == "1"
    assert counts["clients_unreachable"] == "1"
    assert counts["units_disposed"] == "6"
    assert "Tous prévenus" in report
    assert 'id="close-form"' not in page.text and 'class="contact-form"' not in page.text

    again = await manager.post(f"/ui/recall/{recall_id}/close", {"note": "encore"}, headers=FR)
    assert again.status_code == 409
    assert field_error(again.text, "close-note") == "Ce dossier de rappel est clos."
    row = await conn.fetchrow("SELECT closed_at, closing_note FROM recall WHERE id = $1", recall_id)
    assert tuple(row) == (closed_at, "Tous prévenus")

    listed = await manager.get("/ui/recall")
    assert f'<tr data-case="{recall_id}">' in listed.text[listed.text.index('id="closed-cases"') :]


async def test_a_closed_case_takes_no_more_contacts_or_disposals(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    case = await traced(actors)
    recall_id = await open_case(actors, case)
    await recall_cases.close_recall(actor=actors["manager"], recall_id=recall_id)
    before = await ledger(conn, case.lot_id)
    contact = await manager.post(
        f"/ui/recall/{recall_id}/clients/{case.lea['id']}", {"contact_status": "contacted"}, headers=FR
    )
    assert contact.status_code == 409
    assert field_error(contact.text, f"client-{case.lea['id']}-contact_status") == "Ce dossier de rappel est clos."
    disposed = await manager.post(f"/ui/recall/{recall_id}/dispose", disposal(case, "1", "x"), headers=FR)
    assert disposed.status_code == 409
    name = f"dispose-{case.lot_id}-{case.clinic.location_id}"
    assert field_error(disposed.text, f"{name}-form") == "Ce dossier de rappel est clos."
    assert await ledger(conn, case.lot_id) == before
    assert await conn.fetchval("SELECT contact_status FROM recall_client WHERE client = $1", case.lea["id"]) == (
        "to_contact"
    )


async def test_an_unknown_case_is_the_not_found_page(manager: Pages, conn: asyncpg.Connection) -> None:
    missing = await manager.get("/ui/recall/2000000000", headers=FR)
    assert missing.status_code == 404
    assert "Cette page n’existe pas." in missing.text
    assert (await manager.get("/ui/recall/99999999999")).status_code == 404
    assert (await manager.get("/ui/recall/2000000000/clients.csv")).status_code == 404
