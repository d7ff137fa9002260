"""Returns to a supplier: taking units of a lot off a location with a `return` ledger row, a reason and a note.

The rules are in `domain.supplier_returns`. A return and its ledger row are written in one transaction, with the
product's reorder alert at the location re-evaluated and an audit event; nothing is written when it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from inventory import db
from inventory.domain import supplier_returns as rules
from inventory.domain.errors import NotFound
from inventory.domain.models import Actor
from inventory.domain.quantities import Quantity
from inventory.services import alerting
from inventory.services.checks import require
from inventory.store import audit, lots, stock
from inventory.store import purchasing as suppliers
from inventory.store import supplier_returns as store
from inventory.store.supplier_returns import ReturnRow

__all__ = ["Created", "ReturnRow"]

MAX_ID = 2_147_483_647


@dataclass(frozen=True)
class Created:
    """A return just made, and what is left of the lot at the location."""

    record: ReturnRow
    on_hand: Quantity


async def create(
    *,
    actor: Actor,
    lot_id: int,
    location_id: int,
    quantity: int,
    reason: str,
    supplier_id: int | None = None,
    note: str | None = None,
) -> Created:
    """Return units of a lot at a location to a supplier.

    Raises:
        Unprocessable: a reason not in REASONS, a quantity out of range, a bad note.
        NotFound: the lot, location or supplier.
        Conflict: insufficient_stock when more than is on hand at the location.
    """
    rules.check_reason(reason)
    rules.check_quantity(quantity)
    clean = rules.clean_note(note)

    async def run() -> Created:
        async with db.transaction() as conn:
            lot = await lots.get(conn, lot_id) if 1 <= lot_id <= MAX_ID else None
            if lot is None:
                raise NotFound.of("lot", lot_id)
            await require(conn, "location", location_id)
            if supplier_id is not None and not (
                1 <= supplier_id <= MAX_ID and await suppliers.supplier_exists(conn, supplier_id)
            ):
                raise NotFound.of("supplier", supplier_id)
            return_id = await store.next_id(conn)
            number = rules.document_number(return_id)
            taken = await stock.take(
                conn,
                lot_id=lot_id,
                location_id=location_id,
                quantity=quantity,
                kind="return",
                user_id=actor.id,
                reason=rules.ledger_reason(number, reason, clean),
            )
            if taken is None:  # fewer than `quantity` on hand there (or never stocked there)
                on_hand = await stock.on_hand(conn, lot_id, location_id) or 0
                raise rules.insufficient(
                    lot_number=lot["lot_number"], location_id=location_id, on_hand=on_hand, quantity=quantity
                )
            on_hand, movement_id = taken
            now = db.now()
            await store.insert(
                conn,
                return_id=return_id,
                lot_id=lot_id,
                location_id=location_id,
                supplier_id=supplier_id,
                quantity=quantity,
                reason=reason,
                note=clean,
                movement_id=movement_id,
                user_id=actor.id,
                at=now,
            )
            await alerting.reevaluate(conn, [(lot["product_id"], location_id)])
            await audit.record(
                conn,
                actor_id=actor.id,
                action="supplier_return.create",
                entity="supplier_return",
                entity_id=return_id,
                details={
                    "number": number,
                    "lot_id": lot_id,
                    "location_id": location_id,
                    "supplier_id": supplier_id,
                    "quantity": quantity,
                    "reason": reason,
                    "note": clean,
                    "lot_status": lot["status"],
                    "movement_id": movement_id,
                },
            )
            record = await store.get(conn, return_id)
        assert record is not None
        return Created(record=record, on_hand=on_hand)

    return await db.with_retries(run)


async def get(return_id: int) -> ReturnRow:
    """One return; raises NotFound."""
    found = None
    if 1 <= return_id <= MAX_ID:
        async with db.connection() as conn:
            found = await store.get(conn, return_id)
    if found is None:
        raise NotFound.of("supplier_return", return_id)
    return found


async def list_returns(
    *,
    lot_id: int | None = None,
    location_id: int | None = None,
    supplier_id: int | None = None,
    reason: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ReturnRow]:
    """Returns, newest first; raises Unprocessable for an unknown reason."""
    if reason is not None:
        rules.check_reason(reason)
    async with db.connection() as conn:
        return await store.list_returns(
            conn,
            lot_id=lot_id,
            location_id=location_id,
            supplier_id=supplier_id,
            reason=reason,
            limit=limit,
            offset=offset,
        )
