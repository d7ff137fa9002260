"""SVG backend: a self-contained document in millimetre user units, bars as one path."""

from __future__ import annotations

from xml.sax.saxutils import escape

from labels.fonts import PT_MM, SVG_FAMILY
from labels.layout import Plan


def _n(value: float) -> str:
    """A compact decimal: three places are a micrometre, finer than any printer."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def render_svg(plan: Plan) -> bytes:
    """The label as UTF-8 SVG sized in millimetres."""
    w, h = _n(plan.width_mm), _n(plan.height_mm)
    path = "".join(f"M{_n(x)} {_n(y)}h{_n(w)}v{_n(h)}h{_n(-w)}z" for x, y, w, h in plan.code.rects())
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}">',
        f"<title>{escape(plan.code.symbol.hri)}</title>",
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<path d="{path}" fill="#000" shape-rendering="crispEdges"/>',
        f'<g font-family="{SVG_FAMILY}" fill="#000">',
    ]
    for text in plan.texts:
        weight = ' font-weight="bold"' if text.weight == "bold" else ""
        # textLength pins each line to the width it was laid out for, whatever face the viewer picks.
        parts.append(
            f'<text x="{_n(text.x_mm)}" y="{_n(text.baseline_mm)}" font-size="{_n(text.size_pt * PT_MM)}"'
            f'{weight} text-anchor="{text.anchor}" textLength="{_n(text.width_mm)}" '
            f'lengthAdjust="spacingAndGlyphs" xml:space="preserve">{escape(text.text)}</text>'
        )
    parts += ["</g>", "</svg>", ""]
    return "\n".join(parts).encode("utf-8")
