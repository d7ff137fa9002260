"""Receiving deliveries: lots created or matched, stock added, all lines or none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from inventory import clock, db
from inventory.domain import dates
from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.lots import clean_lot_number, lot_key, similar_key
from inventory.domain.models import Actor
from inventory.domain.rules import is_expired
from inventory.services import alerting, barcodes
from inventory.services.checks import require
from inventory.services.views import lot_view
from inventory.store import audit, catalog, lots, receipts, stock

MAX_LINES = 500
MAX_QUANTITY = 100_000


@dataclass(frozen=True)
class LineIn:
    """One receipt line: a barcode, or product + lot number + expiry."""

    quantity: int
    barcode: str | None = None
    product_id: int | None = None
    lot_number: str | None = None
    expiry_date: date | None = None


@dataclass(frozen=True)
class _Planned:
    index: int
    product_id: int
    lot_number: str
    expiry: date
    units: int
    gtin: str | None
    barcode: str | None


async def receive(
    *, actor: Actor, location_id: int, supplier: str | None, reference: str | None, lines: list[LineIn]
) -> dict[str, Any]:
    """Record a delivery; raises NotFound, Unprocessable (lot_expired, barcode_*), Conflict (lot_expiry_mismatch)."""
    if not lines:
        raise Unprocessable("A receipt needs at least one line.", code="validation_error")
    if len(lines) > MAX_LINES:
        raise Unprocessable(f"A receipt has at most {MAX_LINES} lines.", code="validation_error")
    for line in lines:
        if line.quantity < 1 or line.quantity > MAX_QUANTITY:
            raise Unprocessable("Quantity must be a positive whole number.", code="validation_error")
    return await db.with_retries(lambda: _receive(actor, location_id, supplier, reference, lines))


async def _receive(
    actor: Actor, location_id: int, supplier: str | None, reference: str | None, lines: list[LineIn]
) -> dict[str, Any]:
    async with db.transaction() as conn:
        location = await catalog.get_location(conn, location_id)
        if location is None:
            raise NotFound.of("location", location_id)
        today = clock.today_in(location["timezone"])  # "already expired" is decided by the location's day
        planned = [await _plan_line(conn, index, line, today) for index, line in enumerate(lines)]
        receipt_id, received_at = await receipts.create(
            conn, location_id=location_id, supplier=supplier, reference=reference, received_by=actor.id
        )
        results: dict[int, dict[str, Any]] = {}
        # A fixed order of row locks keeps concurrent receipts of the same lots from deadlocking.
        for plan in sorted(planned, key=lambda p: (p.product_id, lot_key(p.lot_number), p.index)):
            lot, created = await lots.get_or_create(
                conn,
                product_id=plan.product_id,
                lot_number=plan.lot_number,
                key=lot_key(plan.lot_number),
                similar=similar_key(plan.lot_number),
                expiry=plan.expiry,
            )
            if lot["expiry_date"] != plan.expiry:
                raise Conflict(
                    f"Lot {lot['lot_number']} is already recorded with expiry {lot['expiry_date']},"
                    f" not {plan.expiry}. Check the box; correct the existing lot if it was entered wrongly.",
                    code="lot_expiry_mismatch",
                    lot_id=lot["id"],
                    recorded_expiry=lot["expiry_date"].isoformat(),
                    line=plan.index,
                )
            if lot["status"] != "active":
                raise Conflict(
                    f"Lot {lot['lot_number']} is {lot['status']} and cannot be received.",
                    code=f"lot_{lot['status']}",
                    lot_id=lot["id"],
                    line=plan.index,
                )
            if lot["not_received"]:
                await lots.mark_received(conn, lot["id"])
                lot["not_received"] = False
            quantity = plan.units * lines[plan.index].quantity
            line_id = await receipts.add_line(
                conn, receipt_id=receipt_id, lot_id=lot["id"], quantity=quantity, gtin=plan.gtin, barcode=plan.barcode
            )
            on_hand = await stock.move(
                conn,
                lot_id=lot["id"],
                location_id=location_id,
                delta=quantity,
                kind="receive",
                user_id=actor.id,
                receipt_line_id=line_id,
            )
            results[plan.index] = {
                "lot": lot_view(lot),
                "lot_created": created,
                "quantity": quantity,
                "on_hand": on_hand,
            }
        await alerting.reevaluate(conn, [(p.product_id, location_id) for p in planned])
        await audit.record(
            conn,
            actor_id=actor.id,
            action="receipt.create",
            entity="receipt",
            entity_id=receipt_id,
            details={
                "location_id": location_id,
                "lines": [{"lot_id": r["lot"]["id"], "quantity": r["quantity"]} for r in results.values()],
            },
        )
    return {
        "id": receipt_id,
        "location_id": location_id,
        "supplier": supplier,
        "reference": reference,
        "received_at": received_at,
        "lines": [results[i] for i in range(len(lines))],
    }


async def _plan_line(conn: db.Connection, index: int, line: LineIn, today: date) -> _Planned:
    if line.barcode is not None:
        if line.product_id is not None or line.lot_number is not None or line.expiry_date is not None:
            raise Unprocessable(
                f"Line {index + 1}: give either a barcode or product, lot and expiry, not both.",
                code="validation_error",
            )
        resolved = await barcodes.resolve(conn, line.barcode, today=today)
        reading = resolved.reading
        if resolved.lot is not None and reading.kind == "label":
            lot_number, expiry = resolved.lot["lot_number"], resolved.lot["expiry_date"]
        else:
            if reading.lot_number is None or reading.expiry is None:
                raise Unprocessable(
                    f"Line {index + 1}: the barcode carries no lot and expiry; enter them by hand.",
                    code="barcode_incomplete",
                    line=index,
                )
            lot_number, expiry = clean_lot_number(reading.lot_number), reading.expiry
        plan = _Planned(
            index, resolved.product_id, lot_number, expiry, resolved.units, resolved.gtin, line.barcode.strip()
        )
    else:
        if line.product_id is None or line.lot_number is None or line.expiry_date is None:
            raise Unprocessable(
                f"Line {index + 1}: product_id, lot_number and expiry_date are required without a barcode.",
                code="validation_error",
                line=index,
            )
        await require(conn, "product", line.product_id)
        plan = _Planned(index, line.product_id, clean_lot_number(line.lot_number), line.expiry_date, 1, None, None)
    dates.require_not_after(
        plan.expiry, dates.years_after(today, dates.MAX_EXPIRY_YEARS), what=f"Line {index + 1}: the expiry date"
    )
    if is_expired(plan.expiry, today):
        raise Unprocessable(
            f"Line {index + 1}: lot {plan.lot_number} expired on {plan.expiry}; it cannot be received.",
            code="lot_expired",
            line=index,
        )
    return plan
