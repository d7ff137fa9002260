"""Suppliers, what they sell, purchase orders and their lines: the SQL behind `services.purchasing`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from inventory.db import Connection
from inventory.domain.purchasing import Offer
from inventory.store.common import unit_gtin_sql

# ------------------------------------------------------------------ suppliers


@dataclass(frozen=True)
class SupplierProductRow:
    """How a supplier sells one product."""

    product_id: int
    product_name: str
    pack_gtin: str | None
    pack_units: int
    lead_time_days: int
    reference: str | None


@dataclass(frozen=True)
class SupplierRow:
    """A supplier and the products it sells."""

    id: int
    name: str
    email: str | None
    created_at: datetime
    products: tuple[SupplierProductRow, ...] = ()


def _product_of(row: Any) -> SupplierProductRow:
    return SupplierProductRow(
        product_id=row["product_id"],
        product_name=row["product_name"],
        pack_gtin=row["pack_gtin"],
        pack_units=row["pack_units"],
        lead_time_days=row["lead_time_days"],
        reference=row["reference"],
    )


async def create_supplier(conn: Connection, *, name: str, email: str | None, at: datetime) -> SupplierRow:
    """Insert a supplier; raises asyncpg.UniqueViolationError on a name taken (ignoring case)."""
    row = await conn.fetchrow(
        "INSERT INTO supplier (name, email, created_at) VALUES ($1, $2, $3) RETURNING id, name, email, created_at",
        name,
        email,
        at,
    )
    assert row is not None
    return SupplierRow(id=row["id"], name=row["name"], email=row["email"], created_at=row["created_at"])


_SUPPLIER_PRODUCTS = """
SELECT sp.supplier, sp.product AS product_id, p.name AS product_name, sp.pack_gtin, sp.pack_units,
       sp.lead_time_days, sp.reference
FROM supplier_product sp JOIN product p ON p.id = sp.product
WHERE sp.supplier = ANY($1::int[])
ORDER BY sp.supplier, lower(p.name), sp.product
"""


async def list_suppliers(conn: Connection, supplier_id: int | None = None) -> list[SupplierRow]:
    """Suppliers by name (or the one asked for), each with its products."""
    rows = await conn.fetch(
        "SELECT id, name, email, created_at FROM supplier WHERE $1::int IS NULL OR id = $1 ORDER BY lower(name), id",
        supplier_id,
    )
    products: dict[int, list[SupplierProductRow]] = {}
    for p in await conn.fetch(_SUPPLIER_PRODUCTS, [r["id"] for r in rows]):
        products.setdefault(p["supplier"], []).append(_product_of(p))
    return [
        SupplierRow(
            id=r["id"],
            name=r["name"],
            email=r["email"],
            created_at=r["created_at"],
            products=tuple(products.get(r["id"], ())),
        )
        for r in rows
    ]


async def supplier_exists(conn: Connection, supplier_id: int) -> bool:
    """Whether the supplier exists."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM supplier WHERE id = $1)", supplier_id))


async def upsert_supplier_product(
    conn: Connection,
    *,
    supplier_id: int,
    product_id: int,
    pack_gtin: str | None,
    pack_units: int,
    lead_time_days: int,
    reference: str | None,
    at: datetime,
) -> None:
    """Set how the supplier sells the product (one row per supplier and product)."""
    await conn.execute(
        "INSERT INTO supplier_product (supplier, product, pack_gtin, pack_units, lead_time_days, reference, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (supplier, product) DO UPDATE SET pack_gtin = EXCLUDED.pack_gtin,"
        " pack_units = EXCLUDED.pack_units, lead_time_days = EXCLUDED.lead_time_days,"
        " reference = EXCLUDED.reference, updated_at = EXCLUDED.updated_at",
        supplier_id,
        product_id,
        pack_gtin,
        pack_units,
        lead_time_days,
        reference,
        at,
    )


async def rule_locations(conn: Connection, product_id: int) -> list[int]:
    """The locations with a stock rule for the product (whose reorder arithmetic uses its suppliers' lead times)."""
    rows = await conn.fetch("SELECT location FROM stock_rule WHERE product = $1 ORDER BY location", product_id)
    return [r["location"] for r in rows]


async def offers(conn: Connection, product_ids: Sequence[int]) -> list[Offer]:
    """Every supplier offer of these products."""
    rows = await conn.fetch(
        "SELECT supplier, product, pack_units, lead_time_days FROM supplier_product WHERE product = ANY($1::int[])",
        list(product_ids),
    )
    return [Offer(r["supplier"], r["product"], r["pack_units"], r["lead_time_days"]) for r in rows]


# ------------------------------------------------------------------ purchase orders


@dataclass(frozen=True)
class OrderLineRow:
    """A line with what the documents print: product, the supplier's pack and reference."""

    product_id: int
    product_name: str
    quantity: int
    received: int
    unit_gtin: str | None
    pack_gtin: str | None
    pack_units: int
    reference: str | None


