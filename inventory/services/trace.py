"""Traceability look-ups for recalls and adverse reactions: lot number to clients, client to lots; all audited.

The role to call these (manager) is checked by the API's guards; the audit record is the only write.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from inventory import db
from inventory.domain.errors import NotFound
from inventory.domain.gtin import normalize_gtin
from inventory.domain.lots import clean_lot_number, lot_key, similar_key
from inventory.domain.models import Actor
from inventory.domain.quantities import Quantity
from inventory.services.clinical import sees_contacts
from inventory.store import audit
from inventory.store import trace as store
from inventory.store.records import LotRef, Person, Place
from inventory.store.trace import Client, Contact, FoundLot, Use

# Exact matches are never capped (at most one per product). Look-alikes are: a short number such as "1" could
# resemble thousands of lots; past this many the answer says so and the number should be typed more fully.
MAX_SIMILAR = 100


@dataclass(frozen=True)
class TracedProduct:
    """A product as traceability shows it: the brand and unit GTIN, and whether it is an implant."""

    id: int
    name: str
    brand_id: int
    brand: str
    gtin: str | None
    implant: bool


@dataclass(frozen=True)
class Receipt:
    """A receipt line of a traced lot."""

    receipt_id: int
    received_at: datetime
    supplier: str | None
    reference: str | None
    quantity: Quantity
    gtin: str | None
    location: Place
    received_by: Person


@dataclass(frozen=True)
class Shelf:
    """What is left of a traced lot at a location."""

    location: Place
    on_hand: Quantity


@dataclass(frozen=True)
class TracedUse:
    """One use of a traced lot on a client; voided uses are listed and marked."""

    usage_id: int
    used_at: datetime
    voided: bool
    voided_at: datetime | None
    void_reason: str | None
    session_id: int
    client: Contact
    location: Place
    user: Person
    quantity: Quantity
    udi: str | None


@dataclass(frozen=True)
class Match:
    """A lot with everything known about where it came from and where it went."""

    lot: LotRef
    product: TracedProduct
    brand: str
    received: list[Receipt]
    stock: list[Shelf]
    usages: list[TracedUse]


@dataclass(frozen=True)
class TraceQuery:
    """How the look-up read its input."""

    lot_number: str
    lot_key: str
    similar_key: str | None
    gtin: str | None


@dataclass(frozen=True)
class TraceResult:
    """Exact matches (ignoring case and surrounding white space) and look-alikes (separators, leading zeros)."""

    query: TraceQuery
    matches: list[Match]
    similar: list[Match]
    similar_truncated: bool


@dataclass(frozen=True)
class HistoryUse:
    """One use on the client."""

    usage_id: int
    used_at: datetime
    voided: bool
    voided_at: datetime | None
    void_reason: str | None
    session_id: int
    location: Place
    user: Person
    quantity: Quantity
    udi: str | None


@dataclass(frozen=True)
class HistoryLot:
    """A lot used on the client, with its uses, what they came to (voids left out) and the recalls naming it."""

    lot: LotRef
    product: TracedProduct
    brand: str
    recall_ids: list[int]
    quantity: Quantity
    usages: list[HistoryUse]


@dataclass(frozen=True)
class History:
    """Every lot used on a client."""

    client: Client
    lots: list[HistoryLot]


def _product(found: FoundLot | store.ClientUse) -> TracedProduct:
    p = found.product
    return TracedProduct(p.id, p.name, p.brand_id, p.brand, p.gtin, found.implant)


def _history_use(use: Use) -> HistoryUse:
    return HistoryUse(
        use.usage_id,
        use.used_at,
        use.voided_at is not None,
        use.voided_at,
        use.void_reason,
        use.session_id,
        use.location,
        use.user,
        use.quantity,
        use.udi,
    )


def _query(lot_number: str, gtin: str | None) -> tuple[str, str, str | None]:
    printed = clean_lot_number(lot_number)  # Unprocessable(lot_number_invalid)
    normal_gtin = normalize_gtin(gtin) if gtin is not None and gtin.strip() else None
    return printed, lot_key(printed), normal_gtin


async def trace_lot(*, actor: Actor, lot_number: str, gtin: str | None = None) -> TraceResult:
    """Every lot with this number (and its loose look-alikes): receipts, stock, every usage with its client.

    Raises Unprocessable (lot_number_invalid, gtin_invalid), NotFound (product_unknown).
    The look-up and the clients it showed are written to the audit log in the same transaction.
    """
    printed, key, normal_gtin = _query(lot_number, gtin)
    loose = similar_key(printed) or None
    async with db.transaction() as conn:
        if normal_gtin is not None and not await store.gtin_known(conn, normal_gtin):
            raise NotFound(f"No product has GTIN {normal_gtin}.", code="product_unknown", gtin=normal_gtin)
        found = await store.find_lots(conn, key=key, similar=loose, gtin=normal_gtin, similar_limit=MAX_SIMILAR + 1)
        truncated = any(not row.exact and row.n > MAX_SIMILAR for row in found)
        found = [row for row in found if row.exact or row.n <= MAX_SIMILAR]
        ids = [row.lot.id for row in found]
        received: dict[int, list[Receipt]] = defaultdict(list)
        shelves: dict[int, list[Shelf]] = defaultdict(list)
        uses: dict[int, list[TracedUse]] = defaultdict(list)
        if ids:
            for line in await store.received(conn, ids):
                received[line.lot_id].append(
                    Receipt(
                        line.receipt_id,
                        line.received_at,
                        line.supplier,
                        line.reference,
                        line.quantity,
                        line.gtin,
                        line.location,
                        line.received_by,
                    )
                )
            for level in await store.stock(conn, ids):
                shelves[level.lot_id].append(Shelf(level.location, level.on_hand))
            for lot_use in await store.usages(conn, ids):
                use = lot_use.use
                uses[lot_use.lot_id].append(
                    TracedUse(
                        use.usage_id,
                        use.used_at,
                        use.voided_at is not None,
                        use.voided_at,
                        use.void_reason,
                        use.session_id,
                        lot_use.client,
                        use.location,
                        use.user,
                        use.quantity,
                        use.udi,
                    )
                )
        matches: list[Match] = []
        similar: list[Match] = []
        events: list[tuple[int | None, str, str, int | None, dict[str, Any]]] = []
        for row in found:
            lot_id = row.lot.id
            entry = Match(row.lot, _product(row), row.product.brand, received[lot_id], shelves[lot_id], uses[lot_id])
            (matches if row.exact else similar).append(entry)
            details = {
                "lot_number": printed,
                "gtin": normal_gtin,
                "match": "exact" if row.exact else "similar",
                "client_ids": sorted({u.client.id for u in entry.usages}),
            }
            events.append((actor.id, "trace.lookup", "lot", lot_id, details))
        if not events:  # a look-up that found nothing is still a look-up
            nothing: dict[str, Any] = {"lot_number": printed, "gtin": normal_gtin, "match": None, "client_ids": []}
            events.append((actor.id, "trace.lookup", "lot", None, nothing))
        # The one write of this GET, and on purpose: an audit record of who looked at which clients, never
        # state (the contract: "every look-up is written to the audit log").
        await audit.record_many(conn, events)
    return TraceResult(TraceQuery(printed, key, loose, normal_gtin), matches, similar, truncated)


async def client_history(*, actor: Actor, client_id: int) -> History:
    """Every lot used on a client, voided uses included and marked, with the recalls naming each lot.

    The client's contacts only for roles that may see them. Raises NotFound; the look-up is written to the audit log.
    """
    async with db.transaction() as conn:
        client = await store.get_client(conn, client_id)
        if client is None:
            raise NotFound.of("client", client_id)
        rows = await store.client_usages(conn, client_id)
        first: dict[int, store.ClientUse] = {}
        uses: dict[int, list[HistoryUse]] = defaultdict(list)
        for row in rows:
            first.setdefault(row.lot.id, row)
            uses[row.lot.id].append(_history_use(row.use))
        lots = [
            HistoryLot(
                lot=row.lot,
                product=_product(row),
                brand=row.product.brand,
                recall_ids=list(row.recall_ids),
                quantity=sum((u.quantity for u in uses[lot_id] if not u.voided), start=0),
                usages=uses[lot_id],
            )
            for lot_id, row in first.items()
        ]
        # An audit record, not state: every look-up is written to the audit log.
        await audit.record(
            conn,
            actor_id=actor.id,
            action="client.history",
            entity="client",
            entity_id=client_id,
            details={"lot_ids": list(first), "client_ids": [client_id]},
        )
    if not sees_contacts(actor):  # the same rule as every other view of a client
        client = replace(client, email=None, phone=None)
    return History(client, lots)
