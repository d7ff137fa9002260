"""Traceability queries: lot look-ups with receipts, stock and usages, and client histories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from inventory.db import Connection
from inventory.domain.quantities import Quantity, plain
from inventory.store.common import unit_gtin_sql
from inventory.store.records import LotRef, Person, Place, ProductRef, lot_ref, person, place, product_ref

# ------------------------------------------------------------------ trace: one query per section

# Exact matches (lot_key) and loose ones (similar_key), both on their own index; a GTIN (unit or pack)
# narrows to one product. Exact matches are never capped; loose ones are numbered so the caller can cap them.
TRACE_LOTS = f"""
SELECT f.id, f.product AS product_id, f.lot_number, f.expiry_date, f.status, f.not_received,
       p.name AS product_name, p.brand AS brand_id, b.name AS brand_name, p.implant,
       {unit_gtin_sql("p.id")} AS gtin,
       f.exact, f.n
FROM (
    SELECT l.*, (l.lot_key = $1) AS exact, row_number() OVER (PARTITION BY l.lot_key = $1 ORDER BY l.id) AS n
    FROM lot l
    WHERE (l.lot_key = $1 OR l.similar_key = $2)
      AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM product_gtin g WHERE g.product = l.product AND g.gtin = $3))
) f JOIN product p ON p.id = f.product JOIN brand b ON b.id = p.brand
WHERE f.exact OR f.n <= $4
ORDER BY f.exact DESC, lower(b.name), lower(p.name), f.id
"""

TRACE_RECEIVED = """
SELECT rl.lot AS lot_id, r.id AS receipt_id, r.received_at, r.supplier, r.reference, rl.quantity, rl.gtin,
       o.id AS location_id, o.name AS location_name, o.timezone AS location_timezone,
       a.id AS user_id, a.email AS user_email, a.full_name AS user_full_name
FROM receipt_line rl JOIN receipt r ON r.id = rl.receipt JOIN location o ON o.id = r.location
JOIN app_user a ON a.id = r.received_by
WHERE rl.lot = ANY($1::int[])
ORDER BY rl.lot, r.received_at, rl.id
"""

TRACE_STOCK = """
SELECT s.lot AS lot_id, s.on_hand, o.id AS location_id, o.name AS location_name, o.timezone AS location_timezone
FROM stock_level s JOIN location o ON o.id = s.location
WHERE s.lot = ANY($1::int[]) AND s.on_hand <> 0
ORDER BY s.lot, o.id
"""

TRACE_USAGES = """
SELECT u.lot AS lot_id, u.id AS usage_id, u.used_at, u.voided_at, u.void_reason, u.session AS session_id,
       u.quantity, u.udi, c.id AS client_id, c.full_name AS client_full_name, c.email AS client_email,
       c.phone AS client_phone, o.id AS location_id, o.name AS location_name, o.timezone AS location_timezone,
       a.id AS user_id, a.email AS user_email, a.full_name AS user_full_name
FROM usage u JOIN client c ON c.id = u.client JOIN location o ON o.id = u.location
JOIN app_user a ON a.id = u.used_by
WHERE u.lot = ANY($1::int[])
ORDER BY u.lot, u.used_at, u.id
"""


@dataclass(frozen=True)
class FoundLot:
    """A lot the look-up found: exact (same key) or a look-alike, numbered within its kind."""

    lot: LotRef
    product: ProductRef
    implant: bool
    exact: bool
    n: int


@dataclass(frozen=True)
class ReceivedLine:
    """A receipt line of a traced lot, with its receipt, location and receiver."""

    lot_id: int
    receipt_id: int
    received_at: datetime
    supplier: str | None
    reference: str | None
    quantity: Quantity
    gtin: str | None
    location: Place
    received_by: Person


@dataclass(frozen=True)
class Level:
    """A traced lot's non-zero on-hand at a location."""

    lot_id: int
    location: Place
    on_hand: Quantity


@dataclass(frozen=True)
class Contact:
    """Who received a lot and how to reach them."""

    id: int
    full_name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class Use:
    """One use of a lot (voided ones included): when, in which session, how much, by whom, where."""

    usage_id: int
    used_at: datetime
    voided_at: datetime | None
    void_reason: str | None
    session_id: int
    quantity: Quantity
    udi: str | None
    location: Place
    user: Person


@dataclass(frozen=True)
class LotUse:
    """A use of a traced lot, with the client who received it."""

    lot_id: int
    use: Use
    client: Contact


@dataclass(frozen=True)
class Client:
    """A client's identity and contacts, as a history shows them."""

    id: int
    full_name: str
    email: str | None
    phone: str | None
    date_of_birth: date | None


