"""Lot labels over HTTP: formats, content types, filenames, refusals, roles, sheets and the OpenAPI entry."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

import labels as renderer
from inventory.domain.labelcode import format_lot_code
from inventory.domain.models import Actor
from inventory.services import labels as label_service
from tests.support import factories as f

H = dict[str, dict[str, str]]
SVG = "{http://www.w3.org/2000/svg}"


async def make_lot(
    actors: dict[str, Actor],
    *,
    gtin: bool = True,
    lot_number: str | None = None,
    storage: str = "room",
    packs: list[tuple[str, int]] | None = None,
    brand_name: str | None = None,
    product_name: str | None = None,
) -> dict[str, Any]:
    """A received lot of a new product; returns the lot with its product and unit GTIN."""
    manager = actors["manager"]
    seed = next(_seeds)
    unit_gtin = f.make_gtin(seed, prefix="376111") if gtin else None
    brand = await f.brand(manager, brand_name)
    product = await f.product(
        manager, brand_id=brand["id"], gtin=unit_gtin, packs=packs, storage=storage, name=product_name
    )
    location = await f.location(manager)
    line = await f.receive(
        manager,
        location_id=location["id"],
        product_id=product["id"],
        lot_number=lot_number or f.unique("LB").replace(" ", ""),
        expiry=f.in_days(300),
        quantity=5,
    )
    return {**line["lot"], "product": product, "brand": brand, "gtin": unit_gtin, "location_id": location["id"]}


_seeds = iter(range(20_000, 10**6, 11))


def hri(lot: dict[str, Any]) -> str:
    """The GS1 human-readable text the lot's label must carry."""
    return f"(01){lot['gtin']}(17){lot['expiry_date']:%y%m%d}(10){lot['lot_number']}"


def decode_png(content: bytes) -> list[zxingcpp.Barcode]:
    """Every barcode zxing finds in a PNG."""
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(content)))


def svg_texts(content: bytes) -> list[str | None]:
    """The text lines of an SVG label."""
    return [element.text for element in ET.fromstring(content).iter(f"{SVG}text")]


async def get_label(client: httpx.AsyncClient, headers: dict[str, str], lot_id: int, **params: Any) -> httpx.Response:
    return await client.get(f"/api/lots/{lot_id}/label", params=params, headers=headers)


# --- one label ------------------------------------------------------------------------------------


