"""Opened containers for people: what is open where, since when, until when, and what is left."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from inventory import clock, db
from inventory.domain.containers import IN_USE_EXPIRED
from inventory.store import containers as store


async def list_containers(*, location_id: int | None, status: str | None = "open") -> list[dict[str, Any]]:
    """Containers (open ones by default), soonest use-by first, each with whether it is past its use-by now."""
    now = clock.now()
    async with db.connection() as conn:
        rows = await store.list_containers(conn, location_id=location_id, status=status)
    return [_view(row, now) for row in rows]


def _view(row: store.ContainerRow, now: Any) -> dict[str, Any]:
    past = row.status == "open" and now >= row.use_by
    return {
        **asdict(row),
        "product": {"id": row.product_id, "name": row.product_name, "brand": row.brand_name, "unit": row.unit},
        "lot": {"id": row.lot_id, "lot_number": row.lot_number, "expiry_date": row.expiry_date},
        "location": {"id": row.location_id, "name": row.location_name, "timezone": row.location_timezone},
        "past_use_by": past,
        "hours_left": max(0, int((row.use_by - now).total_seconds() // 3600)) if row.status == "open" else 0,
    }


async def past_use_by(conn: db.Connection, *, location_id: int | None) -> list[dict[str, Any]]:
    """Open containers past their use-by now (for the expiry views and the digest): to be disposed of."""
    now = clock.now()
    rows = await store.list_containers(conn, location_id=location_id, status="open", used_by_before=now)
    return [{**_view(row, now), "dispose_reason": IN_USE_EXPIRED} for row in rows]
