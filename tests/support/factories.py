"""Small builders for catalog, stock and clinical data, through the real services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from inventory import clock
from inventory.domain.labelcode import mod10_check_digit
from inventory.domain.models import Actor
from inventory.services import catalog, receiving

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix} {next(_counter)}"


def make_gtin(seed: int, *, prefix: str = "376000") -> str:
    """A valid GTIN-14 (leading 0 + GTIN-13) built from a seed."""
    body = f"0{prefix}{seed % 10**6:06d}"[:13]
    return body + str(mod10_check_digit(body))


PARIS = "Europe/Paris"


def in_days(days: int, *, tz: str = PARIS) -> date:
    """A date relative to the service clock's today at a location in `tz` (test locations are in Paris)."""
    return clock.today_in(tz) + timedelta(days=days)


async def brand(actor: Actor, name: str | None = None) -> dict[str, Any]:
    """A new brand."""
    return await catalog.create_brand(actor=actor, name=name or unique("Brand"))


async def location(actor: Actor, name: str | None = None, *, timezone: str = PARIS) -> dict[str, Any]:
    """A new location (in Paris unless told otherwise)."""
    return await catalog.create_location(actor=actor, name=name or unique("Room"), timezone=timezone)


async def product(
    actor: Actor,
    *,
    brand_id: int | None = None,
    gtin: str | None = None,
    packs: list[tuple[str, int]] | None = None,
    ingredients: list[str] | None = None,
    storage: str = "room",
    name: str | None = None,
) -> dict[str, Any]:
    """A new product (a new brand when none is given)."""
    if brand_id is None:
        brand_id = (await brand(actor))["id"]
    return await catalog.create_product(
        actor=actor,
        brand_id=brand_id,
        name=name or unique("Ampoule"),
        gtin=gtin,
        packs=packs or [],
        ingredients=ingredients or ["Hyaluronic acid"],
        storage=storage,
    )


async def receive(
    actor: Actor, *, location_id: int, product_id: int, lot_number: str, expiry: date, quantity: int
) -> dict[str, Any]:
    """Receive one lot by fields; returns the line."""
    result = await receiving.receive(
        actor=actor,
        location_id=location_id,
        supplier="Test supplier",
        reference=None,
        lines=[receiving.LineIn(quantity=quantity, product_id=product_id, lot_number=lot_number, expiry_date=expiry)],
    )
    line: dict[str, Any] = result["lines"][0]
    return line


@dataclass(frozen=True)
class ProductAndLocation:
    """A product with a unit GTIN and a box of 10, and a location."""

    product_id: int
    gtin: str
    box_gtin: str
    location_id: int


_gtin_seeds = itertools.count(600_000, 3)


async def product_and_location(actors: dict[str, Actor]) -> ProductAndLocation:
    """Create a product (unit GTIN and a box of 10) and a location inside the test transaction."""
    seed = next(_gtin_seeds)
    gtin, box = make_gtin(seed), make_gtin(seed + 1)
    made = await product(actors["manager"], gtin=gtin, packs=[(box, 10)])
    place = await location(actors["manager"])
    return ProductAndLocation(product_id=made["id"], gtin=gtin, box_gtin=box, location_id=place["id"])
