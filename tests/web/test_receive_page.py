"""/ui/receive over HTTP: a delivery drafted by scanning or typing, booked once, refusals next to their field."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest

from inventory.domain.gs1 import format_element_string
from inventory.domain.models import Actor
from inventory.services import quarantine
from tests.support import factories as f
from tests.support.clinic import Clinic, build
from tests.support.db import row_counts
from tests.support.pages import Pages, field_error

WRITTEN = ("receipt", "receipt_line", "lot", "stock_movement", "stock_level", "idempotency_record")
FR = {"Accept-Language": "fr"}


def box(clinic: Clinic, lot_number: str, expiry: date) -> str:
    """The GS1 element string on a box of 10 of the clinic's product, as a scanner types it."""
    return format_element_string(gtin=clinic.box_gtin, expiry=expiry, lot_number=lot_number)


def yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


class Draft:
    """A delivery drafted on /ui/receive: every post sends back the page's hidden lines and key, as a browser does."""

    def __init__(self, pages: Pages, location_id: int | None, headers: dict[str, str] | None = None) -> None:
        self.pages = pages
        self.location_id = location_id
        self.headers = headers or {}
        self.key = ""
        self.lines: list[str] = []
        self.page = ""

    async def open(self) -> httpx.Response:
        """GET the empty draft."""
        response = await self.pages.get("/ui/receive", headers=self.headers)
        assert response.status_code == 200, response.text
        self._read(response.text)
        return response

    def _read(self, page: str) -> None:
        self.page = page
        found = re.search(r'name="idempotency_key" value="([^"]*)"', page)
        assert found is not None
        self.key = found.group(1)
        self.lines = [html.unescape(v) for v in re.findall(r'name="line\[\]" value="([^"]*)"', page)]

    async def post(self, action: str, **fields: Any) -> httpx.Response:
        """Post the draft with one more action (scan, type, remove-N, receive) and read the page back."""
        data: dict[str, Any] = {"idempotency_key": self.key, "line[]": self.lines, "action": action, **fields}
        if self.location_id is not None:
            data.setdefault("location_id", str(self.location_id))
        response = await self.pages.post("/ui/receive", data, headers=self.headers)
        if response.status_code != 303:
            self._read(response.text)
        return response

    async def scan(self, code: str, **fields: Any) -> httpx.Response:
        """A scanner burst into the scan box, ended by Enter (the form's first button)."""
        return await self.post("scan", barcode=code, **fields)


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    return await row_counts(conn, WRITTEN)


@pytest.fixture
async def clinic(actors: dict[str, Actor]) -> Clinic:
    """A product with a unit GTIN and a box of 10, a location, and one lot received there."""
    return await build(actors, on_hand=4)


@pytest.fixture
def staff(pages: Pages, page_cookies: dict[str, str]) -> Pages:
    return pages.sign_in_as(page_cookies["staff"])


# ------------------------------------------------------------------ the delivery


