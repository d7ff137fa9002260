"""Printed labels scan back to exactly their lot: label over HTTP -> zxing decode -> scan endpoint -> usage row."""

from __future__ import annotations

import io
from typing import Any

import asyncpg
import httpx
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

import labels as renderer
from inventory.domain.labelcode import format_lot_code
from inventory.domain.models import Actor
from inventory.services import clinical
from tests.support import factories as f
from tests.support.clinic import Clinic, build

H = dict[str, dict[str, str]]
GS = "\x1d"
HRI_MODE = zxingcpp.TextMode.HRI
PLAIN_MODE = zxingcpp.TextMode.Plain


def read(image: Image.Image, mode: zxingcpp.TextMode = HRI_MODE) -> zxingcpp.Barcode:
    """The one barcode in `image`."""
    [found] = zxingcpp.read_barcodes(image, text_mode=mode)
    return found


def png(content: bytes) -> Image.Image:
    return Image.open(io.BytesIO(content))


def hri(gtin: str, lot: dict[str, Any]) -> str:
    return f"(01){gtin}(17){lot['expiry_date']:%y%m%d}(10){lot['lot_number']}"


def element_string(gtin: str, lot: dict[str, Any]) -> str:
    # The lot is the last, variable-length field: no separator is needed anywhere.
    return f"01{gtin}17{lot['expiry_date']:%y%m%d}10{lot['lot_number']}"


