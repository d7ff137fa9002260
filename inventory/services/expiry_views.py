"""Lots on the shelf by expiry, counted from each location's local date: expired, expiring, unused in time."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from inventory import clock, db
from inventory.domain.errors import Unprocessable
from inventory.domain.reorder import LotStock, PlannedUse, unused_in_time
from inventory.services import containers
from inventory.services.views import location_view, lot_view, product_ref
from inventory.store import digests
from inventory.store import expiry as store

VIEWS = ("expiring", "expired", "unused_in_time")


def _expiry_item(row: Any, lots: dict[int, dict[str, Any]]) -> dict[str, Any]:
    days_left = int(row["days_left"])
    lot = lots.get(row["lot_id"])
    if lot is None:  # a lot on the shelf at several locations is shaped once
        lot = lots[row["lot_id"]] = lot_view(dict(row))
    return {
        "lot": lot,
        "product": product_ref(row),
        "location": location_view(row),
        "on_hand": row["on_hand"],
        "days_left": days_left,
        "state": "expired" if days_left < 0 else "expiring",
    }


async def expiry(
    *,
    within_days: int = 30,
    view: str | None = None,
    location_id: int | None = None,
    product_id: int | None = None,
) -> list[dict[str, Any]]:
    """Lots on the shelf by expiry; raises Unprocessable for a bad view or range.

    No view: expired and still on the shelf (negative `days_left`) plus expiring within `within_days`.
    `expired`: only those to dispose of. `expiring`: only the not yet expired. `unused_in_time`: usable
    lots expiring within `within_days` holding more than the trailing use rate and the booked course
    sessions will consume before they expire (`expected_use`, `surplus`).
    """
    if view is not None and view not in VIEWS:
        raise Unprocessable(f"view is one of {', '.join(VIEWS)}.", code="validation_error")
    if not 0 <= within_days <= 3650:
        raise Unprocessable("within_days is a whole number from 0 to 3650.", code="validation_error")
    now = clock.now()
    # Offsets from each location's own local date: view "expired" ends yesterday, "expiring" starts today.
    first = None if view in (None, "expired") else 0
    last = -1 if view == "expired" else within_days
    async with db.connection() as conn:
        rows = await store.expiring_stock(
            conn,
            at=now,
            first=first,
            last=last,
            location_id=location_id,
            product_id=product_id,
            active_only=view == "unused_in_time",
        )
        shaped: dict[int, dict[str, Any]] = {}
        items = [_expiry_item(r, shaped) for r in rows]
        if view != "unused_in_time" or not items:
            return items
        by_pair: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
        for item in items:
            by_pair[(item["product"]["id"], item["location"]["id"])].append(item)
        pairs = sorted(by_pair)
        demand = await store.pair_demand(
            conn, products=[p for p, _ in pairs], locations=[loc for _, loc in pairs], at=now, within_days=within_days
        )
    result: list[dict[str, Any]] = []
    for row in demand:
        lots = by_pair[(row["product"], row["location"])]
        planned = [PlannedUse(d, q) for d, q in zip(row["days"] or (), row["quantities"] or (), strict=True)]
        by_ref = {i: item for i, item in enumerate(lots)}
        stock = [LotStock(item["lot"]["expiry_date"], item["on_hand"], ref=i) for i, item in by_ref.items()]
        for lot in unused_in_time(stock, today=row["today"], used_last_28_days=row["used"], planned=planned):
            if lot.surplus > 0:
                result.append({**by_ref[lot.ref], "expected_use": lot.expected_use, "surplus": lot.surplus})
    result.sort(
        key=lambda i: (i["lot"]["expiry_date"], i["product"]["name"].lower(), i["lot"]["id"], i["location"]["id"])
    )
    return result


async def opened_past_use_by(*, location_id: int | None = None) -> list[dict[str, Any]]:
    """Opened containers still open past their use-by now: to be disposed of like expired lots on the shelf."""
    async with db.connection() as conn:
        return await containers.past_use_by(conn, location_id=location_id)


async def as_of(*, location_id: int | None, default_timezone: str) -> date:
    """Today at the location (or, without one or for an unknown one, in `default_timezone`)."""
    timezone = default_timezone
    if location_id is not None:
        async with db.connection() as conn:
            rows = await digests.digest_locations(conn, location_id)
        if rows:
            timezone = rows[0]["timezone"]
    return clock.today_in(timezone)
