"""PDF backend: labels drawn as vectors with reportlab, one per page or on an A4 sheet grid."""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from labels.fonts import pdf_font
from labels.layout import Plan
from labels.model import SheetLayout


def _canvas(out: io.BytesIO, width_pt: float, height_pt: float) -> Canvas:
    # invariant=1 drops the timestamp and random document id: the same labels give the same bytes.
    return Canvas(out, pagesize=(width_pt, height_pt), invariant=1, pageCompression=1)


def draw_label(canvas: Canvas, plan: Plan, left_pt: float, top_pt: float) -> None:
    """Draw `plan` with its top-left corner at (left_pt, top_pt) in PDF coordinates (y grows upwards)."""
    path = canvas.beginPath()
    for x, y, w, h in plan.code.rects():
        path.rect(left_pt + x * mm, top_pt - (y + h) * mm, w * mm, h * mm)
    canvas.drawPath(path, stroke=0, fill=1)

    for text in plan.texts:
        canvas.setFont(pdf_font(text.weight), text.size_pt)
        x = left_pt + text.x_mm * mm
        y = top_pt - text.baseline_mm * mm
        if text.anchor == "start":
            canvas.drawString(x, y, text.text)
        elif text.anchor == "middle":
            canvas.drawCentredString(x, y, text.text)
        else:
            canvas.drawRightString(x, y, text.text)


def render_pdf(plan: Plan) -> bytes:
    """One label on one page of exactly the label's size."""
    out = io.BytesIO()
    canvas = _canvas(out, plan.width_mm * mm, plan.height_mm * mm)
    canvas.setTitle(plan.code.symbol.hri)
    draw_label(canvas, plan, 0.0, plan.height_mm * mm)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _on_dot(length_pt: float, dpi: int | None) -> float:
    """A page position moved onto the nearest printer dot (at most half a dot), when the printer is known."""
    if dpi is None:
        return length_pt
    dot = 72 / dpi
    return round(length_pt / dot) * dot


def render_sheet(items: Sequence[tuple[Plan, int]], sheet: SheetLayout, *, dpi: int | None = None) -> bytes:
    """`copies` of each plan, in order, filling the sheet grid row by row over as many A4 pages as needed.

    With `dpi`, each cell's corner is moved onto the printer's dot grid, so whole-dot modules stay whole.
    """
    out = io.BytesIO()
    page_w, page_h = A4
    canvas = _canvas(out, page_w, page_h)
    canvas.setTitle(f"Labels {sheet.name}")
    slot = 0
    for plan, copies in items:
        for _ in range(copies):
            if slot == sheet.per_page:
                canvas.showPage()
                slot = 0
            row, column = divmod(slot, sheet.columns)
            left = _on_dot((sheet.margin_left_mm + column * (sheet.label_w_mm + sheet.gap_x_mm)) * mm, dpi)
            top = page_h - _on_dot((sheet.margin_top_mm + row * (sheet.label_h_mm + sheet.gap_y_mm)) * mm, dpi)
            draw_label(canvas, plan, left, top)
            slot += 1
    canvas.showPage()
    canvas.save()
    return out.getvalue()
