"""Stock levels and the manager's stock changes: transfers, adjustments, disposals."""

from __future__ import annotations

import uuid
from typing import Any

from inventory import db
from inventory.domain import quantities
from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.domain.quantities import Quantity
from inventory.services import alerting
from inventory.services.checks import require
from inventory.services.views import location_view, lot_view
from inventory.store import audit, catalog, lots, receipts, stock

MAX_QUANTITY = 100_000


def _reason(reason: str) -> str:
    cleaned = reason.strip()
    if not cleaned:
        raise Unprocessable("A reason is required.", code="validation_error")
    return cleaned


async def _lot_and_locations(conn: db.Connection, lot_id: int, *location_ids: int) -> dict[str, Any]:
    lot = await lots.get(conn, lot_id)
    if lot is None:
        raise NotFound.of("lot", lot_id)
    for location_id in location_ids:
        await require(conn, "location", location_id)
    return lot


async def _fits_unit(conn: db.Connection, lot: dict[str, Any], value: Quantity) -> None:
    """Refuse a decimal that the lot's product's unit does not take (a whole number fits every unit: no look-up)."""
    if isinstance(value, int):
        return
    quantities.check(value, await catalog.product_unit(conn, lot["product_id"]))


def _insufficient(lot: dict[str, Any], location_id: int, available: Quantity | None, wanted: Quantity) -> Conflict:
    return Conflict(
        f"Only {available or 0} of lot {lot['lot_number']} on hand at location {location_id}; {wanted} requested.",
        code="insufficient_stock",
        on_hand=available or 0,
        requested=wanted,
    )


async def list_stock(
    *,
    location_id: int | None = None,
    product_id: int | None = None,
    lot_id: int | None = None,
    include_empty: bool = False,
) -> list[dict[str, Any]]:
    """On-hand per lot and location."""
    async with db.connection() as conn:
        rows = await stock.list_levels(
            conn, location_id=location_id, product_id=product_id, lot_id=lot_id, include_empty=include_empty
        )
    return [
        {
            "lot": lot_view(row),
            "product": {
                "id": row["product_id"],
                "name": row["product_name"],
                "brand": row["brand_name"],
                "brand_id": row["brand_id"],
                "gtin": row["gtin"],
                "unit": row["unit"],
            },
            "location": location_view(row),
            "on_hand": row["on_hand"],
        }
        for row in rows
    ]


async def transfer(
    *, actor: Actor, lot_id: int, from_location_id: int, to_location_id: int, quantity: int, reason: str | None
) -> dict[str, Any]:
    """Move units of a lot between locations; raises Conflict(insufficient_stock), NotFound, Unprocessable."""
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Unprocessable("Quantity must be a positive whole number.", code="validation_error")
    if from_location_id == to_location_id:
        raise Unprocessable("A transfer needs two different locations.", code="validation_error")

    async def run() -> dict[str, Any]:
        async with db.transaction() as conn:
            lot = await _lot_and_locations(conn, lot_id, from_location_id, to_location_id)
            # Transfers count whole containers; stock counts the product's unit (2 vials of 2.5 ml: 5 ml).
            size = (await receipts.container_sizes(conn, [lot["product_id"]])).get(lot["product_id"], 1)
            moved = quantities.containers(quantity, size)
            # Lock both levels in location order so opposite transfers cannot deadlock.
            await stock.lock_levels(conn, lot_id, [from_location_id, to_location_id])
            group = str(uuid.uuid4())
            left = await stock.move(
                conn,
                lot_id=lot_id,
                location_id=from_location_id,
                delta=-moved,
                kind="transfer",
                user_id=actor.id,
                reason=reason,
                transfer_group=group,
            )
            if left is None:
                raise _insufficient(lot, from_location_id, await stock.on_hand(conn, lot_id, from_location_id), moved)
            arrived = await stock.move(
                conn,
                lot_id=lot_id,
                location_id=to_location_id,
                delta=moved,
                kind="transfer",
                user_id=actor.id,
                reason=reason,
                transfer_group=group,
            )
            await alerting.reevaluate(
                conn, [(lot["product_id"], from_location_id), (lot["product_id"], to_location_id)]
            )
            result = {
                "transfer_id": group,
                "lot": lot_view(lot),
                "from_location_id": from_location_id,
                "to_location_id": to_location_id,
                "quantity": moved,
                "from_on_hand": left,
                "to_on_hand": arrived,
            }
            await audit.record(
                conn,
                actor_id=actor.id,
                action="stock.transfer",
                entity="lot",
                entity_id=lot_id,
                details={"from": from_location_id, "to": to_location_id, "quantity": moved, "group": group},
            )
        return result

    return await db.with_retries(run)


