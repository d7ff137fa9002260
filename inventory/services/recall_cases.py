"""Recall cases: opening one (lots recalled, stock quarantined, clients listed), reading, listing, closing."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inventory import db
from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.domain.quantities import Quantity
from inventory.services import alerting, checks, stock
from inventory.services.recall_contacts import CONTACT_STATUSES, AffectedClient, affected_clients
from inventory.store import audit, holds
from inventory.store import recalls as recall_store
from inventory.store import trace as trace_store
from inventory.store.records import LotRef, Person, Place, ProductRef

MAX_LOTS = 500


@dataclass(frozen=True)
class Shelf:
    """What a location holds of a lot."""

    location: Place
    on_hand: Quantity


@dataclass(frozen=True)
class CaseLot:
    """A lot of a case: units held when recalled, on hand now and where, disposed since."""

    lot: LotRef
    product: ProductRef
    brand: str
    quarantined_units: Quantity
    on_hand: Quantity
    disposed_units: Quantity
    stock: list[Shelf]


@dataclass(frozen=True)
class RecallReport:
    """A case's counts: clients by contact status, units held, disposed and still on the shelves."""

    clients_affected: int
    clients_to_contact: int
    clients_contacted: int
    clients_acknowledged: int
    clients_unreachable: int
    units_quarantined: Quantity
    units_disposed: Quantity
    units_on_hand: Quantity


@dataclass(frozen=True)
class RecallCase:
    """A recall case with its lots, its clients and where contacting them stands, and its report."""

    id: int
    reason: str
    source: str | None
    reference: str | None
    status: str
    created_at: datetime
    created_by: Person
    closed_at: datetime | None
    closed_by: Person | None
    closing_note: str | None
    lots: list[CaseLot]
    clients: list[AffectedClient]
    report: RecallReport


@dataclass(frozen=True)
class RecallSummary:
    """A case in a list: its row and counts, no client data."""

    id: int
    reason: str
    source: str | None
    reference: str | None
    status: str
    created_at: datetime
    created_by: Person
    closed_at: datetime | None
    lot_count: int
    client_count: int
    clients_to_contact: int


async def create_recall(
    *, actor: Actor, lot_ids: list[int], reason: str, source: str | None = None, reference: str | None = None
) -> RecallCase:
    """Open a recall case: the lots become recalled, their stock leaves usable stock, affected clients are listed.

    All in one transaction that first fences off new lot locks, then locks the lots (FOR UPDATE, in id order):
    a scan holding its share lock commits first and its client is in the case; any later scan waits for the
    recall to commit, then sees `recalled` and is refused.
    A lot already recalled by an earlier case is named again in this one (a second notice is its own case).
    Raises Unprocessable (empty or too many lots, no reason), NotFound (unknown lot; nothing written).
    """
    if not lot_ids:
        raise Unprocessable("A recall names at least one lot.", code="validation_error")
    ids = sorted(set(lot_ids))
    if len(ids) > MAX_LOTS:
        raise Unprocessable(f"A recall names at most {MAX_LOTS} lots.", code="validation_error")
    clean_reason = checks.text(reason, "reason", required=True, limit=2000)
    assert clean_reason is not None
    clean_source = checks.text(source, "source", required=False, limit=200)
    clean_reference = checks.text(reference, "reference", required=False, limit=200)

    async def run() -> RecallCase:
        async with db.transaction() as conn:
            await holds.fence_scans(conn)
            locked = await holds.lock_lots(conn, ids)
            missing = sorted(set(ids) - {lot.id for lot in locked})
            if missing:
                raise NotFound(
                    f"Lot(s) {', '.join(map(str, missing))} do not exist.",
                    code="not_found",
                    entity="lot",
                    lot_ids=missing,
                )
            recall_id = await recall_store.create_recall(
                conn, reason=clean_reason, source=clean_source, reference=clean_reference, created_by=actor.id
            )
            await holds.set_lot_status(conn, ids, "recalled")
            await recall_store.add_recall_lots(conn, recall_id, ids)
            rows = await holds.write_status_rows(
                conn, lot_ids=ids, kind="quarantine", reason=clean_reason, user_id=actor.id, recall_id=recall_id
            )
            client_ids = await recall_store.add_affected_clients(conn, recall_id, ids)
            levels = await holds.held_stock(conn, ids)
            await alerting.reevaluate(conn, [(level.product_id, level.location_id) for level in levels])
            already = [lot.id for lot in locked if lot.status == "recalled"]
            events: list[tuple[int | None, str, str, int | None, dict[str, Any]]] = [
                (
                    actor.id,
                    "recall.create",
                    "recall",
                    recall_id,
                    {
                        "lot_ids": ids,
                        "already_recalled": already,
                        "reason": clean_reason,
                        "source": clean_source,
                        "reference": clean_reference,
                        "client_ids": client_ids,
                        "quarantine_rows": rows,
                    },
                ),
            ]
            events += [
                (actor.id, "lot.recall", "lot", lot.id, {"recall_id": recall_id, "status_before": lot.status})
                for lot in locked
            ]
            await audit.record_many(conn, events)
            return await _case(conn, recall_id)

    return await db.with_retries(run)


# ------------------------------------------------------------------ reading a case


