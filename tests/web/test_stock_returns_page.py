"""Returning a lot to its supplier from the lot page, over HTTP: the form, the ledger row, refusals, the note."""

from __future__ import annotations

import re

import asyncpg
import pypdfium2

from inventory.domain.models import Actor
from inventory.services import purchasing, recall_cases
from tests.support import factories as f
from tests.support.clinic import build
from tests.support.db import row_counts
from tests.support.pages import Pages, field_error
from tests.web.test_stock_page import FR, key_of, ledger, on_hand, shown_flash

WRITTEN = ("supplier_return", "stock_movement", "stock_level", "audit_event", "idempotency_record")
FORM = "return-form"


def _form(html: str) -> str:
    return html.split(f'<form id="{FORM}"', 1)[1].split("</form>", 1)[0]


async def test_a_manager_returns_damaged_units_and_gets_the_return_note(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    supplier = await purchasing.create_supplier(actor=actors["manager"], name=f.unique("Back Ltd"), email=None)
    pages.sign_in_as(page_cookies["manager"])
    lot_id = clinic.lot["id"]
    html = (await pages.get(f"/ui/stock/lots/{lot_id}?location_id={clinic.location_id}")).text
    form = _form(html)
    assert f'<option value="{clinic.location_id}" selected>' in form
    assert f'<option value="{supplier.id}">{supplier.name}</option>' in form
    response = await pages.post(
        f"/ui/stock/lots/{lot_id}/return",
        {
            "location_id": clinic.location_id,
            "quantity": "3",
            "reason": "damaged",
            "supplier_id": supplier.id,
            "note": "Box crushed",
            "idempotency_key": key_of(html, FORM),
        },
    )
    assert response.headers["location"] == f"/ui/stock/lots/{lot_id}?location_id={clinic.location_id}#return"
    number = await conn.fetchval("SELECT 'RET-' || lpad(id::text, 6, '0') FROM supplier_return WHERE lot = $1", lot_id)
    flash = await shown_flash(pages, response)
    assert flash == f"Returned 3 of lot {clinic.lot['lot_number']} to the supplier ({number}); 7 left there."
    assert await on_hand(conn, lot_id, clinic.location_id) == 7
    last = (await ledger(conn, lot_id))[-1]
    assert (last["kind"], last["quantity"], last["reason"]) == ("return", -3, f"damaged: {number} (Box crushed)")
    page = (await pages.get(f"/ui/stock/lots/{lot_id}")).text
    ledger_row = re.search(r'<tr data-kind="return".*?</tr>', page, re.S)
    assert ledger_row is not None and "Returned to supplier" in ledger_row.group(0)
    assert f"Damaged or broken: {number} (Box crushed)" in ledger_row.group(0)
    listed = re.search(r'<tr data-return="(\d+)">.*?</tr>', page, re.S)
    assert listed is not None and number in listed.group(0) and supplier.name in listed.group(0)
    note = await pages.get(f"/ui/stock/returns/{listed.group(1)}/note.pdf")
    assert note.status_code == 200 and note.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(note.content)
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert number in text and clinic.lot["lot_number"] in text and supplier.name in text


async def test_a_recalled_lot_is_offered_for_return_in_full_in_french(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=4)
    await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="Notice 3")
    pages.sign_in_as(page_cookies["manager"])
    html = (await pages.get(f"/ui/stock/lots/{clinic.lot['id']}", headers=FR)).text
    form = _form(html)
    assert "Retour au fournisseur" in html
    assert 'value="4"' in form and '<option value="recalled" selected>Rappelé</option>' in form
    response = await pages.post(
        f"/ui/stock/lots/{clinic.lot['id']}/return",
        {"location_id": clinic.location_id, "quantity": "4", "reason": "recalled", "supplier_id": "", "note": ""},
        headers=FR,
    )
    flash = await shown_flash(pages, response, headers=FR)
    assert flash.startswith(f"4 du lot {clinic.lot['lot_number']} retourné(s) au fournisseur (RET-")
    assert await on_hand(conn, clinic.lot["id"], clinic.location_id) == 0
    after = (await pages.get(f"/ui/stock/lots/{clinic.lot['id']}", headers=FR)).text
    assert "Aucune unité de ce lot n’est en stock : rien à retourner." in after


async def test_refusals_show_next_to_the_field_and_write_nothing(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=2)
    pages.sign_in_as(page_cookies["manager"])
    path = f"/ui/stock/lots/{clinic.lot['id']}/return"
    base = {"location_id": clinic.location_id, "quantity": "1", "reason": "damaged", "supplier_id": "", "note": ""}
    before = await row_counts(conn, WRITTEN)
    too_many = await pages.post(path, {**base, "quantity": "5"})
    assert too_many.status_code == 409
    assert field_error(too_many.text, f"{FORM}-quantity") == "Only 2 on hand here."
    assert 'value="5"' in _form(too_many.text)  # what was typed is shown again
    no_reason = await pages.post(path, {**base, "reason": ""})
    assert no_reason.status_code == 422 and field_error(no_reason.text, f"{FORM}-reason") is not None
    other_without_details = await pages.post(path, {**base, "reason": "other"})
    assert other_without_details.status_code == 422 and field_error(other_without_details.text, f"{FORM}-note")
    zero = await pages.post(path, {**base, "quantity": "0"})
    assert zero.status_code == 422 and field_error(zero.text, f"{FORM}-quantity") is not None
    assert await row_counts(conn, WRITTEN) == before


async def test_staff_see_no_return_form_and_may_not_post_one(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=2)
    pages.sign_in_as(page_cookies["staff"])
    html = (await pages.get(f"/ui/stock/lots/{clinic.lot['id']}")).text
    assert f'id="{FORM}"' not in html and 'id="return"' not in html
    before = await row_counts(conn, WRITTEN)
    refused = await pages.post(
        f"/ui/stock/lots/{clinic.lot['id']}/return",
        {"location_id": clinic.location_id, "quantity": "1", "reason": "damaged"},
    )
    assert refused.status_code == 403
    assert (await pages.get("/ui/stock/returns/1/note.pdf")).status_code == 403
    assert await row_counts(conn, WRITTEN) == before


async def test_the_same_form_sent_twice_returns_once(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=5)
    pages.sign_in_as(page_cookies["manager"])
    html = (await pages.get(f"/ui/stock/lots/{clinic.lot['id']}")).text
    data = {
        "location_id": clinic.location_id,
        "quantity": "2",
        "reason": "expired",
        "supplier_id": "",
        "note": "",
        "idempotency_key": key_of(html, FORM),
    }
    first = await pages.post(f"/ui/stock/lots/{clinic.lot['id']}/return", data)
    second = await pages.post(f"/ui/stock/lots/{clinic.lot['id']}/return", data)
    assert first.status_code == second.status_code == 303
    assert await on_hand(conn, clinic.lot["id"], clinic.location_id) == 3
    assert await conn.fetchval("SELECT count(*) FROM supplier_return WHERE lot = $1", clinic.lot["id"]) == 1
