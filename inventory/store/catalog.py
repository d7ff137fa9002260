"""Brands, products with their GTINs, locations and stock rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from inventory import db
from inventory.db import Connection
from inventory.domain.quantities import Quantity
from inventory.store.common import unit_gtin_sql

_PRODUCT_SELECT = f"""
SELECT p.id, p.brand AS brand_id, b.name AS brand_name, p.name, p.ingredients, p.storage, p.active, p.implant,
       p.unit, p.container_quantity, p.in_use_hours,
       {unit_gtin_sql("p.id")} AS gtin,
       coalesce((SELECT json_agg(json_build_object('gtin', g.gtin, 'units', g.units) ORDER BY g.units, g.id)::jsonb
                 FROM product_gtin g WHERE g.product = p.id AND g.units > 1), '[]'::jsonb) AS packs
FROM product p JOIN brand b ON b.id = p.brand
"""


async def create_brand(conn: Connection, name: str) -> dict[str, Any]:
    """Insert a brand (the unique index refuses a duplicate name)."""
    row = await conn.fetchrow("INSERT INTO brand (name, created_at) VALUES ($1, $2) RETURNING id, name", name, db.now())
    assert row is not None
    return dict(row)


async def list_brands(conn: Connection) -> list[dict[str, Any]]:
    """All brands by name."""
    return [dict(r) for r in await conn.fetch("SELECT id, name FROM brand ORDER BY lower(name)")]


async def create_product(
    conn: Connection,
    *,
    brand_id: int,
    name: str,
    ingredients: list[str],
    storage: str,
    implant: bool = False,
    unit: str = "each",
    container_quantity: int | Decimal = 1,
    in_use_hours: int | None = None,
) -> int:
    """Insert a product; returns its id."""
    value = await conn.fetchval(
        "INSERT INTO product (brand, name, ingredients, storage, active, created_at, implant, unit,"
        " container_quantity, in_use_hours) VALUES ($1, $2, $3, $4, true, $5, $6, $7, $8, $9) RETURNING id",
        brand_id,
        name,
        ingredients,
        storage,
        db.now(),
        implant,
        unit,
        container_quantity,
        in_use_hours,
    )
    return int(value)


async def add_gtins(conn: Connection, product_id: int, gtins: list[tuple[str, int]]) -> None:
    """Attach GTINs (14 digits, units each) to a product."""
    await conn.executemany(
        "INSERT INTO product_gtin (product, gtin, units) VALUES ($1, $2, $3)",
        [(product_id, gtin, units) for gtin, units in gtins],
    )


async def existing_gtins(conn: Connection, gtins: list[str]) -> list[str]:
    """Which of these GTINs are already taken."""
    rows = await conn.fetch("SELECT gtin FROM product_gtin WHERE gtin = ANY($1::text[])", gtins)
    return [r["gtin"] for r in rows]


async def product_unit(conn: Connection, product_id: int) -> str:
    """What a product is counted in: each, ml or U."""
    return str(await conn.fetchval("SELECT unit FROM product WHERE id = $1", product_id))


async def get_product(conn: Connection, product_id: int) -> dict[str, Any] | None:
    """A product with brand, unit GTIN and packs."""
    row = await conn.fetchrow(_PRODUCT_SELECT + " WHERE p.id = $1", product_id)
    return dict(row) if row else None


async def product_implant_for_update(conn: Connection, product_id: int) -> bool | None:
    """Whether the product is an implant, locking its row; None when there is no such product."""
    value = await conn.fetchval("SELECT implant FROM product WHERE id = $1 FOR UPDATE", product_id)
    return None if value is None else bool(value)


async def set_product_implant(conn: Connection, product_id: int, implant: bool) -> None:
    """Mark a product as an implant or not."""
    await conn.execute("UPDATE product SET implant = $2 WHERE id = $1", product_id, implant)


async def list_products(
    conn: Connection, *, brand_id: int | None, query: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Products, filtered by brand and a name fragment (matched literally: % and _ are not wildcards)."""
    if query is not None:
        query = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await conn.fetch(
        _PRODUCT_SELECT + " WHERE ($1::int IS NULL OR p.brand = $1)"
        " AND ($2::text IS NULL OR p.name ILIKE '%' || $2 || '%' OR b.name ILIKE '%' || $2 || '%')"
        " ORDER BY lower(b.name), lower(p.name) LIMIT $3 OFFSET $4",
        brand_id,
        query,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


async def create_location(conn: Connection, *, name: str, timezone: str, at: datetime) -> dict[str, Any]:
    """Insert a location in an IANA time zone."""
    row = await conn.fetchrow(
        "INSERT INTO location (name, timezone, created_at) VALUES ($1, $2, $3) RETURNING id, name, timezone",
        name,
        timezone,
        at,
    )
    assert row is not None
    return dict(row)


async def get_location(conn: Connection, location_id: int, *, for_update: bool = False) -> dict[str, Any] | None:
    """A location's id, name and time zone, optionally locked for the rest of the transaction."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT id, name, timezone FROM location WHERE id = $1{lock}", location_id)
    return dict(row) if row else None


async def update_location(conn: Connection, location_id: int, *, name: str, timezone: str) -> dict[str, Any]:
    """Rename a location or move it to another time zone."""
    row = await conn.fetchrow(
        "UPDATE location SET name = $2, timezone = $3 WHERE id = $1 RETURNING id, name, timezone",
        location_id,
        name,
        timezone,
    )
    assert row is not None
    return dict(row)


async def list_locations(conn: Connection) -> list[dict[str, Any]]:
    """All locations."""
    return [dict(r) for r in await conn.fetch("SELECT id, name, timezone FROM location ORDER BY lower(name)")]


async def upsert_rule(
    conn: Connection,
    *,
    product_id: int,
    location_id: int,
    reorder_point: Quantity,
    par_level: Quantity,
    lead_time_days: int,
) -> dict[str, Any]:
    """Create or replace the stock rule of a product at a location."""
    row = await conn.fetchrow(
        "INSERT INTO stock_rule (product, location, reorder_point, par_level, lead_time_days, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (product, location) DO UPDATE SET reorder_point = EXCLUDED.reorder_point,"
        " par_level = EXCLUDED.par_level, lead_time_days = EXCLUDED.lead_time_days, updated_at = EXCLUDED.updated_at"
        " RETURNING id, product AS product_id, location AS location_id, reorder_point, par_level, lead_time_days",
        product_id,
        location_id,
        reorder_point,
        par_level,
        lead_time_days,
        db.now(),
    )
    assert row is not None
    return dict(row)


async def list_rules(conn: Connection, *, location_id: int | None) -> list[dict[str, Any]]:
    """Stock rules, optionally at one location."""
    rows = await conn.fetch(
        "SELECT id, product AS product_id, location AS location_id, reorder_point, par_level, lead_time_days"
        " FROM stock_rule WHERE ($1::int IS NULL OR location = $1) ORDER BY location, product",
        location_id,
    )
    return [dict(r) for r in rows]


async def unit_gtin(conn: Connection, product_id: int) -> str | None:
    """A product's first single-unit GTIN, if it has one."""
    value = await conn.fetchval(f"SELECT {unit_gtin_sql('$1')}", product_id)
    return None if value is None else str(value)


async def brand_name_taken(conn: Connection, name: str) -> bool:
    """Whether a brand already has this name (ignoring case)."""
    return bool(await conn.fetchval("SELECT 1 FROM brand WHERE lower(name) = lower($1)", name))


async def product_name_taken(conn: Connection, brand_id: int, name: str) -> bool:
    """Whether the brand already has a product with this name (ignoring case)."""
    return bool(
        await conn.fetchval("SELECT 1 FROM product WHERE brand = $1 AND lower(name) = lower($2)", brand_id, name)
    )


async def location_name_taken(conn: Connection, name: str, *, other_than: int | None = None) -> bool:
    """Whether a location (other than `other_than`) already has this name (ignoring case)."""
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM location WHERE lower(name) = lower($1) AND id IS DISTINCT FROM $2", name, other_than
        )
    )
