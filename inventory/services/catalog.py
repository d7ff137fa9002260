"""Catalog: brands, products and their GTINs, locations, stock rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from inventory import clock, db
from inventory.config import DEFAULT_TIMEZONE
from inventory.domain import quantities
from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.gtin import normalize_gtin
from inventory.domain.models import Actor
from inventory.domain.quantities import Quantity
from inventory.services import alerting
from inventory.services.checks import require
from inventory.services.views import product_view
from inventory.store import alerts as alert_store
from inventory.store import audit, catalog

STORAGE = ("room", "fridge")

MAX_RULE_QUANTITY = 100_000


def _clean_name(value: str, what: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise Unprocessable(f"The {what} name is empty.", code="validation_error")
    if not name.isprintable():
        raise Unprocessable(f"The {what} name contains control characters.", code="validation_error")
    return name


async def create_brand(*, actor: Actor, name: str) -> dict[str, Any]:
    """Create a brand; raises Conflict(duplicate) when the name exists (ignoring case)."""
    name = _clean_name(name, "brand")
    async with db.transaction() as conn:
        if await catalog.brand_name_taken(conn, name):
            raise Conflict(f"Brand {name!r} already exists.", code="duplicate")
        brand = await catalog.create_brand(conn, name)
        await audit.record(
            conn,
            actor_id=actor.id,
            action="brand.create",
            entity="brand",
            entity_id=brand["id"],
            details={"name": name},
        )
    return brand


async def list_brands() -> list[dict[str, Any]]:
    """All brands."""
    async with db.connection() as conn:
        return await catalog.list_brands(conn)


async def create_product(
    *,
    actor: Actor,
    brand_id: int,
    name: str,
    gtin: str | None,
    packs: list[tuple[str, int]],
    ingredients: list[str],
    storage: str,
    implant: bool = False,
    unit: str = "each",
    container_quantity: int | Decimal | None = None,
    in_use_hours: int | None = None,
) -> dict[str, Any]:
    """Create a product (an `implant` or not) with its unit GTIN and pack GTINs; raises GtinInvalid, Conflict,
    NotFound, Unprocessable (container_quantity_invalid, in_use_hours_invalid)."""
    name = _clean_name(name, "product")
    unit, size, in_use_hours = quantities.check_packaging(unit, container_quantity, in_use_hours)
    if storage not in STORAGE:
        raise Unprocessable("storage must be 'room' or 'fridge'.", code="validation_error")
    gtins: list[tuple[str, int]] = []
    if gtin is not None:
        gtins.append((normalize_gtin(gtin), 1))
    for pack_gtin, units in packs:
        if units < 2:
            # A "pack" of one is the unit itself; stored as such it would hide behind the unit GTIN.
            raise Unprocessable(
                "A pack holds at least two units; give a single unit's GTIN as `gtin`.", code="validation_error"
            )
        gtins.append((normalize_gtin(pack_gtin), units))
    codes = [g for g, _ in gtins]
    if len(set(codes)) != len(codes):
        raise Unprocessable("The same GTIN is given twice.", code="gtin_duplicate")
    cleaned_ingredients = [i.strip() for i in ingredients if i.strip()]
    async with db.transaction() as conn:
        await require(conn, "brand", brand_id)
        if await catalog.product_name_taken(conn, brand_id, name):
            raise Conflict(f"Product {name!r} already exists for this brand.", code="duplicate")
        taken = await catalog.existing_gtins(conn, codes)
        if taken:
            raise Conflict(f"GTIN {', '.join(taken)} already belongs to a product.", code="duplicate", gtins=taken)
        product_id = await catalog.create_product(
            conn,
            brand_id=brand_id,
            name=name,
            ingredients=cleaned_ingredients,
            storage=storage,
            implant=implant,
            unit=unit,
            container_quantity=size,
            in_use_hours=in_use_hours,
        )
        await catalog.add_gtins(conn, product_id, gtins)
        await audit.record(
            conn,
            actor_id=actor.id,
            action="product.create",
            entity="product",
            entity_id=product_id,
            details={"name": name, "gtins": codes, "implant": implant},
        )
        row = await catalog.get_product(conn, product_id)
    assert row is not None
    return product_view(row)


async def update_product(*, actor: Actor, product_id: int, implant: bool | None = None) -> dict[str, Any]:
    """Mark a product as an implant or not (audited when it changes); raises NotFound, Unprocessable."""
    if implant is None:
        raise Unprocessable("Give implant.", code="validation_error")
    async with db.transaction() as conn:
        before = await catalog.product_implant_for_update(conn, product_id)
        if before is None:
            raise NotFound.of("product", product_id)
        if before != implant:
            await catalog.set_product_implant(conn, product_id, implant)
            await audit.record(
                conn,
                actor_id=actor.id,
                action="product.update",
                entity="product",
                entity_id=product_id,
                details={"implant": {"from": before, "to": implant}},
            )
        row = await catalog.get_product(conn, product_id)
    assert row is not None
    return product_view(row)


async def get_product(product_id: int) -> dict[str, Any]:
    """One product; raises NotFound."""
    async with db.connection() as conn:
        row = await catalog.get_product(conn, product_id)
    if row is None:
        raise NotFound.of("product", product_id)
    return product_view(row)


async def list_products(
    *, brand_id: int | None = None, query: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Products, filtered."""
    async with db.connection() as conn:
        rows = await catalog.list_products(conn, brand_id=brand_id, query=query, limit=limit, offset=offset)
    return [product_view(r) for r in rows]