async def test_two_box_codes_make_two_lines_of_ten_and_one_receipt(
    staff: Pages, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    draft = Draft(staff, clinic.location_id)
    await draft.open()
    expiry = f.in_days(300)
    first = await draft.scan(box(clinic, "BX-1", expiry))
    assert first.status_code == 200
    assert "1 box of 10 = 10 ampoules" in draft.page
    assert clinic.product["name"] in draft.page
    await draft.scan(box(clinic, "BX-2", expiry), scan_quantity="2")
    assert "2 boxes of 10 = 20 ampoules" in draft.page
    assert "30 ampoules in all" in draft.page
    assert len(draft.lines) == 2
    before = await counts(conn)  # drafting wrote nothing

    booked = await draft.post("receive", supplier="Léa Distribution", reference="BL-77")
    assert booked.status_code == 303
    receipt_id = int(booked.headers["location"].rsplit("/", 1)[1])
    after = await counts(conn)
    assert (after["receipt"], after["receipt_line"], after["lot"]) == (
        before["receipt"] + 1,
        before["receipt_line"] + 2,
        before["lot"] + 2,
    )
    rows = await conn.fetch(
        "SELECT l.lot_number, rl.quantity, rl.gtin FROM receipt_line rl JOIN lot l ON l.id = rl.lot"
        " WHERE rl.receipt = $1 ORDER BY rl.id",
        receipt_id,
    )
    assert [(r["lot_number"], r["quantity"], r["gtin"]) for r in rows] == [
        ("BX-1", 10, clinic.box_gtin),
        ("BX-2", 20, clinic.box_gtin),
    ]
    supplier = await conn.fetchval("SELECT supplier FROM receipt WHERE id = $1", receipt_id)
    assert supplier == "Léa Distribution"

    result = await staff.get(f"/ui/receive/{receipt_id}")
    assert result.status_code == 200
    assert "BX-1" in result.text and "BX-2" in result.text
    assert "Léa Distribution" in result.text
    assert re.search(r'data-label="On hand after" class="num">20<', result.text)


async def test_the_same_code_scanned_again_adds_to_its_line(staff: Pages, clinic: Clinic) -> None:
    draft = Draft(staff, clinic.location_id)
    await draft.open()
    code = box(clinic, "SAME-1", f.in_days(200))
    await draft.scan(code)
    await draft.scan(code)
    assert len(draft.lines) == 1
    assert "2 boxes of 10 = 20 ampoules" in draft.page


async def test_a_double_submit_books_the_delivery_once(staff: Pages, clinic: Clinic, conn: asyncpg.Connection) -> None:
    draft = Draft(staff, clinic.location_id)
    await draft.open()
    await draft.scan(clinic.code("TWICE-1", expiry=f.in_days(120)))
    before = await counts(conn)
    lines, key = list(draft.lines), draft.key
    first = await draft.post("receive")
    draft.lines, draft.key = lines, key  # the same form sent again (a double click, a reload)
    second = await draft.post("receive")
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    after = await counts(conn)
    assert after["receipt"] == before["receipt"] + 1
    assert after["stock_movement"] == before["stock_movement"] + 1


async def test_a_booked_draft_changed_and_sent_again_books_nothing_until_confirmed(
    staff: Pages, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    draft = Draft(staff, clinic.location_id, FR)
    await draft.open()
    await draft.scan(box(clinic, "KEY-1", f.in_days(100)))
    key = draft.key
    assert (await draft.post("receive")).status_code == 303
    before = await counts(conn)
    await draft.open()
    draft.key = key  # an old tab of the booked delivery, changed and sent again
    await draft.scan(box(clinic, "KEY-2", f.in_days(100)))
    response = await draft.post("receive")
    assert response.status_code == 422
    assert (field_error(draft.page, "form") or "").startswith("Cette livraison a déjà été réceptionnée")
    assert await counts(conn) == before
    assert draft.key != key
    assert (await draft.post("receive")).status_code == 303  # pressed again: a new delivery
    assert (await counts(conn))["receipt"] == before["receipt"] + 1


async def test_a_line_typed_in_and_a_digital_link_are_received(
    staff: Pages, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    draft = Draft(staff, clinic.location_id)
    await draft.open()
    expiry = f.in_days(150)
    typed = await draft.post(
        "type", product_id=str(clinic.product["id"]), lot_number=" tp-9 ", expiry_date=expiry.isoformat(), quantity="3"
    )
    assert typed.status_code == 200
    assert "3 ampoules" in draft.page
    await draft.scan(f"https://id.example.com/01/{clinic.box_gtin}/10/DL-1?17={yymmdd(expiry)}")
    assert "1 box of 10 = 10 ampoules" in draft.page
    booked = await draft.post("receive")
    assert booked.status_code == 303
    receipt_id = int(booked.headers["location"].rsplit("/", 1)[1])
    rows = await conn.fetch(
        "SELECT l.lot_number, rl.quantity FROM receipt_line rl JOIN lot l ON l.id = rl.lot"
        " WHERE rl.receipt = $1 ORDER BY rl.id",
        receipt_id,
    )
    assert sorted((r["lot_number"], r["quantity"]) for r in rows) == [("DL-1", 10), ("tp-9", 3)]


async def test_a_line_can_be_removed_before_booking(staff: Pages, clinic: Clinic) -> None:
    draft = Draft(staff, clinic.location_id)
    await draft.open()
    await draft.scan(box(clinic, "RM-1", f.in_days(90)))
    await draft.scan(box(clinic, "RM-2", f.in_days(90)))
    await draft.post("remove-0")
    assert len(draft.lines) == 1
    assert "RM-2" in draft.page and "RM-1" not in draft.page


async def test_pages_need_a_sign_in_and_each_draft_has_its_own_key(
    pages: Pages, client: httpx.AsyncClient, page_cookies: dict[str, str]
) -> None:
    signed_out = await client.get("/ui/receive")
    assert signed_out.status_code == 303
    assert "/ui/?next=%2Fui%2Freceive" in signed_out.headers["location"]
    pages.sign_in_as(page_cookies["staff"])
    first, second = Draft(pages, None), Draft(pages, None)
    await first.open()
    await second.open()
    assert first.key and first.key != second.key


# --------------------------------------------------------------- refusals: next to the field, in French; none writes


async def test_an_expired_box_is_shown_refused_next_to_its_line_and_blocks_booking(
    staff: Pages, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    draft = Draft(staff, clinic.location_id, FR)
    await draft.open()
    before = await counts(conn)
    await draft.scan(box(clinic, "OK-1", f.in_days(100)))
    expired = await draft.scan(box(clinic, "OLD-1", f.in_days(-3)))
    assert expired.status_code == 422
    message = field_error(draft.page, "line-1")
    assert message is not None
    assert "Le lot OLD-1 est périmé depuis le" in message
    assert "Mettez cette boîte de côté" in message
    assert field_error(draft.page, "line-0") is None
    refused = await draft.post("receive")
    assert refused.status_code == 422
    assert "Le lot OLD-1 est périmé" in (field_error(draft.page, "line-1") or "")
    assert await counts(conn) == before
    await draft.post("remove-1")
    assert (await draft.post("receive")).status_code == 303


async def test_a_box_whose_expiry_differs_from_the_recorded_lot_is_shown_never_changed(
    staff: Pages, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    recorded: date = clinic.lot["expiry_date"]
    draft = Draft(staff, clinic.location_id, FR)
    await draft.open()
    before = await counts(conn)
    response = await draft.scan(box(clinic, clinic.lot["lot_number"], f.in_days(400)))
    assert response.status_code == 409
    message = field_error(draft.page, "line-0") or ""
    assert f"Le lot {clinic.lot['lot_number']} est enregistré avec la péremption" in message
    assert str(recorded.year) in message and "rien n’a été modifié" in message
    assert (await draft.post("receive")).status_code == 409
    assert await counts(conn) == before
    expiry = await conn.fetchval("SELECT expiry_date FROM lot WHERE id = $1", clinic.lot["id"])
    assert expiry == recorded


async def test_two_boxes_of_one_new_lot_with_different_expiries_are_refused(staff: Pages, clinic: Clinic) -> None:
    draft = Draft(staff, clinic.location_id, FR)
    await draft.open()
    await draft.scan(box(clinic, "NEW-1", f.in_days(100)))
    response = await draft.scan(box(clinic, "NEW-1", f.in_days(101)))
    assert response.status_code == 409
    assert field_error(draft.page, "line-0") is None
    assert "Le lot NEW-1 est enregistré avec la péremption" in (field_error(draft.page, "line-1") or "")


async def test_a_quarantined_lot_is_refused_next_to_its_line(
    staff: Pages, clinic: Clinic, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    await quarantine.quarantine_lot(actor=actors["manager"], lot_id=clinic.lot["id"], reason="Supplier warning")
    draft = Draft(staff, clinic.location_id, FR)
    await draft.open()
    response = await draft.scan(clinic.code())
    assert response.status_code == 409
    assert "est en quarantaine" in (field_error(draft.page, "line-0") or "")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("unknown", "Aucun produit du catalogue n’a le GTIN"),
        ("digital-link", "Ce code n’a pas pu être lu comme un code-barres GS1."),
        ("garbage", "Ce code n’a pas pu être lu comme un code-barres GS1."),
    ],
)
async def test_a_code_that_names_no_lot_stays_in_the_scan_box_with_why(
    staff: Pages, clinic: Clinic, conn: asyncpg.Connection, code: str, message: str
) -> None:
    expiry = f.in_days(100)
    bad_check = clinic.box_gtin[:-1] + str((int(clinic.box_gtin[-1]) + 1) % 10)
    raw = {
        "unknown": format_element_string(gtin=f.make_gtin(987_651), expiry=expiry, lot_number="U1"),
        "digital-link": f"https://id.example.com/01/{bad_check}/10/X1?17={yymmdd(expiry)}",
        "garbage": "(01)123",
    }[code]
    draft = Draft(staff, clinic.location_id, FR)
    await draft.open()
    before = await counts(conn)
    response = await draft.scan(raw)
    assert response.status_code in (404, 422)
    assert message in (field_error(draft.page, "barcode") or ""), draft.page
    assert 'aria-invalid="true"' in draft.page
    assert draft.lines == []
    assert html.escape(raw) in draft.page  # kept in the box, to be scanned again or corrected
    assert await counts(conn) == before


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"action": "scan", "scan_quantity": "0"}, "scan_quantity", "Saisissez un nombre d’au moins 1."),
        ({"action": "scan", "scan_quantity": "deux"}, "scan_quantity", "Saisissez un nombre entier."),
        ({"action": "type", "quantity": "-4"}, "quantity", "Saisissez un nombre d’au moins 1."),
        ({"action": "type", "quantity": "1.5"}, "quantity", "Saisissez un nombre entier."),
        ({"action": "type", "quantity": ""}, "quantity", "Ce champ est obligatoire."),
        ({"action": "type", "expiry_date": "31/02/2027"}, "expiry_date", "Saisissez une date."),
        ({"action": "type", "lot_number": ""}, "lot_number", "Ce champ est obligatoire."),
    ],
)
async def test_a_bad_quantity_or_field_is_refused_next_to_it(
    staff: Pages, clinic: Clinic, conn: asyncpg.Connection, fields: dict[str, str], field: str, message: str
) -> None:
    typed = {
        "product_id": str(clinic.product["id"]),
        "lot_number": "Q-1",
        "expiry_date": f.in_days(100).isoformat(),
        "quantity": "5",
    }
    scanned = {"barcode": box(clinic, "Q-1", f.in_days(100))}
    draft = Draft(staff, clinic.location_id, FR)
    await draft.open()
    before = await counts(conn)
    action = fields.pop("action")
    response = await draft.post(action, **{**(scanned if action == "scan" else typed), **fields})
    assert response.status_code == 422
    assert field_error(draft.page, field) == message
    assert draft.lines == []
    assert await counts(conn) == before


