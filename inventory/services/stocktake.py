"""Stocktakes: a manager opens a count at a location, staff count blind, the manager reviews and approves.

The arithmetic (expected as of each lot's first count, variance, what approval writes) is in
`inventory.domain.stocktake`, whose docstring states the rule. Codes are resolved exactly as at the chair and at
receiving (`services.barcodes.resolve`). Every write is audited; approval is one transaction.
"""

from __future__ import annotations

from typing import Any

from inventory import clock, db
from inventory.domain import quantities
from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.lots import clean_lot_number, lot_key
from inventory.domain.models import Actor
from inventory.domain.quantities import Quantity, plain
from inventory.domain.scan_decision import infer_lot
from inventory.domain.stocktake import adjustments, not_here
from inventory.services import alerting, barcodes
from inventory.services.checks import require
from inventory.services.views import product_ref
from inventory.store import audit, catalog, lots, stock, stocktakes
from inventory.store.stocktakes import CountWrite, NamedLot, StocktakeHead

MAX_QUANTITY = 100_000


def _closed(head: StocktakeHead) -> Conflict:
    return Conflict(f"Stocktake {head.id} is {head.status}.", code="stocktake_closed", status_now=head.status)


def _reason(stocktake_id: int) -> str:
    """The ledger reason of an approval's adjustments: the stocktake they come from."""
    return f"stocktake {stocktake_id}"


def _head_view(head: StocktakeHead) -> dict[str, Any]:
    return {
        "id": head.id,
        "location": {"id": head.location_id, "name": head.location_name, "timezone": head.location_timezone},
        "status": head.status,
        "started_by": head.started_by,
        "started_at": head.started_at,
        "approved_by": head.approved_by,
        "approved_at": head.approved_at,
        "cancelled_by": head.cancelled_by,
        "cancelled_at": head.cancelled_at,
    }


async def start(*, actor: Actor, location_id: int) -> dict[str, Any]:
    """Open a stocktake at a location; raises NotFound, Conflict(stocktake_open) when one is open there."""

    async def run() -> dict[str, Any]:
        async with db.transaction() as conn:
            await require(conn, "location", location_id)
            stocktake_id = await stocktakes.create(conn, location_id=location_id, user_id=actor.id, at=db.now())
            if stocktake_id is None:
                raise Conflict(
                    f"A stocktake is already open at location {location_id}; approve or cancel it first.",
                    code="stocktake_open",
                    stocktake_id=await stocktakes.open_at(conn, location_id),
                )
            await audit.record(
                conn,
                actor_id=actor.id,
                action="stocktake.start",
                entity="stocktake",
                entity_id=stocktake_id,
                details={"location_id": location_id},
            )
            head = await stocktakes.get(conn, stocktake_id)
            assert head is not None
        return _head_view(head)

    return await db.with_retries(run)


STATUSES = ("open", "approved", "cancelled")


