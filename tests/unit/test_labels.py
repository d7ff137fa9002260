"""Unit tests for the label renderer: every format is decoded or parsed back, not just produced."""

from __future__ import annotations

import datetime
import io
import re
import time
import xml.etree.ElementTree as ET

import pypdfium2 as pdfium
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from labels import (
    FORMATS,
    LAYOUTS,
    LabelData,
    barcode_payload,
    content_type,
    render_label,
    render_sheet,
)
from labels.gs1 import CSET82, element_string, symbol_for
from labels.layout import MIN_MODULE_MM, Bars, plan
from labels.symbols import Symbol
from labels.zpl import field_data

GTIN = "03760001234565"  # valid check digit
EXPIRY = datetime.date(2028, 12, 31)
HRI = "(01)03760001234565(17)281231(10)A1B2"
ELEMENT_STRING = "01037600012345651728123110A1B2"  # what a keyboard-wedge scanner types

GS1_LABEL = LabelData(
    brand="Filorga",
    product="NCEF-Shot 5x3ml",
    lot_number="A1B2",
    expiry=EXPIRY,
    gtin=GTIN,
    storage_note="Store at 2-8 °C",
)
OWN_LABEL = LabelData(
    brand="Dr. Kim",
    product="PN Rejuran HB plus",
    lot_number="R-2207",
    expiry=datetime.date(2027, 1, 5),
    own_code="MIL12345",
)


def linear(data: LabelData) -> Symbol:
    """The label's default (linear) symbol."""
    symbol = symbol_for(data)
    assert isinstance(symbol, Symbol)
    return symbol


def decode(image: Image.Image, text_mode: zxingcpp.TextMode = zxingcpp.TextMode.HRI) -> list[zxingcpp.Barcode]:
    """Every barcode zxing finds in `image`."""
    return zxingcpp.read_barcodes(image, text_mode=text_mode)


def png(data: LabelData, dpi: int = 300) -> Image.Image:
    return Image.open(io.BytesIO(render_label(data, "png", dpi=dpi)))


def sheet_cells(pdf: bytes, layout: str, scale: float, page: int = 0) -> list[Image.Image]:
    """One image per grid cell of a rendered sheet page, cropped at the layout's positions."""
    sheet = LAYOUTS[layout]
    image = pdfium.PdfDocument(pdf)[page].render(scale=scale).to_pil().convert("L")
    px = scale * 72 / 25.4
    cells = []
    for slot in range(sheet.per_page):
        row, column = divmod(slot, sheet.columns)
        left = (sheet.margin_left_mm + column * (sheet.label_w_mm + sheet.gap_x_mm)) * px
        top = (sheet.margin_top_mm + row * (sheet.label_h_mm + sheet.gap_y_mm)) * px
        box = (
            round(left),
            round(top),
            round(left + sheet.label_w_mm * px),
            round(top + sheet.label_h_mm * px),
        )
        cells.append(image.crop(box))
    return cells


def cell_texts(cells: list[Image.Image]) -> list[str | None]:
    """The single barcode text of each cell, None where nothing decodes."""
    texts: list[str | None] = []
    for cell in cells:
        found = decode(cell)
        assert len(found) <= 1
        texts.append(found[0].text if found else None)
    return texts


def unzpl(field: str) -> str:
    """Read ZPL ^BC mode N field data back to characters; FNC1 becomes "<FNC1>"."""
    out: list[str] = []
    subset = "B"  # ZPL's default when no start code is given
    i = 0
    while i < len(field):
        if field[i] == ">":
            code = field[i + 1]
            i += 2
            if code in "9:;":
                subset = {"9": "A", ":": "B", ";": "C"}[code]
            elif code in "567":
                subset = {"5": "C", "6": "B", "7": "A"}[code]
            elif code == "8":
                out.append("<FNC1>")
            else:
                out.append({"0": ">", "<": "^", "=": "~"}[code])
        elif subset == "C":
            pair = field[i : i + 2]
            assert re.fullmatch(r"\d\d", pair), f"bad subset C pair {pair!r}"
            out.append(pair)
            i += 2
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


# --- payload and symbol choice -------------------------------------------------------------------


def test_payload_is_gs1_hri_in_ai_order_with_lot_last() -> None:
    assert barcode_payload(GS1_LABEL) == HRI
    assert element_string(GS1_LABEL) == ELEMENT_STRING


def test_payload_is_own_code_without_gtin() -> None:
    assert barcode_payload(OWN_LABEL) == "MIL12345"
    assert symbol_for(OWN_LABEL).kind == "code128"


