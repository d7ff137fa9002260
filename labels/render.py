"""Public entry points: one label in any format, or A4 sheets of labels as PDF."""

from __future__ import annotations

import math
from collections.abc import Sequence

from labels import pdf, raster, svg, zpl
from labels.gs1 import symbol_for
from labels.layout import (
    BASE_H_MM,
    BASE_W_MM,
    MAX_SHEET_MODULE_MM,
    MIN_MODULE_MM,
    Plan,
    linear_fit_mm,
    plan,
    plan_matrix,
)
from labels.matrix import MatrixSymbol
from labels.model import FORMATS, LAYOUTS, LabelData
from labels.templates import DEFAULT_TEMPLATE, TEMPLATES, Template

ZPL_DPIS = (203, 300, 600)
PNG_DPI_RANGE = (100, 1200)
MAX_LABEL_MODULE_MM = 0.5  # wider bars on a big label buy nothing but length

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


def template_for(name: str) -> Template:
    """The named template; raises ValueError for an unknown one."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise ValueError(f"unknown label template {name!r}; expected one of {', '.join(TEMPLATES)}") from None


def plan_label(data: LabelData, template: Template, symbology: str | None, dpi: int | None) -> Plan:
    """Lay one label out on `template` for a `dpi` printer (None: free module sizes on sheets, as before).

    Every module is a whole number of dots at `dpi` and starts on a dot. Raises ValueError when the symbol does
    not fit the template with a module a scanner still reads.
    """
    wanted = (
        symbology if symbology is not None else (template.symbology if template.symbology == "datamatrix" else None)
    )
    symbol = symbol_for(data, wanted)
    dot = 25.4 / (dpi or 300)
    if isinstance(symbol, MatrixSymbol):
        return plan_matrix(data, symbol, template.width_mm, template.height_mm, dot)
    if template.grow:
        return plan(data, BASE_W_MM, BASE_H_MM, _module_mm(dpi or 300), grow=True, symbol=symbol)
    if dpi is None and template.kind == "sheet":
        return plan(data, template.width_mm, template.height_mm, MAX_SHEET_MODULE_MM, grow=False, symbol=symbol)
    fit = min(linear_fit_mm(symbol, template.width_mm, template.height_mm), MAX_LABEL_MODULE_MM)
    module = math.floor(fit / dot + 1e-9) * dot
    # On a sheet one dot is the floor (as the free layout allowed); a single label keeps the scannable minimum.
    least = dot if template.kind == "sheet" else MIN_MODULE_MM - 1e-6
    if module < least or module <= 0:
        needed = symbol.width_modules * math.ceil(least / dot - 1e-9) * dot + 2 * (
            template.width_mm / symbol.width_modules
        )
        raise ValueError(
            f"this {symbol.kind.upper()} barcode needs a label about {needed:.0f} mm wide at {dpi or 300} dpi;"
            f" the {template.name} template is {template.width_mm:g} mm wide: use datamatrix"
        )
    return plan(data, template.width_mm, template.height_mm, module, grow=False, symbol=symbol, dot_mm=dot)


def _check(fmt: str, dpi: int) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown label format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if isinstance(dpi, bool) or not isinstance(dpi, int):
        raise ValueError(f"dpi must be an integer, not {dpi!r}")
    if fmt == "zpl" and dpi not in ZPL_DPIS:
        raise ValueError(f"ZPL is rendered for 203, 300 or 600 dpi printers, not {dpi}")
    if not PNG_DPI_RANGE[0] <= dpi <= PNG_DPI_RANGE[1]:
        raise ValueError(f"dpi must be between {PNG_DPI_RANGE[0]} and {PNG_DPI_RANGE[1]}, not {dpi}")


def render_label(
    data: LabelData, fmt: str, *, dpi: int = 300, template: str = DEFAULT_TEMPLATE, symbology: str | None = None
) -> bytes:
    """One label as PNG, SVG, PDF (one page of label size) or ZPL, on a label template.

    The standard template is 38 x 21 mm unless its GS1-128 barcode needs more width to keep whole-dot modules
    of at least 0.169 mm; the others keep their size and refuse a barcode that does not fit. Every module is a
    whole number of dots at `dpi` in every format (PNG is drawn at `dpi`; ZPL is for a `dpi` printer, 203,
    300 or 600; SVG and PDF are vectors laid out on that dot grid).
    Raises ValueError for an unknown format, dpi, template or symbology, or data that cannot be barcoded.
    """
    _check(fmt, dpi)
    chosen = template_for(template)
    if chosen.kind == "sheet":
        raise ValueError(f"the {template} template is an A4 sheet: print it as a sheet")
    label = plan_label(data, chosen, symbology, dpi)
    if fmt == "png":
        return raster.render_png(label, dpi)
    if fmt == "svg":
        return svg.render_svg(label)
    if fmt == "pdf":
        return pdf.render_pdf(label)
    return zpl.render_zpl(label, dpi)


def render_sheet(
    items: Sequence[tuple[LabelData, int]], layout: str = "3x8", *, dpi: int | None = None, symbology: str | None = None
) -> bytes:
    """A multi-page A4 PDF with `copies` of each label, in order, on the named sheet layout.

    Labels keep the cell size, so a long barcode gets a narrower module (on "5x13" a GS1-128 label is
    about 0.13 mm for a short lot). With `dpi`, modules are whole dots and each cell starts on a dot of the
    page. Raises ValueError for an unknown layout, copies < 1, no items, or data that cannot be barcoded;
    nothing is drawn until every item has been checked.
    """
    sheet = LAYOUTS.get(layout)
    if sheet is None:
        raise ValueError(f"unknown sheet layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if dpi is not None:
        _check("pdf", dpi)
    template = next(t for t in TEMPLATES.values() if t.sheet == layout)
    if not items:
        raise ValueError("a sheet needs at least one label")
    plans: list[tuple[Plan, int]] = []
    cache: dict[LabelData, Plan] = {}
    for data, copies in items:
        if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
            raise ValueError(f"copies must be a positive integer, not {copies!r}")
        if data not in cache:
            cache[data] = plan_label(data, template, symbology, dpi)
        plans.append((cache[data], copies))
    return pdf.render_sheet(plans, sheet, dpi=dpi)