@dataclass(frozen=True)
class OrderRow:
    """A purchase order with its supplier, location and lines."""

    id: int
    status: str
    supplier_id: int
    supplier_name: str
    supplier_email: str | None
    location_id: int
    location_name: str
    location_timezone: str
    created_at: datetime
    sent_at: datetime | None
    expected_on: date | None
    cancelled_at: datetime | None
    lines: tuple[OrderLineRow, ...]


_ORDERS = """
SELECT o.id, o.status, o.supplier AS supplier_id, s.name AS supplier_name, s.email AS supplier_email,
       o.location AS location_id, l.name AS location_name, l.timezone AS location_timezone,
       o.created_at, o.sent_at, o.expected_on, o.cancelled_at
FROM purchase_order o JOIN supplier s ON s.id = o.supplier JOIN location l ON l.id = o.location
"""

_LINES = f"""
SELECT ol.purchase_order, ol.product AS product_id, p.name AS product_name, ol.quantity, ol.received,
       {unit_gtin_sql("p.id")} AS unit_gtin,
       sp.pack_gtin, coalesce(sp.pack_units, 1) AS pack_units, sp.reference
FROM purchase_order_line ol
JOIN purchase_order o ON o.id = ol.purchase_order
JOIN product p ON p.id = ol.product
LEFT JOIN supplier_product sp ON sp.supplier = o.supplier AND sp.product = ol.product
WHERE ol.purchase_order = ANY($1::int[])
ORDER BY ol.purchase_order, ol.id
"""


async def _with_lines(conn: Connection, heads: Sequence[Any]) -> list[OrderRow]:
    lines: dict[int, list[OrderLineRow]] = {}
    for r in await conn.fetch(_LINES, [h["id"] for h in heads]):
        lines.setdefault(r["purchase_order"], []).append(
            OrderLineRow(
                product_id=r["product_id"],
                product_name=r["product_name"],
                quantity=r["quantity"],
                received=r["received"],
                unit_gtin=r["unit_gtin"],
                pack_gtin=r["pack_gtin"],
                pack_units=r["pack_units"],
                reference=r["reference"],
            )
        )
    return [
        OrderRow(
            id=h["id"],
            status=h["status"],
            supplier_id=h["supplier_id"],
            supplier_name=h["supplier_name"],
            supplier_email=h["supplier_email"],
            location_id=h["location_id"],
            location_name=h["location_name"],
            location_timezone=h["location_timezone"],
            created_at=h["created_at"],
            sent_at=h["sent_at"],
            expected_on=h["expected_on"],
            cancelled_at=h["cancelled_at"],
            lines=tuple(lines.get(h["id"], ())),
        )
        for h in heads
    ]


async def get_order(conn: Connection, order_id: int) -> OrderRow | None:
    """One order with its lines."""
    head = await conn.fetchrow(_ORDERS + " WHERE o.id = $1", order_id)
    if head is None:
        return None
    return (await _with_lines(conn, [head]))[0]


async def get_orders(conn: Connection, order_ids: Sequence[int]) -> list[OrderRow]:
    """These orders with their lines, by id."""
    heads = await conn.fetch(_ORDERS + " WHERE o.id = ANY($1::int[]) ORDER BY o.id", list(order_ids))
    return await _with_lines(conn, heads)


# Late (domain.purchasing.is_late): still owed and expected before the location's local date at instant $5.
_LATE = (
    "(o.status IN ('sent', 'partially_received') AND o.expected_on IS NOT NULL"
    " AND o.expected_on < ($5::timestamptz AT TIME ZONE l.timezone)::date)"
)


async def list_orders(
    conn: Connection,
    *,
    status: str | None,
    location_id: int | None,
    limit: int,
    offset: int,
    late: bool | None = None,
    at: datetime | None = None,
) -> list[OrderRow]:
    """Orders, newest first, by status, location and (with `at`, the instant whose local dates count) lateness."""
    heads = await conn.fetch(
        _ORDERS + " WHERE ($1::text IS NULL OR o.status = $1) AND ($2::int IS NULL OR o.location = $2)"
        f" AND ($6::bool IS NULL OR {_LATE} = $6)"
        " ORDER BY o.id DESC LIMIT $3 OFFSET $4",
        status,
        location_id,
        limit,
        offset,
        at,
        late,
    )
    return await _with_lines(conn, heads)


async def lock_order(conn: Connection, order_id: int) -> tuple[str, int] | None:
    """Lock an order row; returns its (status, location id)."""
    row = await conn.fetchrow("SELECT status, location FROM purchase_order WHERE id = $1 FOR UPDATE", order_id)
    return None if row is None else (row["status"], row["location"])


async def lock_from_alerts(conn: Connection) -> None:
    """Serialise from-alerts runs: each reads the drafts the one before it wrote (a rare manager action)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('purchase_order.from_alerts'))")


async def drafted(conn: Connection, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Units on open drafts per (product, location), for these pairs."""
    rows = await conn.fetch(
        "SELECT ol.product, o.location, sum(ol.quantity)::int AS quantity"
        " FROM purchase_order o JOIN purchase_order_line ol ON ol.purchase_order = o.id"
        " WHERE o.status = 'draft' AND (ol.product, o.location) IN (SELECT * FROM unnest($1::int[], $2::int[]))"
        " GROUP BY 1, 2",
        [p for p, _ in pairs],
        [loc for _, loc in pairs],
    )
    return {(r["product"], r["location"]): r["quantity"] for r in rows}


