"""Receiving deliveries: lots created or matched, stock added, all lines or none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from inventory import clock, db
from inventory.domain import quantities
from inventory.domain import receiving as rules
from inventory.domain.errors import InventoryError, NotFound, Unprocessable
from inventory.domain.lots import clean_lot_number
from inventory.domain.models import Actor
from inventory.services import alerting, barcodes, purchasing
from inventory.services.views import lot_view
from inventory.store import audit, catalog, lots, receipts
from inventory.store.receipts import ReceiptHead, ReceivedLine

MAX_LINES = rules.MAX_LINES
MAX_QUANTITY = rules.MAX_QUANTITY
MAX_ID = 2_147_483_647  # ids are PostgreSQL integers
__all__ = ["LineIn", "LinePreview", "ReceiptHead", "ReceivedLine", "get_receipt", "preview", "receive"]


@dataclass(frozen=True)
class LineIn:
    """One receipt line: a barcode, or product + lot number + expiry."""

    quantity: int
    barcode: str | None = None
    product_id: int | None = None
    lot_number: str | None = None
    expiry_date: date | None = None


async def receive(
    *,
    actor: Actor,
    location_id: int,
    supplier: str | None,
    reference: str | None,
    lines: list[LineIn],
    purchase_order_id: int | None = None,
) -> dict[str, Any]:
    """Record a delivery; raises NotFound, Unprocessable (lot_expired, barcode_*), Conflict (lot_expiry_mismatch).

    With `purchase_order_id` the units received are added to the order's lines by product in the same
    transaction (see `purchasing.receive_against`); a draft or cancelled order: Conflict(invalid_transition).
    """
    rules.check_receipt([line.quantity for line in lines])
    return await db.with_retries(lambda: _receive(actor, location_id, supplier, reference, lines, purchase_order_id))


async def _receive(
    actor: Actor,
    location_id: int,
    supplier: str | None,
    reference: str | None,
    lines: list[LineIn],
    purchase_order_id: int | None,
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
        against = None
        if purchase_order_id is not None:  # refused before anything is written; the order stays locked
            received: dict[int, int] = {}
            for p in planned:
                received[p.product_id] = received.get(p.product_id, 0) + int(p.quantity)  # containers
            against = await purchasing.receive_against(
                conn, order_id=purchase_order_id, location_id=location_id, received=received
            )
        # Deliveries count whole containers; stock counts the product's unit (5 vials of 2.5 ml: 12.5 ml).
        sizes = await receipts.container_sizes(conn, [p.product_id for p in planned])
        if sizes:
            ordered = [
                replace(p, quantity=quantities.containers(p.quantity, sizes[p.product_id]))
                if p.product_id in sizes
                else p
                for p in ordered
            ]
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
            purchase_order_id=purchase_order_id,
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
                **({} if purchase_order_id is None else {"purchase_order_id": purchase_order_id}),
            },
        )
        if purchase_order_id is not None and against is not None:
            # The order's lines after this receipt: what is short (outstanding) and what came beyond it.
            await audit.record(
                conn,
                actor_id=actor.id,
                action="purchase_order.receive",
                entity="purchase_order",
                entity_id=purchase_order_id,
                details={"receipt_id": written.id, "status": against.status, "lines": against.lines},
            )
    return {
        "id": written.id,
        "purchase_order_id": purchase_order_id,
        "location_id": location_id,
        "supplier": supplier,
        "reference": reference,
        "received_at": written.received_at,
        "lines": [results[i] for i in range(len(lines))],
    }


async def get_receipt(receipt_id: int) -> tuple[ReceiptHead, list[ReceivedLine]]:
    """A receipt with its lines (lot, product, units, on-hand after each); raises NotFound."""
    found = None
    if 1 <= receipt_id <= MAX_ID:
        async with db.connection() as conn:
            found = await receipts.get(conn, receipt_id)
    if found is None:
        raise NotFound.of("receipt", receipt_id)
    return found


@dataclass(frozen=True)
class LinePreview:
    """A draft line as `receive` would book it (product, lot, units), or the refusal it would meet."""

    index: int
    quantity: int  # as entered: boxes when a pack's code was scanned, else single units
    units: int = 1  # single units in each one entered (a box of 10: 10)
    product_id: int | None = None
    product: str | None = None
    brand: str | None = None
    lot_number: str | None = None
    expiry_date: date | None = None
    lot_id: int | None = None  # the lot already on record, if any
    refusal: InventoryError | None = None

    @property
    def total(self) -> int:
        """The single units this line adds to stock."""
        return self.quantity * self.units


async def preview(*, location_id: int, lines: Sequence[LineIn]) -> list[LinePreview]:
    """Check draft lines as `receive` would, line by line, writing nothing; raises NotFound for the location.

    Each line carries what it names or its refusal (barcode_*, product_unknown, lot_expired, lot_expiry_mismatch
    against the lot on record or an earlier line of the draft, lot_recalled, lot_quarantined).
    """
    async with db.connection() as conn:
        location = await catalog.get_location(conn, location_id)
        if location is None:
            raise NotFound.of("location", location_id)
        today = clock.today_in(location["timezone"])
        typed = [line.product_id for line in lines if line.barcode is None and line.product_id is not None]
        products = await receipts.known_products(conn, typed)
        earlier: dict[tuple[int, str], rules.ReceivedLot] = {}
        previews = [await _preview_line(conn, i, line, today, products, earlier) for i, line in enumerate(lines)]
        names = await receipts.product_names(conn, [p.product_id for p in previews if p.product_id is not None])
    return [
        p if p.product_id is None else replace(p, product=names[p.product_id][0], brand=names[p.product_id][1])
        for p in previews
    ]


async def _preview_line(
    conn: db.Connection,
    index: int,
    line: LineIn,
    today: date,
    products: set[int],
    earlier: dict[tuple[int, str], rules.ReceivedLot],
) -> LinePreview:
    """One draft line checked against the lot on record, or the lot an earlier draft line would create."""
    read: _LineRead | None = None
    lot_id: int | None = None
    try:
        rules.check_receipt([line.quantity])
        read = await _read_line(conn, index, line, today, products)
        planned = _checked(index, line, read, today)
        known = earlier.get(planned.key)
        if known is None:
            row = await lots.get_by_key(conn, planned.product_id, planned.key[1])
            known = rules.ReceivedLot(
                id=row["id"] if row else 0,
                product_id=planned.product_id,
                lot_number=row["lot_number"] if row else planned.lot_number,
                expiry_date=row["expiry_date"] if row else planned.expiry,
                status=row["status"] if row else "active",
                not_received=bool(row and row["not_received"]),
                created=row is None,
            )
            earlier[planned.key] = known
        lot_id = known.id or None
        rules.decide_lines([planned], {planned.key: known})
    except InventoryError as refusal:
        return _line_preview(index, line, read, lot_id, refusal)
    return _line_preview(index, line, read, lot_id, None)


def _line_preview(
    index: int, line: LineIn, read: _LineRead | None, lot_id: int | None, refusal: InventoryError | None
) -> LinePreview:
    if read is None:
        return LinePreview(index=index, quantity=line.quantity, refusal=refusal)
    return LinePreview(
        index=index,
        quantity=line.quantity,
        units=read.units,
        product_id=read.product_id,
        lot_number=read.lot_number,
        expiry_date=read.expiry,
        lot_id=lot_id,
        refusal=refusal,
    )


@dataclass(frozen=True)
class _LineRead:
    """What a line names once its barcode or fields are read: product, lot, expiry, pack size."""

    product_id: int
    lot_number: str
    expiry: date
    units: int = 1
    gtin: str | None = None
    barcode: str | None = None


async def _plan_line(
    conn: db.Connection, index: int, line: LineIn, today: date, products: set[int]
) -> rules.PlannedLine:
    """The line's product, lot, expiry and units, read from its barcode or fields, then checked by the rules."""
    read = await _read_line(conn, index, line, today, products)
    return _checked(index, line, read, today)


def _checked(index: int, line: LineIn, read: _LineRead, today: date) -> rules.PlannedLine:
    return rules.plan_line(
        index=index,
        product_id=read.product_id,
        lot_number=read.lot_number,
        expiry=read.expiry,
        quantity=line.quantity,
        units=read.units,
        gtin=read.gtin,
        barcode=read.barcode,
        today=today,
    )


async def _read_line(conn: db.Connection, index: int, line: LineIn, today: date, products: set[int]) -> _LineRead:
    """Read a line's barcode (against the catalog) or fields; raises the barcode and validation refusals."""
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
        return _LineRead(
            product_id=resolved.product_id,
            lot_number=lot_number,
            expiry=expiry,
            units=resolved.units,
            gtin=resolved.gtin,
            barcode=line.barcode.strip(),
        )
    if line.product_id is None or line.lot_number is None or line.expiry_date is None:
        raise Unprocessable(
            f"Line {index + 1}: product_id, lot_number and expiry_date are required without a barcode.",
            code="validation_error",
            line=index,
        )
    if line.product_id not in products:
        raise NotFound.of("product", line.product_id)
    return _LineRead(product_id=line.product_id, lot_number=clean_lot_number(line.lot_number), expiry=line.expiry_date)
