"""Reorder and expiry alerts for managers: listing (brought up to date on read), acknowledging, the daily digest.

Stock changes keep reorder alerts current inside their own transactions (`alerting.reevaluate`). What changes
with the calendar alone (a lot expiring overnight, a booked session entering the lead-time window, yesterday's
use entering the 28-day trend) is caught up by `catch_up`: the first read of a day re-evaluates only the
pairs time can have changed since the last evaluated day (of the location read, or of all of them), and records
that day as an audit event (`reorder_alert.refresh`), the watermark every process reads. `refresh_all`
re-evaluates everything.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.request
import weakref
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from inventory import clock, db
from inventory.domain import dates
from inventory.domain.errors import Conflict, Forbidden, NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.domain.reorder import TREND_DAYS, LotStock, PlannedUse, unused_in_time
from inventory.services import alerting
from inventory.services.views import lot_view
from inventory.store import alerts as store
from inventory.store import audit

CHUNK = 1000  # pairs per transaction: keeps each refresh transaction (and the rows it locks) short
MAX_CATCH_UP_DAYS = TREND_DAYS  # beyond this, a full refresh is as cheap as working out what changed
DIGEST_EXPIRY_DAYS = 30
RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)  # exponential back-off between webhook attempts
WEBHOOK_TIMEOUT = 10.0
VIEWS = ("expiring", "expired", "unused_in_time")

_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


# ------------------------------------------------------------------ keeping alerts up to date


async def _reevaluate_in_chunks(pairs: list[tuple[int, int]]) -> tuple[int, int]:
    opened = resolved = 0
    for start in range(0, len(pairs), CHUNK):

        async def run(chunk: list[tuple[int, int]] = pairs[start : start + CHUNK]) -> tuple[int, int]:
            async with db.transaction() as conn:
                return await alerting.reevaluate_counted(conn, chunk)

        o, r = await db.with_retries(run)
        opened, resolved = opened + o, resolved + r
    return opened, resolved


async def _refresh(today: date, location_id: int | None, last: date | None) -> int:
    """Re-evaluate everything (last None) or what changed since `last`; record the day as evaluated."""
    async with db.connection() as conn:
        if last is None:
            pairs, mode = sorted(await store.all_pairs(conn, location_id)), "full"
        else:
            pairs = sorted(await store.changed_pairs(conn, since=last, today=today, location_id=location_id))
            mode = "catch_up"
    opened, resolved = await _reevaluate_in_chunks(pairs)
    details: dict[str, Any] = {
        "date": today.isoformat(),
        "mode": mode,
        "pairs": len(pairs),
        "opened": opened,
        "resolved": resolved,
    }
    async with db.transaction() as conn:
        await audit.record(
            conn,
            actor_id=None,
            action="reorder_alert.refresh",
            entity="reorder_alert_refresh",
            entity_id=location_id or 0,
            details=details,
        )
    return len(pairs)


async def _last_evaluated_day(location_id: int | None) -> date | None:
    async with db.connection() as conn:
        value = await store.last_evaluated(conn, location_id)
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def refresh_all() -> int:
    """Re-evaluate the reorder alert of every product and location with a rule or an open alert."""
    return await _refresh(clock.today(), None, None)


async def catch_up(location_id: int | None = None) -> int:
    """Bring reorder alerts (of one location, or all) up to today after time alone moved on.

    Returns the number of pairs re-evaluated: 0 when the day was already evaluated.
    """
    today = clock.today()
    if await _last_evaluated_day(location_id) == today:
        return 0
    async with _lock():
        last = await _last_evaluated_day(location_id)
        if last == today:
            return 0
        if last is not None and (last > today or (today - last).days > MAX_CATCH_UP_DAYS):
            last = None
        return await _refresh(today, location_id, last)


# ------------------------------------------------------------------ reorder alerts


def _product(row: Any) -> dict[str, Any]:
    return {
        "id": row["product_id"],
        "name": row["product_name"],
        "brand": row["brand_name"],
        "brand_id": row["brand_id"],
        "gtin": row["gtin"],
    }


def _alert_view(row: Any) -> dict[str, Any]:
    """An alert with its arithmetic (the keys of ReorderFigures.as_details) flattened in."""
    details: dict[str, Any] = row["details"] or {}
    get = details.get
    acknowledged_by = row["acknowledged_by"]
    return {
        "id": row["id"],
        "status": row["status"],
        "product": _product(row),
        "location": {"id": row["location_id"], "name": row["location_name"]},
        "usable_on_hand": get("usable_on_hand", 0),
        "reorder_point": get("reorder_point", 0),
        "par_level": get("par_level", 0),
        "suggested_quantity": get("suggested_quantity", 0),
        "lead_time_days": get("lead_time_days"),
        "box_size": get("box_size"),
        "expiring_within_lead_time": get("expiring_within_lead_time"),
        "expiring_unused": get("expiring_unused"),
        "forecast_courses": get("forecast_courses"),
        "forecast_trend": get("forecast_trend"),
        "forecast_demand": get("forecast_demand"),
        "average_daily_use": get("average_daily_use"),
        "used_last_28_days": get("used_last_28_days"),
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


async def list_reorder(
    *,
    status: str = "open",
    location_id: int | None = None,
    product_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Reorder alerts (open, resolved or all), brought up to date first; open ones by location and product."""
    if status not in ("open", "resolved", "all"):
        raise Unprocessable("status is one of open, resolved, all.", code="validation_error")
    await catch_up(location_id)
    async with db.connection() as conn:
        rows = await store.list_alerts(
            conn, status=status, location_id=location_id, product_id=product_id, limit=limit, offset=offset
        )
    return [_alert_view(r) for r in rows]


