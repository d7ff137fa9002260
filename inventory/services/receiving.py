"""Receiving deliveries: lots created or matched, stock added, all lines or none."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from inventory import clock, db
from inventory.domain import receiving as rules
from inventory.domain.errors import NotFound, Unprocessable
from inventory.domain.lots import clean_lot_number
from inventory.domain.models import Actor
from inventory.services import alerting, barcodes
from inventory.services.views import lot_view
from inventory.store import audit, catalog, lots, receipts

MAX_LINES = rules.MAX_LINES
MAX_QUANTITY = rules.MAX_QUANTITY


@dataclass(frozen=True)
class LineIn:
    """One receipt line: a barcode, or product + lot number + expiry."""

    quantity: int
    barcode: str | None = None
    product_id: int | None = None
    lot_number: str | None = None
    expiry_date: date | None = None


async def receive(
    *, actor: Actor, location_id: int, supplier: str | None, reference: str | None, lines: list[LineIn]
) -> dict[str, Any]:
    """Record a delivery; raises NotFound, Unprocessable (lot_expired, barcode_*), Conflict (lot_expiry_mismatch)."""
    rules.check_receipt([line.quantity for line in lines])
    return await db.with_retries(lambda: _receive(actor, location_id, supplier, reference, lines))


async def _receive(
    actor: Actor, location_id: int, supplier: str | None, reference: str | None, lines: list[LineIn]
) -> dict[str, Any]:
    async with db.transaction() as conn:
        location = await catalog.get_location(conn, location_id)
        if location is None:
            raise NotFound.of("location", location_id)
        today = clock.today_in(location["timezone"])  # "already expired" is decided by the location's day
        products = await receipts.known_products(
            conn, [line.product_id for line in lines if line.barcode is None and line.product_id is not None]
        )
        planned = [await _plan_line(conn, index, line, today, products) for index, line in enumerate(lines)]
        ordered = rules.receiving_order(planned)
        now = db.now()
        lots_by_key = await lots.get_or_create_many(conn, rules.lots_named(ordered), at=now)
        decided = rules.decide_lines(ordered, lots_by_key)
        arrived = [lot.id for lot in lots_by_key.values() if lot.not_received]
        if arrived:
            await lots.mark_all_received(conn, arrived)
        written = await receipts.write(
            conn,
            location_id=location_id,
            supplier=supplier,
            reference=reference,
            received_by=actor.id,
            at=now,
            lines=[
                receipts.LineWrite(lot_id=d.lot.id, quantity=d.line.quantity, gtin=d.line.gtin, barcode=d.line.barcode)
                for d in decided
            ],
        )
        results: dict[int, dict[str, Any]] = {
            d.line.index: {
                "lot": lot_view({**asdict(d.lot), "not_received": False}),
                "lot_created": d.lot_created,
                "quantity": d.line.quantity,
                "on_hand": on_hand,
            }
            for d, on_hand in zip(decided, written.on_hand, strict=True)
        }
        await alerting.reevaluate(conn, [(p.product_id, location_id) for p in planned])
        await audit.record(
            conn,
            actor_id=actor.id,
            action="receipt.create",
            entity="receipt",
            entity_id=written.id,
            details={
                "location_id": location_id,
                "lines": [{"lot_id": r["lot"]["id"], "quantity": r["quantity"]} for r in results.values()],
            },
        )
    return {
        "id": written.id,
        "location_id": location_id,
        "supplier": supplier,
        "reference": reference,
        "received_at": written.received_at,
        "lines": [results[i] for i in range(len(lines))],
    }


async def _plan_line(
    conn: db.Connection, index: int, line: LineIn, today: date, products: set[int]
) -> rules.PlannedLine:
    """The line's product, lot, expiry and units, read from its barcode or fields, then checked by the rules."""
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
        return rules.plan_line(
            index=index,
            product_id=resolved.product_id,
            lot_number=lot_number,
            expiry=expiry,
            quantity=line.quantity,
            units=resolved.units,
            gtin=resolved.gtin,
            barcode=line.barcode.strip(),
            today=today,
        )
    if line.product_id is None or line.lot_number is None or line.expiry_date is None:
        raise Unprocessable(
            f"Line {index + 1}: product_id, lot_number and expiry_date are required without a barcode.",
            code="validation_error",
            line=index,
        )
    if line.product_id not in products:
        raise NotFound.of("product", line.product_id)
    return rules.plan_line(
        index=index,
        product_id=line.product_id,
        lot_number=clean_lot_number(line.lot_number),
        expiry=line.expiry_date,
        quantity=line.quantity,
        today=today,
    )
