"""Recall cases (lots withdrawn, stock quarantined, clients to contact) and manual quarantine of a lot."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from typing import Any

from inventory import db
from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.services import alerting
from inventory.services.trace import product_ref, require_manager
from inventory.services.views import lot_view
from inventory.store import audit
from inventory.store import trace as store

MAX_LOTS = 500
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


def _text(value: str | None, what: str, *, required: bool, limit: int) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise Unprocessable(f"A {what} is required.", code="validation_error")
        return None
    if len(cleaned) > limit:
        raise Unprocessable(f"The {what} is longer than {limit} characters.", code="validation_error")
    return cleaned


def _user(row: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    if row[f"{prefix}_id"] is None:
        return None
    return {"id": row[f"{prefix}_id"], "email": row[f"{prefix}_email"], "full_name": row[f"{prefix}_full_name"]}


# ------------------------------------------------------------------ creating a case


async def create_recall(
    *, actor: Actor, lot_ids: list[int], reason: str, source: str | None = None, reference: str | None = None
) -> dict[str, Any]:
    """Open a recall case: the lots become recalled, their stock leaves usable stock, affected clients are listed.

    All in one transaction that first fences off new lot locks, then locks the lots (FOR UPDATE, in id order):
    a scan holding its share lock commits first and its client is in the case; any later scan waits for the
    recall to commit, then sees `recalled` and is refused.
    A lot already recalled by an earlier case is named again in this one (a second notice is its own case).
    Raises Unprocessable (empty or too many lots, no reason), NotFound (unknown lot; nothing written), Forbidden.
    """
    require_manager(actor)
    if not lot_ids:
        raise Unprocessable("A recall names at least one lot.", code="validation_error")
    ids = sorted(set(lot_ids))
    if len(ids) > MAX_LOTS:
        raise Unprocessable(f"A recall names at most {MAX_LOTS} lots.", code="validation_error")
    clean_reason = _text(reason, "reason", required=True, limit=2000)
    assert clean_reason is not None
    clean_source = _text(source, "source", required=False, limit=200)
    clean_reference = _text(reference, "reference", required=False, limit=200)

    async def run() -> dict[str, Any]:
        async with db.transaction() as conn:
            await store.fence_scans(conn)
            locked = await store.lock_lots(conn, ids)
            missing = sorted(set(ids) - {row["id"] for row in locked})
            if missing:
                raise NotFound(
                    f"Lot(s) {', '.join(map(str, missing))} do not exist.",
                    code="not_found",
                    entity="lot",
                    lot_ids=missing,
                )
            recall_id = await store.create_recall(
                conn, reason=clean_reason, source=clean_source, reference=clean_reference, created_by=actor.id
            )
            await store.set_lot_status(conn, ids, "recalled")
            await store.add_recall_lots(conn, recall_id, ids)
            rows = await store.write_status_rows(
                conn, lot_ids=ids, kind="quarantine", reason=clean_reason, user_id=actor.id, recall_id=recall_id
            )
            client_ids = await store.add_affected_clients(conn, recall_id, ids)
            levels = await store.held_stock(conn, ids)
            await alerting.reevaluate(conn, [(r["product_id"], r["location_id"]) for r in levels])
            already = [row["id"] for row in locked if row["status"] == "recalled"]
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
                (actor.id, "lot.recall", "lot", row["id"], {"recall_id": recall_id, "status_before": row["status"]})
                for row in locked
            ]
            await audit.record_many(conn, events)
            return await _case(conn, recall_id)

    return await db.with_retries(run)


# ------------------------------------------------------------------ reading a case


async def _case(conn: db.Connection, recall_id: int) -> dict[str, Any]:
    recall = await store.get_recall(conn, recall_id)
    if recall is None:
        raise NotFound.of("recall", recall_id)
    lots = [
        {
            "lot": lot_view(row),
            "product": product_ref(row),
            "brand": row["brand_name"],
            "quarantined_units": row["quarantined_units"],
            "on_hand": int(row["on_hand"]),
            "disposed_units": int(row["disposed_units"]),
        }
        for row in await store.recall_lots(conn, recall_id)
    ]
    clients = await _clients(conn, recall_id)
    by_status = {status: 0 for status in CONTACT_STATUSES}
    for entry in clients:
        by_status[entry["contact_status"]] += 1
    report = {
        "clients_affected": len(clients),
        "clients_to_contact": by_status["to_contact"],
        "clients_contacted": by_status["contacted"] + by_status["acknowledged"],
        "clients_acknowledged": by_status["acknowledged"],
        "clients_unreachable": by_status["unreachable"],
        "units_quarantined": sum(lot["quarantined_units"] for lot in lots),
        "units_disposed": sum(lot["disposed_units"] for lot in lots),
        "units_on_hand": sum(lot["on_hand"] for lot in lots),
    }
    return {
        "id": recall["id"],
        "reason": recall["reason"],
        "source": recall["source"],
        "reference": recall["reference"],
        "status": recall["status"],
        "created_at": recall["created_at"],
        "created_by": _user(recall, "created_by"),
        "closed_at": recall["closed_at"],
        "closed_by": _user(recall, "closed_by"),
        "closing_note": recall["closing_note"],
        "lots": lots,
        "clients": clients,
        "report": report,
    }


async def _clients(conn: db.Connection, recall_id: int) -> list[dict[str, Any]]:
    uses: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await store.recall_client_usages(conn, recall_id):
        uses[row["client_id"]].append(
            {
                "usage_id": row["usage_id"],
                "session_id": row["session_id"],
                "used_at": row["used_at"],
                "lot_id": row["lot_id"],
                "lot_number": row["lot_number"],
                "product": row["product_name"],
                "quantity": row["quantity"],
            }
        )
    return [
        {
            "client": {
                "id": row["client_id"],
                "full_name": row["full_name"],
                "email": row["email"],
                "phone": row["phone"],
            },
            "contact_status": row["contact_status"],
            "note": row["note"],
            "updated_at": row["updated_at"],
            "updated_by": _user(row, "updated_by"),
            "quantity": sum(u["quantity"] for u in uses[row["client_id"]]),
            "usages": uses[row["client_id"]],
        }
        for row in await store.recall_clients(conn, recall_id)
    ]


async def get_recall(*, actor: Actor, recall_id: int) -> dict[str, Any]:
    """A case with its lots, clients and their contact status, and the report counts; the read is audited."""
    require_manager(actor)
    async with db.transaction() as conn:
        case = await _case(conn, recall_id)
        await audit.record(
            conn,
            actor_id=actor.id,
            action="recall.view",
            entity="recall",
            entity_id=recall_id,
            details={"client_ids": [c["client"]["id"] for c in case["clients"]]},
        )
    return case


async def list_recalls(
    *, actor: Actor, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Recall cases, newest first, with counts (no client data)."""
    require_manager(actor)
    async with db.connection() as conn:
        rows = await store.list_recalls(conn, status=status, limit=limit, offset=offset)
    return [
        {
            "id": row["id"],
            "reason": row["reason"],
            "source": row["source"],
            "reference": row["reference"],
            "status": row["status"],
            "created_at": row["created_at"],
            "created_by": _user(row, "created_by"),
            "closed_at": row["closed_at"],
            "lot_count": row["lot_count"],
            "client_count": row["client_count"],
            "clients_to_contact": row["to_contact_count"],
        }
        for row in rows
    ]


