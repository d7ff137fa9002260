"""Where everything goes on a label, in millimetres; every output backend draws from this plan."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Literal

from labels.fonts import PT_MM, Weight, text_width_mm
from labels.gs1 import symbol_for
from labels.matrix import MatrixSymbol
from labels.model import LabelData
from labels.symbols import QUIET_ZONE_MODULES, Symbol

Anchor = Literal["start", "middle", "end"]

# The reference label is 38 x 21 mm (a 5x13 A4 sheet cell); bigger cells scale the type up to 1.5x.
BASE_W_MM = 38.0
BASE_H_MM = 21.0
MAX_TEXT_SCALE = 1.5

# 2 dots at 300 dpi = 0.169 mm: the smallest X-dimension that still prints and scans reliably, and
# about GS1's minimum for GS1-128 in healthcare. Single labels keep at least this and grow wider instead.
MIN_MODULE_MM = 2 * 25.4 / 300
MAX_SHEET_MODULE_MM = 0.25  # on big sheet cells a wider X buys nothing but length
MIN_BAR_MM = 5.0  # shorter bars make a handheld scanner's line miss the symbol

# Type sizes in points on the reference label; vertical metrics as fractions of the size.
BRAND_PT, PRODUCT_PT, LOT_PT, NOTE_PT, HRI_PT = 6.0, 7.5, 7.0, 5.5, 5.5
LINE = 1.15
ASCENT = 0.9
ELLIPSIS = "…"


@dataclass(frozen=True)
class Text:
    """One line of text, positioned by its anchor point on the baseline."""

    text: str
    x_mm: float
    baseline_mm: float  # from the top edge of the label
    size_pt: float
    weight: Weight
    anchor: Anchor
    width_mm: float  # advance width as measured with the label typeface


Rect = tuple[float, float, float, float]  # x, y (top), width, height in mm from the label's top-left corner


@dataclass(frozen=True)
class Bars:
    """The barcode: `symbol` drawn from (x_mm, y_mm) with `module_mm` per module, quiet zones outside x."""

    symbol: Symbol
    x_mm: float  # left edge of the first bar
    y_mm: float  # top of the bars, from the top edge of the label
    module_mm: float
    height_mm: float

    def rects(self) -> list[Rect]:
        """One rectangle per bar."""
        return [
            (self.x_mm + start * self.module_mm, self.y_mm, run * self.module_mm, self.height_mm)
            for start, run in self.symbol.bars()
        ]


@dataclass(frozen=True)
class Cells:
    """A Data Matrix: `symbol`'s first module at (x_mm, y_mm), square modules, quiet zone outside."""

    symbol: MatrixSymbol
    x_mm: float
    y_mm: float
    module_mm: float

    def rects(self) -> list[Rect]:
        """One rectangle per horizontal run of dark modules."""
        m = self.module_mm
        return [
            (self.x_mm + column * m, self.y_mm + row * m, length * m, m) for row, column, length in self.symbol.runs()
        ]


@dataclass(frozen=True)
class Plan:
    """A fully positioned label."""

    width_mm: float
    height_mm: float
    code: Bars | Cells
    texts: tuple[Text, ...]


