"""Implant uses on a built clinic's client: one kept with its UDI, one voided, and a use of a plain product."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inventory.domain.gs1 import format_element_string
from inventory.domain.models import Actor
from inventory.services import catalog, scanning
from tests.support import factories as f
from tests.support.clinic import Clinic

_seeds = iter(range(810_001, 10**6, 13))


@dataclass(frozen=True)
class ImplantUses:
    """The implant's lot number and the three uses recorded in the clinic's session."""

    lot_number: str
    implant: dict[str, Any]  # serial SN0042, kept with its UDI
    voided: dict[str, Any]  # serial SN0043, voided
    plain: dict[str, Any]  # the clinic's own (not implant) product


async def implant_uses(actors: dict[str, Actor], clinic: Clinic) -> ImplantUses:
    """A filler marked implant, received at the clinic's location, and three uses in the clinic's session."""
    gtin = f.make_gtin(next(_seeds))
    product = await catalog.create_product(
        actor=actors["manager"],
        brand_id=clinic.product["brand_id"],
        name=f.unique("Filler"),
        gtin=gtin,
        packs=[],
        ingredients=["Hyaluronic acid"],
        storage="room",
        implant=True,
    )
    lot_number = f.unique("IMP").replace(" ", "")
    expiry = f.in_days(400)
    await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=product["id"],
        lot_number=lot_number,
        expiry=expiry,
        quantity=5,
    )
    session_id = clinic.session["id"]

    async def scan(serial: str) -> dict[str, Any]:
        barcode = format_element_string(gtin=gtin, expiry=expiry, lot_number=lot_number, serial=serial)
        return await scanning.record_use(actor=actors["staff"], session_id=session_id, barcode=barcode)

    implant = await scan("SN0042")
    voided = await scan("SN0043")
    await scanning.void_usage(actor=actors["staff"], usage_id=voided["usage_id"], reason="Dropped syringe")
    plain = await scanning.record_use(actor=actors["staff"], session_id=session_id, barcode=clinic.code())
    return ImplantUses(lot_number=lot_number, implant=implant, voided=voided, plain=plain)
