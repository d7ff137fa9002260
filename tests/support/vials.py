"""A clinic with a multi-use vial product (toxin in U, or a cocktail in ml) in stock, a client and a session."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from inventory.domain.gs1 import format_element_string
from inventory.domain.models import Actor
from inventory.services import catalog, clinical
from tests.support import factories as f

_seeds = iter(range(700_000, 10**6, 11))


@dataclass
class VialClinic:
    """Ids and codes of the built clinic."""

    product: dict[str, Any]
    gtin: str
    location_id: int
    lot: dict[str, Any]
    client: dict[str, Any]
    session: dict[str, Any]

    def code(self) -> str:
        """The vial's GS1 element string, as a scanner types it."""
        return format_element_string(
            gtin=self.gtin, expiry=self.lot["expiry_date"], lot_number=self.lot["lot_number"], serial=None
        )


async def build_vials(
    actors: dict[str, Actor],
    *,
    unit: str = "ml",
    container_quantity: Decimal | int = 1,
    in_use_hours: int | None = 24,
    vials: int = 2,
    expiry_days: int = 200,
) -> VialClinic:
    """Create a multi-use product, receive `vials` whole containers of one lot, and open a session."""
    manager = actors["manager"]
    gtin = f.make_gtin(next(_seeds), prefix="376001")
    brand = await f.brand(manager)
    product = await catalog.create_product(
        actor=manager,
        brand_id=brand["id"],
        name=f.unique("Vial"),
        gtin=gtin,
        packs=[],
        ingredients=["Botulinum toxin"],
        storage="fridge",
        unit=unit,
        container_quantity=container_quantity,
        in_use_hours=in_use_hours,
    )
    location = await f.location(manager)
    line = await f.receive(
        manager,
        location_id=location["id"],
        product_id=product["id"],
        lot_number=f.unique("V").replace(" ", ""),
        expiry=f.in_days(expiry_days),
        quantity=vials,
    )
    client = await clinical.create_client(actor=manager, full_name=f.unique("Client"), allergies=[])
    session = await clinical.create_session(actor=actors["staff"], client_id=client["id"], location_id=location["id"])
    return VialClinic(
        product=product, gtin=gtin, location_id=location["id"], lot=line["lot"], client=client, session=session
    )


async def another_session(actors: dict[str, Actor], clinic: VialClinic) -> dict[str, Any]:
    """A second session at the clinic's location (for scans racing on one container)."""
    client = await clinical.create_client(actor=actors["manager"], full_name=f.unique("Client"), allergies=[])
    session: dict[str, Any] = await clinical.create_session(
        actor=actors["staff"], client_id=client["id"], location_id=clinic.location_id
    )
    return session