def clean(text: str) -> str:
    """Printable one-line text: control and surrogate characters become spaces, runs of spaces one."""
    chars = (" " if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") else char for char in text)
    return " ".join("".join(chars).split())


def _fit(text: str, weight: Weight, size_pt: float, max_w: float, min_factor: float) -> tuple[str, float, float]:
    """Shrink `text` down to `min_factor` of its size to fit `max_w`, then cut it with an ellipsis."""
    width = text_width_mm(text, weight, size_pt)
    if width <= max_w:
        return text, size_pt, width
    # Widths scale linearly with size; the tiny margin keeps float rounding from forcing a cut.
    size = max(size_pt * min_factor, size_pt * max_w / width * (1 - 1e-9))
    width = text_width_mm(text, weight, size)
    if width <= max_w:
        return text, size, width
    cut = min(len(text), int(len(text) * max_w / width) + 2)  # start near the answer: long names are common
    while cut > 0 and text_width_mm(text[:cut] + ELLIPSIS, weight, size) > max_w:
        cut -= 1
    short = text[:cut].rstrip() + ELLIPSIS
    return short, size, text_width_mm(short, weight, size)


def _scale(width_mm: float, height_mm: float) -> float:
    return min(max(min(height_mm / BASE_H_MM, width_mm / BASE_W_MM), 1.0), MAX_TEXT_SCALE)


def linear_fit_mm(symbol: Symbol, width_mm: float, height_mm: float) -> float:
    """The widest module with which `symbol` and its quiet zones fit a fixed label of this size."""
    return (width_mm - 2 * 1.0 * _scale(width_mm, height_mm)) / symbol.width_modules


def plan(
    data: LabelData,
    width_mm: float,
    height_mm: float,
    module_mm: float,
    *,
    grow: bool,
    symbol: Symbol | None = None,
    dot_mm: float | None = None,
) -> Plan:
    """Lay a label with a linear barcode out in a width x height box.

    With `grow`, bars keep `module_mm` and the label widens (to whole millimetres) when the symbol would
    not fit; without it (sheet cells have fixed sizes) the module shrinks to fit, up to `module_mm`.
    With `dot_mm` (a printer dot), the symbol starts on a dot: with a whole-dot module every bar edge is one.
    """
    if symbol is None:
        linear = symbol_for(data)
        assert isinstance(linear, Symbol)
        symbol = linear
    scale = _scale(width_mm, height_mm)
    pad_x, pad_y = 1.0 * scale, 0.8 * scale
    if grow:
        module = module_mm
        width = max(width_mm, math.ceil(symbol.width_modules * module + 2 * pad_x - 1e-9))
    else:
        module = min(module_mm, (width_mm - 2 * pad_x) / symbol.width_modules)
        width = width_mm
    inner = width - 2 * pad_x

    for factor in (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7):
        texts, top = _text_rows(data, pad_x, pad_y, inner, scale * factor)
        hri, hri_size, hri_w = _fit(symbol.hri, "regular", HRI_PT * scale * factor, inner, 0.0)
        hri_h = hri_size * PT_MM * LINE
        bar_top = top + 0.4 * scale
        bar_h = height_mm - pad_y - hri_h - 0.2 * scale - bar_top
        if bar_h >= MIN_BAR_MM * scale:
            break
    if bar_h < MIN_BAR_MM * 0.6:
        raise ValueError(
            f"a {width_mm:g} x {height_mm:g} mm label leaves no room for bars under its text: use datamatrix"
        )

    symbol_w = symbol.width_modules * module
    left = (width - symbol_w) / 2
    if grow:
        # Single labels are laid out in whole printer dots (the module is a whole number of them): start
        # the symbol on a module boundary too, so every bar edge falls on a dot edge when rasterised at
        # the design resolution, instead of each edge being smeared over two dots.
        left = math.floor(left / module + 1e-9) * module
    elif dot_mm is not None:
        left = math.floor(left / dot_mm + 1e-9) * dot_mm
    bars = Bars(symbol, left + QUIET_ZONE_MODULES * module, bar_top, module, max(bar_h, 1.0))
    hri_text = Text(
        hri,
        left + symbol_w / 2,
        height_mm - pad_y - hri_h + hri_size * PT_MM * ASCENT,
        hri_size,
        "regular",
        "middle",
        hri_w,
    )
    return Plan(width, height_mm, bars, (*texts, hri_text))


def _text_rows(data: LabelData, x: float, top: float, inner: float, scale: float) -> tuple[list[Text], float]:
    """The text block under the top edge; returns the texts and where the block ends."""
    texts: list[Text] = []

    def row(*cells: tuple[str, Weight, float, float, Anchor]) -> None:
        nonlocal top
        size = max(cell[2] for cell in cells)
        baseline = top + size * PT_MM * ASCENT
        for text, weight, size_pt, min_factor, anchor in cells:
            fitted, fitted_size, width = _fit(text, weight, size_pt, inner, min_factor)
            at = x if anchor == "start" else x + inner
            texts.append(Text(fitted, at, baseline, fitted_size, weight, anchor, width))
        top += size * PT_MM * LINE

    brand, product = clean(data.brand), clean(data.product)
    if brand:
        row((brand, "regular", BRAND_PT * scale, 0.8, "start"))
    if product:
        row((product, "bold", PRODUCT_PT * scale, 0.8, "start"))
    lot = f"LOT {clean(data.lot_number)}"
    exp = f"EXP {data.expiry.isoformat()}"
    lot_size = LOT_PT * scale
    gap = lot_size * PT_MM  # one em between the two
    if text_width_mm(lot, "bold", lot_size) + gap + text_width_mm(exp, "bold", lot_size) <= inner:
        row((lot, "bold", lot_size, 1.0, "start"), (exp, "bold", lot_size, 1.0, "end"))
    else:  # a lot is worth shrinking hard before it is cut
        row((lot, "bold", lot_size, 0.6, "start"))
        row((exp, "bold", lot_size, 1.0, "start"))
    note = clean(data.storage_note or "")
    if note:
        row((note, "regular", NOTE_PT * scale, 0.8, "start"))
    return texts, top


# A Data Matrix module of at least 0.25 mm: 2 dots at 203 dpi, 3 at 300 (GS1 asks 0.254 mm for healthcare items
# not scanned at a till; 2 dots at 203 dpi is the nearest a 203 dpi printer can do).
MIN_MATRIX_MODULE_MM = 0.25
MAX_MATRIX_MODULE_MM = 1.0
MATRIX_TEXT_PT = 7.0  # the text beside a Data Matrix on a 10 mm high label, scaled with the height


def matrix_module_mm(symbol: MatrixSymbol, width_mm: float, height_mm: float, dot_mm: float) -> float:
    """The largest whole-dot module that fits the symbol in the label's height and half its width.

    Raises ValueError when even MIN_MATRIX_MODULE_MM does not fit.
    """
    margin = 2 * 0.5
    fit = min((height_mm - margin) / symbol.height_modules, (width_mm * 0.5) / symbol.width_modules)
    fit = min(fit, MAX_MATRIX_MODULE_MM)
    dots = math.floor(fit / dot_mm + 1e-9)
    module = dots * dot_mm
    if module < MIN_MATRIX_MODULE_MM - 0.005:
        raise ValueError(
            f"a {len(symbol.rows)}x{len(symbol.rows[0])} Data Matrix does not fit a {width_mm:g} x {height_mm:g} mm"
            f" label with modules of at least {MIN_MATRIX_MODULE_MM} mm"
        )
    return module


def plan_matrix(data: LabelData, symbol: MatrixSymbol, width_mm: float, height_mm: float, dot_mm: float) -> Plan:
    """A Data Matrix at the left, vertically centred, and the product, lot and expiry beside it."""
    module = matrix_module_mm(symbol, width_mm, height_mm, dot_mm)
    block_w = symbol.width_modules * module
    block_h = symbol.height_modules * module
    top = math.floor((height_mm - block_h) / 2 / dot_mm + 1e-9) * dot_mm
    left = min(top, math.floor(0.8 / dot_mm) * dot_mm)
    cells = Cells(symbol, left + module, top + module, module)  # the quiet zone is the block's outer ring
    scale = min(max(height_mm / 10.0, 0.8), 2.0)
    text_x = left + block_w + 0.6 * scale
    inner = width_mm - text_x - 0.6 * scale
    if inner < 4.0:
        raise ValueError(f"no room for the lot and expiry beside the Data Matrix on a {width_mm:g} mm wide label")
    lines: list[tuple[str, Weight, float, float]] = []
    product = clean(" ".join(part for part in (data.brand, data.product) if part))
    if product:
        lines.append((product, "bold", MATRIX_TEXT_PT * scale, 0.7))
    # The lot and the expiry shrink rather than being cut: they are what the chair and a recall read.
    lines.append((f"LOT {clean(data.lot_number)}", "bold", MATRIX_TEXT_PT * scale, 0.0))
    lines.append((f"EXP {data.expiry.isoformat()}", "bold", MATRIX_TEXT_PT * scale, 0.4))
    if data.gtin and height_mm >= 20:
        lines.append((f"(01) {data.gtin}", "regular", MATRIX_TEXT_PT * 0.8 * scale, 0.8))
    note = clean(data.storage_note or "")
    if note and height_mm >= 20:
        lines.append((note, "regular", NOTE_PT * scale, 0.8))
    for factor in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5):
        total = sum(size * factor * PT_MM * LINE for _, _, size, _ in lines)
        if total <= height_mm - 0.6:
            break
    texts: list[Text] = []
    y = (height_mm - total) / 2
    for text, weight, size, min_factor in lines:
        fitted, fitted_size, width = _fit(text, weight, size * factor, inner, min_factor)
        texts.append(Text(fitted, text_x, y + fitted_size * PT_MM * ASCENT, fitted_size, weight, "start", width))
        y += size * factor * PT_MM * LINE
    return Plan(width_mm, height_mm, cells, tuple(texts))
