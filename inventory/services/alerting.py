"""Reorder alerts kept right inside every stock-changing transaction."""

from __future__ import annotations

from collections.abc import Iterable

from inventory import clock
from inventory.db import Connection


async def reevaluate(conn: Connection, pairs: Iterable[tuple[int, int]]) -> None:
    """Open, update or resolve the reorder alert of each (product, location) in the caller's transaction."""
    today = clock.today()
    for product_id, location_id in sorted(set(pairs)):
        rule = await conn.fetchrow(
            "SELECT reorder_point, par_level, lead_time_days FROM stock_rule WHERE product = $1 AND location = $2",
            product_id,
            location_id,
        )
        usable = await conn.fetchval(
            "SELECT coalesce(sum(s.on_hand), 0) FROM stock_level s JOIN lot l ON l.id = s.lot"
            " WHERE l.product = $1 AND s.location = $2 AND l.status = 'active' AND l.expiry_date >= $3"
            " AND s.on_hand > 0",
            product_id,
            location_id,
            today,
        )
        if rule is not None and usable <= rule["reorder_point"]:
            details = {"usable_on_hand": int(usable), "suggested_quantity": max(rule["par_level"] - int(usable), 0)}
            await conn.execute(
                "INSERT INTO reorder_alert (product, location, status, details, opened_at, updated_at)"
                " VALUES ($1, $2, 'open', $3, now(), now())"
                " ON CONFLICT (product, location) WHERE status = 'open'"
                " DO UPDATE SET details = EXCLUDED.details, updated_at = now()",
                product_id,
                location_id,
                details,
            )
        else:
            await conn.execute(
                "UPDATE reorder_alert SET status = 'resolved', resolved_at = now(), updated_at = now()"
                " WHERE product = $1 AND location = $2 AND status = 'open'",
                product_id,
                location_id,
            )