def _clean_timezone(value: str) -> str:
    name = value.strip()
    try:
        clock.zone(name)
    except clock.UnknownTimezone:
        raise Unprocessable(
            f"{name!r} is not an IANA time zone name such as Europe/Paris or America/New_York.",
            code="timezone_unknown",
            timezone=name,
        ) from None
    return name


async def create_location(*, actor: Actor, name: str, timezone: str = DEFAULT_TIMEZONE) -> dict[str, Any]:
    """Create a location in an IANA time zone; raises Unprocessable(timezone_unknown), Conflict(duplicate)."""
    name = _clean_name(name, "location")
    timezone = _clean_timezone(timezone)
    async with db.transaction() as conn:
        if await catalog.location_name_taken(conn, name):
            raise Conflict(f"Location {name!r} already exists.", code="duplicate")
        location = await catalog.create_location(conn, name=name, timezone=timezone, at=db.now())
        await audit.record(
            conn,
            actor_id=actor.id,
            action="location.create",
            entity="location",
            entity_id=location["id"],
            details={"name": name, "timezone": timezone},
        )
    return location


async def update_location(
    *, actor: Actor, location_id: int, name: str | None = None, timezone: str | None = None
) -> dict[str, Any]:
    """Rename a location or change its time zone; raises NotFound, Unprocessable(timezone_unknown), Conflict."""
    if name is None and timezone is None:
        raise Unprocessable("Give a new name or timezone.", code="validation_error")
    new_name = None if name is None else _clean_name(name, "location")
    new_timezone = None if timezone is None else _clean_timezone(timezone)
    async with db.transaction() as conn:
        before = await catalog.get_location(conn, location_id, for_update=True)
        if before is None:
            raise NotFound.of("location", location_id)
        if new_name is not None and await catalog.location_name_taken(conn, new_name, other_than=location_id):
            raise Conflict(f"Location {new_name!r} already exists.", code="duplicate")
        after = await catalog.update_location(
            conn, location_id, name=new_name or before["name"], timezone=new_timezone or before["timezone"]
        )
        changes = {k: {"from": before[k], "to": after[k]} for k in ("name", "timezone") if before[k] != after[k]}
        if changes:
            await audit.record(
                conn,
                actor_id=actor.id,
                action="location.update",
                entity="location",
                entity_id=location_id,
                details=changes,
            )
            if "timezone" in changes:
                # Another zone moves the location's "today": its reorder arithmetic may change at once.
                await alerting.reevaluate(conn, await alert_store.all_pairs(conn, location_id))
    return after


async def list_locations() -> list[dict[str, Any]]:
    """All locations."""
    async with db.connection() as conn:
        return await catalog.list_locations(conn)


async def set_rule(
    *,
    actor: Actor,
    location_id: int,
    product_id: int,
    reorder_point: Quantity,
    par_level: Quantity,
    lead_time_days: int,
) -> dict[str, Any]:
    """Create or replace a stock rule in the product's unit; re-evaluates the reorder alert there.

    Reorder point and par level are whole for `each` (422 quantity_not_whole) and take up to two decimal places
    for ml and U (422 quantity_precision); the refusal names its `field`.
    """
    if min(reorder_point, par_level, lead_time_days) < 0:
        raise Unprocessable("Reorder point, par level and lead time cannot be negative.", code="validation_error")
    if max(reorder_point, par_level) > MAX_RULE_QUANTITY:
        raise Unprocessable(f"Reorder point and par level are at most {MAX_RULE_QUANTITY}.", code="validation_error")
    if par_level < reorder_point:
        raise Unprocessable("The par level cannot be below the reorder point.", code="validation_error")
    if lead_time_days > 365:
        raise Unprocessable("A lead time above 365 days is not plausible.", code="validation_error")
    async with db.transaction() as conn:
        await require(conn, "location", location_id)
        await require(conn, "product", product_id)
        if not (isinstance(reorder_point, int) and isinstance(par_level, int)):
            unit = await catalog.product_unit(conn, product_id)
            for name, value in (("reorder_point", reorder_point), ("par_level", par_level)):
                try:
                    quantities.check(value, unit, field=name)
                except Unprocessable as refusal:
                    refusal.extra["field"] = name
                    raise
        rule = await catalog.upsert_rule(
            conn,
            product_id=product_id,
            location_id=location_id,
            reorder_point=quantities.plain(reorder_point),
            par_level=quantities.plain(par_level),
            lead_time_days=lead_time_days,
        )
        await audit.record(
            conn,
            actor_id=actor.id,
            action="stock_rule.set",
            entity="stock_rule",
            entity_id=rule["id"],
            details={k: rule[k] for k in ("product_id", "location_id", "reorder_point", "par_level", "lead_time_days")},
        )
        await alerting.reevaluate(conn, [(product_id, location_id)])
    return rule


async def list_rules(*, location_id: int | None = None) -> list[dict[str, Any]]:
    """Stock rules."""
    async with db.connection() as conn:
        return await catalog.list_rules(conn, location_id=location_id)