async def get_reorder(alert_id: int) -> dict[str, Any]:
    """One reorder alert; raises NotFound."""
    async with db.connection() as conn:
        row = await store.get_alert(conn, alert_id)
    if row is None:
        raise NotFound.of("reorder_alert", alert_id)
    return _alert_view(row)


async def acknowledge(*, actor: Actor, alert_id: int) -> dict[str, Any]:
    """Mark an open alert as seen by a manager (it stays open); raises NotFound, Conflict(alert_resolved)."""
    if not actor.has_role("manager"):
        raise Forbidden("This needs the manager role.", code="forbidden", required_role="manager")
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


# ------------------------------------------------------------------ expiry


def _expiry_item(row: Any, lots: dict[int, dict[str, Any]]) -> dict[str, Any]:
    days_left = int(row["days_left"])
    lot = lots.get(row["lot_id"])
    if lot is None:  # a lot on the shelf at several locations is shaped once
        lot = lots[row["lot_id"]] = lot_view(dict(row))
    return {
        "lot": lot,
        "product": _product(row),
        "location": {"id": row["location_id"], "name": row["location_name"]},
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
    today = clock.today()
    horizon = dates.add_days(today, within_days, what="The window's end")
    first = date.min if view in (None, "expired") else today
    last = today - timedelta(days=1) if view == "expired" else horizon
    async with db.connection() as conn:
        rows = await store.expiring_stock(
            conn,
            today=today,
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
            conn, products=[p for p, _ in pairs], locations=[loc for _, loc in pairs], today=today, horizon=horizon
        )
    result: list[dict[str, Any]] = []
    for row in demand:
        lots = by_pair[(row["product"], row["location"])]
        planned = [PlannedUse(d, q) for d, q in zip(row["days"] or (), row["quantities"] or (), strict=True)]
        by_ref = {i: item for i, item in enumerate(lots)}
        stock = [LotStock(item["lot"]["expiry_date"], item["on_hand"], ref=i) for i, item in by_ref.items()]
        for lot in unused_in_time(stock, today=today, used_last_28_days=row["used"], planned=planned):
            if lot.surplus > 0:
                result.append({**by_ref[lot.ref], "expected_use": lot.expected_use, "surplus": lot.surplus})
    result.sort(
        key=lambda i: (i["lot"]["expiry_date"], i["product"]["name"].lower(), i["lot"]["id"], i["location"]["id"])
    )
    return result


# ------------------------------------------------------------------ daily digest


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _jsonable(value: Any) -> Any:
    """Dates and datetimes as ISO strings, as they travel in the webhook body and the delivery record."""
    return json.loads(json.dumps(value, default=_json_default))


async def _location_digest(location: Any, today: date, now: datetime) -> dict[str, Any] | None:
    async with db.connection() as conn:
        last = await store.last_delivery(conn, location["id"], today.isoformat())
    since: datetime = last["last_delivered"] or (now - timedelta(days=1))
    alerts = await list_reorder(status="open", location_id=location["id"])
    shelf = await expiry(within_days=DIGEST_EXPIRY_DAYS, location_id=location["id"])
    if not alerts and not shelf:
        return None
    reorder = [
        {
            "alert_id": a["id"],
            "new": a["opened_at"] > since,
            "product": a["product"],
            "usable_on_hand": a["usable_on_hand"],
            "reorder_point": a["reorder_point"],
            "par_level": a["par_level"],
            "forecast_demand": a["forecast_demand"],
            "suggested_quantity": a["suggested_quantity"],
            "opened_at": a["opened_at"],
            "acknowledged": a["acknowledged"],
        }
        for a in alerts
    ]
    lots = [
        {
            "lot_id": i["lot"]["id"],
            "lot_number": i["lot"]["lot_number"],
            "expiry_date": i["lot"]["expiry_date"],
            "status": i["lot"]["status"],
            "product": i["product"],
            "on_hand": i["on_hand"],
            "days_left": i["days_left"],
        }
        for i in shelf
    ]
    expired = [i for i in lots if i["days_left"] < 0]
    expiring = [i for i in lots if i["days_left"] >= 0]
    payload = {
        "kind": "inventory.alerts.digest",
        "date": today.isoformat(),
        "generated_at": now,
        "location": {"id": location["id"], "name": location["name"]},
        "summary": {
            "new_reorder_alerts": sum(1 for r in reorder if r["new"]),
            "open_reorder_alerts": len(reorder),
            "expired_on_shelf": len(expired),
            f"expiring_within_{DIGEST_EXPIRY_DAYS}_days": len(expiring),
        },
        "reorder": reorder,
        "expired_on_shelf": expired,
        "expiring": expiring,
    }
    return {
        "location_id": location["id"],
        "payload": _jsonable(payload),
        "delivered_today": bool(last["delivered_today"]),
    }


def _post(url: str, body: bytes, key: str) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "meso-inventory", "Idempotency-Key": key},
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:  # http(s) only: checked by digest()
        status: int = response.status
        return status