async def list_stocktakes(
    *, location_id: int | None = None, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Stocktakes, newest first, with no expected figures (staff may see it); raises Unprocessable for a status."""
    if status is not None and status not in STATUSES:
        raise Unprocessable(f"status is one of {', '.join(STATUSES)}.", code="validation_error")
    async with db.connection() as conn:
        heads = await stocktakes.list_(conn, location_id=location_id, status=status, limit=limit)
    return [_head_view(head) for head in heads]


async def get(*, stocktake_id: int) -> dict[str, Any]:
    """A stocktake's head (where, status, who started it), with no figures: staff read it; raises NotFound."""
    async with db.connection() as conn:
        head = await stocktakes.get(conn, stocktake_id) if 1 <= stocktake_id <= 2_147_483_647 else None
    if head is None:
        raise NotFound.of("stocktake", stocktake_id)
    return _head_view(head)


async def lots_named(*, lot_number: str) -> list[NamedLot]:
    """The known lots a typed lot number names (any product), for a counter to choose from; no quantities."""
    number = " ".join(lot_number.split())
    if not number or len(number) > 64 or not number.isprintable():
        return []
    async with db.connection() as conn:
        return await stocktakes.lots_named(conn, lot_key(number))


async def count(
    *, actor: Actor, stocktake_id: int, quantity: Quantity, barcode: str | None = None, lot_id: int | None = None
) -> dict[str, Any]:
    """Add one count (a scanned code or a lot id) and answer blind: what was counted, never what was expected.

    The quantity is in the product's unit: whole for `each`, up to two decimal places for ml and U. A code whose
    lot the system does not know is recorded as an unknown lot (flagged for the manager, never created). A pack's
    GTIN multiplies the quantity by the pack's units.

    Raises Unprocessable (validation_error, quantity_not_whole, quantity_precision, barcode_invalid,
    barcode_ambiguous), NotFound (stocktake, lot,
    product_unknown), Conflict (stocktake_closed; lot_required / lot_ambiguous for a GTIN without a lot).
    """
    if (barcode is None) == (lot_id is None):
        raise Unprocessable("Give exactly one of 'barcode' or 'lot_id'.", code="validation_error")
    if not 0 < quantity <= MAX_QUANTITY:
        raise Unprocessable(f"Quantity must be above 0 and at most {MAX_QUANTITY}.", code="validation_error")
    if barcode is not None and not barcode.strip():
        raise Unprocessable("The barcode is empty.", code="barcode_invalid")
    return await db.with_retries(lambda: _count(actor, stocktake_id, quantity, barcode, lot_id))


async def _count(
    actor: Actor, stocktake_id: int, quantity: Quantity, barcode: str | None, lot_id: int | None
) -> dict[str, Any]:
    async with db.transaction() as conn:
        # FOR SHARE: many counts at once, while approval (FOR UPDATE) waits for them and they wait for it.
        head = await stocktakes.get(conn, stocktake_id, lock="share")
        if head is None:
            raise NotFound.of("stocktake", stocktake_id)
        if head.status != "open":
            raise _closed(head)
        write, shown = await _what_was_counted(conn, head, quantity, barcode, lot_id)
        now = db.now()
        count_id = await stocktakes.add_count(
            conn, stocktake_id=stocktake_id, location_id=head.location_id, count=write, user_id=actor.id, at=now
        )
        your_total = await stocktakes.counted_by_user(
            conn, stocktake_id, user_id=actor.id, lot_id=write.lot_id, lot_number=write.lot_number
        )
        await audit.record(
            conn,
            actor_id=actor.id,
            action="stocktake.count",
            entity="stocktake",
            entity_id=stocktake_id,
            details={
                "count_id": count_id,
                "lot_id": write.lot_id,
                "quantity": write.quantity,
                **({"unknown_lot": write.lot_number} if write.lot_id is None else {}),
            },
        )
    return {
        "id": count_id,
        "stocktake_id": stocktake_id,
        "counted_at": now,
        **shown,
        "quantity": write.quantity,
        "your_total": your_total,
    }


async def _what_was_counted(
    conn: db.Connection, head: StocktakeHead, quantity: Quantity, barcode: str | None, lot_id: int | None
) -> tuple[CountWrite, dict[str, Any]]:
    """The row to append and the blind answer's product and lot."""
    if lot_id is not None:
        lot = await lots.get(conn, lot_id)
        if lot is None:
            raise NotFound.of("lot", lot_id)
        quantity = await _in_unit(conn, lot["product_id"], quantity)
        gtin = await catalog.unit_gtin(conn, lot["product_id"])
        return CountWrite(product_id=lot["product_id"], quantity=quantity, lot_id=lot_id), await _shown(
            conn, lot["product_id"], gtin, lot_id, lot["lot_number"], lot["expiry_date"]
        )
    assert barcode is not None
    scanned = barcode.strip()[: barcodes.MAX_BARCODE_LENGTH]
    resolved = await barcodes.resolve(conn, barcode, today=clock.today_in(head.location_timezone))
    units = plain(await _in_unit(conn, resolved.product_id, quantity) * resolved.units)
    if units > MAX_QUANTITY:
        raise Unprocessable(f"Quantity must be 1 to {MAX_QUANTITY} units.", code="validation_error")
    if resolved.lot is not None:
        lot = resolved.lot
        write = CountWrite(product_id=resolved.product_id, quantity=units, lot_id=lot["id"], barcode=scanned)
        return write, await _shown(
            conn, resolved.product_id, resolved.gtin, lot["id"], lot["lot_number"], lot["expiry_date"]
        )
    reading = resolved.reading
    if reading.lot_number is None:
        # A plain GTIN counts only when exactly one lot of the product is on this shelf.
        inferred = infer_lot(await stocktakes.stocked_lots(conn, resolved.product_id, head.location_id))
        write = CountWrite(product_id=resolved.product_id, quantity=units, lot_id=inferred.id, barcode=scanned)
        return write, await _shown(
            conn, resolved.product_id, resolved.gtin, inferred.id, inferred.lot_number, inferred.expiry_date
        )
    number = clean_lot_number(reading.lot_number)
    write = CountWrite(
        product_id=resolved.product_id,
        quantity=units,
        lot_id=None,
        gtin=resolved.gtin,
        lot_number=number,
        expiry_date=reading.expiry,
        barcode=scanned,
    )
    return write, await _shown(conn, resolved.product_id, resolved.gtin, None, number, reading.expiry)


async def _in_unit(conn: db.Connection, product_id: int, quantity: Quantity) -> Quantity:
    """The count if it fits the product's unit (a whole number fits every unit: no look-up)."""
    if isinstance(quantity, int):
        return quantity
    return quantities.check(quantity, await catalog.product_unit(conn, product_id))


async def _shown(
    conn: db.Connection, product_id: int, gtin: str | None, lot_id: int | None, lot_number: str, expiry: Any
) -> dict[str, Any]:
    product = await catalog.get_product(conn, product_id)
    assert product is not None
    return {
        "product": {
            "id": product_id,
            "name": product["name"],
            "brand_id": product["brand_id"],
            "brand": product["brand_name"],
            "gtin": gtin,
            "unit": product["unit"],
        },
        "lot": {"id": lot_id, "lot_number": lot_number, "expiry_date": expiry},
        "unknown_lot": lot_id is None,
    }


async def review(*, stocktake_id: int) -> dict[str, Any]:
    """The manager's review: per lot expected, counted, variance; lots not counted; lots never held here; unknown
    lots. Raises NotFound."""
    async with db.connection() as conn:
        head = await stocktakes.get(conn, stocktake_id)
        if head is None:
            raise NotFound.of("stocktake", stocktake_id)
        counted = await stocktakes.counted_lots(conn, stocktake_id, head.location_id)
        missing = await stocktakes.not_counted(conn, stocktake_id, head.location_id)
        unknown = await stocktakes.unknown_lots(conn, stocktake_id)
    lines = []
    elsewhere = []
    for row in counted:
        figures = stocktakes.counted_lot(row)
        if not figures.known_here:  # never held here: flagged, not a variance approval would turn into stock
            elsewhere.append(
                {
                    "lot": _lot(row),
                    "product": product_ref(row),
                    "unit": row["unit"],
                    "counted": figures.counted,
                    "counts": int(row["counts"]),
                    "first_counted_at": row["first_at"],
                }
            )
            continue
        lines.append(
            {
                "lot": _lot(row),
                "product": product_ref(row),
                "unit": row["unit"],
                "counted": figures.counted,
                "expected": figures.expected,
                "variance": figures.variance,
                "on_hand": figures.on_hand,
                "movements_since_count": figures.movements_since_count,
                "on_hand_after_approval": figures.on_hand_after_approval,
                "counts": int(row["counts"]),
                "first_counted_at": row["first_at"],
                "last_counted_at": row["last_at"],
            }
        )
    return {
        **_head_view(head),
        "lines": lines,
        "not_counted": [
            {"lot": _lot(r), "product": product_ref(r), "unit": r["unit"], "on_hand": r["on_hand"]} for r in missing
        ],
        "not_at_location": elsewhere,
        "unknown_lots": [
            {
                "product": product_ref(r),
                "unit": r["unit"],
                "gtin": r["gtin"],
                "lot_number": r["lot_number"],
                "expiry_date": r["expiry_date"],
                "counted": plain(r["counted"]),
                "counts": int(r["counts"]),
                "first_counted_at": r["first_at"],
            }
            for r in unknown
        ],
        "lots_differing": sum(1 for line in lines if line["variance"] != 0),
    }


def _lot(row: Any) -> dict[str, Any]:
    return {
        "id": row["lot_id"],
        "lot_number": row["lot_number"],
        "expiry_date": row["expiry_date"],
        "status": row["status"],
        "not_received": row["not_received"],
    }


async def approve(*, actor: Actor, stocktake_id: int) -> dict[str, Any]:
    """Write one `adjust` ledger row per lot whose count differs, all in one transaction, and close the stocktake.

    Afterwards each counted lot's on-hand = counted + movements since its first count; a lot the location never
    held is not adjusted (listed as `not_at_location`). Raises NotFound,
    Conflict (stocktake_closed; insufficient_stock when a lot's counted figure plus the movements since would
    leave on-hand below zero: nothing is written, recount that lot).
    """

    async def run() -> dict[str, Any]:
        async with db.transaction() as conn:
            head = await stocktakes.get(conn, stocktake_id, lock="update")
            if head is None:
                raise NotFound.of("stocktake", stocktake_id)
            if head.status != "open":
                raise _closed(head)
            rows = await stocktakes.counted_lots(conn, stocktake_id, head.location_id)
            await stocktakes.lock_levels(conn, head.location_id, sorted(r["lot_id"] for r in rows))
            # Read again under the locks: on-hand cannot move between this read and the adjustments.
            rows = await stocktakes.counted_lots(conn, stocktake_id, head.location_id)
            reason = _reason(stocktake_id)
            skipped = [lot.lot_id for lot in not_here(stocktakes.counted_lot(r) for r in rows)]
            written = []
            for lot in adjustments(stocktakes.counted_lot(r) for r in rows):
                after = await stock.move(
                    conn,
                    lot_id=lot.lot_id,
                    location_id=head.location_id,
                    delta=lot.variance,
                    kind="adjust",
                    user_id=actor.id,
                    reason=reason,
                )
                if after is None:
                    raise Conflict(
                        f"Lot {lot.lot_id}: counted {lot.counted} with {lot.movements_since_count} moved since"
                        f" would leave {lot.on_hand_after_approval} on hand; recount it.",
                        code="insufficient_stock",
                        lot_id=lot.lot_id,
                        on_hand=lot.on_hand,
                        requested=-lot.variance,
                    )
                written.append({"lot_id": lot.lot_id, "before": lot.on_hand, "delta": lot.variance, "on_hand": after})
            now = db.now()
            await stocktakes.close(conn, stocktake_id, status="approved", user_id=actor.id, at=now)
            await alerting.reevaluate(conn, [(r["product_id"], head.location_id) for r in rows])
            await audit.record(
                conn,
                actor_id=actor.id,
                action="stocktake.approve",
                entity="stocktake",
                entity_id=stocktake_id,
                details={
                    "location_id": head.location_id,
                    "reason": reason,
                    "adjustments": written,
                    "not_at_location": skipped,
                },
            )
            closed = await stocktakes.get(conn, stocktake_id)
            assert closed is not None
        return {**_head_view(closed), "adjustments": written, "reason": reason, "not_at_location": skipped}

    return await db.with_retries(run)


async def cancel(*, actor: Actor, stocktake_id: int) -> dict[str, Any]:
    """Close an open stocktake without touching stock; raises NotFound, Conflict(stocktake_closed)."""

    async def run() -> dict[str, Any]:
        async with db.transaction() as conn:
            head = await stocktakes.get(conn, stocktake_id, lock="update")
            if head is None:
                raise NotFound.of("stocktake", stocktake_id)
            if head.status != "open":
                raise _closed(head)
            await stocktakes.close(conn, stocktake_id, status="cancelled", user_id=actor.id, at=db.now())
            await audit.record(
                conn,
                actor_id=actor.id,
                action="stocktake.cancel",
                entity="stocktake",
                entity_id=stocktake_id,
                details={"location_id": head.location_id},
            )
            closed = await stocktakes.get(conn, stocktake_id)
            assert closed is not None
        return _head_view(closed)

    return await db.with_retries(run)
