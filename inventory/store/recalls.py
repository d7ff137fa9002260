"""Recall cases: the case, its lots with what they held, its clients and their contact status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inventory import db
from inventory.db import Connection
from inventory.domain.quantities import Quantity, plain
from inventory.store.common import unit_gtin_sql
from inventory.store.records import LotRef, Person, Place, ProductRef, lot_ref, person, place, product_ref


@dataclass(frozen=True)
class Recall:
    """A recall case's own row: why, from whom, its status, who opened and who closed it."""

    id: int
    reason: str
    source: str | None
    reference: str | None
    status: str
    created_at: datetime
    created_by: Person
    closed_at: datetime | None
    closed_by: Person | None
    closing_note: str | None


@dataclass(frozen=True)
class RecallCounts:
    """A case in a list: its row with how many lots and clients it names, and how many are still to contact."""

    recall: Recall
    lot_count: int
    client_count: int
    to_contact_count: int


@dataclass(frozen=True)
class RecalledLot:
    """A lot of a case: the units it held when recalled, its on-hand now and the units disposed since."""

    lot: LotRef
    product: ProductRef
    quarantined_units: Quantity
    on_hand: Quantity
    disposed_units: Quantity


@dataclass(frozen=True)
class CaseClientRow:
    """A client of a case with their contacts and where contacting them stands."""

    client_id: int
    full_name: str
    email: str | None
    phone: str | None
    contact_status: str
    note: str | None
    updated_at: datetime | None
    updated_by: Person | None


@dataclass(frozen=True)
class CaseUse:
    """One use of a case's lot on one of its clients."""

    client_id: int
    usage_id: int
    session_id: int
    used_at: datetime
    quantity: Quantity
    lot_id: int
    lot_number: str
    product: str  # the product's name
    location: Place


@dataclass(frozen=True)
class ContactRow:
    """A client's row in a case, as changing its contact status needs it."""

    id: int
    contact_status: str
    note: str | None


@dataclass(frozen=True)
class LotCase:
    """A case naming a lot: the lot, the case and whether the case is still open."""

    lot_id: int
    recall_id: int
    status: str


async def create_recall(
    conn: Connection, *, reason: str, source: str | None, reference: str | None, created_by: int
) -> int:
    """Insert an open recall case; returns its id."""
    value = await conn.fetchval(
        "INSERT INTO recall (reason, source, reference, status, created_by, created_at)"
        " VALUES ($1, $2, $3, 'open', $4, $5) RETURNING id",
        reason,
        source,
        reference,
        created_by,
        db.now(),
    )
    return int(value)


async def add_recall_lots(conn: Connection, recall_id: int, lot_ids: list[int]) -> None:
    """Name lots in a case, each with the units it held (positive on-hand) at that moment."""
    await conn.execute(
        "INSERT INTO recall_lot (recall, lot, quarantined_units)"
        " SELECT $1, x.id, coalesce((SELECT sum(s.on_hand) FROM stock_level s WHERE s.lot = x.id AND s.on_hand > 0), 0)"
        " FROM unnest($2::int[]) AS x(id) ORDER BY x.id",
        recall_id,
        lot_ids,
    )


async def add_affected_clients(conn: Connection, recall_id: int, lot_ids: list[int]) -> list[int]:
    """Add every client with a non-voided usage of these lots to the case (to contact); returns their ids."""
    rows = await conn.fetch(
        "INSERT INTO recall_client (recall, client, contact_status)"
        " SELECT $1, c.client, 'to_contact' FROM"
        " (SELECT DISTINCT u.client FROM usage u WHERE u.lot = ANY($2::int[]) AND u.voided_at IS NULL) c"
        " ORDER BY c.client ON CONFLICT (recall, client) DO NOTHING RETURNING client",
        recall_id,
        lot_ids,
    )
    return sorted(int(r["client"]) for r in rows)


