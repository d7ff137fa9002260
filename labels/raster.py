"""PNG backend: draws a label plan with Pillow at a given resolution."""

from __future__ import annotations

import io
import threading

from PIL import Image, ImageDraw

from labels.fonts import pil_font
from labels.layout import Plan

_ANCHORS = {"start": "ls", "middle": "ms", "end": "rs"}
# Cached fonts share one FreeType face each, and FreeType faces must not be used from two threads at once
# (the service may render in a worker pool).
_FONT_LOCK = threading.Lock()


def render_png(plan: Plan, dpi: int) -> bytes:
    """An 8-bit greyscale PNG of `plan` at `dpi`, with the resolution recorded so it prints to size."""
    px_per_mm = dpi / 25.4
    size = (round(plan.width_mm * px_per_mm), round(plan.height_mm * px_per_mm))
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)

    for x, y, w, h in plan.code.rects():
        # Edges are rounded one by one: with a whole-pixel module every bar or cell keeps its exact size;
        # otherwise sizes are off by at most one pixel rather than accumulating.
        left, top = round(x * px_per_mm), round(y * px_per_mm)
        right, bottom = round((x + w) * px_per_mm) - 1, round((y + h) * px_per_mm) - 1
        draw.rectangle((left, top, right, bottom), fill=0)

    with _FONT_LOCK:
        for text in plan.texts:
            size_px = round(text.size_pt * dpi / 72, 2)
            font = pil_font(text.weight, size_px)
            # Hinting can make Pillow's advances a little wider than the layout's: shrink, never overflow.
            allowed = text.width_mm * px_per_mm * 1.01
            actual = draw.textlength(text.text, font=font)
            if actual > allowed > 0:
                font = pil_font(text.weight, round(size_px * allowed / actual, 2))
            xy = (text.x_mm * px_per_mm, text.baseline_mm * px_per_mm)
            draw.text(xy, text.text, fill=0, font=font, anchor=_ANCHORS[text.anchor])

    out = io.BytesIO()
    # Level 1 halves encoding time, the bulk of a render, for files about 15 % bigger (~11 kB).
    image.save(out, format="PNG", dpi=(dpi, dpi), compress_level=1)
    return out.getvalue()
