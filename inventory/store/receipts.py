"""Receipts of deliveries and their lines, written set-based: one statement for every line of a receipt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from inventory.db import Connection


@dataclass(frozen=True)
class LineWrite:
    """One receipt line to write: units of a lot arriving, and what was scanned or typed for it."""

    lot_id: int
    quantity: int
    gtin: str | None
    barcode: str | None


@dataclass(frozen=True)
class Written:
    """A written receipt: its id and time, and the on-hand after each line, in the order the lines were given."""

    id: int
    received_at: datetime
    on_hand: list[int]


# One statement for the whole receipt: the receipt, its lines (ids drawn in line order so the ledger rows can
# name them), one stock-level upsert per lot (the lines of one lot summed: an upsert may touch a row once;
# same upsert as stock.level_change_sql, for many rows, in lot order so concurrent receipts lock levels in one
# order) and one ledger row per line. The on-hand after each line is the lot's level less the later lines of
# the same lot, so on-hand always equals the sum of the ledger rows, line by line.
_WRITE = """
WITH receipt_row AS (
    INSERT INTO receipt (location, supplier, reference, received_by, received_at)
    VALUES ($1, $2, $3, $4, $5) RETURNING id, received_at
), wanted AS MATERIALIZED (
    SELECT w.ord, w.lot, w.quantity, w.gtin, w.barcode, nextval('receipt_line_id_seq'::regclass)::int AS line_id
    FROM (SELECT * FROM unnest($6::int[], $7::int[], $8::text[], $9::text[]) WITH ORDINALITY
              AS u(lot, quantity, gtin, barcode, ord) ORDER BY ord) w
), lines AS (
    INSERT INTO receipt_line (id, receipt, lot, quantity, gtin, barcode)
    SELECT wanted.line_id, receipt_row.id, wanted.lot, wanted.quantity, wanted.gtin, wanted.barcode
    FROM wanted, receipt_row ORDER BY wanted.ord
), level AS (
    INSERT INTO stock_level (lot, location, on_hand, updated_at)
    SELECT lot, $1, sum(quantity)::int, $5 FROM wanted GROUP BY lot ORDER BY lot
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


async def write(
    conn: Connection,
    *,
    location_id: int,
    supplier: str | None,
    reference: str | None,
    received_by: int,
    at: datetime,
    lines: Sequence[LineWrite],
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
    )
    assert len(rows) == len(lines)
    return Written(id=int(rows[0]["id"]), received_at=rows[0]["received_at"], on_hand=[int(r["on_hand"]) for r in rows])