async def _case(conn: db.Connection, recall_id: int) -> RecallCase:
    recall = await recall_store.get_recall(conn, recall_id)
    if recall is None:
        raise NotFound.of("recall", recall_id)
    recalled = await recall_store.recall_lots(conn, recall_id)
    shelves: dict[int, list[Shelf]] = {entry.lot.id: [] for entry in recalled}
    for level in await trace_store.stock(conn, list(shelves)):
        shelves[level.lot_id].append(Shelf(level.location, level.on_hand))
    lots = [
        CaseLot(
            lot=entry.lot,
            product=entry.product,
            brand=entry.product.brand,
            quarantined_units=entry.quarantined_units,
            on_hand=entry.on_hand,
            disposed_units=entry.disposed_units,
            stock=shelves[entry.lot.id],
        )
        for entry in recalled
    ]
    clients = await affected_clients(conn, recall_id)
    by_status = {status: 0 for status in CONTACT_STATUSES}
    for client in clients:
        by_status[client.contact_status] += 1
    report = RecallReport(
        clients_affected=len(clients),
        clients_to_contact=by_status["to_contact"],
        clients_contacted=by_status["contacted"] + by_status["acknowledged"],
        clients_acknowledged=by_status["acknowledged"],
        clients_unreachable=by_status["unreachable"],
        units_quarantined=sum(lot.quarantined_units for lot in lots),
        units_disposed=sum(lot.disposed_units for lot in lots),
        units_on_hand=sum(lot.on_hand for lot in lots),
    )
    return RecallCase(
        id=recall.id,
        reason=recall.reason,
        source=recall.source,
        reference=recall.reference,
        status=recall.status,
        created_at=recall.created_at,
        created_by=recall.created_by,
        closed_at=recall.closed_at,
        closed_by=recall.closed_by,
        closing_note=recall.closing_note,
        lots=lots,
        clients=clients,
        report=report,
    )


async def get_recall(*, actor: Actor, recall_id: int) -> RecallCase:
    """A case with its lots, clients and their contact status, and the report counts; the read is audited."""
    async with db.transaction() as conn:
        case = await _case(conn, recall_id)
        # An audit record, not state: who saw which clients of the case (the contract audits every look-up).
        await audit.record(
            conn,
            actor_id=actor.id,
            action="recall.view",
            entity="recall",
            entity_id=recall_id,
            details={"client_ids": [c.client.id for c in case.clients]},
        )
    return case


async def list_recalls(
    *, actor: Actor, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[RecallSummary]:
    """Recall cases, newest first, with counts (no client data)."""
    async with db.connection() as conn:
        rows = await recall_store.list_recalls(conn, status=status, limit=limit, offset=offset)
    return [
        RecallSummary(
            id=row.recall.id,
            reason=row.recall.reason,
            source=row.recall.source,
            reference=row.recall.reference,
            status=row.recall.status,
            created_at=row.recall.created_at,
            created_by=row.recall.created_by,
            closed_at=row.recall.closed_at,
            lot_count=row.lot_count,
            client_count=row.client_count,
            clients_to_contact=row.to_contact_count,
        )
        for row in rows
    ]


async def close_recall(*, actor: Actor, recall_id: int, note: str | None = None) -> RecallCase:
    """Close a case, recording who and when; the lots stay recalled. Raises NotFound, Conflict(recall_closed)."""
    clean_note = checks.text(note, "note", required=False, limit=2000)

    async def run() -> RecallCase:
        async with db.transaction() as conn:
            recall = await recall_store.get_recall(conn, recall_id, for_update=True)
            if recall is None:
                raise NotFound.of("recall", recall_id)
            if recall.status == "closed":
                assert recall.closed_at is not None
                raise Conflict(
                    f"Recall {recall_id} is already closed.",
                    code="recall_closed",
                    closed_at=recall.closed_at.isoformat(),
                )
            await recall_store.close_recall(conn, recall_id, user_id=actor.id, note=clean_note)
            case = await _case(conn, recall_id)
            await audit.record(
                conn,
                actor_id=actor.id,
                action="recall.close",
                entity="recall",
                entity_id=recall_id,
                details={"note": clean_note, "report": dataclasses.asdict(case.report)},
            )
        return case

    return await db.with_retries(run)


@dataclass(frozen=True)
class CaseOfLot:
    """A recall case naming a lot: its id and whether it is still open."""

    recall_id: int
    status: str


async def cases_naming(*, lot_ids: list[int]) -> dict[int, list[CaseOfLot]]:
    """The cases naming each of these lots, newest first (lots named by none are absent)."""
    found: dict[int, list[CaseOfLot]] = {}
    if not lot_ids:
        return found
    async with db.connection() as conn:
        for row in await recall_store.cases_of_lots(conn, lot_ids):
            found.setdefault(row.lot_id, []).append(CaseOfLot(recall_id=row.recall_id, status=row.status))
    return found


async def dispose_units(
    *, actor: Actor, recall_id: int, lot_id: int, location_id: int, quantity: int, reason: str
) -> dict[str, Any]:
    """Dispose of units of one of an open case's lots at a location (stock.dispose), never once the case is closed.

    The case stays locked while the disposal is written, so closing it waits and its report counts this disposal.
    Raises NotFound (case, or lot not in it), Conflict (recall_closed, insufficient_stock), Unprocessable.
    """

    async def run() -> dict[str, Any]:
        async with db.transaction() as conn:
            recall = await recall_store.get_recall(conn, recall_id, for_update=True)
            if recall is None:
                raise NotFound.of("recall", recall_id)
            if recall.status == "closed":
                raise Conflict(f"Recall {recall_id} is closed.", code="recall_closed")
            if not await recall_store.names_lot(conn, recall_id, lot_id):
                raise NotFound(f"Lot {lot_id} is not named by recall {recall_id}.", code="not_found", entity="lot")
            return await stock.dispose(
                actor=actor, lot_id=lot_id, location_id=location_id, quantity=quantity, reason=reason
            )

    return await db.with_retries(run)