async def label(
    client: httpx.AsyncClient, headers: dict[str, str], lot_id: int, fmt: str = "png", **params: Any
) -> bytes:
    response = await client.get(f"/api/lots/{lot_id}/label", params={"format": fmt, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.content


async def scan(client: httpx.AsyncClient, headers: dict[str, str], session_id: int, barcode: str) -> dict[str, Any]:
    # Repeated uses of one barcode on one session are deliberate here: confirm them (else 409 repeat_scan).
    response = await client.post(
        f"/api/sessions/{session_id}/scans", json={"barcode": barcode, "repeat": True}, headers=headers
    )
    assert response.status_code == 201, (barcode, response.text)
    body: dict[str, Any] = response.json()
    return body


async def assert_used(conn: asyncpg.Connection, body: dict[str, Any], lot_id: int, session_id: int) -> None:
    """The scan response and the usage row both name exactly `lot_id`, with no warning raised."""
    assert body["lot"]["id"] == lot_id
    assert body["warnings"] == []  # in particular no expiry_mismatch and no lot_not_received
    row = await conn.fetchrow("SELECT lot, session, quantity, voided_at FROM usage WHERE id = $1", body["usage_id"])
    assert row is not None
    assert (row["lot"], row["session"], row["quantity"], row["voided_at"]) == (lot_id, session_id, 1, None)


def variants(hri_text: str, plain_text: str, symbology: str) -> list[str]:
    """What a scanner may type for one label: HRI or raw data, with or without its symbology identifier."""
    return [hri_text, plain_text, symbology + hri_text, symbology + plain_text]


async def own_code_clinic(
    actors: dict[str, Actor], *, gtin: str | None = None, lot_number: str | None = None
) -> tuple[dict[str, Any], int]:
    """A product (GTIN optional) with a received lot and an open session at its location: (lot, session id)."""
    manager = actors["manager"]
    product = await f.product(manager, gtin=gtin)
    location = await f.location(manager)
    line = await f.receive(
        manager,
        location_id=location["id"],
        product_id=product["id"],
        lot_number=lot_number or f.unique("OWN").replace(" ", ""),
        expiry=f.in_days(120),
        quantity=10,
    )
    client = await clinical.create_client(actor=manager, full_name=f.unique("Client"))
    session = await clinical.create_session(actor=actors["staff"], client_id=client["id"], location_id=location["id"])
    return line["lot"], session["id"]


# --- GS1-128 labels (product with a unit GTIN) ----------------------------------------------------


@pytest.mark.parametrize("dpi", [300, 203])
async def test_gs1_png_label_scans_back_to_its_lot_in_every_text_form(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection, dpi: int
) -> None:
    clinic = await build(actors)
    image = png(await label(client, auth_headers["staff"], clinic.lot["id"], dpi=dpi))
    by_hri, by_plain = read(image), read(image, PLAIN_MODE)
    assert by_hri.format == zxingcpp.BarcodeFormat.Code128
    assert by_hri.content_type == zxingcpp.ContentType.GS1
    assert by_hri.symbology_identifier == "]C1"
    assert by_hri.text == hri(clinic.gtin, clinic.lot)
    assert by_plain.text == element_string(clinic.gtin, clinic.lot)
    session_id = clinic.session["id"]
    for text in variants(by_hri.text, by_plain.text, by_hri.symbology_identifier):
        body = await scan(client, auth_headers["staff"], session_id, text)
        await assert_used(conn, body, clinic.lot["id"], session_id)
    assert body["on_hand_after"] == 6


async def test_wedge_scanner_with_leading_fnc1_and_line_end_still_resolves(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    # Some scanners transmit the leading FNC1 as GS, and most end with CR/LF.
    clinic = await build(actors)
    plain = read(png(await label(client, auth_headers["staff"], clinic.lot["id"])), PLAIN_MODE).text
    for text in (GS + plain, plain + "\r\n", "]C1" + GS + plain + "\n"):
        body = await scan(client, auth_headers["staff"], clinic.session["id"], text)
        await assert_used(conn, body, clinic.lot["id"], clinic.session["id"])


@pytest.mark.parametrize(
    "lot_number",
    [
        "123456",  # digits only: could be read as more AIs
        "1728123110",  # spells "(17)281231(10)" in machine form
        "ab-12/3.x",  # lower case and punctuation of CSET 82
        "A" * 19 + "9",  # the longest lot AI (10) takes
        "X%41_?",  # characters biip or URL-style decoders might treat specially
        "21SN7",  # starts like AI (21) serial
    ],
)
async def test_gs1_label_round_trip_for_awkward_lot_numbers(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection, lot_number: str
) -> None:
    clinic = await build(actors)
    await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number=lot_number,
        expiry=f.in_days(250),
        quantity=4,
    )
    lot = await conn.fetchrow(
        "SELECT id, lot_number, expiry_date FROM lot WHERE product = $1 AND lot_number = $2",
        clinic.product["id"],
        lot_number,
    )
    assert lot is not None
    image = png(await label(client, auth_headers["staff"], lot["id"]))
    by_hri, by_plain = read(image), read(image, PLAIN_MODE)
    assert by_hri.text == hri(clinic.gtin, dict(lot))
    assert by_plain.text == element_string(clinic.gtin, dict(lot))
    for text in variants(by_hri.text, by_plain.text, "]C1"):
        response = await client.post(
            f"/api/sessions/{clinic.session['id']}/scans",
            json={"barcode": text, "repeat": True},  # several forms may be the same text: confirm repeats
            headers=auth_headers["staff"],
        )
        assert response.status_code == 201, (text, response.text)
        assert response.json()["lot"]["id"] == lot["id"], text


async def test_gs1_pdf_and_svg_labels_carry_the_same_code(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    pdf = await label(client, auth_headers["staff"], clinic.lot["id"], "pdf")
    found = read(pdfium.PdfDocument(pdf)[0].render(scale=600 / 72).to_pil(), PLAIN_MODE)  # a 600 dpi laser
    assert found.text == element_string(clinic.gtin, clinic.lot)
    svg = (await label(client, auth_headers["staff"], clinic.lot["id"], "svg")).decode()
    assert f"<title>{hri(clinic.gtin, clinic.lot)}</title>" in svg
    body = await scan(client, auth_headers["staff"], clinic.session["id"], found.text)
    await assert_used(conn, body, clinic.lot["id"], clinic.session["id"])


async def test_zpl_label_over_http_is_one_well_formed_gs1_label(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    for dpi in (203, 300):
        zpl = (await label(client, auth_headers["staff"], clinic.lot["id"], "zpl", dpi=dpi)).decode()
        assert zpl.startswith("^XA")
        assert zpl.rstrip().endswith("^XZ")
        assert zpl.count("^XA") == zpl.count("^XZ") == 1
        assert f"^FDLOT {clinic.lot['lot_number']}^FS" in zpl
        assert f"^FD{hri(clinic.gtin, clinic.lot)}^FS" in zpl
        assert f"^FD>;>801{clinic.gtin}17{clinic.lot['expiry_date']:%y%m%d}10" in zpl  # FNC1, then AIs


# --- Code 128 own-code labels ---------------------------------------------------------------------


async def test_own_code_label_without_gtin_scans_back_to_its_lot(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    lot, session_id = await own_code_clinic(actors)
    image = png(await label(client, auth_headers["staff"], lot["id"]))
    by_hri, by_plain = read(image), read(image, PLAIN_MODE)
    assert by_hri.symbology_identifier == "]C0"
    assert by_hri.text == by_plain.text == format_lot_code(lot["id"])
    for text in (by_hri.text, "]C0" + by_hri.text, by_hri.text.lower() + "\r\n"):
        body = await scan(client, auth_headers["staff"], session_id, text)
        await assert_used(conn, body, lot["id"], session_id)


async def test_gtin_product_with_non_gs1_lot_number_scans_back_by_own_code(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    gtin = f.make_gtin(777_001, prefix="376114")
    lot, session_id = await own_code_clinic(actors, gtin=gtin, lot_number="LOT 7|B")
    found = read(png(await label(client, auth_headers["staff"], lot["id"])))
    assert found.text == format_lot_code(lot["id"])
    body = await scan(client, auth_headers["staff"], session_id, "]C0" + found.text)
    await assert_used(conn, body, lot["id"], session_id)
    assert body["product"]["gtin"] == gtin


# --- sheets ---------------------------------------------------------------------------------------


def sheet_cells(pdf: bytes, layout: str, scale: float) -> list[Image.Image]:
    """Page 1 of a sheet, cut into its grid cells."""
    sheet = renderer.LAYOUTS[layout]
    image = pdfium.PdfDocument(pdf)[0].render(scale=scale).to_pil().convert("L")
    px = scale * 72 / 25.4
    cells = []
    for slot in range(sheet.per_page):
        row, column = divmod(slot, sheet.columns)
        left = (sheet.margin_left_mm + column * (sheet.label_w_mm + sheet.gap_x_mm)) * px
        top = (sheet.margin_top_mm + row * (sheet.label_h_mm + sheet.gap_y_mm)) * px
        cells.append(
            image.crop(
                (round(left), round(top), round(left + sheet.label_w_mm * px), round(top + sheet.label_h_mm * px))
            )
        )
    return cells


@pytest.mark.parametrize(("layout", "scale"), [("3x8", 3), ("5x13", 6)])
async def test_sheet_cells_decode_and_scan_back_to_their_lots(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    layout: str,
    scale: float,
) -> None:
    clinic: Clinic = await build(actors)
    own_lot, own_session = await own_code_clinic(actors)
    items = [{"lot_id": clinic.lot["id"], "copies": 3}, {"lot_id": own_lot["id"], "copies": 2}]
    response = await client.post(
        "/api/labels/sheet", json={"items": items, "layout": layout}, headers=auth_headers["staff"]
    )
    assert response.status_code == 200, response.text
    cells = sheet_cells(response.content, layout, scale)
    decoded = [zxingcpp.read_barcodes(cell, text_mode=PLAIN_MODE) for cell in cells]
    texts = [found[0].text if found else None for found in decoded]
    own = format_lot_code(own_lot["id"])
    assert texts == [element_string(clinic.gtin, clinic.lot)] * 3 + [own] * 2 + [None] * (len(cells) - 5)
    first = await scan(client, auth_headers["staff"], clinic.session["id"], "]C1" + str(texts[1]))
    await assert_used(conn, first, clinic.lot["id"], clinic.session["id"])
    second = await scan(client, auth_headers["staff"], own_session, str(texts[4]))
    await assert_used(conn, second, own_lot["id"], own_session)


async def test_hri_of_lot_containing_an_ai_in_parentheses_scans_back_to_its_lot(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    # "(" and ")" are GS1 characters, so the label is GS1-128; its machine form scans back correctly,
    # but the HRI text zxing returns by default can also be split at the "(21)" inside the lot.
    clinic = await build(actors)
    await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="X(21)5",
        expiry=f.in_days(250),
        quantity=4,
    )
    lot_id = await conn.fetchval(
        "SELECT id FROM lot WHERE product = $1 AND lot_number = 'X(21)5'", clinic.product["id"]
    )
    image = png(await label(client, auth_headers["staff"], lot_id))
    plain = read(image, PLAIN_MODE).text
    assert (await scan(client, auth_headers["staff"], clinic.session["id"], plain))["lot"]["id"] == lot_id
    by_hri = read(image).text
    response = await client.post(
        f"/api/sessions/{clinic.session['id']}/scans", json={"barcode": by_hri}, headers=auth_headers["staff"]
    )
    assert response.status_code == 201, response.text
    assert response.json()["lot"]["id"] == lot_id, response.json()
