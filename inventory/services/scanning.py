"""The scan at the chair: one barcode becomes one recorded use of one lot on one client, or a clear refusal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from inventory import clock, db, metrics
from inventory.domain import containers as container_rules
from inventory.domain.errors import Conflict, Forbidden, InventoryError, NotFound, Unauthorized, Unprocessable
from inventory.domain.lots import clean_lot_number, lot_key, similar_key
from inventory.domain.models import Actor, UncheckedActor
from inventory.domain.override import clean_override_reason, override_reason_refusal
from inventory.domain.quantities import Quantity
from inventory.domain.scan_decision import (
    STOCK_DISCREPANCY,
    ContainerState,
    LockedLot,
    LotFound,
    ScanReading,
    ScanSession,
    check_session,
    decide_scan,
    infer_lot,
    serial_already_used,
    unknown_lot_without_expiry,
)
from inventory.services import alerting, auth, barcodes
from inventory.store import audit, lots, stock, usages
from inventory.store import clinical as sessions
from inventory.store import containers as container_store

MAX_QUANTITY = 100


async def record_use(
    *,
    actor: Actor,
    session_id: int,
    barcode: str,
    quantity: Quantity = 1,
    override_reason: str | None = None,
    repeat: bool = False,
    open_new: bool = False,
) -> dict[str, Any]:
    """Record the use of the scanned ampoule(s) on the session's client, or refuse with nothing written.

    `quantity` is in the product's unit (0.3 ml of a vial). `repeat` confirms a second use of a barcode recorded on
    the session less than 10 s ago; `open_new` opens a new container of a multi-use product when the open one is
    past its use-by or holds too little (its remainder is disposed).

    Raises BarcodeInvalid/BarcodeAmbiguous (422), NotFound (session, product_unknown), Conflict (session_closed,
    lot_recalled, lot_quarantined, lot_expired, serial_already_used, repeat_scan, lot_ambiguous, lot_required,
    allergy_conflict, container_expired, container_insufficient), Unprocessable(override_reason_invalid) when the
    reason reads as a barcode or says nothing, (quantity_not_whole, quantity_precision) when the quantity does not
    fit the product's unit.
    """
    try:
        if not 0 < quantity <= MAX_QUANTITY:
            raise Unprocessable(f"Quantity must be above 0 and at most {MAX_QUANTITY}.", code="validation_error")
        reason = _checked_reason(override_reason)
        recorded = await db.with_retries(
            lambda: _record(actor, session_id, barcode, quantity, reason, repeat, open_new)
        )
    except InventoryError as refusal:
        # Counted here, where the outcome is decided; an idempotent replay never reaches this function. A refused
        # bearer token (checked in the scan's transaction) is no scan outcome, as when the middleware refused it.
        if not isinstance(refusal, Unauthorized):
            metrics.scan_refused(refusal.code)
        raise
    metrics.scan_recorded(warning["code"] for warning in recorded["warnings"])
    return recorded


def _checked_reason(override_reason: str | None) -> str | None:
    """The override reason to record, None when none was typed; refused whether or not an allergy needs it."""
    if override_reason is None or not clean_override_reason(override_reason):
        return None
    refusal = override_reason_refusal(override_reason, today=clock.today())
    if refusal is not None:
        raise Unprocessable(refusal, code="override_reason_invalid")
    return clean_override_reason(override_reason).strip()


async def _record(
    actor: Actor,
    session_id: int,
    raw: str,
    quantity: Quantity,
    override_reason: str | None,
    repeat: bool,
    open_new: bool,
) -> dict[str, Any]:
    """One scan in one transaction: lock the session and the lot, ask `decide_scan`, write what it decided."""
    scanned = raw.strip()[:512]
    # Read ahead on the service's day, the barcode's catalog look-up rides on the session lock; `resolve` reads it
    # again on the location's day and makes the look-up itself if that reading needs another one.
    lookup = barcodes.single_lookup(raw, today=clock.today())
    async with db.transaction() as conn:
        # One scan at a time per session: a concurrent scan of the same barcode is seen by the repeat check, and
        # closing the session waits for scans in flight.
        # An unchecked bearer token is checked by this first statement, in this transaction's snapshot.
        token = (actor.id, actor.jti, actor.issued_at) if isinstance(actor, UncheckedActor) else None
        locked = await sessions.lock_session_for_scan(conn, session_id, token=token, gtin_and_key=lookup)
        # Read after the lock: a scan that waited for another one of this session is stamped after it.
        now = clock.now()
        if locked is None:
            if isinstance(actor, UncheckedActor):  # a refused token learns nothing about sessions
                await auth.check(conn, actor)
            raise NotFound.of("session", session_id)
        if not locked.token_valid:
            raise auth.token_refused()
        row = locked.session
        protocol = row["protocol_products"]
        session = ScanSession(
            status=row["status"],
            allergies=tuple(row["allergies"] or ()),
            client_erased=row["client_erased"],
            protocol_products=None if protocol is None else tuple(protocol),
        )
        check_session(session)  # before the barcode is read: a closed session refuses whatever was scanned
        location_id: int = row["location"]
        today = clock.today_in(row["timezone"])  # expiry, FEFO and usable lots go by the location's day
        resolved = await barcodes.resolve(
            conn,
            raw,
            today=today,
            looked_up=None if lookup is None else barcodes.LookedUp(*lookup, found=locked.looked_up),
        )
        reading = resolved.reading
        lot_id, found = await _find_lot(conn, resolved, location_id, today)
        # Lock the lot: a recall either commits before this (and we see it) or waits until we commit.
        lot = await usages.lock_lot(
            conn,
            lot_id,
            location_id=location_id,
            today=today,
            session_id=session_id,
            barcode=scanned,
            serial=reading.serial,
        )
        assert lot is not None
        # Multi-use only (single use keeps its round trips): the container of this lot here, locked.
        state = await _container_state(conn, lot, location_id, row["timezone"], now, open_new)
        decision = decide_scan(
            session=session,
            lot=lot,
            found=found,
            reading=ScanReading(gtin=resolved.gtin, expiry=reading.expiry, serial=reading.serial),
            today=today,
            now=now,
            override_reason=override_reason,
            repeat=repeat,
            quantity=quantity,
            container=state,
        )
        if decision.open_session:
            await sessions.open_session(conn, session_id)
        container = await _prepare_container(conn, decision.draw, lot, location_id, actor, now)
        try:
            written = await usages.record(
                conn,
                session_id=session_id,
                client_id=row["client"],
                lot_id=lot.id,
                product_id=lot.product_id,
                location_id=location_id,
                quantity=decision.quantity,
                serial=reading.serial,
                barcode=scanned,
                user_id=actor.id,
                override_reason=decision.override_reason,
                warnings=decision.warnings,
                used_at=now,
                discrepancy_message=STOCK_DISCREPANCY,
                udi=decision.udi,
                container_id=None if container is None else container.id,
            )
        except asyncpg.UniqueViolationError as error:
            raise serial_already_used(reading.serial) from error
        after: Quantity = written["on_hand"]
        await alerting.reevaluate(conn, [(lot.product_id, location_id)], rules_locked=True)
    return {
        "usage_id": written["id"],
        "session_id": session_id,
        "client_id": row["client"],
        "product": {
            "id": lot.product_id,
            "name": lot.product_name,
            "brand": lot.brand_name,
            "gtin": resolved.gtin,
            "unit": lot.unit,
        },
        "lot": {"id": lot.id, "lot_number": lot.lot_number, "expiry_date": lot.expiry_date, "status": lot.status},
        "location_id": location_id,
        "quantity": decision.quantity,
        "on_hand_after": after,
        "used_at": written["used_at"],
        "override_reason": decision.override_reason,
        # As stored: the decision's warnings, and stock_discrepancy when the write left on-hand below zero.
        "warnings": written["warnings"],
        "udi": decision.udi,
        **(
            {}
            if container is None
            else {
                "container": {
                    "id": container.id,
                    "opened_at": container.opened_at,
                    "use_by": container.use_by,
                    "remaining": written["container_remaining"],
                }
            }
        ),
    }


async def _container_state(
    conn: db.Connection, lot: LockedLot, location_id: int, timezone: str, now: datetime, open_new: bool
) -> ContainerState | None:
    """A multi-use lot's open container here, locked, and the use-by a container opened now would get."""
    if lot.in_use_hours is None:
        return None
    opened = await container_store.lock_open(conn, lot.id, location_id)
    new_use_by = container_rules.use_by(
        opened_at=now, in_use_hours=lot.in_use_hours, lot_end=clock.day_end(lot.expiry_date, timezone)
    )
    return ContainerState(open=opened, new_use_by=new_use_by, open_new=open_new)


