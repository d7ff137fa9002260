"""Traceability look-ups for recalls and adverse reactions: lot number to clients, client to lots; all audited.

The role to call these (manager) is checked by the API's guards; the audit record is the only write.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from inventory import db
from inventory.domain.errors import NotFound
from inventory.domain.gtin import normalize_gtin
from inventory.domain.lots import clean_lot_number, lot_key, similar_key
from inventory.domain.models import Actor
from inventory.services.clinical import sees_contacts
from inventory.services.views import location_view, lot_view, product_ref
from inventory.store import audit
from inventory.store import trace as store

# Exact matches are never capped (at most one per product). Look-alikes are: a short number such as "1" could
# resemble thousands of lots; past this many the answer says so and the number should be typed more fully.
MAX_SIMILAR = 100


def _location(row: dict[str, Any]) -> dict[str, Any]:
    return location_view(row)


def _user(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["user_id"], "email": row["user_email"], "full_name": row["user_full_name"]}


def _query(lot_number: str, gtin: str | None) -> tuple[str, str, str | None]:
    printed = clean_lot_number(lot_number)  # Unprocessable(lot_number_invalid)
    normal_gtin = normalize_gtin(gtin) if gtin is not None and gtin.strip() else None
    return printed, lot_key(printed), normal_gtin


async def trace_lot(*, actor: Actor, lot_number: str, gtin: str | None = None) -> dict[str, Any]:
    """Every lot with this number (and its loose look-alikes): receipts, stock, every usage with its client.

    Raises Unprocessable (lot_number_invalid, gtin_invalid), NotFound (product_unknown).
    The look-up and the clients it showed are written to the audit log in the same transaction.
    """
    printed, key, normal_gtin = _query(lot_number, gtin)
    loose = similar_key(printed) or None
    async with db.transaction() as conn:
        if normal_gtin is not None and not await store.gtin_known(conn, normal_gtin):
            raise NotFound(f"No product has GTIN {normal_gtin}.", code="product_unknown", gtin=normal_gtin)
        lots = await store.find_lots(conn, key=key, similar=loose, gtin=normal_gtin, similar_limit=MAX_SIMILAR + 1)
        truncated = any(not row["exact"] and row["n"] > MAX_SIMILAR for row in lots)
        lots = [row for row in lots if row["exact"] or row["n"] <= MAX_SIMILAR]
        ids = [row["id"] for row in lots]
        sections: dict[int, dict[str, list[dict[str, Any]]]] = {
            i: {"received": [], "stock": [], "usages": []} for i in ids
        }
        if ids:
            for row in await store.received(conn, ids):
                sections[row["lot_id"]]["received"].append(
                    {
                        "receipt_id": row["receipt_id"],
                        "received_at": row["received_at"],
                        "supplier": row["supplier"],
                        "reference": row["reference"],
                        "quantity": row["quantity"],
                        "gtin": row["gtin"],
                        "location": _location(row),
                        "received_by": _user(row),
                    }
                )
            for row in await store.stock(conn, ids):
                sections[row["lot_id"]]["stock"].append({"location": _location(row), "on_hand": row["on_hand"]})
            for row in await store.usages(conn, ids):
                sections[row["lot_id"]]["usages"].append(_usage(row))
        matches: list[dict[str, Any]] = []
        similar: list[dict[str, Any]] = []
        events: list[tuple[int | None, str, str, int | None, dict[str, Any]]] = []
        for row in lots:
            entry = {
                "lot": lot_view(row),
                "product": {**product_ref(row), "implant": row["implant"]},
                "brand": row["brand_name"],
                **sections[row["id"]],
            }
            (matches if row["exact"] else similar).append(entry)
            client_ids = sorted({u["client"]["id"] for u in entry["usages"]})
            events.append(
                (
                    actor.id,
                    "trace.lookup",
                    "lot",
                    row["id"],
                    {
                        "lot_number": printed,
                        "gtin": normal_gtin,
                        "match": "exact" if row["exact"] else "similar",
                        "client_ids": client_ids,
                    },
                )
            )
        if not events:  # a look-up that found nothing is still a look-up
            events.append(
                (
                    actor.id,
                    "trace.lookup",
                    "lot",
                    None,
                    {"lot_number": printed, "gtin": normal_gtin, "match": None, "client_ids": []},
                )
            )
        # The one write of this GET, and on purpose: an audit record of who looked at which clients, never
        # state (the contract: "every look-up is written to the audit log").
        await audit.record_many(conn, events)
    return {
        "query": {"lot_number": printed, "lot_key": key, "similar_key": loose, "gtin": normal_gtin},
        "matches": matches,
        "similar": similar,
        "similar_truncated": truncated,
    }


def _usage(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "usage_id": row["usage_id"],
        "used_at": row["used_at"],
        "voided": row["voided_at"] is not None,
        "voided_at": row["voided_at"],
        "void_reason": row["void_reason"],
        "session_id": row["session_id"],
        "client": {
            "id": row["client_id"],
            "full_name": row["client_full_name"],
            "email": row["client_email"],
            "phone": row["client_phone"],
        },
        "location": _location(row),
        "user": _user(row),
        "quantity": row["quantity"],
        "udi": row["udi"],
    }


async def client_history(*, actor: Actor, client_id: int) -> dict[str, Any]:
    """Every lot used on a client, voided uses included and marked, with the recalls naming each lot.

    The client's contacts only for roles that may see them. Raises NotFound; the look-up is written to the audit log.
    """
    async with db.transaction() as conn:
        client = await store.get_client(conn, client_id)
        if client is None:
            raise NotFound.of("client", client_id)
        rows = await store.client_usages(conn, client_id)
        by_lot: dict[int, dict[str, Any]] = {}
        uses: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            if row["lot_id"] not in by_lot:
                by_lot[row["lot_id"]] = {
                    "lot": lot_view(row),
                    "product": {**product_ref(row), "implant": row["implant"]},
                    "brand": row["brand_name"],
                    "recall_ids": list(row["recall_ids"]),
                }
            uses[row["lot_id"]].append(
                {
                    "usage_id": row["usage_id"],
                    "used_at": row["used_at"],
                    "voided": row["voided_at"] is not None,
                    "voided_at": row["voided_at"],
                    "void_reason": row["void_reason"],
                    "session_id": row["session_id"],
                    "location": _location(row),
                    "user": _user(row),
                    "quantity": row["quantity"],
                    "udi": row["udi"],
                }
            )
        lots = [
            {**entry, "quantity": sum(u["quantity"] for u in uses[lot_id] if not u["voided"]), "usages": uses[lot_id]}
            for lot_id, entry in by_lot.items()
        ]
        # An audit record, not state: every look-up is written to the audit log.
        await audit.record(
            conn,
            actor_id=actor.id,
            action="client.history",
            entity="client",
            entity_id=client_id,
            details={"lot_ids": list(by_lot), "client_ids": [client_id]},
        )
    if not sees_contacts(actor):  # the same rule as every other view of a client
        client = {**client, "email": None, "phone": None}
    return {"client": client, "lots": lots}