def test_cset82_has_82_characters() -> None:
    assert len(CSET82) == 82


def test_unrepresentable_lot_falls_back_to_own_code() -> None:
    for lot in ("Лот 7", "A B", "X" * 21, ""):
        data = LabelData("B", "P", lot, EXPIRY, gtin=GTIN, own_code="MIL12345")
        assert barcode_payload(data) == "MIL12345"
        found = decode(png(data))
        assert [(b.format, b.text) for b in found] == [(zxingcpp.BarcodeFormat.Code128, "MIL12345")]


@pytest.mark.parametrize("lot", ["Лот 7", "A B", "X" * 21, "A#1", ""])
def test_unrepresentable_lot_without_own_code_is_refused(lot: str) -> None:
    data = LabelData("B", "P", lot, EXPIRY, gtin=GTIN)
    with pytest.raises(ValueError, match="GS1 82-character set"):
        barcode_payload(data)
    with pytest.raises(ValueError, match="own_code"):
        render_label(data, "png")


def test_label_without_any_code_is_refused() -> None:
    with pytest.raises(ValueError, match="GTIN or an own_code"):
        render_label(LabelData("B", "P", "L1", EXPIRY), "svg")


@pytest.mark.parametrize("gtin", ["3760001234565", "0376000123456X", "037600012345651"])
def test_malformed_gtin_is_refused(gtin: str) -> None:
    with pytest.raises(ValueError, match="14 digits"):
        barcode_payload(LabelData("B", "P", "L1", EXPIRY, gtin=gtin))


def test_own_code_must_be_printable_ascii() -> None:
    # python-barcode would turn 'ñ' into FNC1 rather than refuse it.
    with pytest.raises(ValueError, match="printable ASCII"):
        render_label(LabelData("B", "P", "L1", EXPIRY, own_code="MILñ1"), "png")


# --- PNG -----------------------------------------------------------------------------------------


def test_png_gs1_round_trip() -> None:
    image = png(GS1_LABEL)
    [found] = decode(image)
    assert found.format == zxingcpp.BarcodeFormat.Code128
    assert found.symbology_identifier == "]C1"  # FNC1 in first position: GS1-128
    assert found.content_type == zxingcpp.ContentType.GS1
    assert found.text == HRI
    [plain] = decode(image, zxingcpp.TextMode.Plain)
    assert plain.text == ELEMENT_STRING


def test_png_code128_round_trip_on_38x21mm() -> None:
    image = png(OWN_LABEL)
    assert image.size == (449, 248)  # 38 x 21 mm at 300 dpi
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)  # stored as dots per metre
    [found] = decode(image)
    assert found.format == zxingcpp.BarcodeFormat.Code128
    assert found.symbology_identifier == "]C0"  # plain Code 128, no FNC1
    assert found.text == "MIL12345"


def test_png_gs1_label_widens_to_keep_two_pixel_modules() -> None:
    image = png(GS1_LABEL).convert("L")
    assert image.height == 248
    assert image.width > 449  # GS1-128 with three AIs cannot fit 38 mm at 2 px per module
    bars = plan(GS1_LABEL, 38.0, 21.0, MIN_MODULE_MM, grow=True).code
    assert isinstance(bars, Bars)
    row = round((bars.y_mm + bars.height_mm / 2) * 300 / 25.4)
    pixels = [image.getpixel((x, row)) for x in range(image.width)]
    runs = [len(m.group()) for m in re.finditer(r"1+|0+", "".join("1" if p == 0 else "0" for p in pixels))]
    assert min(runs) == 2  # narrowest bar or space is exactly one 2-pixel module
    assert set(pixels) <= {0, 255}  # bars are crisp: no grey edges on the scan line


def test_png_honours_dpi() -> None:
    assert png(OWN_LABEL, dpi=600).size == (898, 496)
    [found] = decode(png(GS1_LABEL, dpi=203))
    assert found.text == HRI


@settings(max_examples=25, deadline=None)
@given(
    lot=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-./", min_size=1, max_size=20),
    expiry=st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2099, 12, 31)),
)
def test_png_property_any_gs1_lot_and_date_decodes_back(lot: str, expiry: datetime.date) -> None:
    data = LabelData("Brand", "Product", lot, expiry, gtin=GTIN)
    [found] = decode(png(data))
    assert found.text == f"(01){GTIN}(17){expiry:%y%m%d}(10){lot}"


# --- PDF -----------------------------------------------------------------------------------------


