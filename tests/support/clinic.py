"""A small clinic built through the services: a product with unit and box GTINs, stock, a client, a session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inventory.domain.gs1 import format_element_string
from inventory.domain.models import Actor
from inventory.services import catalog, clinical
from tests.support import factories as f


@dataclass
class Clinic:
    """Ids and codes of the built clinic."""

    product: dict[str, Any]
    gtin: str
    box_gtin: str
    location_id: int
    lot: dict[str, Any]
    client: dict[str, Any]
    session: dict[str, Any]

    def code(self, lot_number: str | None = None, *, expiry: Any = None, serial: str | None = None) -> str:
        """A GS1 element string for this product, with GS separators, as a scanner types it."""
        return format_element_string(
            gtin=self.gtin,
            expiry=expiry if expiry is not None else self.lot["expiry_date"],
            lot_number=lot_number or self.lot["lot_number"],
            serial=serial,
        )


_seed = iter(range(10_000, 10**6, 7))


async def build(
    actors: dict[str, Actor],
    *,
    on_hand: int = 10,
    expiry_days: int = 200,
    allergies: list[str] | None = None,
    ingredients: list[str] | None = None,
    timezone: str = f.PARIS,
) -> Clinic:
    """Create the clinic inside the current transaction."""
    manager = actors["manager"]
    seed = next(_seed)
    gtin, box_gtin = f.make_gtin(seed), f.make_gtin(seed + 1)
    product = await f.product(
        manager, gtin=gtin, packs=[(box_gtin, 10)], ingredients=ingredients or ["Hyaluronic acid", "Vitamin C"]
    )
    location = await f.location(manager, timezone=timezone)
    line = await f.receive(
        manager,
        location_id=location["id"],
        product_id=product["id"],
        lot_number=f.unique("L").replace(" ", ""),
        expiry=f.in_days(expiry_days, tz=timezone),
        quantity=on_hand,
    )
    client = await clinical.create_client(
        actor=manager,
        full_name=f.unique("Client"),
        email="c@example.com",
        phone="+33 6 12 34 56 78",
        allergies=allergies or [],
    )
    session = await clinical.create_session(actor=actors["staff"], client_id=client["id"], location_id=location["id"])
    return Clinic(
        product=product,
        gtin=gtin,
        box_gtin=box_gtin,
        location_id=location["id"],
        lot=line["lot"],
        client=client,
        session=session,
    )


async def with_rule(
    actors: dict[str, Actor], clinic: Clinic, *, reorder_point: int, par_level: int, lead_time_days: int = 0
) -> Clinic:
    """Give the clinic's product a stock rule at its location (which may open a reorder alert)."""
    await catalog.set_rule(
        actor=actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        reorder_point=reorder_point,
        par_level=par_level,
        lead_time_days=lead_time_days,
    )
    return clinic
