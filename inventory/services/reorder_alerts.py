"""Reorder alerts for managers: listing and reading them as of now (without writing), acknowledging them and
taking an acknowledgement back.

A read never writes. Alerts are opened, updated and resolved by stock changes (in their own transactions) and by
the nightly refresh of each location (`alert_refresh`). Between a location's local midnight and that refresh,
what time alone changed (a lot expiring overnight, a booked session entering the lead time, the trend moving
on) is computed on read for the pairs it can have changed (`alert_refresh.stale_pairs`): an open alert shows
its figures as of now, one that would resolve reads as resolved (`resolved_at` still empty), and a pair that
would alert reads as an open alert without an id (`id`, `opened_at` and `updated_at` empty) until the refresh
or the next stock change opens it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inventory import clock, db
from inventory.db import Connection
from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.services import alert_refresh, alerting
from inventory.services.views import location_view, product_ref
from inventory.store import alerts as store
from inventory.store import audit

Live = dict[tuple[int, int], tuple[bool, dict[str, Any] | None]]


def _alert_view(row: Any, live: Live) -> dict[str, Any]:
    """An alert with its arithmetic (the keys of ReorderFigures.as_details) flattened in, as of now."""
    status = row["status"]
    details: dict[str, Any] = row["details"] or {}
    now = live.get((row["product_id"], row["location_id"])) if status == "open" else None
    if now is not None:
        alerts_now, figures = now
        status = "open" if alerts_now else "resolved"
        details = figures if figures is not None else details
    get = details.get
    acknowledged_by = row["acknowledged_by"]
    return {
        "id": row["id"],
        "status": status,
        "product": product_ref(row),
        "location": location_view(row),
        "usable_on_hand": get("usable_on_hand", 0),
        "reorder_point": get("reorder_point", 0),
        "par_level": get("par_level", 0),
        "suggested_quantity": get("suggested_quantity", 0),
        "lead_time_days": get("lead_time_days"),
        "lead_time_source": get("lead_time_source"),
        "lead_time_supplier": get("lead_time_supplier"),
        "rule_lead_time_days": get("rule_lead_time_days"),
        "box_size": get("box_size"),
        "expiring_within_lead_time": get("expiring_within_lead_time"),
        "expiring_unused": get("expiring_unused"),
        "forecast_courses": get("forecast_courses"),
        "forecast_trend": get("forecast_trend"),
        "forecast_demand": get("forecast_demand"),
        "average_daily_use": get("average_daily_use"),
        "used_last_28_days": get("used_last_28_days"),
        "on_order": get("on_order", 0),
        "projected_at_arrival": get("projected_at_arrival"),
        "evaluated_on": get("evaluated_on"),
        "opened_at": row["opened_at"],
        "updated_at": row["updated_at"],
        "resolved_at": row["resolved_at"],
        "acknowledged": row["acknowledged_at"] is not None,
        "acknowledged_at": row["acknowledged_at"],
        "acknowledged_by": None
        if acknowledged_by is None
        else {"id": acknowledged_by, "email": row["acknowledged_by_email"]},
    }


async def _live(conn: Connection, location_id: int | None, product_id: int | None, now: datetime) -> Live:
    """The figures as of `now` of the pairs in scope whose stored alert time may have outdated; reads only."""
    stale = await alert_refresh.stale_pairs(conn, location_id, now)
    if product_id is not None:
        stale = {pair for pair in stale if pair[0] == product_id}
    return await alerting.figures_now(conn, stale, now)


async def list_reorder(
    *,
    status: str = "open",
    location_id: int | None = None,
    product_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Reorder alerts (open, resolved or all) as of now, without writing; open ones by location and product."""
    if status not in ("open", "resolved", "all"):
        raise Unprocessable("status is one of open, resolved, all.", code="validation_error")
    now = clock.now()
    async with db.connection() as conn:
        live = await _live(conn, location_id, product_id, now)
        pending: list[tuple[int, int]] = []
        resolved_now: list[int] = []
        if live:
            stored = await store.open_alerts(conn, list(live))
            pending = sorted(pair for pair, (alerts, _) in live.items() if alerts and pair not in stored)
            resolved_now = sorted(i for pair, i in stored.items() if not live[pair][0])
        rows = await store.list_alerts(
            conn,
            status=status,
            location_id=location_id,
            product_id=product_id,
            limit=limit,
            offset=offset,
            pending=pending,
            resolved_now=resolved_now,
        )
    return [_alert_view(r, live) for r in rows]


async def get_reorder(alert_id: int) -> dict[str, Any]:
    """One reorder alert as of now, without writing; raises NotFound."""
    async with db.connection() as conn:
        row = await store.get_alert(conn, alert_id)
        if row is None:
            raise NotFound.of("reorder_alert", alert_id)
        live: Live = {}
        if row["status"] == "open":
            live = await _live(conn, row["location_id"], row["product_id"], clock.now())
    return _alert_view(row, live)


async def acknowledge(*, actor: Actor, alert_id: int) -> dict[str, Any]:
    """Mark an open alert as seen by a manager (it stays open); raises NotFound, Conflict(alert_resolved)."""
    async with db.transaction() as conn:
        row = await store.lock_alert(conn, alert_id)
        if row is None:
            raise NotFound.of("reorder_alert", alert_id)
        if row["status"] != "open":
            raise Conflict(f"Reorder alert {alert_id} is already resolved.", code="alert_resolved", alert_id=alert_id)
        if row["acknowledged_at"] is None:  # the first acknowledgement stands; repeating it changes nothing
            await store.acknowledge(conn, alert_id=alert_id, at=clock.now(), user_id=actor.id)
            await audit.record(
                conn,
                actor_id=actor.id,
                action="reorder_alert.acknowledge",
                entity="reorder_alert",
                entity_id=alert_id,
                details={},
            )
        return await get_reorder(alert_id)


async def unacknowledge(*, actor: Actor, alert_id: int) -> dict[str, Any]:
    """Take back an open alert's acknowledgement (unseen again); raises NotFound, Conflict(alert_resolved)."""
    async with db.transaction() as conn:
        row = await store.lock_alert(conn, alert_id)
        if row is None:
            raise NotFound.of("reorder_alert", alert_id)
        if row["status"] != "open":
            raise Conflict(f"Reorder alert {alert_id} is already resolved.", code="alert_resolved", alert_id=alert_id)
        if row["acknowledged_at"] is not None:  # undoing twice changes nothing
            await store.unacknowledge(conn, alert_id=alert_id)
            await audit.record(
                conn,
                actor_id=actor.id,
                action="reorder_alert.unacknowledge",
                entity="reorder_alert",
                entity_id=alert_id,
                # What was taken back: the acknowledgement's own time and author stay in the log.
                details={
                    "acknowledged_at": row["acknowledged_at"].isoformat(),
                    "acknowledged_by": row["acknowledged_by"],
                },
            )
        return await get_reorder(alert_id)
