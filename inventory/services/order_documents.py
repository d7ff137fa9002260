"""A purchase order as documents for the supplier: a PDF (reportlab, the labels' fonts) and a CSV."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from inventory.domain.spreadsheet import csv_file
from inventory.services import purchasing
from inventory.store.purchasing import OrderLineRow, OrderRow
from labels.fonts import pdf_font

CSV_HEADER = ["product_id", "product", "gtin", "supplier_reference", "pack_units", "packs", "quantity", "received"]


def _packs(line: OrderLineRow) -> int:
    return -(-line.quantity // max(1, line.pack_units))


def _gtin(line: OrderLineRow) -> str:
    return line.pack_gtin or line.unit_gtin or ""


def render_csv(order: OrderRow) -> bytes:
    """One row per line: product, the GTIN to order by (the pack's, else the unit's), reference, packs, units."""
    rows = (
        [
            line.product_id,
            line.product_name,
            _gtin(line),
            line.reference or "",
            line.pack_units,
            _packs(line),
            line.quantity,
            line.received,
        ]
        for line in order.lines
    )
    return csv_file(CSV_HEADER, rows)


def render_pdf(order: OrderRow) -> bytes:
    """An A4 order form: supplier, delivery location, expected date, and per line product, GTIN/reference, packs."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(f"Purchase order {order.id}")
    height = A4[1]
    regular, bold = pdf_font("regular"), pdf_font("bold")
    y = height - 20 * mm

    def text(x: float, value: str, font: str = regular, size: float = 10) -> None:
        canvas.setFont(font, size)
        canvas.drawString(x, y, value)

    text(20 * mm, f"Purchase order {order.id}", bold, 16)
    y -= 10 * mm
    text(20 * mm, f"Supplier: {order.supplier_name}" + (f" <{order.supplier_email}>" if order.supplier_email else ""))
    y -= 6 * mm
    text(20 * mm, f"Deliver to: {order.location_name}")
    y -= 6 * mm
    text(20 * mm, f"Status: {order.status.replace('_', ' ')}")
    if order.expected_on is not None:
        text(110 * mm, f"Expected on: {order.expected_on.isoformat()}")
    y -= 12 * mm
    columns = [(20, "Product"), (85, "GTIN"), (120, "Reference"), (150, "Packs"), (168, "Units/pack"), (190, "Units")]

    def header() -> None:
        for x, title in columns:
            text(x * mm, title, bold, 9)

    header()
    y -= 6 * mm
    for line in order.lines:
        if y < 20 * mm:
            canvas.showPage()
            y = height - 20 * mm
            header()
            y -= 6 * mm
        values = [
            line.product_name[:40],
            _gtin(line),
            (line.reference or "")[:18],
            str(_packs(line)),
            str(line.pack_units),
            str(line.quantity),
        ]
        for (x, _), value in zip(columns, values, strict=True):
            text(x * mm, value, size=9)
        y -= 5.5 * mm
    canvas.showPage()
    canvas.save()
    return out.getvalue()


async def order_pdf(order_id: int) -> bytes:
    """The order's PDF; raises NotFound."""
    return render_pdf((await purchasing.get_order(order_id)).order)


async def order_csv(order_id: int) -> bytes:
    """The order's CSV file (UTF-8 with a BOM, formulas never run); raises NotFound."""
    return render_csv((await purchasing.get_order(order_id)).order)
