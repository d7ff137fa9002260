"""Every label template x symbology x format, at the printer's dpi, scans back to exactly its lot.

PNG and PDF are rasterised at the target dpi (the PDF with pypdfium2, as a printer's RIP would) and decoded
by zxing-cpp; the decoded text is posted to the scan endpoint and must record that lot. SVG is checked on its
dot grid; ZPL structurally (^BX with FNC1 first, or ^BC), since no printer is attached.
"""

from __future__ import annotations

import io
import re
from typing import Any

import asyncpg
import httpx
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

import labels as renderer
from inventory.domain.models import Actor
from tests.support.clinic import Clinic, build

H = dict[str, dict[str, str]]
SINGLE = [t.name for t in renderer.TEMPLATES.values() if t.kind != "sheet"]
SHEETS = [t.sheet for t in renderer.TEMPLATES.values() if t.sheet]
SYMBOLOGIES = [*renderer.SYMBOLOGIES, None]
# The readers the symbols must give: DataMatrix with FNC1 first (]d2), GS1-128 (]C1), plain Code 128 (]C0).
IDENTIFIERS = {"datamatrix": "]d2", "gs1-128": "]C1", "code128": "]C0"}


def decoded(image: Image.Image) -> zxingcpp.Barcode:
    """The one barcode in the image, as a scanner transmits it (raw data, GS separators)."""
    found = zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)
    assert len(found) == 1, f"{len(found)} barcodes found"
    return found[0]


def raster(content: bytes, fmt: str, dpi: int) -> Image.Image:
    """A PNG as it is, or the PDF's first page rendered at `dpi` without anti-aliasing, as a printer does."""
    if fmt == "png":
        return Image.open(io.BytesIO(content))
    page = pdfium.PdfDocument(content)[0]
    image: Image.Image = page.render(scale=dpi / 72, no_smoothpath=True, no_smoothtext=True).to_pil()
    return image


async def get_label(client: httpx.AsyncClient, headers: dict[str, str], lot_id: int, **params: Any) -> httpx.Response:
    query = {k: v for k, v in params.items() if v is not None}
    return await client.get(f"/api/lots/{lot_id}/label", params=query, headers=headers)


async def scanned_lot(client: httpx.AsyncClient, headers: dict[str, str], clinic: Clinic, text: str) -> int:
    response = await client.post(
        f"/api/sessions/{clinic.session['id']}/scans", json={"barcode": text, "repeat": True}, headers=headers
    )
    assert response.status_code == 201, (text, response.text)
    lot_id: int = response.json()["lot"]["id"]
    return lot_id


def expected_identifier(template: str, symbology: str | None) -> str:
    if symbology is not None:
        return IDENTIFIERS[symbology]
    return IDENTIFIERS[renderer.TEMPLATES[template].symbology]


@pytest.mark.parametrize("dpi", [203, 300, 600])
@pytest.mark.parametrize("symbology", SYMBOLOGIES)
@pytest.mark.parametrize("template", SINGLE)
async def test_each_single_label_scans_back_to_its_lot_at_the_printers_dpi(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    template: str,
    symbology: str | None,
    dpi: int,
) -> None:
    clinic = await build(actors, on_hand=20)
    staff = auth_headers["staff"]
    formats = ["png", "pdf"] if dpi != 600 else ["png"]
    for fmt in formats:
        response = await get_label(
            client, staff, clinic.lot["id"], format=fmt, dpi=dpi, template=template, symbology=symbology
        )
        if response.status_code == 422:
            # Only a linear symbol that cannot keep a readable module on this width is refused, and it says so.
            assert response.json()["code"] == "label_unrenderable", response.text
            assert symbology in ("gs1-128", "code128"), response.text
            assert "use datamatrix" in response.json()["detail"]
            return
        assert response.status_code == 200, response.text
        found = decoded(raster(response.content, fmt, dpi))
        assert found.symbology_identifier == expected_identifier(template, symbology), (fmt, found.text)
        assert await scanned_lot(client, staff, clinic, found.text) == clinic.lot["id"]
        if found.symbology_identifier != "]C0":
            assert clinic.lot["lot_number"] in found.text


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("layout", SHEETS)
async def test_each_sheet_scans_back_cell_by_cell(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], layout: str, dpi: int
) -> None:
    clinic = await build(actors, on_hand=20)
    staff = auth_headers["staff"]
    response = await client.post(
        "/api/labels/sheet",
        json={"items": [{"lot_id": clinic.lot["id"], "copies": 2}], "layout": layout, "dpi": dpi},
        headers=staff,
    )
    assert response.status_code == 200, response.text
    page = raster(response.content, "pdf", dpi)
    sheet = renderer.LAYOUTS[layout]
    px = dpi / 25.4
    # The first cell alone, cut out as a person peels one label off the sheet.
    box = (
        round(sheet.margin_left_mm * px),
        round(sheet.margin_top_mm * px),
        round((sheet.margin_left_mm + sheet.label_w_mm) * px),
        round((sheet.margin_top_mm + sheet.label_h_mm) * px),
    )
    found = decoded(page.crop(box))
    assert await scanned_lot(client, staff, clinic, found.text) == clinic.lot["id"]


