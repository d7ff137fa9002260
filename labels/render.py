"""Public entry points: one label in any format, or A4 sheets of labels as PDF."""

from __future__ import annotations

import math
from collections.abc import Sequence

from labels import pdf, raster, svg, zpl
from labels.layout import BASE_H_MM, BASE_W_MM, MAX_SHEET_MODULE_MM, MIN_MODULE_MM, Plan, plan
from labels.model import FORMATS, LAYOUTS, LabelData

ZPL_DPIS = (203, 300)
PNG_DPI_RANGE = (100, 1200)

_CONTENT_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    # ZPL has no registered media type; "application/zpl" is what Zebra's own tools and label APIs use,
    # and it keeps browsers from rendering the commands as a page.
    "zpl": "application/zpl",
}


def content_type(fmt: str) -> str:
    """The HTTP Content-Type for a label format (ZPL is served as "application/zpl")."""
    try:
        return _CONTENT_TYPES[fmt]
    except KeyError:
        raise ValueError(f"unknown label format {fmt!r}; expected one of {', '.join(FORMATS)}") from None


def _module_mm(dpi: int) -> float:
    # A whole number of printer dots per module, at least MIN_MODULE_MM: fractional modules would
    # make bar widths uneven once rasterised.
    dots = math.ceil(MIN_MODULE_MM * dpi / 25.4 - 1e-9)
    return dots * 25.4 / dpi


def render_label(data: LabelData, fmt: str, *, dpi: int = 300) -> bytes:
    """One label as PNG, SVG, PDF (one page of label size) or ZPL.

    The label is 38 x 21 mm unless its barcode needs more width to keep whole-dot modules of at least
    0.169 mm (2 dots at 300 dpi). GS1-128 labels always do: at 300 dpi about 45 mm for a 4-character lot,
    up to 77 mm for a 20-character one; at 203 dpi the module is 2 dots = 0.25 mm, so wider still.
    `dpi` sets the PNG resolution (100-1200) and the ZPL printer density (203 or 300); SVG and PDF are
    vectors laid out as at 300 dpi.
    Raises ValueError for an unknown format or dpi, or data that cannot be barcoded.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown label format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if isinstance(dpi, bool) or not isinstance(dpi, int):
        raise ValueError(f"dpi must be an integer, not {dpi!r}")
    if fmt == "zpl" and dpi not in ZPL_DPIS:
        raise ValueError(f"ZPL is rendered for 203 or 300 dpi printers, not {dpi}")
    if fmt == "png" and not PNG_DPI_RANGE[0] <= dpi <= PNG_DPI_RANGE[1]:
        raise ValueError(f"PNG dpi must be between {PNG_DPI_RANGE[0]} and {PNG_DPI_RANGE[1]}, not {dpi}")
    module = _module_mm(dpi if fmt in ("png", "zpl") else 300)
    label = plan(data, BASE_W_MM, BASE_H_MM, module, grow=True)
    if fmt == "png":
        return raster.render_png(label, dpi)
    if fmt == "svg":
        return svg.render_svg(label)
    if fmt == "pdf":
        return pdf.render_pdf(label)
    return zpl.render_zpl(label, dpi)


def render_sheet(items: Sequence[tuple[LabelData, int]], layout: str = "3x8") -> bytes:
    """A multi-page A4 PDF with `copies` of each label, in order, on the named sheet layout.

    Labels keep the cell size, so a long barcode gets a narrower module (on "5x13" a GS1-128 label is
    about 0.13 mm for a short lot). Raises ValueError for an unknown layout, copies < 1, no items, or
    data that cannot be barcoded; nothing is drawn until every item has been checked.
    """
    sheet = LAYOUTS.get(layout)
    if sheet is None:
        raise ValueError(f"unknown sheet layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if not items:
        raise ValueError("a sheet needs at least one label")
    plans: list[tuple[Plan, int]] = []
    cache: dict[LabelData, Plan] = {}
    for data, copies in items:
        if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
            raise ValueError(f"copies must be a positive integer, not {copies!r}")
        if data not in cache:
            cache[data] = plan(data, sheet.label_w_mm, sheet.label_h_mm, MAX_SHEET_MODULE_MM, grow=False)
        plans.append((cache[data], copies))
    return pdf.render_sheet(plans, sheet)
