"""The label typeface, shared by every backend so text measured once fits everywhere."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import reportlab
from PIL import ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

Weight = Literal["regular", "bold"]

PT_MM = 25.4 / 72  # one typographic point in millimetres

# DejaVu Sans covers far more scripts than Bitstream Vera but keeps Vera's metrics for the glyphs they
# share, so layouts are identical whichever is found; Vera ships inside reportlab and is always there.
_SYSTEM_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")
_FILES: dict[str, tuple[str, str]] = {"dejavu": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")}
_PDF_NAMES: dict[Weight, str] = {"regular": "LabelSans", "bold": "LabelSans-Bold"}

# Family names for SVG viewers, which pick the face themselves; texts carry textLength as a fallback.
SVG_FAMILY = "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, sans-serif"


@functools.cache
def font_paths() -> dict[Weight, Path]:
    """The regular and bold TrueType files in use."""
    regular, bold = _FILES["dejavu"]
    for directory in _SYSTEM_DIRS:
        if (Path(directory) / regular).is_file() and (Path(directory) / bold).is_file():
            return {"regular": Path(directory) / regular, "bold": Path(directory) / bold}
    vera = Path(reportlab.__file__).parent / "fonts"
    return {"regular": vera / "Vera.ttf", "bold": vera / "VeraBd.ttf"}


@functools.cache
def pdf_font(weight: Weight) -> str:
    """The reportlab font name for `weight`, registered on first use."""
    name = _PDF_NAMES[weight]
    pdfmetrics.registerFont(TTFont(name, str(font_paths()[weight])))
    return name


def text_width_mm(text: str, weight: Weight, size_pt: float) -> float:
    """Advance width of `text` in millimetres."""
    return float(pdfmetrics.stringWidth(text, pdf_font(weight), size_pt)) * PT_MM


@functools.lru_cache(maxsize=64)
def pil_font(weight: Weight, size_px: float) -> ImageFont.FreeTypeFont:
    """A Pillow font of `size_px` pixels per em, cached because loading parses the whole file."""
    return ImageFont.truetype(str(font_paths()[weight]), size_px)