def test_pdf_single_label_is_one_label_sized_page_that_decodes() -> None:
    pdf = render_label(GS1_LABEL, "pdf")
    document = pdfium.PdfDocument(pdf)
    assert len(document) == 1
    width, height = document[0].get_size()
    assert height == pytest.approx(21 * 72 / 25.4, abs=0.01)
    assert width >= 38 * 72 / 25.4
    [found] = decode(document[0].render(scale=300 / 72).to_pil())
    assert found.text == HRI
    assert found.content_type == zxingcpp.ContentType.GS1
    assert render_label(GS1_LABEL, "pdf") == pdf  # deterministic bytes


def test_sheet_3x8_two_lots_twelve_copies_each() -> None:
    pdf = render_sheet([(GS1_LABEL, 12), (OWN_LABEL, 12)], "3x8")
    assert len(pdfium.PdfDocument(pdf)) == 1
    assert cell_texts(sheet_cells(pdf, "3x8", scale=3)) == [HRI] * 12 + ["MIL12345"] * 12


def test_sheet_5x13_flows_onto_a_second_page() -> None:
    pdf = render_sheet([(OWN_LABEL, 3), (GS1_LABEL, 64)], "5x13")
    assert len(pdfium.PdfDocument(pdf)) == 2
    # 38.1 mm cells squeeze the GS1-128 module to about 0.14 mm: rasterise finely enough to resolve it.
    assert cell_texts(sheet_cells(pdf, "5x13", scale=6)) == ["MIL12345"] * 3 + [HRI] * 62
    assert cell_texts(sheet_cells(pdf, "5x13", scale=6, page=1)) == [HRI] * 2 + [None] * 63


def test_sheet_of_100_labels_is_fast_and_paginated() -> None:
    start = time.perf_counter()
    pdf = render_sheet([(GS1_LABEL, 50), (OWN_LABEL, 50)], "3x8")
    assert time.perf_counter() - start < 2.0
    assert len(pdfium.PdfDocument(pdf)) == 5  # 24 per page


