"""The clients of a recall case: who received what, contacting them, and the contact list as CSV."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from inventory import db
from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.domain.quantities import Quantity
from inventory.domain.spreadsheet import csv_file
from inventory.services import checks
from inventory.store import audit
from inventory.store import recalls as recall_store
from inventory.store.recalls import CaseUse, ContactRow
from inventory.store.records import Person

CONTACT_STATUSES = ("to_contact", "contacted", "acknowledged", "unreachable")
# A client marked unreachable who calls back later can still be recorded as contacted.
TRANSITIONS: dict[str, frozenset[str]] = {
    "to_contact": frozenset({"contacted", "unreachable"}),
    "contacted": frozenset({"acknowledged", "unreachable"}),
    "unreachable": frozenset({"contacted"}),
    "acknowledged": frozenset(),
}
CSV_COLUMNS = (
    "recall_id",
    "client_id",
    "full_name",
    "email",
    "phone",
    "contact_status",
    "session_dates",
    "lots",
    "quantity",
)


@dataclass(frozen=True)
class ClientContact:
    """How to reach a client of a case."""

    id: int
    full_name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class AffectedClient:
    """A client of a case: contacts, where contacting them stands, and every use of the case's lots on them."""

    client: ClientContact
    contact_status: str
    note: str | None
    updated_at: datetime | None
    updated_by: Person | None
    quantity: Quantity
    usages: list[CaseUse]


async def affected_clients(conn: db.Connection, recall_id: int) -> list[AffectedClient]:
    """The clients of a case with their contact status and every use of the case's lots they received."""
    uses: dict[int, list[CaseUse]] = defaultdict(list)
    for use in await recall_store.recall_client_usages(conn, recall_id):
        uses[use.client_id].append(use)
    return [
        AffectedClient(
            client=ClientContact(row.client_id, row.full_name, row.email, row.phone),
            contact_status=row.contact_status,
            note=row.note,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
            quantity=sum(use.quantity for use in uses[row.client_id]),
            usages=uses[row.client_id],
        )
        for row in await recall_store.recall_clients(conn, recall_id)
    ]


async def _open_case_client(conn: db.Connection, recall_id: int, client_id: int) -> ContactRow:
    """A client's row in an open case, locked with its case (NotFound, Conflict recall_closed)."""
    recall = await recall_store.get_recall(conn, recall_id, for_update=True)
    if recall is None:
        raise NotFound.of("recall", recall_id)
    if recall.status == "closed":
        raise Conflict(f"Recall {recall_id} is closed.", code="recall_closed")
    row = await recall_store.get_recall_client(conn, recall_id, client_id, for_update=True)
    if row is None:
        raise NotFound(
            f"Client {client_id} is not affected by recall {recall_id}.", code="not_found", entity="recall_client"
        )
    return row


async def set_client_status(
    *, actor: Actor, recall_id: int, client_id: int, contact_status: str, note: str | None = None
) -> AffectedClient:
    """Record contact with a client: to_contact → contacted → acknowledged | unreachable (and back to contacted).

    Raises NotFound (case, or client not in it), Conflict (invalid_transition, recall_closed), Unprocessable.
    """
    if contact_status not in CONTACT_STATUSES:
        raise Unprocessable(f"contact_status must be one of {', '.join(CONTACT_STATUSES)}.", code="validation_error")
    clean_note = checks.text(note, "note", required=False, limit=2000)

    async def run() -> AffectedClient:
        async with db.transaction() as conn:
            row = await _open_case_client(conn, recall_id, client_id)
            before = row.contact_status
            if contact_status not in TRANSITIONS[before]:
                allowed = sorted(TRANSITIONS[before])
                raise Conflict(
                    f"A client {before} cannot become {contact_status}.",
                    code="invalid_transition",
                    current=before,
                    allowed=allowed,
                )
            await recall_store.set_contact_status(
                conn, row.id, status=contact_status, note=clean_note, user_id=actor.id
            )
            await audit.record(
                conn,
                actor_id=actor.id,
                action="recall.client_status",
                entity="recall",
                entity_id=recall_id,
                details={"client_id": client_id, "from": before, "to": contact_status, "note": clean_note},
            )
            entries = [c for c in await affected_clients(conn, recall_id) if c.client.id == client_id]
        return entries[0]

    return await db.with_retries(run)


async def set_client_note(*, actor: Actor, recall_id: int, client_id: int, note: str) -> AffectedClient:
    """Write the note on a client of a case without changing the contact status (what was said, when to call back).

    Raises NotFound (case, or client not in it), Conflict (recall_closed), Unprocessable (empty or too long).
    """
    clean_note = checks.text(note, "note", required=True, limit=2000)
    assert clean_note is not None

    async def run() -> AffectedClient:
        async with db.transaction() as conn:
            row = await _open_case_client(conn, recall_id, client_id)
            await recall_store.set_contact_note(conn, row.id, note=clean_note, user_id=actor.id)
            await audit.record(
                conn,
                actor_id=actor.id,
                action="recall.client_note",
                entity="recall",
                entity_id=recall_id,
                details={"client_id": client_id, "note": clean_note},
            )
            entries = [c for c in await affected_clients(conn, recall_id) if c.client.id == client_id]
        return entries[0]

    return await db.with_retries(run)


def _local_date(use: CaseUse) -> date:
    return use.used_at.astimezone(ZoneInfo(use.location.timezone)).date()


async def clients_csv(*, actor: Actor, recall_id: int) -> bytes:
    """One CSV row per affected client: contacts, session dates, lots and quantities (a file with its BOM); audited."""
    async with db.transaction() as conn:
        if await recall_store.get_recall(conn, recall_id) is None:
            raise NotFound.of("recall", recall_id)
        clients = await affected_clients(conn, recall_id)
        # An audit record, not state: who exported which clients' contact details.
        await audit.record(
            conn,
            actor_id=actor.id,
            action="recall.export",
            entity="recall",
            entity_id=recall_id,
            details={"client_ids": [c.client.id for c in clients]},
        )
    rows: list[list[object]] = []
    for entry in clients:
        per_lot: dict[tuple[str, str], Quantity] = {}
        for use in entry.usages:
            per_lot[(use.lot_number, use.product)] = per_lot.get((use.lot_number, use.product), 0) + use.quantity
        # Session dates as the clinic's calendar had them: the day at the location where the product was used.
        dates = sorted({_local_date(use).isoformat() for use in entry.usages})
        client = entry.client
        rows.append(
            [
                recall_id,
                client.id,
                client.full_name,
                client.email,
                client.phone,
                entry.contact_status,
                "; ".join(dates),
                "; ".join(f"{lot} ({product}) x{qty}" for (lot, product), qty in per_lot.items()),
                entry.quantity,
            ]
        )
    return csv_file(CSV_COLUMNS, rows)
