"""/ui/labels over HTTP: find lots by number or product, tick them, print a sheet or one label; refusals by field."""

from __future__ import annotations

import io
import re

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from inventory.domain.models import Actor
from tests.support.clinic import Clinic, build
from tests.support.pages import Pages, field_error

FR = {"Accept-Language": "fr"}


@pytest.fixture
async def clinic(actors: dict[str, Actor]) -> Clinic:
    return await build(actors, on_hand=4)


@pytest.fixture
def staff(pages: Pages, page_cookies: dict[str, str]) -> Pages:
    return pages.sign_in_as(page_cookies["staff"])


def listed(page: str) -> list[int]:
    """The lot ids the page offers to tick."""
    return [int(x) for x in re.findall(r'name="lot\[\]" value="(\d+)"', page)]


async def test_lots_are_found_by_lot_number_or_product_and_the_newest_are_offered(
    staff: Pages, clinic: Clinic, actors: dict[str, Actor]
) -> None:
    other = await build(actors, on_hand=2)
    newest = await staff.get("/ui/labels")
    assert newest.status_code == 200
    assert listed(newest.text)[:2] == [other.lot["id"], clinic.lot["id"]]
    by_lot = await staff.get("/ui/labels", params={"q": clinic.lot["lot_number"].lower()})
    assert listed(by_lot.text) == [clinic.lot["id"]]
    by_product = await staff.get("/ui/labels", params={"q": other.product["name"]})
    assert listed(by_product.text) == [other.lot["id"]]
    nothing = await staff.get("/ui/labels", params={"q": "100%_none"}, headers=FR)
    assert listed(nothing.text) == []
    assert "Aucun lot ne correspond" in nothing.text
    ticked = await staff.get("/ui/labels", params={"q": other.product["name"], "lot": clinic.lot["id"]})
    assert listed(ticked.text) == [clinic.lot["id"], other.lot["id"]]  # a lot named in the link stays offered
    assert re.search(rf'value="{clinic.lot["id"]}" checked', ticked.text)


async def test_a_sheet_of_two_lots_prints_as_one_pdf_whose_labels_scan(
    staff: Pages, clinic: Clinic, actors: dict[str, Actor]
) -> None:
    other = await build(actors, on_hand=2)
    response = await staff.post(
        "/ui/labels", {"lot[]": [str(clinic.lot["id"]), str(other.lot["id"])], "template": "sheet-3x8", "copies": "2"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="labels-3x8.pdf"'
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    page = pdfium.PdfDocument(response.content)[0].render(scale=300 / 72).to_pil()
    found = {code.text for code in zxingcpp.read_barcodes(page, text_mode=zxingcpp.TextMode.HRI)}
    assert f"(01){clinic.gtin}(17){clinic.lot['expiry_date']:%y%m%d}(10){clinic.lot['lot_number']}" in found
    assert f"(01){other.gtin}(17){other.lot['expiry_date']:%y%m%d}(10){other.lot['lot_number']}" in found


@pytest.mark.parametrize(
    ("template", "fmt", "media_type", "magic"),
    [
        ("standard", "png", "image/png", b"\x89PNG"),
        ("standard", "pdf", "application/pdf", b"%PDF"),
        ("ampoule", "zpl", "application/zpl", b"^XA"),
        ("box", "svg", "image/svg+xml", b"<"),
        ("ampoule", "png", "image/png", b"\x89PNG"),
    ],
)
async def test_one_label_downloads_in_each_format(
    staff: Pages, clinic: Clinic, template: str, fmt: str, media_type: str, magic: bytes
) -> None:
    response = await staff.post(
        "/ui/labels",
        {"lot[]": [str(clinic.lot["id"])], "template": template, "format": fmt, "dpi": "203", "copies": "1"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert response.content.startswith(magic)
    if fmt == "png":
        [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
        assert clinic.lot["lot_number"] in code.text


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"template": "sheet-3x8", "copies": "1"}, "lots", "Cochez au moins un lot."),
        ({"lot": True, "template": "sheet-3x8", "copies": "0"}, "copies", "Saisissez un nombre d’au moins 1."),
        ({"lot": True, "template": "sheet-3x8", "copies": ""}, "copies", "Ce champ est obligatoire."),
        ({"lot": True, "template": "sheet-3x8", "copies": "501"}, "copies", "Saisissez un nombre d’au plus 500."),
        ({"lot": True, "template": "label-gif", "copies": "1"}, "template", "Choisissez l’une des options."),
        ({"lot": True, "template": "", "copies": "1"}, "template", "Ce champ est obligatoire."),
        ({"lot": True, "template": "ampoule", "copies": "3"}, "template", "Ce modèle imprime une étiquette"),
        ({"lot": "gone", "template": "sheet-3x8", "copies": "1"}, "lots", "Cela n’existe pas (ou plus)."),
    ],
)
async def test_bad_input_is_refused_next_to_its_field_in_french(
    staff: Pages, clinic: Clinic, form: dict[str, object], field: str, message: str
) -> None:
    data: dict[str, object] = {k: v for k, v in form.items() if k != "lot"}
    if form.get("lot") is True:
        data["lot[]"] = [str(clinic.lot["id"])]
    elif form.get("lot") == "gone":
        data["lot[]"] = ["2000000000"]
    response = await staff.post("/ui/labels", {**data, "q": clinic.lot["lot_number"]}, headers=FR)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert (field_error(response.text, field) or "").startswith(message), response.text
    assert f'value="{clinic.lot["lot_number"]}"' in response.text  # the search is kept


async def test_many_labels_are_refused_before_anything_is_drawn(staff: Pages, actors: dict[str, Actor]) -> None:
    lots = [(await build(actors, on_hand=1)).lot["id"] for _ in range(5)]
    response = await staff.post(
        "/ui/labels", {"lot[]": [str(x) for x in lots], "template": "sheet-5x13", "copies": "500"}, headers=FR
    )
    assert response.status_code == 422
    assert field_error(response.text, "copies") == "Trop d’étiquettes pour une planche ; imprimez-en moins à la fois."
    assert all(re.search(rf'value="{x}" checked', response.text) for x in lots)


async def test_the_page_needs_a_sign_in(pages: Pages) -> None:
    response = await pages.get("/ui/labels")
    assert response.status_code == 303
