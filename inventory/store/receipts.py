"""Receipts of deliveries and their lines, written set-based: one statement for every line of a receipt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from inventory.db import Connection
from inventory.domain.quantities import Quantity, plain


@dataclass(frozen=True)
class LineWrite:
    """One receipt line to write: units of a lot arriving, and what was scanned or typed for it."""

    lot_id: int
    quantity: Quantity
    gtin: str | None
    barcode: str | None


@dataclass(frozen=True)
class Written:
    """A written receipt: its id and time, and the on-hand after each line, in the order the lines were given."""

    id: int
    received_at: datetime
    on_hand: list[Quantity]


# One statement for the whole receipt: the receipt, its lines (ids drawn in line order so the ledger rows can
# name them), one stock-level upsert per lot (the lines of one lot summed: an upsert may touch a row once;
# same upsert as stock.level_change_sql, for many rows, in lot order so concurrent receipts lock levels in one
# order) and one ledger row per line. The on-hand after each line is the lot's level less the later lines of
# the same lot, so on-hand always equals the sum of the ledger rows, line by line.
_WRITE = """
WITH receipt_row AS (
    INSERT INTO receipt (location, supplier, reference, received_by, received_at, purchase_order)
    VALUES ($1, $2, $3, $4, $5, $10) RETURNING id, received_at
), wanted AS MATERIALIZED (
    SELECT w.ord, w.lot, w.quantity, w.gtin, w.barcode, nextval('receipt_line_id_seq'::regclass)::int AS line_id
    FROM (SELECT * FROM unnest($6::int[], $7::numeric[], $8::text[], $9::text[]) WITH ORDINALITY
              AS u(lot, quantity, gtin, barcode, ord) ORDER BY ord) w
), lines AS (
    INSERT INTO receipt_line (id, receipt, lot, quantity, gtin, barcode)
    SELECT wanted.line_id, receipt_row.id, wanted.lot, wanted.quantity, wanted.gtin, wanted.barcode
    FROM wanted, receipt_row ORDER BY wanted.ord
), level AS (
    INSERT INTO stock_level (lot, location, on_hand, updated_at)
    SELECT lot, $1, sum(quantity), $5 FROM wanted GROUP BY lot ORDER BY lot
    ON CONFLICT (lot, location) DO UPDATE SET on_hand = stock_level.on_hand + EXCLUDED.on_hand,
        updated_at = EXCLUDED.updated_at
    RETURNING lot, on_hand
), ledger AS (
    INSERT INTO stock_movement (lot, location, quantity, kind, "user", created_at, receipt_line)
    SELECT wanted.lot, $1, wanted.quantity, 'receive', $4, $5, wanted.line_id FROM wanted ORDER BY wanted.ord
)
SELECT receipt_row.id, receipt_row.received_at, wanted.ord,
       level.on_hand - coalesce(sum(wanted.quantity) OVER (
           PARTITION BY wanted.lot ORDER BY wanted.ord ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING), 0)
           AS on_hand
FROM wanted JOIN level ON level.lot = wanted.lot, receipt_row
ORDER BY wanted.ord
"""


async def known_products(conn: Connection, product_ids: Sequence[int]) -> set[int]:
    """Which of these product ids exist: the products a receipt's lines by fields name, in one look-up."""
    if not product_ids:
        return set()
    rows = await conn.fetch("SELECT id FROM product WHERE id = ANY($1::int[])", list(set(product_ids)))
    return {int(row["id"]) for row in rows}


async def container_sizes(conn: Connection, product_ids: Sequence[int]) -> dict[int, Quantity]:
    """How much one container holds, for those of these products whose container is not a single unit."""
    rows = await conn.fetch(
        "SELECT id, container_quantity FROM product WHERE id = ANY($1::int[]) AND container_quantity <> 1",
        list(set(product_ids)),
    )
    return {int(row["id"]): plain(row["container_quantity"]) for row in rows}


