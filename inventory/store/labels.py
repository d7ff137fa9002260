"""What a lot's label prints: the lot with its product, brand and unit GTIN."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from inventory.db import Connection
from inventory.store.common import unit_gtin_sql

_LOTS_SQL = f"""
SELECT l.id, l.lot_number, l.expiry_date, p.name AS product_name, p.storage, b.name AS brand_name,
       {unit_gtin_sql("p.id")} AS gtin
FROM lot l JOIN product p ON p.id = l.product JOIN brand b ON b.id = p.brand
WHERE l.id = ANY($1::int[])
"""


@dataclass(frozen=True)
class LabelRow:
    """What a lot's label prints: the lot, its product and brand, storage, and the GTIN of one unit."""

    id: int
    lot_number: str
    expiry_date: date
    product_name: str
    storage: str
    brand_name: str
    gtin: str | None


async def label_rows(conn: Connection, lot_ids: list[int]) -> list[LabelRow]:
    """One row per existing lot of these ids, in one query."""
    return [LabelRow(**dict(r)) for r in await conn.fetch(_LOTS_SQL, lot_ids)]


@dataclass(frozen=True)
class LabelLot:
    """A lot as the labels page lists it: number, expiry, status, product and brand."""

    id: int
    lot_number: str
    expiry_date: date
    status: str
    product: str
    brand: str


_LOT_LIST = """
SELECT l.id, l.lot_number, l.expiry_date, l.status, p.name AS product, b.name AS brand
FROM lot l JOIN product p ON p.id = l.product JOIN brand b ON b.id = p.brand
"""


def _literal(text: str) -> str:
    """`text` for LIKE, matched literally (% and _ are not wildcards)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def find_lots(conn: Connection, query: str | None, *, limit: int) -> list[LabelLot]:
    """Lots whose number, product or brand contains `query` (any lot without one), newest first."""
    pattern = None if query is None else _literal(query)
    rows = await conn.fetch(
        _LOT_LIST + " WHERE $1::text IS NULL OR l.lot_key LIKE '%' || upper($1) || '%'"
        " OR p.name ILIKE '%' || $1 || '%' OR b.name ILIKE '%' || $1 || '%'"
        " ORDER BY l.id DESC LIMIT $2",
        pattern,
        limit,
    )
    return [LabelLot(**dict(row)) for row in rows]


async def lots_by_ids(conn: Connection, lot_ids: list[int]) -> list[LabelLot]:
    """The existing lots of these ids, newest first."""
    rows = await conn.fetch(_LOT_LIST + " WHERE l.id = ANY($1::int[]) ORDER BY l.id DESC", lot_ids)
    return [LabelLot(**dict(row)) for row in rows]