@dataclass(frozen=True)
class ClientUse:
    """A use on a client with its lot, product and the recalls that name the lot."""

    lot: LotRef
    product: ProductRef
    implant: bool
    recall_ids: tuple[int, ...]
    use: Use


def _use(row: Any) -> Use:
    user = person(row, "user")
    assert user is not None  # used_by is NOT NULL
    return Use(
        row["usage_id"],
        row["used_at"],
        row["voided_at"],
        row["void_reason"],
        row["session_id"],
        plain(row["quantity"]),
        row["udi"],
        place(row),
        user,
    )


async def find_lots(
    conn: Connection, *, key: str, similar: str | None, gtin: str | None, similar_limit: int
) -> list[FoundLot]:
    """Every lot whose key equals `key` (exact) and up to `similar_limit` whose loose key equals `similar`."""
    rows = await conn.fetch(TRACE_LOTS, key, similar, gtin, similar_limit)
    return [FoundLot(lot_ref(r), product_ref(r), bool(r["implant"]), bool(r["exact"]), int(r["n"])) for r in rows]


async def received(conn: Connection, lot_ids: list[int]) -> list[ReceivedLine]:
    """Receipt lines of these lots with their receipt, location and receiver."""
    lines = []
    for r in await conn.fetch(TRACE_RECEIVED, lot_ids):
        receiver = person(r, "user")
        assert receiver is not None  # received_by is NOT NULL
        lines.append(
            ReceivedLine(
                r["lot_id"],
                r["receipt_id"],
                r["received_at"],
                r["supplier"],
                r["reference"],
                plain(r["quantity"]),
                r["gtin"],
                place(r),
                receiver,
            )
        )
    return lines


async def stock(conn: Connection, lot_ids: list[int]) -> list[Level]:
    """Non-zero on-hand of these lots per location."""
    return [Level(r["lot_id"], place(r), plain(r["on_hand"])) for r in await conn.fetch(TRACE_STOCK, lot_ids)]


async def usages(conn: Connection, lot_ids: list[int]) -> list[LotUse]:
    """Every usage of these lots, voided ones included, with client, location and user."""
    return [
        LotUse(
            r["lot_id"],
            _use(r),
            Contact(r["client_id"], r["client_full_name"], r["client_email"], r["client_phone"]),
        )
        for r in await conn.fetch(TRACE_USAGES, lot_ids)
    ]


async def gtin_known(conn: Connection, gtin: str) -> bool:
    """Whether any product carries this GTIN (unit or pack)."""
    return bool(await conn.fetchval("SELECT 1 FROM product_gtin WHERE gtin = $1", gtin))


# ------------------------------------------------------------------ client history


async def get_client(conn: Connection, client_id: int) -> Client | None:
    """A client's identity and contacts."""
    row = await conn.fetchrow("SELECT id, full_name, email, phone, date_of_birth FROM client WHERE id = $1", client_id)
    return Client(row["id"], row["full_name"], row["email"], row["phone"], row["date_of_birth"]) if row else None


async def client_usages(conn: Connection, client_id: int) -> list[ClientUse]:
    """Every usage on a client, voided ones included, with lot, product, location, user and recalls."""
    rows = await conn.fetch(
        "SELECT u.id AS usage_id, u.used_at, u.voided_at, u.void_reason, u.session AS session_id, u.quantity, u.udi,"
        " l.id AS lot_id, l.product AS product_id, l.lot_number, l.expiry_date, l.status, l.not_received,"
        " p.name AS product_name, p.brand AS brand_id, b.name AS brand_name, p.implant,"
        f" {unit_gtin_sql('p.id')} AS gtin,"
        " o.id AS location_id, o.name AS location_name, o.timezone AS location_timezone,"
        " a.id AS user_id, a.email AS user_email, a.full_name AS user_full_name,"
        " coalesce((SELECT array_agg(rl.recall ORDER BY rl.recall) FROM recall_lot rl WHERE rl.lot = l.id),"
        " '{}'::int[]) AS recall_ids"
        " FROM usage u JOIN lot l ON l.id = u.lot JOIN product p ON p.id = l.product JOIN brand b ON b.id = p.brand"
        " JOIN location o ON o.id = u.location JOIN app_user a ON a.id = u.used_by"
        " WHERE u.client = $1 ORDER BY u.used_at, u.id",
        client_id,
    )
    return [ClientUse(lot_ref(r), product_ref(r), bool(r["implant"]), tuple(r["recall_ids"]), _use(r)) for r in rows]