async def _prepare_container(
    conn: db.Connection,
    draw: container_rules.Draw | None,
    lot: LockedLot,
    location_id: int,
    actor: Actor,
    now: datetime,
) -> container_rules.OpenContainer | None:
    """The container the dose is drawn from: the open one, or a new one after disposing of the old remainder."""
    if draw is None:
        return None
    if draw.disposal is not None:
        old = draw.disposal.container
        await container_store.dispose(conn, old.id, at=now)
        if old.remaining > 0:
            await stock.move(
                conn,
                lot_id=lot.id,
                location_id=location_id,
                delta=-old.remaining,
                kind="dispose",
                user_id=actor.id,
                reason=draw.disposal.reason,
                guard=False,  # the remainder left the shelf whatever the books say
                container_id=old.id,
                at=now,
            )
            await audit.record(
                conn,
                actor_id=actor.id,
                action="container.dispose",
                entity="container",
                entity_id=old.id,
                details={"lot_id": lot.id, "quantity": old.remaining, "reason": draw.disposal.reason},
            )
    if not draw.opens:
        return draw.container
    assert draw.new_use_by is not None
    opened = await container_store.open_one(
        conn,
        lot_id=lot.id,
        product_id=lot.product_id,
        location_id=location_id,
        user_id=actor.id,
        at=now,
        use_by=draw.new_use_by,
        capacity=lot.container_quantity,
    )
    await audit.record(
        conn,
        actor_id=actor.id,
        action="container.open",
        entity="container",
        entity_id=opened.id,
        details={"lot_id": lot.id, "location_id": location_id, "use_by": opened.use_by.isoformat()},
    )
    return opened


