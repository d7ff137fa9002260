"""Recorded uses of lots on clients: the scan's lot lock and its write, and voids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from inventory import db
from inventory.db import Connection
from inventory.domain.quantities import Quantity, plain
from inventory.domain.scan_decision import EarlierLot, LockedLot, PriorUse, ScanWarning
from inventory.store.stock import level_change_sql

# The lot, locked FOR SHARE (a recall either commits before and is seen, or waits for this scan), with its
# product, the earliest-expiring other usable lot of the product on the shelf here (for the FEFO warning), the
# latest live use of the same barcode on the session (for the repeat-scan rule) and whether a live use already
# carries the barcode's serial. The look-ups ride on this statement to save round trips; it runs after the
# session lock was granted, so under READ COMMITTED its snapshot includes a use that a concurrent scan of the
# session committed while this one waited. (A concurrent use of the serial on another session is caught by the
# unique index at the write.)
_LOCK_LOT = """
SELECT l.id, l.product AS product_id, l.lot_number, l.expiry_date, l.status,
       p.name AS product_name, p.ingredients, p.implant, b.name AS brand_name,
       p.unit, p.container_quantity, p.in_use_hours,
       e.id AS earlier_id, e.lot_number AS earlier_lot_number, e.expiry_date AS earlier_expiry,
       r.id AS repeat_of_id, r.used_at AS repeat_of_used_at,
       EXISTS (SELECT 1 FROM usage su WHERE su.product = l.product AND su.serial = $6::text
               AND su.voided_at IS NULL) AS serial_used
FROM lot l
JOIN product p ON p.id = l.product
JOIN brand b ON b.id = p.brand
LEFT JOIN LATERAL (
    SELECT o.id, o.lot_number, o.expiry_date FROM lot o JOIN stock_level s ON s.lot = o.id
    WHERE o.product = l.product AND s.location = $2 AND s.on_hand > 0 AND o.status = 'active'
      AND o.expiry_date >= $3 AND o.expiry_date < l.expiry_date AND o.id <> l.id
    ORDER BY o.expiry_date, o.id LIMIT 1
) e ON true
LEFT JOIN LATERAL (
    SELECT u.id, u.used_at FROM usage u
    WHERE u.session = $4 AND u.barcode = $5 AND u.voided_at IS NULL
    ORDER BY u.used_at DESC, u.id DESC LIMIT 1
) r ON true
WHERE l.id = $1
FOR SHARE OF l
"""

# One statement: the stock change, the usage, its ledger row and the audit event. The use is stamped with the
# service clock ($13): it is business time (the repeat-scan window, usage history) like every other. A use that
# takes on-hand below zero carries its stock_discrepancy warning from the start ($14 is the message, with the
# on-hand before and after): a recorded use is never rewritten, not even to add a warning.
_RECORD_USE = f"""
WITH level AS ({level_change_sql("$3", "$5", "-$6::numeric", "$13")}), used AS (
    INSERT INTO usage (session, client, lot, product, location, quantity, serial, barcode, used_by, used_at,
                       override_reason, container, warnings, udi)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $13, $10, $15::int,
           CASE WHEN level.on_hand < 0
               THEN $11::jsonb || jsonb_build_array(jsonb_build_object(
                   'code', 'stock_discrepancy', 'message',
                   format($14::text, trim_scale(level.on_hand + $6::numeric), trim_scale(level.on_hand))))
               ELSE $11::jsonb END,
           $16
    FROM level
    RETURNING id, used_at, warnings
), ledger AS (
    INSERT INTO stock_movement (lot, location, quantity, kind, "user", created_at, usage, container)
    SELECT $3, $5, -$6::numeric, 'use', $9, $13, used.id, $15::int FROM used
), drawn AS (
    -- A multi-use product's dose leaves its open container too (no row when $15 is null: single use). The
    -- check remaining >= 0 refuses what the scan's locked decision would never ask for.
    UPDATE container SET remaining = remaining - $6::numeric,
           status = CASE WHEN remaining = $6::numeric THEN 'empty' ELSE status END,
           closed_at = CASE WHEN remaining = $6::numeric THEN $13 ELSE closed_at END
    WHERE id = $15::int
    RETURNING remaining
), rule AS (
    -- The reorder rule is locked here, so the alert evaluation that follows needs no statement of its own.
    SELECT 1 FROM stock_rule WHERE product = $4 AND location = $5 FOR NO KEY UPDATE
), audited AS (
    INSERT INTO audit_event (actor, action, entity, entity_id, details, created_at)
    SELECT $9, 'usage.record', 'usage', used.id,
           jsonb_build_object('session_id', $1::int, 'client_id', $2::int, 'lot_id', $3::int, 'quantity', $6::numeric,
                              'warnings', to_jsonb($12::text[]) || CASE WHEN level.on_hand < 0
                                  THEN '["stock_discrepancy"]'::jsonb ELSE '[]'::jsonb END),
           $13
    FROM used, level
)
SELECT used.id, used.used_at, used.warnings, level.on_hand, (SELECT count(*) FROM rule) AS rules,
       (SELECT remaining FROM drawn) AS container_remaining
