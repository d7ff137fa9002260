"""The scan at the chair: one barcode becomes one recorded use of one lot on one client, or a clear refusal."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from inventory import clock, db
from inventory.domain.errors import Conflict, Forbidden, NotFound, Unprocessable
from inventory.domain.lots import clean_lot_number, lot_key, similar_key
from inventory.domain.models import Actor
from inventory.domain.override import clean_override_reason, override_reason_refusal
from inventory.domain.rules import REPEAT_SCAN_WINDOW, allergy_conflicts, expires_soon, is_expired, repeat_seconds_ago
from inventory.services import alerting, barcodes
from inventory.store import audit, lots, stock, usages
from inventory.store import clinical as sessions

MAX_QUANTITY = 100


# The on-hand before and after a use that took it below zero (the store fills them in the same statement).
DISCREPANCY = "Recorded stock here was %s; the use is recorded and on-hand goes to %s."


def _warning(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


async def record_use(
    *,
    actor: Actor,
    session_id: int,
    barcode: str,
    quantity: int = 1,
    override_reason: str | None = None,
    repeat: bool = False,
) -> dict[str, Any]:
    """Record the use of the scanned ampoule(s) on the session's client, or refuse with nothing written.

    `repeat` confirms a second use of a barcode recorded on the session less than 10 s ago.

    Raises BarcodeInvalid/BarcodeAmbiguous (422), NotFound (session, product_unknown), Conflict (session_closed,
    lot_recalled, lot_quarantined, lot_expired, serial_already_used, repeat_scan, lot_ambiguous, lot_required,
    allergy_conflict), Unprocessable(override_reason_invalid) when the reason reads as a barcode or says nothing.
    """
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Unprocessable(f"Quantity must be 1 to {MAX_QUANTITY}.", code="validation_error")
    reason = _checked_reason(override_reason)
    return await db.with_retries(lambda: _record(actor, session_id, barcode, quantity, reason, repeat))


def _checked_reason(override_reason: str | None) -> str | None:
    """The override reason to record, None when none was typed; refused whether or not an allergy needs it."""
    if override_reason is None or not clean_override_reason(override_reason):
        return None
    refusal = override_reason_refusal(override_reason, today=clock.today())
    if refusal is not None:
        raise Unprocessable(refusal, code="override_reason_invalid")
    return clean_override_reason(override_reason).strip()


async def _record(
    actor: Actor, session_id: int, raw: str, quantity: int, override_reason: str | None, repeat: bool
) -> dict[str, Any]:
    scanned = raw.strip()[:512]
    async with db.transaction() as conn:
        await usages.use_generic_plans(conn)
        # One scan at a time per session: a concurrent scan of the same barcode is seen by the repeat check, and
        # closing the session waits for scans in flight.
        session = await sessions.lock_session_for_scan(conn, session_id)
        # Read after the lock: a scan that waited for another one of this session is stamped after it.
        now = clock.now()
        if session is None:
            raise NotFound.of("session", session_id)
        if session["status"] == "closed":
            raise Conflict("The session is closed; open a new one to record more.", code="session_closed")
        location_id: int = session["location"]
        today = clock.today_in(session["timezone"])  # expiry, FEFO and usable lots go by the location's day
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
        locked = await usages.lock_lot(
            conn, lot["id"], location_id=location_id, today=today, session_id=session_id, barcode=scanned
        )
        assert locked is not None
        # Every refusal from here on names the ampoule, so the chair can say which product and lot it means.
        item = {
            "product": {
                "id": locked["product_id"],
                "name": locked["product_name"],
                "brand": locked["brand_name"],
                "gtin": resolved.gtin,
            },
            "lot": {
                "id": locked["id"],
                "lot_number": locked["lot_number"],
                "expiry_date": locked["expiry_date"].isoformat(),
            },
        }
        if locked["status"] == "recalled":
            raise Conflict(
                f"Lot {locked['lot_number']} is recalled: do not use it.",
                code="lot_recalled",
                lot_id=locked["id"],
                **item,
            )
        if locked["status"] == "quarantined":
            raise Conflict(
                f"Lot {locked['lot_number']} is quarantined: do not use it.",
                code="lot_quarantined",
                lot_id=locked["id"],
                **item,
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
                **{**item, "lot": {**item["lot"], "expiry_date": expiry.isoformat()}},
            )
        if reading.serial is not None and await usages.serial_in_use(conn, locked["product_id"], reading.serial):
            raise Conflict(
                f"Ampoule serial {reading.serial} was already used.",
                code="serial_already_used",
                serial=reading.serial,
                **item,
            )
        seconds_ago = repeat_seconds_ago(locked["repeat_of_used_at"], now)
        if seconds_ago is not None and not repeat:
            raise Conflict(
                f"This barcode was recorded on this session {seconds_ago} s ago; if this is another ampoule,"
                " scan it again with repeat confirmed.",
                code="repeat_scan",
                usage_id=locked["repeat_of_id"],
                seconds_ago=seconds_ago,
                window_seconds=int(REPEAT_SCAN_WINDOW.total_seconds()),
                **item,
            )
        conflicts = allergy_conflicts(session["allergies"] or [], locked["ingredients"] or [])
        if conflicts and override_reason is None:
            raise Conflict(
                f"The client is allergic to {', '.join(conflicts)}. Give an override reason to use it anyway.",
                code="allergy_conflict",
                ingredients=conflicts,
                **item,
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
            await sessions.open_session(conn, session_id)
        try:
            # One statement: the usage, the guarded-free stock change, its ledger row and the audit event.
            written = await usages.record(
                conn,
                session_id=session_id,
                client_id=session["client"],
                lot_id=locked["id"],
                product_id=locked["product_id"],
                location_id=location_id,
                quantity=quantity,
                serial=reading.serial,
                barcode=scanned,
                user_id=actor.id,
                override_reason=override_reason if conflicts else None,
                warnings=warnings,
                warning_codes=[w["code"] for w in warnings],
                used_at=now,
                discrepancy_message=DISCREPANCY,
            )
        except asyncpg.UniqueViolationError as error:
            raise Conflict(
                f"Ampoule serial {reading.serial} was already used.", code="serial_already_used", serial=reading.serial
            ) from error
        after: int = written["on_hand"]
        if after < 0:
            # Exact under concurrency: on-hand before this use was after + quantity. Stored with the use already.
            warnings.append(_warning("stock_discrepancy", DISCREPANCY % (after + quantity, after)))
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
        "override_reason": override_reason if conflicts else None,
        "warnings": warnings,
    }


async def _lot_not_received(
    conn: db.Connection, product_id: int, lot_number: str, expiry: date | None
) -> dict[str, Any]:
    number = clean_lot_number(lot_number)
    # The barcode look-up just found no such lot; get_or_create still returns one a concurrent scan made.
    if expiry is None:
        existing = await lots.get_by_key(conn, product_id, lot_key(number))
        if existing is not None:
            return existing
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
            usage = await usages.lock_for_void(conn, usage_id)
            if usage is None:
                raise NotFound.of("usage", usage_id)
            if usage["used_by"] != actor.id and not actor.has_role("manager"):
                raise Forbidden("Staff may void only their own scans; ask a manager.", code="forbidden")
            if usage["voided_at"] is not None:
                raise Conflict("This use is already voided.", code="usage_voided")
            voided_at = await usages.mark_voided(conn, usage_id, user_id=actor.id, reason=reason)
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
            "voided_at": voided_at,
            "void_reason": reason,
            "on_hand_after": after,
        }

    return await db.with_retries(run)