async def _find_lot(
    conn: db.Connection, resolved: barcodes.Resolved, location_id: int, today: date
) -> tuple[int, LotFound]:
    """The lot the barcode means, and how it was found: named, created from the barcode, or inferred."""
    if resolved.lot is not None:
        return resolved.lot["id"], LotFound.KNOWN_NOT_RECEIVED if resolved.lot["not_received"] else LotFound.KNOWN
    lot_number = resolved.reading.lot_number
    if lot_number is None:
        usable = await lots.usable_at_location(conn, resolved.product_id, location_id, today)
        return infer_lot(usable).id, LotFound.INFERRED
    number = clean_lot_number(lot_number)
    expiry = resolved.reading.expiry
    # The barcode look-up just found no such lot; get_or_create still returns one a concurrent scan made.
    if expiry is None:
        existing = await lots.get_by_key(conn, resolved.product_id, lot_key(number))
        if existing is None:
            raise unknown_lot_without_expiry(number)
        return existing["id"], LotFound.CREATED
    created, _ = await lots.get_or_create(
        conn,
        product_id=resolved.product_id,
        lot_number=number,
        key=lot_key(number),
        similar=similar_key(number),
        expiry=expiry,
        not_received=True,
    )
    return created["id"], LotFound.CREATED


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
            container = None
            if usage["container"] is not None:
                container = await container_store.lock(conn, usage["container"])
            back = container is not None and container_rules.gives_back(
                status=container.status, use_by=container.use_by, now=voided_at
            )
            if container is None or back:
                after = await stock.move(
                    conn,
                    lot_id=usage["lot"],
                    location_id=usage["location"],
                    delta=usage["quantity"],
                    kind="void",
                    user_id=actor.id,
                    reason=reason,
                    usage_id=usage_id,
                    container_id=None if container is None else container.id,
                )
            else:
                # The container is used up, disposed or past its use-by: the dose cannot go back on the shelf.
                after = await stock.on_hand(conn, usage["lot"], usage["location"])
            given_back = None
            if container is not None and back:
                remaining = await container_store.give_back(conn, container.id, usage["quantity"])
                given_back = {
                    "id": container.id,
                    "opened_at": container.opened_at,
                    "use_by": container.use_by,
                    "remaining": remaining,
                }
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
            "container": given_back,
        }

    return await db.with_retries(run)