_RECALL_COLUMNS = (
    "r.id, r.reason, r.source, r.reference, r.status, r.created_at, r.closed_at, r.closing_note,"
    " r.created_by AS created_by_id, cu.email AS created_by_email, cu.full_name AS created_by_full_name,"
    " r.closed_by AS closed_by_id, xu.email AS closed_by_email, xu.full_name AS closed_by_full_name"
)
_RECALL_FROM = " FROM recall r JOIN app_user cu ON cu.id = r.created_by LEFT JOIN app_user xu ON xu.id = r.closed_by"


def _recall(row: Any) -> Recall:
    created_by = person(row, "created_by")
    assert created_by is not None  # created_by is NOT NULL
    return Recall(
        row["id"],
        row["reason"],
        row["source"],
        row["reference"],
        row["status"],
        row["created_at"],
        created_by,
        row["closed_at"],
        person(row, "closed_by"),
        row["closing_note"],
    )


async def get_recall(conn: Connection, recall_id: int, *, for_update: bool = False) -> Recall | None:
    """A recall case's own row, optionally locked."""
    lock = " FOR UPDATE OF r" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_RECALL_COLUMNS}{_RECALL_FROM} WHERE r.id = $1{lock}", recall_id)
    return _recall(row) if row else None


async def list_recalls(conn: Connection, *, status: str | None, limit: int, offset: int) -> list[RecallCounts]:
    """Recall cases, newest first, with lot and client counts."""
    rows = await conn.fetch(
        f"SELECT {_RECALL_COLUMNS},"
        " (SELECT count(*) FROM recall_lot rl WHERE rl.recall = r.id) AS lot_count,"
        " (SELECT count(*) FROM recall_client rc WHERE rc.recall = r.id) AS client_count,"
        " (SELECT count(*) FROM recall_client rc WHERE rc.recall = r.id AND rc.contact_status = 'to_contact')"
        " AS to_contact_count"
        f"{_RECALL_FROM} WHERE ($1::text IS NULL OR r.status = $1) ORDER BY r.id DESC LIMIT $2 OFFSET $3",
        status,
        limit,
        offset,
    )
    return [RecallCounts(_recall(r), r["lot_count"], r["client_count"], r["to_contact_count"]) for r in rows]


async def recall_lots(conn: Connection, recall_id: int) -> list[RecalledLot]:
    """The lots of a case with product, units held at recall, on-hand now and units disposed since."""
    rows = await conn.fetch(
        "SELECT l.id, l.product AS product_id, l.lot_number, l.expiry_date, l.status, l.not_received,"
        " p.name AS product_name, p.brand AS brand_id, b.name AS brand_name,"
        f" {unit_gtin_sql('p.id')} AS gtin,"
        " rl.quarantined_units,"
        " coalesce((SELECT sum(s.on_hand) FROM stock_level s WHERE s.lot = l.id AND s.on_hand > 0), 0) AS on_hand,"
        # disposals written after this case's quarantine rows (ledger ids, not clock times, give the order)
        " coalesce((SELECT -sum(m.quantity) FROM stock_movement m WHERE m.lot = l.id AND m.kind = 'dispose'"
        " AND m.id > (SELECT min(q.id) FROM stock_movement q WHERE q.lot = l.id AND q.recall_id = rl.recall)),"
        " 0) AS disposed_units"
        " FROM recall_lot rl JOIN lot l ON l.id = rl.lot JOIN product p ON p.id = l.product"
        " JOIN brand b ON b.id = p.brand WHERE rl.recall = $1 ORDER BY l.id",
        recall_id,
    )
    return [
        RecalledLot(
            lot_ref(r), product_ref(r), plain(r["quarantined_units"]), plain(r["on_hand"]), plain(r["disposed_units"])
        )
        for r in rows
    ]


async def recall_clients(conn: Connection, recall_id: int) -> list[CaseClientRow]:
    """The clients of a case with contact status and who last changed it."""
    rows = await conn.fetch(
        "SELECT c.id AS client_id, c.full_name, c.email, c.phone, rc.contact_status, rc.note, rc.updated_at,"
        " rc.updated_by AS updated_by_id, a.email AS updated_by_email, a.full_name AS updated_by_full_name"
        " FROM recall_client rc JOIN client c ON c.id = rc.client LEFT JOIN app_user a ON a.id = rc.updated_by"
        " WHERE rc.recall = $1 ORDER BY lower(c.full_name), c.id",
        recall_id,
    )
    return [
        CaseClientRow(
            r["client_id"],
            r["full_name"],
            r["email"],
            r["phone"],
            r["contact_status"],
            r["note"],
            r["updated_at"],
            person(r, "updated_by"),
        )
        for r in rows
    ]