async def test_png_label_of_gtin_product_is_gs1_128_with_filename(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    lot = await make_lot(actors)
    response = await get_label(client, auth_headers["staff"], lot["id"], format="png")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == f'inline; filename="lot-{lot["id"]}.png"'
    [found] = decode_png(response.content)
    assert found.symbology_identifier == "]C1"
    assert found.text == hri(lot)


async def test_format_defaults_to_png(client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]) -> None:
    lot = await make_lot(actors)
    response = await get_label(client, auth_headers["staff"], lot["id"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_product_without_gtin_gets_code_128_own_lot_code(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    lot = await make_lot(actors, gtin=False)
    response = await get_label(client, auth_headers["staff"], lot["id"], format="png")
    [found] = decode_png(response.content)
    assert found.symbology_identifier == "]C0"
    assert found.text == format_lot_code(lot["id"])


async def test_box_gtin_never_goes_on_the_unit_label(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    # Only a box of 10 has a GTIN: a scan of the label must not count as a box, so it carries the own code.
    lot = await make_lot(actors, gtin=False, packs=[(f.make_gtin(next(_seeds), prefix="376112"), 10)])
    [found] = decode_png((await get_label(client, auth_headers["staff"], lot["id"])).content)
    assert found.text == format_lot_code(lot["id"])


async def test_lot_number_outside_gs1_falls_back_to_own_code_even_with_gtin(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    lot = await make_lot(actors, lot_number=f"B {next(_seeds)}#1")  # space and '#' are not GS1 characters
    response = await get_label(client, auth_headers["staff"], lot["id"], format="png")
    [found] = decode_png(response.content)
    assert found.text == format_lot_code(lot["id"])
    assert f"LOT {lot['lot_number']}" in svg_texts(
        (await get_label(client, auth_headers["staff"], lot["id"], format="svg")).content
    )


async def test_svg_label_prints_brand_product_lot_expiry_and_storage(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    lot = await make_lot(actors, storage="fridge", brand_name=f.unique("Filorga"), product_name="NCEF & <Shot>")
    response = await get_label(client, auth_headers["staff"], lot["id"], format="svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["content-disposition"] == f'inline; filename="lot-{lot["id"]}.svg"'
    assert svg_texts(response.content) == [
        lot["brand"]["name"],
        "NCEF & <Shot>",
        f"LOT {lot['lot_number']}",
        f"EXP {lot['expiry_date']:%Y-%m-%d}",
        "Store at 2\u20138 °C",
        hri(lot),
    ]


async def test_room_storage_note(client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]) -> None:
    lot = await make_lot(actors, storage="room")
    texts = svg_texts((await get_label(client, auth_headers["staff"], lot["id"], format="svg")).content)
    assert "Store below 25 °C" in texts


async def test_pdf_label_is_one_page_that_decodes(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    lot = await make_lot(actors)
    response = await get_label(client, auth_headers["staff"], lot["id"], format="pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'inline; filename="lot-{lot["id"]}.pdf"'
    document = pdfium.PdfDocument(response.content)
    assert len(document) == 1
    # As a 600 dpi laser prints it. (Anti-aliased at exactly 300 dpi, ~3 in 4 GS1 labels with 5-character lots
    # do not decode: labels/ centres the symbol at a fractional dot; see the labels report.)
    [found] = zxingcpp.read_barcodes(document[0].render(scale=600 / 72).to_pil())
    assert found.text == hri(lot)


@pytest.mark.parametrize(("dpi", "width"), [(None, 449), (300, 449), (203, 304)])
async def test_zpl_label_structure_and_density(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], dpi: int | None, width: int
) -> None:
    lot = await make_lot(actors, gtin=False)
    params = {"format": "zpl"} | ({"dpi": dpi} if dpi else {})
    response = await get_label(client, auth_headers["staff"], lot["id"], **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zpl"
    assert response.headers["content-disposition"] == f'attachment; filename="lot-{lot["id"]}.zpl"'
    zpl = response.content.decode()
    assert zpl.startswith("^XA")
    assert zpl.rstrip().endswith("^XZ")
    assert zpl.count("^XA") == zpl.count("^XZ") == 1
    assert f"^FDLOT {lot['lot_number']}^FS" in zpl
    assert f"^PW{width}" in zpl  # 38 mm at 300 or 203 dpi
    assert re.search(r"\^BCN,\d+,N,N,N,N\^FD.+\^FS", zpl)


async def test_zpl_gs1_label_carries_fnc1_and_the_element_string(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    lot = await make_lot(actors, lot_number=f"Z{next(_seeds)}")
    zpl = (await get_label(client, auth_headers["staff"], lot["id"], format="zpl")).content.decode()
    field = re.search(r"\^BCN,\d+,N,N,N,N\^FD(.*?)\^FS", zpl)
    assert field is not None
    assert field.group(1).startswith(">;>8")  # subset C, FNC1: GS1-128
    assert f"^FD{hri(lot)}^FS" in zpl  # the human-readable line


async def test_png_dpi_sets_the_resolution(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    lot = await make_lot(actors, gtin=False)
    at_300 = Image.open(io.BytesIO((await get_label(client, auth_headers["staff"], lot["id"], dpi=300)).content))
    at_600 = Image.open(io.BytesIO((await get_label(client, auth_headers["staff"], lot["id"], dpi=600)).content))
    assert at_300.size == (449, 248)
    assert at_600.size == (898, 496)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"format": "gif"}, "validation_error"),
        ({"format": "PNG"}, "validation_error"),
        ({"format": ""}, "validation_error"),
        ({"format": "png", "dpi": "abc"}, "validation_error"),
        ({"format": "png", "dpi": 50}, "validation_error"),
        ({"format": "png", "dpi": 5000}, "validation_error"),
        ({"format": "zpl", "dpi": 400}, "label_format_invalid"),
        ({"format": "zpl", "dpi": 150}, "label_format_invalid"),
    ],
)
async def test_bad_format_or_dpi_is_422_problem(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], params: dict[str, Any], code: str
) -> None:
    lot = await make_lot(actors)
    response = await get_label(client, auth_headers["staff"], lot["id"], **params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


@pytest.mark.parametrize("lot_id", ["2147483647", "99999999999999999999", "0"])
async def test_unknown_lot_is_404_problem(client: httpx.AsyncClient, auth_headers: H, lot_id: str) -> None:
    response = await client.get(f"/api/lots/{lot_id}/label?format=png", headers=auth_headers["staff"])
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"


async def test_non_numeric_or_negative_lot_id_is_not_a_500(client: httpx.AsyncClient, auth_headers: H) -> None:
    for path in ("/api/lots/abc/label", "/api/lots/-5/label", "/api/lots/1.5/label"):
        response = await client.get(path, headers=auth_headers["staff"])
        assert response.status_code in (404, 422), (path, response.text)


async def test_label_needs_a_token_and_staff_may_print(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    lot = await make_lot(actors)
    anonymous = await client.get(f"/api/lots/{lot['id']}/label")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "unauthorized"
    bad_token = await client.get(f"/api/lots/{lot['id']}/label", headers={"Authorization": "Bearer nonsense"})
    assert bad_token.status_code == 401
    sheet = await client.post("/api/labels/sheet", json={"items": [{"lot_id": lot["id"], "copies": 1}]})
    assert sheet.status_code == 401
    for role in ("staff", "manager", "admin"):
        assert (await get_label(client, auth_headers[role], lot["id"])).status_code == 200, role


async def test_receipt_label_url_serves_the_received_lots_label(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    gtin = f.make_gtin(next(_seeds), prefix="376113")
    product = await f.product(actors["manager"], gtin=gtin)
    location = await f.location(actors["manager"])
    body = {
        "location_id": location["id"],
        "lines": [
            {"quantity": 3, "product_id": product["id"], "lot_number": "RCV77", "expiry_date": f"{f.in_days(90)}"}
        ],
    }
    receipt = await client.post("/api/receipts", json=body, headers=auth_headers["staff"])
    assert receipt.status_code == 201, receipt.text
    [line] = receipt.json()["lines"]
    assert line["label_url"] == f"/api/lots/{line['lot']['id']}/label?format=png"
    response = await client.get(line["label_url"], headers=auth_headers["staff"])
    assert response.status_code == 200
    [found] = decode_png(response.content)
    assert found.text == f"(01){gtin}(17){f.in_days(90):%y%m%d}(10)RCV77"


# --- sheets ---------------------------------------------------------------------------------------


def sheet_cells(pdf: bytes, layout: str, scale: float, page: int = 0) -> list[Image.Image]:
    """One image per grid cell of a sheet page, cropped at the layout's positions."""
    sheet = renderer.LAYOUTS[layout]
    image = pdfium.PdfDocument(pdf)[page].render(scale=scale).to_pil().convert("L")
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


def cell_texts(cells: list[Image.Image]) -> list[str | None]:
    """The one barcode text of each cell, None where there is none."""
    texts: list[str | None] = []
    for cell in cells:
        found = zxingcpp.read_barcodes(cell)
        assert len(found) <= 1
        texts.append(found[0].text if found else None)
    return texts


async def post_sheet(client: httpx.AsyncClient, headers: dict[str, str], body: Any) -> httpx.Response:
    return await client.post("/api/labels/sheet", json=body, headers=headers)


async def test_sheet_prints_copies_in_order_on_3x8(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    gs1, own = await make_lot(actors), await make_lot(actors, gtin=False)
    # For a 300 dpi printer, read back at 300 dpi: whole-dot modules decode whatever the lot's bars are (a free
    # module of 0.25 mm rasterised at 216 dpi, 2.1 pixels, failed to read for some lot numbers).
    body = {
        "items": [
            {"lot_id": gs1["id"], "copies": 5},
            {"lot_id": own["id"], "copies": 2},
            {"lot_id": gs1["id"], "copies": 1},
        ],
        "dpi": 300,
    }
    response = await post_sheet(client, auth_headers["staff"], body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'inline; filename="labels-3x8.pdf"'
    assert len(pdfium.PdfDocument(response.content)) == 1
    texts = cell_texts(sheet_cells(response.content, "3x8", scale=300 / 72))
    assert texts == [hri(gs1)] * 5 + [format_lot_code(own["id"])] * 2 + [hri(gs1)] + [None] * 16


async def test_sheet_5x13_paginates(client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]) -> None:
    own = await make_lot(actors, gtin=False)
    body = {"items": [{"lot_id": own["id"], "copies": 66}], "layout": "5x13"}
    response = await post_sheet(client, auth_headers["staff"], body)
    assert response.status_code == 200, response.text
    assert len(pdfium.PdfDocument(response.content)) == 2
    page_2 = cell_texts(sheet_cells(response.content, "5x13", scale=6, page=1))
    assert page_2 == [format_lot_code(own["id"])] + [None] * 64


async def test_copies_default_to_one(client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]) -> None:
    own = await make_lot(actors, gtin=False)
    response = await post_sheet(client, auth_headers["staff"], {"items": [{"lot_id": own["id"]}]})
    assert response.status_code == 200
    assert cell_texts(sheet_cells(response.content, "3x8", scale=3))[:2] == [format_lot_code(own["id"]), None]


async def test_sheet_with_unknown_lot_is_404_naming_every_missing_lot(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    own = await make_lot(actors, gtin=False)
    drawn: list[object] = []

    async def spy(*args: object, **kwargs: object) -> bytes:
        drawn.append(args)
        return b""

    monkeypatch.setattr(label_service, "_off_loop", spy)
    body = {
        "items": [
            {"lot_id": own["id"], "copies": 1},
            {"lot_id": 2_147_483_000, "copies": 1},
            {"lot_id": 2_147_483_001, "copies": 3},
        ]
    }
    response = await post_sheet(client, auth_headers["staff"], body)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["lot_ids"] == [2_147_483_000, 2_147_483_001]
    assert drawn == []  # nothing rendered


@pytest.mark.parametrize(
    ("items", "layout", "code"),
    [
        ([], "3x8", "validation_error"),
        ([{"lot_id": "LOT", "copies": 0}], "3x8", "validation_error"),
        ([{"copies": 1}], "3x8", "validation_error"),
        ([{"lot_id": 0, "copies": 1}], "3x8", "validation_error"),  # ids start at 1
        ([{"lot_id": -3, "copies": 1}], "3x8", "validation_error"),
        ([{"LOT": 0, "copies": 0}], "3x8", "validation_error"),
        ([{"lot_id": "OWN", "copies": 1, "color": "red"}], "3x8", "validation_error"),
        ([{"lot_id": "OWN", "copies": 0}], "3x8", "validation_error"),
        ([{"lot_id": "OWN", "copies": -1}], "3x8", "validation_error"),
        ([{"lot_id": "OWN", "copies": 501}], "3x8", "validation_error"),
        ([{"lot_id": "OWN", "copies": 1.5}], "3x8", "validation_error"),
        ([{"lot_id": "OWN", "copies": 1}], "4x10", "validation_error"),
        ([{"lot_id": "OWN", "copies": 1}], "", "validation_error"),
        ([{"lot_id": "OWN", "copies": 500}] * 4 + [{"lot_id": "OWN", "copies": 1}], "3x8", "label_sheet_too_large"),
        ([{"lot_id": "OWN", "copies": 1}] * 501, "3x8", "validation_error"),
    ],
)
async def test_bad_sheet_request_is_422_problem(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    items: list[dict[str, Any]],
    layout: str,
    code: str,
) -> None:
    own = await make_lot(actors, gtin=False)
    items = [{**item, "lot_id": own["id"]} if item.get("lot_id") == "OWN" else item for item in items]
    response = await post_sheet(client, auth_headers["staff"], {"items": items, "layout": layout})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


async def test_exactly_2000_labels_is_allowed(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    own = await make_lot(actors, gtin=False)
    body = {"items": [{"lot_id": own["id"], "copies": 500}] * 4, "layout": "5x13"}
    response = await post_sheet(client, auth_headers["staff"], body)
    assert response.status_code == 200, response.text
    assert len(pdfium.PdfDocument(response.content)) == 31  # ceil(2000 / 65)


async def test_sheet_body_that_is_not_an_object_is_422(client: httpx.AsyncClient, auth_headers: H) -> None:
    bodies: list[Any] = [[], "x", None, {"items": None}, {"items": {"lot_id": 1}}]
    for body in bodies:
        response = await post_sheet(client, auth_headers["staff"], body)
        assert response.status_code == 422, (body, response.text)


# --- rendering off the event loop, OpenAPI --------------------------------------------------------


async def test_rendering_runs_in_another_process(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    lot = await make_lot(actors)
    calls: list[object] = []
    real = label_service._off_loop

    async def spy(function: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(function)
        return await real(function, *args, **kwargs)

    monkeypatch.setattr(label_service, "_off_loop", spy)
    assert (await get_label(client, auth_headers["staff"], lot["id"])).status_code == 200
    sheet = await post_sheet(client, auth_headers["staff"], {"items": [{"lot_id": lot["id"], "copies": 2}]})
    assert sheet.status_code == 200
    assert calls == [renderer.render_label, renderer.render_sheet]
    assert await real(os.getpid) != os.getpid()


async def test_a_dead_rendering_process_is_replaced(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    lot = await make_lot(actors, gtin=False)
    worker = await label_service._off_loop(os.getpid)
    os.kill(worker, signal.SIGKILL)  # the test's own rendering process
    for _ in range(50):  # until the pool has noticed
        if getattr(label_service._processes, "_broken", True):
            break
        await asyncio.sleep(0.02)
    response = await get_label(client, auth_headers["staff"], lot["id"])
    assert response.status_code == 200
    assert decode_png(response.content)[0].text == format_lot_code(lot["id"])
    assert await label_service._off_loop(os.getpid) not in (worker, os.getpid())


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


SERVER_THAT_DIES = """
import asyncio, os, signal, sys
from inventory.services import labels
worker = asyncio.run(labels._off_loop(os.getpid))
print(worker, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no atexit, no pool shutdown: as uvicorn ends on SIGTERM
"""


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_rendering_process_exits_when_the_server_process_dies() -> None:
    server = subprocess.Popen([sys.executable, "-c", SERVER_THAT_DIES], stdout=subprocess.PIPE, text=True)
    worker = 0
    try:
        assert server.stdout is not None
        worker = int(server.stdout.readline())  # not read(): the worker holds the pipe open while it lives
        assert server.wait(timeout=60) == -signal.SIGKILL
        deadline = time.monotonic() + 5
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(worker)
    finally:
        if worker and _alive(worker):
            os.kill(worker, signal.SIGKILL)  # this test's own orphan: never leave it behind
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()


def test_route_enums_match_the_renderer() -> None:
    from typing import get_args

    from inventory.api import routes_labels

    assert get_args(routes_labels.LabelFormat) == renderer.FORMATS
    assert set(get_args(routes_labels.SheetLayout)) == set(renderer.LAYOUTS)
    assert set(routes_labels.LABEL_MEDIA_TYPES) == {renderer.content_type(fmt) for fmt in renderer.FORMATS}


async def test_openapi_documents_label_routes_with_media_types(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    label = paths["/api/lots/{lot_id}/label"]["get"]
    assert label["operationId"] == "getLotLabel"
    assert set(label["responses"]["200"]["content"]) == {
        "image/png",
        "image/svg+xml",
        "application/pdf",
        "application/zpl",
    }
    assert {p["name"] for p in label["parameters"]} == {"lot_id", "format", "dpi", "template", "symbology"}
    assert "application/problem+json" in label["responses"]["404"]["content"]
    sheet = paths["/api/labels/sheet"]["post"]
    assert sheet["operationId"] == "renderLabelSheet"
    assert set(sheet["responses"]["200"]["content"]) == {"application/pdf"}
    assert "application/problem+json" in sheet["responses"]["422"]["content"]