async def test_a_typed_expired_lot_is_refused_next_to_its_expiry(
    staff: Pages, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    draft = Draft(staff, clinic.location_id, FR)
    await draft.open()
    before = await counts(conn)
    response = await draft.post(
        "type",
        product_id=str(clinic.product["id"]),
        lot_number="GONE-1",
        expiry_date=f.in_days(-1).isoformat(),
        quantity="5",
    )
    assert response.status_code == 422
    assert "Le lot GONE-1 est périmé depuis le" in (field_error(draft.page, "expiry_date") or "")
    assert 'value="GONE-1"' in draft.page  # what was typed stays, to be corrected
    assert draft.lines == []
    assert await counts(conn) == before


async def test_a_missing_location_is_refused_next_to_it(staff: Pages, clinic: Clinic, conn: asyncpg.Connection) -> None:
    draft = Draft(staff, None, FR)
    await draft.open()
    before = await counts(conn)
    response = await draft.scan(box(clinic, "NOLOC-1", f.in_days(100)))
    assert response.status_code == 422
    assert field_error(draft.page, "location_id") == "Ce champ est obligatoire."
    assert draft.lines == []
    receive = await draft.post("receive")
    assert receive.status_code == 422
    assert field_error(draft.page, "location_id") == "Ce champ est obligatoire."
    assert await counts(conn) == before


async def test_an_unknown_location_or_an_empty_delivery_is_refused(
    staff: Pages, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    before = await counts(conn)
    draft = Draft(staff, 2_000_000_000, FR)
    await draft.open()
    await draft.scan(box(clinic, "X-1", f.in_days(100)))
    assert field_error(draft.page, "location_id") == "Cela n’existe pas (ou plus)."
    draft.location_id = clinic.location_id
    response = await draft.post("receive")
    assert response.status_code == 422
    assert field_error(draft.page, "lines") == "Scannez ou saisissez au moins une ligne."
    assert await counts(conn) == before


async def test_tampered_lines_are_refused_whole(staff: Pages, clinic: Clinic, conn: asyncpg.Connection) -> None:
    draft = Draft(staff, clinic.location_id, FR)
    await draft.open()
    before = await counts(conn)
    draft.lines = ['{"barcode": "x", "quantity": 0}']
    response = await draft.post("receive")
    assert response.status_code == 422
    assert field_error(draft.page, "lines") == "Les lignes de cette livraison n’ont pas pu être relues ; recommencez."
    assert await counts(conn) == before


# ------------------------------------------------------------------ the received delivery's labels


async def test_the_received_lots_labels_download_as_one_pdf(staff: Pages, clinic: Clinic) -> None:
    draft = Draft(staff, clinic.location_id)
    await draft.open()
    await draft.scan(box(clinic, "LB-1", f.in_days(200)))
    booked = await draft.post("receive")
    path = booked.headers["location"]
    page = await staff.get(path)
    lot_id = int(re.findall(r'<tr data-lot="(\d+)"', page.text)[0])
    assert f'name="copies-{lot_id}"' in page.text and 'value="10"' in page.text
    printed = await staff.post(f"{path}/labels", {f"copies-{lot_id}": "3", "template": "sheet-3x8"})
    assert printed.status_code == 200
    assert printed.headers["content-type"] == "application/pdf"
    assert "attachment" in printed.headers["content-disposition"]
    assert printed.content.startswith(b"%PDF")
    single = await staff.post(f"{path}/labels", {f"copies-{lot_id}": "1", "template": "roll-25x13", "format": "zpl"})
    assert single.status_code == 200
    assert single.content.startswith(b"^XA")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"copies": "0"}, "copies", "Indiquez un nombre supérieur à 0 pour au moins un lot."),
        ({"copies": "-1"}, "copies-LOT", "Saisissez un nombre d’au moins 0."),
        ({"copies": "501"}, "copies-LOT", "Saisissez un nombre d’au plus 500."),
        ({"template": "label-gif"}, "template", "Choisissez l’une des options."),
        ({"template": "box", "copies": "2"}, "template", "Ce modèle imprime une étiquette d’un seul lot"),
    ],
)
async def test_a_bad_label_count_or_template_is_refused_next_to_it(
    staff: Pages, clinic: Clinic, fields: dict[str, str], field: str, message: str
) -> None:
    draft = Draft(staff, clinic.location_id)
    await draft.open()
    await draft.scan(box(clinic, "LBX-1", f.in_days(200)))
    path = (await draft.post("receive")).headers["location"]
    lot_id = int(re.findall(r'<tr data-lot="(\d+)"', (await staff.get(path)).text)[0])
    form = {f"copies-{lot_id}": fields.get("copies", "1"), "template": fields.get("template", "sheet-3x8")}
    response = await staff.post(f"{path}/labels", form, headers=FR)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert (field_error(response.text, field.replace("LOT", str(lot_id))) or "").startswith(message)


async def test_an_unknown_receipt_is_the_pages_404(staff: Pages) -> None:
    assert (await staff.get("/ui/receive/2000000000")).status_code == 404
    assert (await staff.get("/ui/receive/99999999999")).status_code == 404