# ------------------------------------------------------------------ working the case


async def set_client_status(
    *, actor: Actor, recall_id: int, client_id: int, contact_status: str, note: str | None = None
) -> dict[str, Any]:
    """Record contact with a client: to_contact → contacted → acknowledged | unreachable (and back to contacted).

    Raises NotFound (case, or client not in it), Conflict (invalid_transition, recall_closed), Unprocessable.
    """
    require_manager(actor)
    if contact_status not in CONTACT_STATUSES:
        raise Unprocessable(f"contact_status must be one of {', '.join(CONTACT_STATUSES)}.", code="validation_error")
    clean_note = _text(note, "note", required=False, limit=2000)

    async def run() -> dict[str, Any]:
        async with db.transaction() as conn:
            recall = await store.get_recall(conn, recall_id, for_update=True)
            if recall is None:
                raise NotFound.of("recall", recall_id)
            if recall["status"] == "closed":
                raise Conflict(f"Recall {recall_id} is closed.", code="recall_closed")
            row = await store.get_recall_client(conn, recall_id, client_id, for_update=True)
            if row is None:
                raise NotFound(
                    f"Client {client_id} is not affected by recall {recall_id}.",
                    code="not_found",
                    entity="recall_client",
                )
            before = row["contact_status"]
            if contact_status not in TRANSITIONS[before]:
                allowed = sorted(TRANSITIONS[before])
                raise Conflict(
                    f"A client {before} cannot become {contact_status}.",
                    code="invalid_transition",
                    current=before,
                    allowed=allowed,
                )
            await store.set_contact_status(conn, row["id"], status=contact_status, note=clean_note, user_id=actor.id)
            await audit.record(
                conn,
                actor_id=actor.id,
                action="recall.client_status",
                entity="recall",
                entity_id=recall_id,
                details={"client_id": client_id, "from": before, "to": contact_status, "note": clean_note},
            )
            entries = [c for c in await _clients(conn, recall_id) if c["client"]["id"] == client_id]
        return entries[0]

    return await db.with_retries(run)


