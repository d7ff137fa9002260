"""A return to a supplier as a document: the return note PDF (reportlab, the labels' fonts) that goes with the box."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from inventory import clock
from inventory.services import supplier_returns
from inventory.store.supplier_returns import ReturnRow
from labels.fonts import pdf_font

REASON_WORDS = {
    "recalled": "recalled lot",
    "damaged": "damaged",
    "expired": "expired",
    "other": "other",
}


def render_pdf(record: ReturnRow) -> bytes:
    """An A4 return note: number, date, from (location), to (supplier), the lot, quantity, reason and note."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(f"Return note {record.number}")
    regular, bold = pdf_font("regular"), pdf_font("bold")
    y = A4[1] - 20 * mm

    def line(label: str, value: str, *, step: float = 6.5) -> None:
        nonlocal y
        canvas.setFont(bold, 10)
        canvas.drawString(20 * mm, y, label)
        canvas.setFont(regular, 10)
        canvas.drawString(60 * mm, y, value)
        y -= step * mm

    canvas.setFont(bold, 16)
    canvas.drawString(20 * mm, y, f"Return to supplier {record.number}")
    y -= 12 * mm
    local = record.created_at.astimezone(clock.zone(record.location_timezone))
    line("Date:", local.strftime("%Y-%m-%d %H:%M"))
    line("From:", record.location_name)
    supplier = record.supplier_name or "(not named)"
    line("To:", supplier + (f" <{record.supplier_email}>" if record.supplier_email else ""))
    y -= 4 * mm
    line("Product:", f"{record.brand_name} {record.product_name}"[:80])
    line("GTIN:", record.gtin or "")
    line("Lot:", record.lot_number)
    line("Expiry:", record.expiry_date.isoformat())
    line("Quantity:", f"{record.quantity} unit(s)")
    line("Reason:", REASON_WORDS.get(record.reason, record.reason))
    if record.note:
        for start in range(0, len(record.note), 80):
            line("Note:" if start == 0 else "", record.note[start : start + 80].replace("\n", " "))
    y -= 4 * mm
    line("Recorded by:", record.created_by_email)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


async def return_pdf(return_id: int) -> bytes:
    """The return note's PDF; raises NotFound."""
    return render_pdf(await supplier_returns.get(return_id))