async def draft_for(conn: Connection, *, supplier_id: int, location_id: int, user_id: int, at: datetime) -> int:
    """The open draft of the supplier at the location, made if there is none; returns its id (locked)."""
    await conn.execute(
        "INSERT INTO purchase_order (supplier, location, status, created_at, created_by)"
        " VALUES ($1, $2, 'draft', $3, $4)"
        " ON CONFLICT (supplier, location) WHERE status = 'draft' DO NOTHING",
        supplier_id,
        location_id,
        at,
        user_id,
    )
    value = await conn.fetchval(
        "SELECT id FROM purchase_order WHERE supplier = $1 AND location = $2 AND status = 'draft' FOR UPDATE",
        supplier_id,
        location_id,
    )
    return int(value)


async def add_to_line(conn: Connection, *, order_id: int, product_id: int, quantity: int) -> None:
    """Add units to the order's line of the product (made if missing)."""
    await conn.execute(
        "INSERT INTO purchase_order_line (purchase_order, product, quantity, received) VALUES ($1, $2, $3, 0)"
        " ON CONFLICT (purchase_order, product)"
        " DO UPDATE SET quantity = purchase_order_line.quantity + EXCLUDED.quantity",
        order_id,
        product_id,
        quantity,
    )


async def set_line_quantity(conn: Connection, *, order_id: int, product_id: int, quantity: int) -> bool:
    """Set a line's units; False when the order has no line of the product."""
    status = await conn.execute(
        "UPDATE purchase_order_line SET quantity = $3 WHERE purchase_order = $1 AND product = $2",
        order_id,
        product_id,
        quantity,
    )
    return bool(status != "UPDATE 0")


async def remove_line(conn: Connection, *, order_id: int, product_id: int) -> bool:
    """Drop a draft's line of a product; False when the order has no such line."""
    status = await conn.execute(
        "DELETE FROM purchase_order_line WHERE purchase_order = $1 AND product = $2", order_id, product_id
    )
    return bool(status != "DELETE 0")


async def mark_sent(conn: Connection, *, order_id: int, at: datetime, user_id: int, expected_on: date) -> None:
    """A draft becomes sent, expected on the given day."""
    await conn.execute(
        "UPDATE purchase_order SET status = 'sent', sent_at = $2, sent_by = $3, expected_on = $4 WHERE id = $1",
        order_id,
        at,
        user_id,
        expected_on,
    )


async def mark_cancelled(conn: Connection, *, order_id: int, at: datetime, user_id: int) -> None:
    """The order is cancelled: nothing of it is on order any more."""
    await conn.execute(
        "UPDATE purchase_order SET status = 'cancelled', cancelled_at = $2, cancelled_by = $3 WHERE id = $1",
        order_id,
        at,
        user_id,
    )


async def set_status(conn: Connection, *, order_id: int, status: str) -> None:
    """Set the status a receipt gives the order."""
    await conn.execute("UPDATE purchase_order SET status = $2 WHERE id = $1", order_id, status)


async def add_received(conn: Connection, *, order_id: int, received: dict[int, int]) -> list[tuple[int, int, int]]:
    """Add received units per product (a product the order lacks gets a line of quantity 0); returns the lines.

    Each returned triple is a line's (product, quantity, received) after the addition, for every line of the order.
    """
    await conn.execute(
        "INSERT INTO purchase_order_line (purchase_order, product, quantity, received)"
        " SELECT $1, x.product, 0, x.units FROM unnest($2::int[], $3::int[]) AS x(product, units)"
        " ON CONFLICT (purchase_order, product)"
        " DO UPDATE SET received = purchase_order_line.received + EXCLUDED.received",
        order_id,
        list(received),
        list(received.values()),
    )
    rows = await conn.fetch(
        "SELECT product, quantity, received FROM purchase_order_line WHERE purchase_order = $1 ORDER BY id", order_id
    )
    return [(r["product"], r["quantity"], r["received"]) for r in rows]


async def order_products(conn: Connection, order_id: int) -> list[int]:
    """The products on an order."""
    rows = await conn.fetch("SELECT product FROM purchase_order_line WHERE purchase_order = $1", order_id)
    return [r["product"] for r in rows]


async def lead_times(conn: Connection, order_id: int) -> list[int]:
    """Each line's lead time: the order's supplier's for the product, else the stock rule's at the location, else 0."""
    rows = await conn.fetch(
        "SELECT coalesce(sp.lead_time_days, r.lead_time_days, 0) AS lead_time_days FROM purchase_order o"
        " JOIN purchase_order_line ol ON ol.purchase_order = o.id"
        " LEFT JOIN supplier_product sp ON sp.supplier = o.supplier AND sp.product = ol.product"
        " LEFT JOIN stock_rule r ON r.product = ol.product AND r.location = o.location"
        " WHERE o.id = $1",
        order_id,
    )
    return [r["lead_time_days"] for r in rows]