async def close_recall(*, actor: Actor, recall_id: int, note: str | None = None) -> dict[str, Any]:
    """Close a case, recording who and when; the lots stay recalled. Raises NotFound, Conflict(recall_closed)."""
    require_manager(actor)
    clean_note = _text(note, "note", required=False, limit=2000)

    async def run() -> dict[str, Any]:
        async with db.transaction() as conn:
            recall = await store.get_recall(conn, recall_id, for_update=True)
            if recall is None:
                raise NotFound.of("recall", recall_id)
            if recall["status"] == "closed":
                raise Conflict(
                    f"Recall {recall_id} is already closed.",
                    code="recall_closed",
                    closed_at=recall["closed_at"].isoformat(),
                )
            await store.close_recall(conn, recall_id, user_id=actor.id, note=clean_note)
            case = await _case(conn, recall_id)
            await audit.record(
                conn,
                actor_id=actor.id,
                action="recall.close",
                entity="recall",
                entity_id=recall_id,
                details={"note": clean_note, "report": case["report"]},
            )
        return case

    return await db.with_retries(run)


_PHONE_LIKE = re.compile(r"[+\-]?[0-9 ().\-/]*")


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text and (text[0] in "=@\t\r" or (text[0] in "+-" and not _PHONE_LIKE.fullmatch(text))):
        return "'" + text
    return text


async def clients_csv(*, actor: Actor, recall_id: int) -> str:
    """One CSV row per affected client: contacts, session dates, lots and quantities; the export is audited."""
    require_manager(actor)
    async with db.transaction() as conn:
        case = await _case(conn, recall_id)
        await audit.record(
            conn,
            actor_id=actor.id,
            action="recall.export",
            entity="recall",
            entity_id=recall_id,
            details={"client_ids": [c["client"]["id"] for c in case["clients"]]},
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in case["clients"]:
        per_lot: dict[tuple[str, str], int] = {}
        for use in entry["usages"]:
            per_lot[(use["lot_number"], use["product"])] = (
                per_lot.get((use["lot_number"], use["product"]), 0) + use["quantity"]
            )
        dates = sorted({use["used_at"].date().isoformat() for use in entry["usages"]})
        client = entry["client"]
        writer.writerow(
            [
                _cell(v)
                for v in (
                    recall_id,
                    client["id"],
                    client["full_name"],
                    client["email"],
                    client["phone"],
                    entry["contact_status"],
                    "; ".join(dates),
                    "; ".join(f"{lot} ({product}) x{qty}" for (lot, product), qty in per_lot.items()),
                    entry["quantity"],
                )
            ]
        )
    return out.getvalue()


# ------------------------------------------------------------------ manual quarantine


async def _change_hold(*, actor: Actor, lot_id: int, reason: str, to_status: str) -> dict[str, Any]:
    require_manager(actor)
    clean_reason = _text(reason, "reason", required=True, limit=2000)
    assert clean_reason is not None
    kind, action = ("quarantine", "lot.quarantine") if to_status == "quarantined" else ("release", "lot.release")

    async def run() -> dict[str, Any]:
        async with db.transaction() as conn:
            await store.fence_scans(conn)
            locked = await store.lock_lots(conn, [lot_id])
            if not locked:
                raise NotFound.of("lot", lot_id)
            lot = locked[0]
            if lot["status"] == "recalled":
                raise Conflict(
                    f"Lot {lot['lot_number']} is recalled; a recall is never lifted.",
                    code="lot_recalled",
                    lot_id=lot_id,
                )
            if to_status == "quarantined" and lot["status"] == "quarantined":
                raise Conflict(
                    f"Lot {lot['lot_number']} is already quarantined.", code="lot_quarantined", lot_id=lot_id
                )
            if to_status == "active" and lot["status"] != "quarantined":
                raise Conflict(
                    f"Lot {lot['lot_number']} is not quarantined.", code="lot_not_quarantined", lot_id=lot_id
                )
            await store.set_lot_status(conn, [lot_id], to_status)
            rows = await store.write_status_rows(
                conn, lot_ids=[lot_id], kind=kind, reason=clean_reason, user_id=actor.id, recall_id=None
            )
            levels = await store.held_stock(conn, [lot_id])
            await alerting.reevaluate(conn, [(r["product_id"], r["location_id"]) for r in levels])
            await audit.record(
                conn,
                actor_id=actor.id,
                action=action,
                entity="lot",
                entity_id=lot_id,
                details={"reason": clean_reason, "status_before": lot["status"], "ledger_rows": rows},
            )
        return {
            "lot": lot_view({**lot, "status": to_status}),
            "reason": clean_reason,
            "stock": [{"location_id": r["location_id"], "on_hand": r["on_hand"]} for r in levels if r["on_hand"] != 0],
        }

    return await db.with_retries(run)


async def quarantine_lot(*, actor: Actor, lot_id: int, reason: str) -> dict[str, Any]:
    """Hold a lot out of usable stock (scans refused), with a reason; raises Conflict(lot_recalled, lot_quarantined)."""
    return await _change_hold(actor=actor, lot_id=lot_id, reason=reason, to_status="quarantined")


async def release_lot(*, actor: Actor, lot_id: int, reason: str) -> dict[str, Any]:
    """Lift a quarantine, with a reason; a recalled lot is never released (Conflict lot_recalled)."""
    return await _change_hold(actor=actor, lot_id=lot_id, reason=reason, to_status="active")