@pytest.mark.parametrize(
    ("items", "layout", "message"),
    [
        ([(GS1_LABEL, 1)], "4x10", "unknown sheet layout"),
        ([(GS1_LABEL, 0)], "3x8", "copies"),
        ([(GS1_LABEL, -2)], "3x8", "copies"),
        ([(GS1_LABEL, True)], "3x8", "copies"),
        ([], "3x8", "at least one"),
        ([(OWN_LABEL, 1), (LabelData("B", "P", "Л", EXPIRY, gtin=GTIN), 1)], "3x8", "own_code"),
    ],
)
def test_sheet_rejects_bad_input(items: list[tuple[LabelData, int]], layout: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_sheet(items, layout)


# --- SVG -----------------------------------------------------------------------------------------


def test_svg_is_well_formed_and_carries_the_texts() -> None:
    data = LabelData("A & B <Labs>", 'Café "Shot"', "A1B2", EXPIRY, gtin=GTIN, storage_note="Store at 2-8 °C")
    svg = render_label(data, "svg")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert root.get("height") == "21mm"
    texts = [element.text for element in root.iter(f"{ns}text")]
    assert texts == ["A & B <Labs>", 'Café "Shot"', "LOT A1B2", "EXP 2028-12-31", "Store at 2-8 °C", HRI]
    bars = root.find(f"{ns}path")
    assert bars is not None
    rects = re.findall(r"M([\d.]+) ([\d.]+)h([\d.]+)v([\d.]+)h-[\d.]+z", bars.get("d", ""))
    assert len(rects) == len(linear(data).bars())
    # Redraw the path's bars at 20 px/mm and read them back: the vector bars are the right symbol.
    scale = 20
    image = Image.new("L", (round(float(root.get("width", "0mm")[:-2]) * scale), 21 * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w, h in ((float(v) * scale for v in rect) for rect in rects):
        draw.rectangle((round(x), round(y), round(x + w) - 1, round(y + h) - 1), fill=0)
    [found] = decode(image)
    assert found.text == HRI


# --- ZPL -----------------------------------------------------------------------------------------


def test_zpl_structure_for_gs1_label() -> None:
    zpl = render_label(GS1_LABEL, "zpl").decode()
    assert zpl.startswith("^XA")
    assert zpl.rstrip().endswith("^XZ")
    assert "^CI28" in zpl
    match = re.search(r"\^BY(\d+)\^BCN,(\d+),N,N,N,N\^FD(.*?)\^FS", zpl)
    assert match is not None
    assert match.group(1) == "2"
    field = match.group(3)
    assert field.startswith(">;>8")  # start C then FNC1: GS1-128
    assert unzpl(field) == "<FNC1>" + ELEMENT_STRING
    assert field == field_data(linear(GS1_LABEL))
    assert f"^FD{HRI}^FS" in zpl  # human-readable line printed as text
    assert "^A0N" in zpl


def test_zpl_scales_with_printer_density() -> None:
    def dims(zpl: bytes) -> tuple[int, int, int]:
        text = zpl.decode()
        return tuple(int(re.search(rf"\^{cmd}(\d+)", text).group(1)) for cmd in ("PW", "LL", "BY"))  # type: ignore[union-attr,return-value]

    width_300, height_300, module_300 = dims(render_label(OWN_LABEL, "zpl", dpi=300))
    width_203, height_203, module_203 = dims(render_label(OWN_LABEL, "zpl", dpi=203))
    assert (width_300, height_300) == (449, 248)
    assert height_203 == 168  # 21 mm at 8 dots/mm
    assert width_300 != width_203
    assert (module_300, module_203) == (2, 2)  # 0.17 mm and 0.25 mm: never below 0.169 mm


def test_zpl_escapes_command_characters() -> None:
    data = LabelData("Brand^XZ", "50~ml_x", "(A)1>2", EXPIRY, gtin=GTIN)
    zpl = render_label(data, "zpl").decode()
    assert zpl.count("^XA") == 1
    assert zpl.count("^XZ") == 1
    assert "~" not in zpl
    assert "^FDBrand_5EXZ^FS" in zpl
    assert "^FD50_7Eml_5Fx^FS" in zpl
    field = re.search(r"\^BCN,\d+,N,N,N,N\^FD(.*?)\^FS", zpl).group(1)  # type: ignore[union-attr]
    # Parentheses survive (mode D would strip them) and '>' is spelled as an invocation code.
    assert unzpl(field) == f"<FNC1>01{GTIN}17281231" + "10(A)1>2"
    own = LabelData("B", "P", "L", EXPIRY, own_code="A>B^C~D")
    assert unzpl(field_data(linear(own))) == "A>B^C~D"


# --- API surface ---------------------------------------------------------------------------------


def test_content_types() -> None:
    assert [content_type(fmt) for fmt in FORMATS] == [
        "image/png",
        "image/svg+xml",
        "application/pdf",
        "application/zpl",
    ]
    with pytest.raises(ValueError, match="unknown label format"):
        content_type("gif")


@pytest.mark.parametrize(("fmt", "dpi"), [("gif", 300), ("PNG", 300), ("zpl", 400), ("png", 50)])
def test_render_label_rejects_unknown_format_or_dpi(fmt: str, dpi: int) -> None:
    with pytest.raises(ValueError, match=r"format|dpi"):
        render_label(GS1_LABEL, fmt, dpi=dpi)


def test_long_texts_are_fitted_inside_the_label() -> None:
    data = LabelData(
        "An Exceedingly Long Brand Name Laboratories International",
        "Polynucleotides + Hyaluronic Acid Revitalising Complex 2 ml x 10",
        "LOT-2024/0001.ABCDEF",
        EXPIRY,
        gtin=GTIN,
        storage_note="Store at 2-8 °C, protect from light, do not freeze",
    )
    for layout in ("3x8", "5x13"):
        sheet = LAYOUTS[layout]
        label = plan(data, sheet.label_w_mm, sheet.label_h_mm, 0.25, grow=False)
        assert label.width_mm == sheet.label_w_mm
        for text in label.texts:
            left = text.x_mm - {"start": 0, "middle": text.width_mm / 2, "end": text.width_mm}[text.anchor]
            assert left >= 0
            assert left + text.width_mm <= label.width_mm + 1e-6
            assert 0 < text.baseline_mm <= label.height_mm
        assert isinstance(label.code, Bars)
        assert label.code.y_mm + label.code.height_mm < label.texts[-1].baseline_mm
        assert "LOT LOT-2024/0001.ABCDEF" in [text.text for text in label.texts]  # the lot is never cut
        assert label.texts[-1].text == f"(01){GTIN}(17)281231(10)LOT-2024/0001.ABCDEF"  # nor the HRI
    for fmt in FORMATS:
        assert render_label(data, fmt)
    [found] = decode(png(data))
    assert found.text == f"(01){GTIN}(17)281231(10)LOT-2024/0001.ABCDEF"