async def adjust(
    *, actor: Actor, lot_id: int, location_id: int, counted: Quantity | None, delta: Quantity | None, reason: str
) -> dict[str, Any]:
    """Correct on-hand to a count, or by a delta; never below zero. Raises Conflict, NotFound, Unprocessable."""
    reason = _reason(reason)
    if (counted is None) == (delta is None):
        raise Unprocessable("Give exactly one of 'counted' or 'delta'.", code="validation_error")
    if counted is not None and not 0 <= counted <= MAX_QUANTITY:
        raise Unprocessable("A count is a number from 0.", code="validation_error")
    if delta is not None and (delta == 0 or not -MAX_QUANTITY <= delta <= MAX_QUANTITY):
        raise Unprocessable("A delta is a non-zero number.", code="validation_error")

    async def run() -> dict[str, Any]:
        async with db.transaction() as conn:
            lot = await _lot_and_locations(conn, lot_id, location_id)
            for value in (counted, delta):
                if value is not None:
                    await _fits_unit(conn, lot, value)
            # The row lock makes the count-to-delta step safe against concurrent changes.
            current = await stock.on_hand(conn, lot_id, location_id, for_update=True) or 0
            change = (counted - current) if counted is not None else delta
            assert change is not None
            after: Quantity | None = current
            if change != 0:
                after = await stock.move(
                    conn,
                    lot_id=lot_id,
                    location_id=location_id,
                    delta=change,
                    kind="adjust",
                    user_id=actor.id,
                    reason=reason,
                )
                if after is None:
                    raise _insufficient(lot, location_id, current, -change)
                await alerting.reevaluate(conn, [(lot["product_id"], location_id)])
            await audit.record(
                conn,
                actor_id=actor.id,
                action="stock.adjust",
                entity="lot",
                entity_id=lot_id,
                details={
                    "location_id": location_id,
                    "before": current,
                    "delta": change,
                    "counted": counted,
                    "reason": reason,
                },
            )
        return {
            "lot": lot_view(lot),
            "location_id": location_id,
            "before": current,
            "delta": change,
            "on_hand": after,
            "reason": reason,
        }

    return await db.with_retries(run)


async def dispose(*, actor: Actor, lot_id: int, location_id: int, quantity: Quantity, reason: str) -> dict[str, Any]:
    """Throw away units (broken, expired, recalled) in the product's unit; never below zero."""
    reason = _reason(reason)
    if not 0 < quantity <= MAX_QUANTITY:
        raise Unprocessable("Quantity must be a positive number.", code="validation_error")

    async def run() -> dict[str, Any]:
        async with db.transaction() as conn:
            lot = await _lot_and_locations(conn, lot_id, location_id)
            await _fits_unit(conn, lot, quantity)
            after = await stock.move(
                conn,
                lot_id=lot_id,
                location_id=location_id,
                delta=-quantity,
                kind="dispose",
                user_id=actor.id,
                reason=reason,
            )
            if after is None:
                raise _insufficient(lot, location_id, await stock.on_hand(conn, lot_id, location_id), quantity)
            await alerting.reevaluate(conn, [(lot["product_id"], location_id)])
            await audit.record(
                conn,
                actor_id=actor.id,
                action="stock.dispose",
                entity="lot",
                entity_id=lot_id,
                details={"location_id": location_id, "quantity": quantity, "reason": reason},
            )
        return {
            "lot": lot_view(lot),
            "location_id": location_id,
            "quantity": quantity,
            "on_hand": after,
            "reason": reason,
        }

    return await db.with_retries(run)


async def get_lot(lot_id: int) -> dict[str, Any]:
    """A lot with its stock per location; raises NotFound."""
    async with db.connection() as conn:
        lot = await lots.get(conn, lot_id)
        if lot is None:
            raise NotFound.of("lot", lot_id)
        levels = await stock.levels_of_lots(conn, [lot_id])
    return {**lot_view(lot), "stock": [{"location_id": r["location_id"], "on_hand": r["on_hand"]} for r in levels]}


async def list_lots(
    *, product_id: int | None = None, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Lots filtered by product and status."""
    async with db.connection() as conn:
        rows = await lots.list_lots(conn, product_id=product_id, status=status, limit=limit, offset=offset)
    return [lot_view(r) for r in rows]


async def movements(*, lot_id: int | None, location_id: int | None, limit: int = 200) -> list[dict[str, Any]]:
    """Ledger rows, newest first."""
    async with db.connection() as conn:
        return await stock.movements(conn, lot_id=lot_id, location_id=location_id, limit=limit)