@pytest.mark.parametrize("dpi", [203, 300, 600])
async def test_svg_and_pdf_modules_are_whole_printer_dots(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], dpi: int
) -> None:
    clinic = await build(actors)
    response = await get_label(
        client, auth_headers["staff"], clinic.lot["id"], format="svg", dpi=dpi, template="ampoule"
    )
    svg = response.text
    path = re.search(r'<path d="([^"]+)"', svg)
    assert path is not None
    dot = 25.4 / dpi
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.group(1))]
    # M x y h w v h h -w z: every coordinate and length lies on the dot grid (to the SVG's micrometre).
    assert numbers
    assert all(abs(n / dot - round(n / dot)) * dot < 0.0015 for n in numbers), dpi


@pytest.mark.parametrize("dpi", [203, 300, 600])
async def test_zpl_draws_datamatrix_with_bx_fnc1_first_and_the_element_string(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], dpi: int
) -> None:
    clinic = await build(actors)
    response = await get_label(
        client, auth_headers["staff"], clinic.lot["id"], format="zpl", dpi=dpi, template="ampoule"
    )
    assert response.status_code == 200, response.text
    zpl = response.text
    field = re.search(r"\^BXN,(\d+),200,(\d+),(\d+),,_\^FD([^^]*)\^FS", zpl)
    assert field is not None, zpl
    module_dots, columns, rows, data = field.groups()
    assert int(module_dots) >= 2  # at least 0.25 mm at 203 dpi
    assert (columns, rows) == ("18", "18") or int(columns) >= 18
    element = f"01{clinic.gtin}17{clinic.lot['expiry_date']:%y%m%d}10{clinic.lot['lot_number']}"
    assert data == "_1" + element
    assert "^BC" not in zpl
    box = await get_label(client, auth_headers["staff"], clinic.lot["id"], format="zpl", dpi=dpi, template="box")
    assert "^BCN," in box.text and ">;>8" in box.text and "^BX" not in box.text


async def test_the_templates_are_listed_with_their_sizes(client: httpx.AsyncClient, auth_headers: H) -> None:
    response = await client.get("/api/labels/templates", headers=auth_headers["staff"])
    assert response.status_code == 200
    items = {t["name"]: t for t in response.json()["items"]}
    assert {"ampoule", "box", "shelf", "roll-25x13", "roll-38x25", "roll-50x25", "sheet-5x13"} <= set(items)
    ampoule = items["ampoule"]
    assert (ampoule["width_mm"], ampoule["height_mm"], ampoule["symbology"]) == (25.0, 10.0, "datamatrix")
    assert items["sheet-5x13"]["per_page"] == 65
    assert items["box"]["symbology"] == "gs1-128"


async def test_an_unknown_template_or_symbology_or_a_sheet_template_is_422(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    for params in ({"template": "poster"}, {"symbology": "qr"}, {"template": "sheet-5x13"}):
        response = await get_label(client, auth_headers["staff"], clinic.lot["id"], **params)
        assert response.status_code == 422, params
        assert response.json()["code"] in ("label_format_invalid", "validation_error")
