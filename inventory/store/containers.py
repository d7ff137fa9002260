"""Opened containers: the lock a multi-use scan takes, opening, drawing back, disposal, and the lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inventory.db import Connection
from inventory.domain.containers import OpenContainer
from inventory.domain.quantities import Quantity, plain

_COLUMNS = "c.id, c.opened_at, c.use_by, c.remaining"


def _open(row: Any) -> OpenContainer:
    return OpenContainer(
        id=row["id"], opened_at=row["opened_at"], use_by=row["use_by"], remaining=plain(row["remaining"])
    )


async def lock_open(conn: Connection, lot_id: int, location_id: int) -> OpenContainer | None:
    """The open container of a lot at a location, locked FOR UPDATE, after a transaction lock on the pair.

    The pair lock serialises every scan that may open a container of this lot here: without it two scans finding
    none would both open one (the unique index would refuse the second, after its work).
    """
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('container:' || $1::int || ':' || $2::int))", lot_id, location_id
    )
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM container c WHERE c.lot = $1 AND c.location = $2 AND c.status = 'open' FOR UPDATE",
        lot_id,
        location_id,
    )
    return _open(row) if row else None


async def open_one(
    conn: Connection,
    *,
    lot_id: int,
    product_id: int,
    location_id: int,
    user_id: int,
    at: datetime,
    use_by: datetime,
    capacity: Quantity,
) -> OpenContainer:
    """Open a full container of the lot at the location."""
    row = await conn.fetchrow(
        "INSERT INTO container AS c (lot, product, location, status, opened_at, opened_by, use_by, remaining)"
        f" VALUES ($1, $2, $3, 'open', $4, $5, $6, $7) RETURNING {_COLUMNS}",
        lot_id,
        product_id,
        location_id,
        at,
        user_id,
        use_by,
        capacity,
    )
    assert row is not None
    return _open(row)


async def dispose(conn: Connection, container_id: int, *, at: datetime) -> None:
    """Mark a container disposed with nothing left (its remainder's ledger row is the caller's)."""
    await conn.execute(
        "UPDATE container SET status = 'disposed', remaining = 0, closed_at = $2 WHERE id = $1", container_id, at
    )


@dataclass(frozen=True)
class LockedContainer:
    """A container as a void locks it."""

    id: int
    status: str
    opened_at: datetime
    use_by: datetime
    remaining: Quantity


async def lock(conn: Connection, container_id: int) -> LockedContainer:
    """A container locked FOR UPDATE (a void gives a dose back)."""
    row = await conn.fetchrow(
        "SELECT id, status, opened_at, use_by, remaining FROM container WHERE id = $1 FOR UPDATE", container_id
    )
    assert row is not None
    return LockedContainer(row["id"], row["status"], row["opened_at"], row["use_by"], plain(row["remaining"]))


async def give_back(conn: Connection, container_id: int, quantity: Quantity) -> Quantity:
    """Put a voided dose back into its open container; returns what it holds then."""
    value = await conn.fetchval(
        "UPDATE container SET remaining = remaining + $2 WHERE id = $1 RETURNING remaining", container_id, quantity
    )
    return plain(value)


@dataclass(frozen=True)
class ContainerRow:
    """An opened container for people: what, where, since when, until when, what is left."""

    id: int
    status: str
    lot_id: int
    lot_number: str
    expiry_date: Any
    product_id: int
    product_name: str
    brand_name: str
    unit: str
    capacity: Quantity
    location_id: int
    location_name: str
    location_timezone: str
    opened_at: datetime
    use_by: datetime
    remaining: Quantity
    closed_at: datetime | None


_LIST = """
SELECT c.id, c.status, c.opened_at, c.use_by, c.remaining, c.closed_at,
       l.id AS lot_id, l.lot_number, l.expiry_date, p.id AS product_id, p.name AS product_name, b.name AS brand_name,
       p.unit, p.container_quantity AS capacity, o.id AS location_id, o.name AS location_name,
       o.timezone AS location_timezone
FROM container c JOIN lot l ON l.id = c.lot JOIN product p ON p.id = c.product JOIN brand b ON b.id = p.brand
JOIN location o ON o.id = c.location
WHERE ($1::int IS NULL OR c.location = $1) AND ($2::text IS NULL OR c.status = $2)
  AND ($3::timestamptz IS NULL OR c.use_by <= $3)
ORDER BY c.use_by, c.id
LIMIT $4
"""


async def list_containers(
    conn: Connection,
    *,
    location_id: int | None,
    status: str | None,
    used_by_before: datetime | None = None,
    limit: int = 500,
) -> list[ContainerRow]:
    """Containers by location and status, soonest use-by first; `used_by_before` keeps those past it at that instant."""
    rows = await conn.fetch(_LIST, location_id, status, used_by_before, limit)
    return [
        ContainerRow(
            id=r["id"],
            status=r["status"],
            lot_id=r["lot_id"],
            lot_number=r["lot_number"],
            expiry_date=r["expiry_date"],
            product_id=r["product_id"],
            product_name=r["product_name"],
            brand_name=r["brand_name"],
            unit=r["unit"],
            capacity=plain(r["capacity"]),
            location_id=r["location_id"],
            location_name=r["location_name"],
            location_timezone=r["location_timezone"],
            opened_at=r["opened_at"],
            use_by=r["use_by"],
            remaining=plain(r["remaining"]),
            closed_at=r["closed_at"],
        )
        for r in rows
    ]
