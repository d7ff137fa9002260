"""The implant card of one use of an implanted device (EU MDR Art. 18): what the client is handed, as a PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from inventory import clock, db
from inventory.domain.errors import Conflict, NotFound
from inventory.domain.models import Actor
from inventory.store import audit, usages


@dataclass(frozen=True)
class ImplantCard:
    """Everything the card shows."""

    usage_id: int
    device: str
    manufacturer: str
    lot_number: str
    serial: str | None
    udi: str
    expiry_date: date
    used_on: date  # the clinic's local date of the use
    clinic: str
    client_name: str


async def implant_card(*, actor: Actor, usage_id: int) -> ImplantCard:
    """The card of a use that kept a UDI; the issue is audited (who printed whose card, never the name).

    Raises NotFound (usage), Conflict: not_implant (the product is no implant), udi_missing (an implant used
    before it was marked so, or scanned without a GTIN: no UDI was kept), usage_voided.
    """
    async with db.transaction() as conn:
        use = await usages.implant_use(conn, usage_id)
        if use is None:
            raise NotFound.of("usage", usage_id)
        if use.udi is None:
            if not use.implant:
                raise Conflict("This use is not of an implant product: it has no implant card.", code="not_implant")
            raise Conflict(
                "No UDI was kept with this use (scanned before the product was marked implant, or without a GTIN).",
                code="udi_missing",
            )
        if use.voided:
            raise Conflict("This use is voided: it has no implant card.", code="usage_voided")
        await audit.record(
            conn,
            actor_id=actor.id,
            action="usage.implant_card",
            entity="usage",
            entity_id=usage_id,
            details={"client_id": use.client_id, "udi": use.udi},
        )
    return ImplantCard(
        usage_id=use.usage_id,
        device=use.product_name,
        manufacturer=use.brand_name,
        lot_number=use.lot_number,
        serial=use.serial,
        udi=use.udi,
        expiry_date=use.expiry_date,
        used_on=clock.today_in(use.timezone, use.used_at),
        clinic=use.location_name,
        client_name=use.client_name,
    )


def implant_card_pdf(card: ImplantCard) -> bytes:
    """A card-sized page (85.6 by 54 mm, ID-1) with the device, its UDI, the date of use, clinic and client."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from labels.fonts import pdf_font

    width, height = 85.6 * mm, 54 * mm
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True)
    canvas.setTitle(f"Implant card, use {card.usage_id}")
    y = height - 5 * mm
    canvas.setFont(pdf_font("bold"), 8.5)
    canvas.drawString(4 * mm, y, "Implant card")
    y -= 4.2 * mm
    rows = [
        ("Patient", card.client_name),
        ("Device", card.device),
        ("Manufacturer", card.manufacturer),
        ("Lot", card.lot_number),
        ("Serial", card.serial or "none"),
        ("Expiry", card.expiry_date.isoformat()),
        ("Date of implant", card.used_on.isoformat()),
        ("Clinic", card.clinic),
    ]
    for label, value in rows:
        canvas.setFont(pdf_font("bold"), 6.2)
        canvas.drawString(4 * mm, y, label)
        canvas.setFont(pdf_font("regular"), 6.2)
        canvas.drawString(26 * mm, y, value[:48])
        y -= 3.4 * mm
    canvas.setFont(pdf_font("bold"), 6.2)
    canvas.drawString(4 * mm, y, "UDI")
    canvas.setFont(pdf_font("regular"), 5.6)
    # The element string can run past the card's width: wrap it at AI boundaries where possible.
    for part in _wrap(card.udi, 52):
        canvas.drawString(26 * mm, y, part)
        y -= 3 * mm
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _wrap(udi: str, width: int) -> list[str]:
    """The UDI in lines of at most `width` characters, broken before a "(" when it can be."""
    lines: list[str] = []
    rest = udi
    while len(rest) > width:
        cut = rest.rfind("(", 1, width + 1)
        cut = cut if cut > 0 else width
        lines.append(rest[:cut])
        rest = rest[cut:]
    return [*lines, rest]