FROM used, level
"""


async def lock_lot(
    conn: Connection,
    lot_id: int,
    *,
    location_id: int,
    today: date,
    session_id: int,
    barcode: str,
    serial: str | None,
) -> LockedLot | None:
    """The lot locked FOR SHARE, with its product, the earlier-expiring usable lot at the location, the latest
    live use of this barcode on the session and whether a live use of the product carries `serial`."""
    row = await conn.fetchrow(_LOCK_LOT, lot_id, location_id, today, session_id, barcode, serial)
    if row is None:
        return None
    return LockedLot(
        id=row["id"],
        lot_number=row["lot_number"],
        expiry_date=row["expiry_date"],
        status=row["status"],
        product_id=row["product_id"],
        product_name=row["product_name"],
        brand_name=row["brand_name"],
        unit=row["unit"],
        container_quantity=plain(row["container_quantity"]),
        in_use_hours=row["in_use_hours"],
        ingredients=tuple(row["ingredients"] or ()),
        earlier=(
            EarlierLot(id=row["earlier_id"], lot_number=row["earlier_lot_number"], expiry_date=row["earlier_expiry"])
            if row["earlier_id"] is not None
            else None
        ),
        repeat_of=(
            PriorUse(id=row["repeat_of_id"], used_at=row["repeat_of_used_at"])
            if row["repeat_of_id"] is not None
            else None
        ),
        serial_used=bool(row["serial_used"]),
        implant=bool(row["implant"]),
    )


async def record(
    conn: Connection,
    *,
    session_id: int,
    client_id: int,
    lot_id: int,
    product_id: int,
    location_id: int,
    quantity: Quantity,
    serial: str | None,
    barcode: str,
    user_id: int,
    override_reason: str | None,
    warnings: Sequence[ScanWarning],
    used_at: datetime,
    discrepancy_message: str,
    container_id: int | None = None,
    udi: str | None = None,
) -> dict[str, Any]:
    """Write a use (an implant's with its `udi`), its stock change, ledger row and audit event at `used_at`.

    Returns its id, used_at, the warnings stored on it, the on-hand after it and the rule count. When on-hand goes
    below zero the stored warnings end with a `stock_discrepancy` one whose message is
    `discrepancy_message % (on_hand_before, on_hand_after)`. Raises asyncpg.UniqueViolationError when a
    concurrent use took the same serial.
    """
    row = await conn.fetchrow(
        _RECORD_USE,
        session_id,
        client_id,
        lot_id,
        product_id,
        location_id,
        quantity,
        serial,
        barcode,
        user_id,
        override_reason,
        [w.as_dict() for w in warnings],
        [w.code for w in warnings],
        used_at,
        discrepancy_message,
        container_id,
        udi,
    )
    assert row is not None
    return dict(row)


async def lock_for_void(conn: Connection, usage_id: int) -> dict[str, Any] | None:
    """A usage locked for update, with what a void needs."""
    row = await conn.fetchrow(
        "SELECT id, session, lot, product, location, quantity, used_by, voided_at, container FROM usage"
        " WHERE id = $1 FOR UPDATE",
        usage_id,
    )
    return dict(row) if row else None


async def mark_voided(conn: Connection, usage_id: int, *, user_id: int, reason: str) -> datetime:
    """Mark a use voided now, by whom and why; returns when."""
    row = await conn.fetchrow(
        "UPDATE usage SET voided_at = $4, voided_by = $2, void_reason = $3 WHERE id = $1 RETURNING voided_at",
        usage_id,
        user_id,
        reason,
        db.now(),
    )
    assert row is not None
    voided_at: datetime = row["voided_at"]
    return voided_at


@dataclass(frozen=True)
class ImplantUse:
    """A use as its implant card shows it: the device, its UDI, the clinic and the client who carries it."""

    usage_id: int
    implant: bool  # the product is marked implant now
    udi: str | None  # kept at use (implant products only)
    serial: str | None
    voided: bool
    product_name: str
    brand_name: str
    lot_number: str
    expiry_date: date
    used_at: datetime
    location_name: str
    timezone: str
    client_id: int
    client_name: str


async def implant_use(conn: Connection, usage_id: int) -> ImplantUse | None:
    """One use with its product, lot, location and client, for an implant card."""
    row = await conn.fetchrow(
        "SELECT u.id AS usage_id, p.implant, u.udi, u.serial, u.voided_at IS NOT NULL AS voided,"
        " p.name AS product_name, b.name AS brand_name, l.lot_number, l.expiry_date, u.used_at,"
        " o.name AS location_name, o.timezone, c.id AS client_id, c.full_name AS client_name"
        " FROM usage u JOIN lot l ON l.id = u.lot JOIN product p ON p.id = u.product JOIN brand b ON b.id = p.brand"
        " JOIN location o ON o.id = u.location JOIN client c ON c.id = u.client WHERE u.id = $1",
        usage_id,
    )
    return None if row is None else ImplantUse(**dict(row))