async def recall_client_usages(conn: Connection, recall_id: int) -> list[CaseUse]:
    """Non-voided usages of the case's lots on the case's clients: what each client received, and when."""
    rows = await conn.fetch(
        "SELECT u.client AS client_id, u.id AS usage_id, u.session AS session_id, u.used_at, u.quantity,"
        " l.id AS lot_id, l.lot_number, p.name AS product_name,"
        " o.id AS location_id, o.name AS location_name, o.timezone AS location_timezone"
        " FROM recall_lot rl JOIN usage u ON u.lot = rl.lot"
        " JOIN recall_client rc ON rc.recall = rl.recall AND rc.client = u.client"
        " JOIN lot l ON l.id = u.lot JOIN product p ON p.id = l.product JOIN location o ON o.id = u.location"
        " WHERE rl.recall = $1 AND u.voided_at IS NULL ORDER BY u.client, u.used_at, u.id",
        recall_id,
    )
    return [
        CaseUse(
            r["client_id"],
            r["usage_id"],
            r["session_id"],
            r["used_at"],
            r["quantity"],
            r["lot_id"],
            r["lot_number"],
            r["product_name"],
            place(r),
        )
        for r in rows
    ]


async def get_recall_client(
    conn: Connection, recall_id: int, client_id: int, *, for_update: bool = False
) -> ContactRow | None:
    """One client's row in a case, optionally locked."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT id, contact_status, note FROM recall_client WHERE recall = $1 AND client = $2{lock}",
        recall_id,
        client_id,
    )
    return ContactRow(row["id"], row["contact_status"], row["note"]) if row else None


async def set_contact_status(conn: Connection, row_id: int, *, status: str, note: str | None, user_id: int) -> None:
    """Record a client's new contact status, by whom and when."""
    await conn.execute(
        "UPDATE recall_client SET contact_status = $2, note = coalesce($3, note), updated_by = $4, updated_at = $5"
        " WHERE id = $1",
        row_id,
        status,
        note,
        user_id,
        db.now(),
    )


async def set_contact_note(conn: Connection, row_id: int, *, note: str, user_id: int) -> None:
    """Replace the note on a client's row in a case, by whom and when (the status stays)."""
    await conn.execute(
        "UPDATE recall_client SET note = $2, updated_by = $3, updated_at = $4 WHERE id = $1",
        row_id,
        note,
        user_id,
        db.now(),
    )


async def names_lot(conn: Connection, recall_id: int, lot_id: int) -> bool:
    """Whether a case names this lot."""
    return bool(await conn.fetchval("SELECT 1 FROM recall_lot WHERE recall = $1 AND lot = $2", recall_id, lot_id))


async def cases_of_lots(conn: Connection, lot_ids: list[int]) -> list[LotCase]:
    """The cases naming each of these lots, newest first: lot id, case id and status."""
    rows = await conn.fetch(
        "SELECT rl.lot AS lot_id, r.id AS recall_id, r.status FROM recall_lot rl JOIN recall r ON r.id = rl.recall"
        " WHERE rl.lot = ANY($1::int[]) ORDER BY rl.lot, r.id DESC",
        lot_ids,
    )
    return [LotCase(r["lot_id"], r["recall_id"], r["status"]) for r in rows]


async def close_recall(conn: Connection, recall_id: int, *, user_id: int, note: str | None) -> None:
    """Mark a case closed."""
    await conn.execute(
        "UPDATE recall SET status = 'closed', closed_at = $4, closed_by = $2, closing_note = $3 WHERE id = $1",
        recall_id,
        user_id,
        note,
        db.now(),
    )
