"""The scan at the chair: one barcode becomes one recorded use of one lot on one client, or a clear refusal."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from inventory import clock, db
from inventory.domain.errors import Conflict, Forbidden, NotFound, Unprocessable
from inventory.domain.lots import clean_lot_number, lot_key, similar_key
from inventory.domain.models import Actor
from inventory.domain.rules import allergy_conflicts, expires_soon, is_expired
from inventory.services import alerting, barcodes
from inventory.store import audit, lots, stock

MAX_QUANTITY = 100

# The lot, locked FOR SHARE (a recall either commits before and is seen, or waits for this scan), with its
# product and the earliest-expiring other usable lot of the product on the shelf here (for the FEFO warning).
_LOCK_LOT = """
SELECT l.id, l.product AS product_id, l.lot_number, l.expiry_date, l.status, l.not_received,
       p.name AS product_name, p.ingredients, b.name AS brand_name,
       e.id AS earlier_id, e.lot_number AS earlier_lot_number, e.expiry_date AS earlier_expiry
FROM lot l
JOIN product p ON p.id = l.product
JOIN brand b ON b.id = p.brand
LEFT JOIN LATERAL (
    SELECT o.id, o.lot_number, o.expiry_date FROM lot o JOIN stock_level s ON s.lot = o.id
    WHERE o.product = l.product AND s.location = $2 AND s.on_hand > 0 AND o.status = 'active'
      AND o.expiry_date >= $3 AND o.expiry_date < l.expiry_date AND o.id <> l.id
    ORDER BY o.expiry_date, o.id LIMIT 1
) e ON true
WHERE l.id = $1
FOR SHARE OF l
"""

_RECORD_USE = """
WITH used AS (
    INSERT INTO usage (session, client, lot, product, location, quantity, serial, barcode, used_by, used_at,
                       override_reason, warnings)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), $10, $11)
    RETURNING id, used_at
), level AS (
    INSERT INTO stock_level (lot, location, on_hand, updated_at) VALUES ($3, $5, -$6::int, now())
    ON CONFLICT (lot, location) DO UPDATE SET on_hand = stock_level.on_hand + EXCLUDED.on_hand, updated_at = now()
    RETURNING on_hand
), ledger AS (
    INSERT INTO stock_movement (lot, location, quantity, kind, "user", created_at, usage)
    SELECT $3, $5, -$6::int, 'use', $9, now(), used.id FROM used
), rule AS (
    -- The reorder rule is locked here, so the alert evaluation that follows needs no statement of its own.
    SELECT 1 FROM stock_rule WHERE product = $4 AND location = $5 FOR NO KEY UPDATE
), audited AS (
    INSERT INTO audit_event (actor, action, entity, entity_id, details, created_at)
    SELECT $9, 'usage.record', 'usage', used.id,
           jsonb_build_object('session_id', $1::int, 'client_id', $2::int, 'lot_id', $3::int, 'quantity', $6::int,
                              'warnings', to_jsonb($12::text[]) || CASE WHEN level.on_hand < 0
                                  THEN '["stock_discrepancy"]'::jsonb ELSE '[]'::jsonb END),
           now()
    FROM used, level
)
SELECT used.id, used.used_at, level.on_hand, (SELECT count(*) FROM rule) AS rules FROM used, level
"""


def _warning(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


async def record_use(
    *, actor: Actor, session_id: int, barcode: str, quantity: int = 1, override_reason: str | None = None
) -> dict[str, Any]:
    """Record the use of the scanned ampoule(s) on the session's client, or refuse with nothing written.

    Raises BarcodeInvalid/BarcodeAmbiguous (422), NotFound (session, product_unknown), Conflict (session_closed,
    lot_recalled, lot_quarantined, lot_expired, serial_already_used, lot_ambiguous, lot_required,
    allergy_conflict).
    """
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Unprocessable(f"Quantity must be 1 to {MAX_QUANTITY}.", code="validation_error")
    reason = (override_reason or "").strip() or None
    return await db.with_retries(lambda: _record(actor, session_id, barcode, quantity, reason))


async def _record(
    actor: Actor, session_id: int, raw: str, quantity: int, override_reason: str | None
) -> dict[str, Any]:
    today = clock.today()
    scanned = raw.strip()
    async with db.transaction() as conn:
        # The scan's statements are prepared and their shapes never vary: planning them afresh on every scan
        # (PostgreSQL's custom plans) costs more than running them, so reuse one generic plan each.
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        # FOR SHARE: closing the session waits for scans in flight, and a scan after the close sees it.
        session = await conn.fetchrow(
            "SELECT s.id, s.status, s.location, s.client, c.allergies FROM treatment_session s"
            " JOIN client c ON c.id = s.client WHERE s.id = $1 FOR SHARE OF s",
            session_id,
        )
        if session is None:
            raise NotFound(f"Session {session_id} does not exist.", code="not_found", entity="session")
        if session["status"] == "closed":
            raise Conflict("The session is closed; open a new one to record more.", code="session_closed")
        location_id: int = session["location"]
        resolved = await barcodes.resolve(conn, raw, today=today)
        reading = resolved.reading
        warnings: list[dict[str, Any]] = []
        lot = resolved.lot

        if lot is None and reading.lot_number is not None:
            lot = await _lot_not_received(conn, resolved.product_id, reading.lot_number, reading.expiry)
            warnings.append(
                _warning(
                    "lot_not_received",
                    f"Lot {lot['lot_number']} was never received; it is recorded and flagged for a manager.",
                )
            )
        elif lot is None:
            lot = await _infer_lot(conn, resolved.product_id, location_id, today)
            warnings.append(
                _warning(
                    "lot_inferred",
                    f"The barcode carries no lot; the only usable lot here, {lot['lot_number']}, is used.",
                )
            )
        elif lot["not_received"]:
            warnings.append(_warning("lot_not_received", f"Lot {lot['lot_number']} was never received."))

        # Lock the lot: a recall either commits before this (and we see it) or waits until we commit.
        locked = await conn.fetchrow(_LOCK_LOT, lot["id"], location_id, today)
        assert locked is not None
        if locked["status"] == "recalled":
            raise Conflict(
                f"Lot {locked['lot_number']} is recalled: do not use it.", code="lot_recalled", lot_id=locked["id"]
            )
        if locked["status"] == "quarantined":
            raise Conflict(
                f"Lot {locked['lot_number']} is quarantined: do not use it.",
                code="lot_quarantined",
                lot_id=locked["id"],
            )
        expiry: date = locked["expiry_date"]
        if reading.expiry is not None and reading.expiry != expiry:
            warnings.append(
                _warning(
                    "expiry_mismatch",
                    f"The barcode says expiry {reading.expiry}, the lot is recorded with {expiry}; the earlier counts.",
                )
            )
            expiry = min(expiry, reading.expiry)
        if is_expired(expiry, today):
            raise Conflict(
                f"Lot {locked['lot_number']} expired on {expiry}: do not use it.",
                code="lot_expired",
                lot_id=locked["id"],
                expiry_date=expiry.isoformat(),
            )
        if reading.serial is not None and await conn.fetchval(
            "SELECT 1 FROM usage WHERE product = $1 AND serial = $2 AND voided_at IS NULL",
            locked["product_id"],
            reading.serial,
        ):
            raise Conflict(
                f"Ampoule serial {reading.serial} was already used.", code="serial_already_used", serial=reading.serial
            )
        conflicts = allergy_conflicts(session["allergies"] or [], locked["ingredients"] or [])
        if conflicts and override_reason is None:
            raise Conflict(
                f"The client is allergic to {', '.join(conflicts)}. Give an override reason to use it anyway.",
                code="allergy_conflict",
                ingredients=conflicts,
            )
        if conflicts:
            warnings.append(
                _warning("allergy_overridden", f"Allergy to {', '.join(conflicts)} overridden.", ingredients=conflicts)
            )
        if expires_soon(expiry, today):
            warnings.append(
                _warning(
                    "expires_soon", f"Lot {locked['lot_number']} expires on {expiry}.", expiry_date=expiry.isoformat()
                )
            )
        if locked["earlier_id"] is not None:
            warnings.append(
                _warning(
                    "fefo_violation",
                    f"Lot {locked['earlier_lot_number']} expires earlier ({locked['earlier_expiry']}) and is on the"
                    " shelf here.",
                    lot_id=locked["earlier_id"],
                )
            )
        if session["status"] == "planned":
            await conn.execute("UPDATE treatment_session SET status = 'open' WHERE id = $1", session_id)
        try:
            # One statement: the usage, the guarded-free stock change, its ledger row and the audit event.
            written = await conn.fetchrow(
                _RECORD_USE,
                session_id,
                session["client"],
                locked["id"],
                locked["product_id"],
                location_id,
                quantity,
                reading.serial,
                scanned[:512],
                actor.id,
                override_reason if conflicts else None,
                warnings,
                [w["code"] for w in warnings],
            )
        except asyncpg.UniqueViolationError as error:
            raise Conflict(
                f"Ampoule serial {reading.serial} was already used.", code="serial_already_used", serial=reading.serial
            ) from error
        assert written is not None
        after: int = written["on_hand"]
        if after < 0:
            # Exact under concurrency: on-hand before this use was after + quantity.
            warnings.append(
                _warning(
                    "stock_discrepancy",
                    f"Recorded stock here was {after + quantity}; the use is recorded and on-hand goes to {after}.",
                )
            )
            await conn.execute("UPDATE usage SET warnings = $2 WHERE id = $1", written["id"], warnings)
        await alerting.reevaluate(conn, [(locked["product_id"], location_id)], rules_locked=True)
    return {
        "usage_id": written["id"],
        "session_id": session_id,
        "client_id": session["client"],
        "product": {
            "id": locked["product_id"],
            "name": locked["product_name"],
            "brand": locked["brand_name"],
            "gtin": resolved.gtin,
        },
        "lot": {
            "id": locked["id"],
            "lot_number": locked["lot_number"],
            "expiry_date": locked["expiry_date"],
            "status": locked["status"],
        },
        "location_id": location_id,
        "quantity": quantity,
        "on_hand_after": after,
        "used_at": written["used_at"],
        "warnings": warnings,
    }


async def _lot_not_received(
    conn: db.Connection, product_id: int, lot_number: str, expiry: date | None
) -> dict[str, Any]:
    number = clean_lot_number(lot_number)
    existing = await lots.get_by_key(conn, product_id, lot_key(number))
    if existing is not None:
        return existing
    if expiry is None:
        raise Conflict(
            f"Lot {number} was never received and the barcode carries no expiry date; receive it first.",
            code="lot_required",
        )
    lot, _ = await lots.get_or_create(
        conn,
        product_id=product_id,
        lot_number=number,
        key=lot_key(number),
        similar=similar_key(number),
        expiry=expiry,
        not_received=True,
    )
    return lot


async def _infer_lot(conn: db.Connection, product_id: int, location_id: int, today: date) -> dict[str, Any]:
    usable = await lots.usable_at_location(conn, product_id, location_id, today)
    if not usable:
        raise Conflict(
            "The barcode carries no lot and no usable lot of this product is in stock here; scan the lot"
            " label or type the lot number.",
            code="lot_required",
        )
    if len(usable) > 1:
        raise Conflict(
            "The barcode carries no lot and several lots are in stock here; scan the lot label.",
            code="lot_ambiguous",
            candidates=[
                {
                    "lot_id": lot["id"],
                    "lot_number": lot["lot_number"],
                    "expiry_date": lot["expiry_date"].isoformat(),
                    "on_hand": lot["on_hand"],
                }
                for lot in usable
            ],
        )
    return usable[0]


async def void_usage(*, actor: Actor, usage_id: int, reason: str) -> dict[str, Any]:
    """Void a recorded use: it stays visible, marked voided, and its stock comes back.

    Staff may void their own scans; managers anyone's. Raises NotFound, Forbidden, Conflict(usage_voided).
    """
    reason = reason.strip()
    if not reason:
        raise Unprocessable("A reason is required to void a use.", code="validation_error")

    async def run() -> dict[str, Any]:
        async with db.transaction() as conn:
            usage = await conn.fetchrow(
                "SELECT id, session, lot, product, location, quantity, used_by, voided_at FROM usage"
                " WHERE id = $1 FOR UPDATE",
                usage_id,
            )
            if usage is None:
                raise NotFound(f"Usage {usage_id} does not exist.", code="not_found", entity="usage")
            if usage["used_by"] != actor.id and not actor.has_role("manager"):
                raise Forbidden("Staff may void only their own scans; ask a manager.", code="forbidden")
            if usage["voided_at"] is not None:
                raise Conflict("This use is already voided.", code="usage_voided")
            voided = await conn.fetchrow(
                "UPDATE usage SET voided_at = now(), voided_by = $2, void_reason = $3 WHERE id = $1"
                " RETURNING voided_at",
                usage_id,
                actor.id,
                reason,
            )
            assert voided is not None
            after = await stock.move(
                conn,
                lot_id=usage["lot"],
                location_id=usage["location"],
                delta=usage["quantity"],
                kind="void",
                user_id=actor.id,
                reason=reason,
                usage_id=usage_id,
            )
            await alerting.reevaluate(conn, [(usage["product"], usage["location"])])
            await audit.record(
                conn,
                actor_id=actor.id,
                action="usage.void",
                entity="usage",
                entity_id=usage_id,
                details={"reason": reason, "lot_id": usage["lot"], "quantity": usage["quantity"]},
            )
        return {
            "usage_id": usage_id,
            "session_id": usage["session"],
            "lot_id": usage["lot"],
            "location_id": usage["location"],
            "quantity": usage["quantity"],
            "voided": True,
            "voided_at": voided["voided_at"],
            "void_reason": reason,
            "on_hand_after": after,
        }

    return await db.with_retries(run)
