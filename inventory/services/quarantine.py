"""Manual quarantine of a lot: holding it out of usable stock, and releasing it, each with a reason."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from inventory import db
from inventory.domain.errors import Conflict, NotFound
from inventory.domain.models import Actor
from inventory.domain.quantities import Quantity
from inventory.services import alerting, checks
from inventory.store import audit, holds
from inventory.store.records import LotRef


@dataclass(frozen=True)
class LocationStock:
    """What a location holds of the lot."""

    location_id: int
    on_hand: Quantity


@dataclass(frozen=True)
class Hold:
    """A lot after its quarantine or release: its new status, the reason, and where its stock is."""

    lot: LotRef
    reason: str
    stock: list[LocationStock]


async def _change_hold(
    *, actor: Actor, lot_id: int, reason: str, to_status: str, audit_details: dict[str, Any] | None = None
) -> Hold:
    clean_reason = checks.text(reason, "reason", required=True, limit=2000)
    assert clean_reason is not None
    kind, action = ("quarantine", "lot.quarantine") if to_status == "quarantined" else ("release", "lot.release")

    async def run() -> Hold:
        async with db.transaction() as conn:
            await holds.fence_scans(conn)
            locked = await holds.lock_lots(conn, [lot_id])
            if not locked:
                raise NotFound.of("lot", lot_id)
            lot = locked[0]
            if lot.status == "recalled":
                raise Conflict(
                    f"Lot {lot.lot_number} is recalled; a recall is never lifted.",
                    code="lot_recalled",
                    lot_id=lot_id,
                )
            if to_status == "quarantined" and lot.status == "quarantined":
                raise Conflict(f"Lot {lot.lot_number} is already quarantined.", code="lot_quarantined", lot_id=lot_id)
            if to_status == "active" and lot.status != "quarantined":
                raise Conflict(f"Lot {lot.lot_number} is not quarantined.", code="lot_not_quarantined", lot_id=lot_id)
            await holds.set_lot_status(conn, [lot_id], to_status)
            rows = await holds.write_status_rows(
                conn, lot_ids=[lot_id], kind=kind, reason=clean_reason, user_id=actor.id, recall_id=None
            )
            levels = await holds.held_stock(conn, [lot_id])
            await alerting.reevaluate(conn, [(level.product_id, level.location_id) for level in levels])
            await audit.record(
                conn,
                actor_id=actor.id,
                action=action,
                entity="lot",
                entity_id=lot_id,
                details={
                    "reason": clean_reason,
                    "status_before": lot.status,
                    "ledger_rows": rows,
                    **(audit_details or {}),
                },
            )
        stock = [LocationStock(level.location_id, level.on_hand) for level in levels if level.on_hand != 0]
        return Hold(replace(lot, status=to_status), clean_reason, stock)

    return await db.with_retries(run)


async def quarantine_lot(
    *, actor: Actor, lot_id: int, reason: str, audit_details: dict[str, Any] | None = None
) -> Hold:
    """Hold a lot out of usable stock (scans refused), with a reason; raises Conflict(lot_recalled, lot_quarantined).

    `audit_details` adds to the audit event's details (a vigilance signal names itself there).
    """
    return await _change_hold(
        actor=actor, lot_id=lot_id, reason=reason, to_status="quarantined", audit_details=audit_details
    )


async def release_lot(*, actor: Actor, lot_id: int, reason: str) -> Hold:
    """Lift a quarantine, with a reason; a recalled lot is never released (Conflict lot_recalled)."""
    return await _change_hold(actor=actor, lot_id=lot_id, reason=reason, to_status="active")
