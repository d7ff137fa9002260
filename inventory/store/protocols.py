"""Protocols and their items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inventory.db import Connection
from inventory.domain.protocols import ProtocolItem
from inventory.domain.quantities import Quantity, plain


@dataclass(frozen=True)
class Protocol:
    """A protocol with its items, in the order they were given."""

    id: int
    name: str
    created_at: datetime
    items: tuple[ProtocolItem, ...]


async def name_taken(conn: Connection, name: str) -> bool:
    """Whether a protocol of that name (ignoring case) exists."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM protocol WHERE lower(name) = lower($1))", name))


async def create(
    conn: Connection, *, name: str, items: Sequence[tuple[int, Quantity]], user_id: int, at: datetime
) -> int:
    """Insert a protocol and its items in one statement; returns its id."""
    value = await conn.fetchval(
        "WITH made AS (INSERT INTO protocol (name, created_by, created_at) VALUES ($1, $2, $3) RETURNING id),"
        " lines AS (INSERT INTO protocol_item (protocol, product, quantity)"
        " SELECT made.id, x.product, x.quantity FROM made, unnest($4::int[], $5::numeric[]) WITH ORDINALITY"
        " AS x(product, quantity, ord) ORDER BY x.ord)"
        " SELECT id FROM made",
        name,
        user_id,
        at,
        [product for product, _ in items],
        [quantity for _, quantity in items],
    )
    return int(value)


_SELECT = """
SELECT p.id, p.name, p.created_at,
       coalesce(array_agg(i.product ORDER BY i.id) FILTER (WHERE i.id IS NOT NULL), '{}') AS products,
       coalesce(array_agg(i.quantity ORDER BY i.id) FILTER (WHERE i.id IS NOT NULL), '{}') AS quantities,
       coalesce(array_agg(pr.name ORDER BY i.id) FILTER (WHERE i.id IS NOT NULL), '{}') AS names,
       coalesce(array_agg(pr.unit ORDER BY i.id) FILTER (WHERE i.id IS NOT NULL), '{}') AS units
FROM protocol p LEFT JOIN protocol_item i ON i.protocol = p.id LEFT JOIN product pr ON pr.id = i.product
"""


def _protocol(row: Any) -> Protocol:
    return Protocol(
        id=row["id"],
        name=row["name"],
        created_at=row["created_at"],
        items=tuple(
            ProtocolItem(p, plain(q), n, u)
            for p, q, n, u in zip(row["products"], row["quantities"], row["names"], row["units"], strict=True)
        ),
    )


async def get(conn: Connection, protocol_id: int) -> Protocol | None:
    """A protocol with its items."""
    row = await conn.fetchrow(_SELECT + " WHERE p.id = $1 GROUP BY p.id", protocol_id)
    return _protocol(row) if row else None


async def list_all(conn: Connection, *, limit: int = 500) -> list[Protocol]:
    """Every protocol by name."""
    rows = await conn.fetch(_SELECT + " GROUP BY p.id ORDER BY lower(p.name), p.id LIMIT $1", limit)
    return [_protocol(row) for row in rows]


async def products_of(conn: Connection, product_ids: Sequence[int]) -> dict[int, str]:
    """The unit of each of these products that exists."""
    rows = await conn.fetch("SELECT id, unit FROM product WHERE id = ANY($1::int[])", list(set(product_ids)))
    return {int(r["id"]): str(r["unit"]) for r in rows}


async def session_uses(conn: Connection, session_id: int) -> list[tuple[int, Quantity]]:
    """The live (non-voided) uses of a session: product and quantity."""
    rows = await conn.fetch(
        "SELECT product, quantity FROM usage WHERE session = $1 AND voided_at IS NULL ORDER BY id", session_id
    )
    return [(int(r["product"]), plain(r["quantity"])) for r in rows]