async def _deliver(url: str, location_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    """POST one digest with retries and exponential back-off, recording every outcome."""
    async with db.transaction() as conn:
        delivery_id = await store.create_delivery(conn, location_id=location_id, payload=payload, at=clock.now())
    body = json.dumps(payload).encode()
    attempts, error, status = 0, None, "failed"
    for delay in (*RETRY_DELAYS, None):
        attempts += 1
        try:
            await asyncio.to_thread(_post, url, body, f"digest-{delivery_id}")
            status, error = "delivered", None
            break
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code}"
            if exc.code < 500 and exc.code not in (408, 429):
                break  # the receiver refuses this body: retrying will not help
        except (urllib.error.URLError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        if delay is not None:
            await asyncio.sleep(delay)
    async with db.transaction() as conn:
        await store.finish_delivery(
            conn, delivery_id=delivery_id, status=status, attempts=attempts, error=error, at=clock.now()
        )
        await audit.record(
            conn,
            actor_id=None,
            action=f"digest.{status}",
            entity="notification_delivery",
            entity_id=delivery_id,
            details={"location_id": location_id, "attempts": attempts, "error": error},
        )
    return {"id": delivery_id, "status": status, "attempts": attempts, "error": error}


async def digest(location_id: int | None, send: bool) -> list[dict[str, Any]]:
    """One digest per location with open reorder alerts (new ones flagged) or lots to act on by expiry.

    With `send`, each is POSTed as JSON to INVENTORY_WEBHOOK_URL (retried with back-off, recorded in
    notification_delivery), at most once a day per location. Raises NotFound for an unknown location.
    """
    today, now = clock.today(), clock.now()
    async with db.connection() as conn:
        locations = await store.digest_locations(conn, location_id)
    if location_id is not None and not locations:
        raise NotFound.of("location", location_id)
    await catch_up()
    url = os.environ.get("INVENTORY_WEBHOOK_URL", "").strip()
    results: list[dict[str, Any]] = []
    for location in locations:
        found = await _location_digest(location, today, now)
        if found is None:
            continue
        delivered_today = found.pop("delivered_today")
        if not send:
            found["delivery"] = {"status": "not_sent"}
        elif not url:
            found["delivery"] = {"status": "not_configured"}
        elif not url.lower().startswith(("http://", "https://")):
            found["delivery"] = {"status": "not_configured", "error": "INVENTORY_WEBHOOK_URL is not http(s)"}
        elif delivered_today:
            found["delivery"] = {"status": "already_sent"}
        else:
            found["delivery"] = await _deliver(url, location["id"], found["payload"])
        results.append(found)
    return results


def format_digests(digests: list[dict[str, Any]]) -> str:
    """The digests as text for the terminal: one block per location, one line per item."""
    if not digests:
        return "inventory: nothing to report"
    blocks: list[str] = []
    for found in digests:
        payload = found["payload"]
        summary = payload["summary"]
        delivery = found.get("delivery", {})
        lines = [
            f"== {payload['location']['name']} (location {payload['location']['id']}) — {payload['date']}",
            "   " + ", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in summary.items()),
        ]
        for alert in payload["reorder"]:
            flag = "NEW " if alert["new"] else ""
            ack = " (acknowledged)" if alert["acknowledged"] else ""
            lines.append(
                f"   {flag}reorder {alert['product']['name']}: usable {alert['usable_on_hand']},"
                f" point {alert['reorder_point']}, forecast {alert['forecast_demand']},"
                f" order {alert['suggested_quantity']}{ack}"
            )
        for lot in payload["expired_on_shelf"]:
            lines.append(
                f"   DISPOSE {lot['product']['name']} lot {lot['lot_number']}: {lot['on_hand']} expired"
                f" {lot['expiry_date']}"
            )
        for lot in payload["expiring"]:
            lines.append(
                f"   expiring {lot['product']['name']} lot {lot['lot_number']}: {lot['on_hand']}"
                f" in {lot['days_left']} day(s)"
            )
        status = delivery.get("status")
        if status and status != "not_sent":
            detail = f", {delivery['attempts']} attempt(s)" if "attempts" in delivery else ""
            error = f": {delivery['error']}" if delivery.get("error") else ""
            lines.append(f"   webhook: {status}{detail}{error}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)