async def write(
    conn: Connection,
    *,
    location_id: int,
    supplier: str | None,
    reference: str | None,
    received_by: int,
    at: datetime,
    lines: Sequence[LineWrite],
    purchase_order_id: int | None = None,
) -> Written:
    """Write a receipt received at `at` with all its lines, their stock and ledger rows, in one statement."""
    rows = await conn.fetch(
        _WRITE,
        location_id,
        supplier,
        reference,
        received_by,
        at,
        [line.lot_id for line in lines],
        [line.quantity for line in lines],
        [line.gtin for line in lines],
        [line.barcode for line in lines],
        purchase_order_id,
    )
    assert len(rows) == len(lines)
    return Written(
        id=int(rows[0]["id"]), received_at=rows[0]["received_at"], on_hand=[plain(r["on_hand"]) for r in rows]
    )


async def product_names(conn: Connection, product_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """The name and brand name of each of these products, in one look-up."""
    if not product_ids:
        return {}
    rows = await conn.fetch(
        "SELECT p.id, p.name, b.name AS brand FROM product p JOIN brand b ON b.id = p.brand"
        " WHERE p.id = ANY($1::int[])",
        list(set(product_ids)),
    )
    return {int(row["id"]): (row["name"], row["brand"]) for row in rows}


@dataclass(frozen=True)
class ReceiptHead:
    """A receipt: where, from whom, when and by whom."""

    id: int
    location_id: int
    location: str
    timezone: str
    supplier: str | None
    reference: str | None
    received_at: datetime
    received_by: str  # the user's name, else their e-mail


@dataclass(frozen=True)
class ReceivedLine:
    """A receipt line with its lot and product, the pack it was scanned as, and the lot's on-hand after it."""

    lot_id: int
    lot_number: str
    expiry_date: date
    status: str
    product_id: int
    product: str
    brand: str
    quantity: int  # single units
    units: int  # single units in the scanned pack (1 for a unit or a line typed in)
    on_hand_after: int


_HEAD = """
SELECT r.id, r.location AS location_id, loc.name AS location, loc.timezone, r.supplier, r.reference, r.received_at,
       coalesce(nullif(u.full_name, ''), u.email) AS received_by
FROM receipt r JOIN location loc ON loc.id = r.location JOIN app_user u ON u.id = r.received_by
WHERE r.id = $1
"""

# The on-hand after a line is the sum of the lot's ledger rows at the location up to the line's own row (in
# ledger order), found through the (lot, location) index: the ledger has no index on receipt_line.
_LINES = """
SELECT rl.lot AS lot_id, l.lot_number, l.expiry_date, l.status, l.product AS product_id, p.name AS product,
       b.name AS brand, rl.quantity, coalesce(g.units, 1) AS units,
       (SELECT sum(m2.quantity) FROM stock_movement m2
        WHERE m2.lot = rl.lot AND m2.location = $2 AND m2.id <= mv.id) AS on_hand_after
FROM receipt_line rl
JOIN lot l ON l.id = rl.lot JOIN product p ON p.id = l.product JOIN brand b ON b.id = p.brand
LEFT JOIN product_gtin g ON g.gtin = rl.gtin
JOIN LATERAL (SELECT m.id FROM stock_movement m
              WHERE m.lot = rl.lot AND m.location = $2 AND m.receipt_line = rl.id) mv ON true
WHERE rl.receipt = $1
ORDER BY rl.id
"""


async def get(conn: Connection, receipt_id: int) -> tuple[ReceiptHead, list[ReceivedLine]] | None:
    """A receipt and its lines in line order, or None."""
    head = await conn.fetchrow(_HEAD, receipt_id)
    if head is None:
        return None
    rows = await conn.fetch(_LINES, receipt_id, head["location_id"])
    return ReceiptHead(**dict(head)), [ReceivedLine(**dict(row)) for row in rows]
