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
import urllib.error
import urllib.request
import weakref
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from inventory import clock, db
from inventory.config import DEFAULT_TIMEZONE
from inventory.db import Connection
from inventory.domain.errors import Conflict, Forbidden, NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.domain.reorder import TREND_DAYS, LotStock, PlannedUse, unused_in_time
from inventory.services import alerting
from inventory.services.views import location_view, lot_view
from inventory.store import alerts as store
from inventory.store import audit
from inventory.store import jobs as jobs_store

CHUNK = 1000  # pairs per transaction: keeps each refresh transaction (and the rows it locks) short
MAX_CATCH_UP_DAYS = TREND_DAYS  # beyond this, a full refresh is as cheap as working out what changed
DIGEST_EXPIRY_DAYS = 30
RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)  # exponential back-off between webhook attempts
WEBHOOK_TIMEOUT = 10.0
VIEWS = ("expiring", "expired", "unused_in_time")

Enqueue = Callable[[Connection, int], Awaitable[None]]  # queues work for a row, in the caller's transaction

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


def _covered_until(details: Any) -> datetime | None:
    """The instant a refresh event evaluated its locations at (older events recorded only a UTC date)."""
    if not isinstance(details, dict):
        return None
    try:
        if "at" in details:
            at = datetime.fromisoformat(str(details["at"]))
            return at if at.tzinfo is not None else None
        return datetime.combine(date.fromisoformat(str(details["date"])), time(0), tzinfo=UTC)
    except (KeyError, ValueError):
        return None


async def _due(location_id: int | None, now: datetime) -> tuple[list[int], list[tuple[int, date, date]]]:
    """Locations to evaluate in full, and (location, last day, today) to catch up, in each one's local days."""
    async with db.connection() as conn:
        rows = await store.watermarks(conn, location_id)
    full: list[int] = []
    changed: list[tuple[int, date, date]] = []
    for row in rows:
        today = clock.today_in(row["timezone"], now)
        instants = [i for i in (_covered_until(row["everywhere"]), _covered_until(row["own"])) if i is not None]
        last = clock.today_in(row["timezone"], max(instants)) if instants else None
        if last == today:
            continue
        if last is None or last > today or (today - last).days > MAX_CATCH_UP_DAYS:
            full.append(row["id"])
        else:
            changed.append((row["id"], last, today))
    return full, changed


async def _refresh(
    now: datetime, location_id: int | None, full: list[int], changed: list[tuple[int, date, date]]
) -> int:
    """Re-evaluate `full` locations entirely and what changed at the others; record `now` as evaluated."""
    async with db.connection() as conn:
        pairs: set[tuple[int, int]] = set()
        if location_id is None and full and not changed:
            pairs.update(await store.all_pairs(conn, None))
        else:
            for place in full:
                pairs.update(await store.all_pairs(conn, place))
        if changed:
            pairs.update(await store.changed_pairs(conn, changed))
    ordered = sorted(pairs)
    opened, resolved = await _reevaluate_in_chunks(ordered)
    details: dict[str, Any] = {
        # Each location was evaluated on its own local date at this instant (the watermark every process reads).
        "at": now.isoformat(),
        "date": now.date().isoformat(),
        "mode": "catch_up" if changed else "full",
        "pairs": len(ordered),
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
    return len(ordered)


async def refresh_all() -> int:
    """Re-evaluate the reorder alert of every product and location with a rule or an open alert."""
    now = clock.now()
    async with db.connection() as conn:
        everywhere = [row["id"] for row in await store.watermarks(conn, None)]
    return await _refresh(now, None, everywhere, [])


async def refresh_location(location_id: int) -> int:
    """Re-evaluate every reorder alert of one location (the nightly job, after its local midnight)."""
    return await _refresh(clock.now(), location_id, [location_id], [])


async def catch_up(location_id: int | None = None) -> int:
    """Bring reorder alerts (of one location, or all) up to each location's local today after time alone moved on.

    Returns the number of pairs re-evaluated: 0 when every location's day was already evaluated.
    """
    now = clock.now()
    full, changed = await _due(location_id, now)
    if not full and not changed:
        return 0
    async with _lock():
        full, changed = await _due(location_id, now)
        if not full and not changed:
            return 0
        return await _refresh(now, location_id, full, changed)


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
        "location": location_view(row),
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


async def as_of(*, location_id: int | None, default_timezone: str) -> date:
    """Today at the location (or, without one or for an unknown one, in `default_timezone`)."""
    timezone = default_timezone
    if location_id is not None:
        async with db.connection() as conn:
            rows = await store.digest_locations(conn, location_id)
        if rows:
            timezone = rows[0]["timezone"]
    return clock.today_in(timezone)


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
        "location": {"id": location["id"], "name": location["name"], "timezone": location["timezone"]},
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
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:  # http(s) only: checked by callers
        status: int = response.status
        return status


def webhook_problem(url: str | None) -> dict[str, str] | None:
    """Why digests cannot be sent to `url` (a delivery status), or None when it is a usable http(s) URL."""
    if not url:
        return {"status": "not_configured"}
    if not url.lower().startswith(("http://", "https://")):
        return {"status": "not_configured", "error": "INVENTORY_WEBHOOK_URL is not http(s)"}
    return None


async def _post_once(url: str, body: bytes, key: str) -> tuple[str | None, bool]:
    """One POST: (error or None, whether another attempt may succeed)."""
    try:
        await asyncio.to_thread(_post, url, body, key)
        return None, False
    except urllib.error.HTTPError as exc:
        # The receiver refuses this body (4xx but timeout and rate limit): retrying will not help.
        return f"HTTP {exc.code}", exc.code >= 500 or exc.code in (408, 429)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"[:500], True


async def create_delivery(location_id: int, payload: dict[str, Any], enqueue: Enqueue | None = None) -> int:
    """Record a digest to send (status `queued`); `enqueue` (in the same transaction) queues its sending."""
    async with db.transaction() as conn:
        delivery_id = await store.create_delivery(conn, location_id=location_id, payload=payload, at=clock.now())
        if enqueue is not None:
            await enqueue(conn, delivery_id)
    return delivery_id


async def attempt_delivery(delivery_id: int, url: str, *, delays: tuple[float, ...] = RETRY_DELAYS) -> dict[str, Any]:
    """POST a queued digest once and record the attempt (count, error, status) on its delivery row.

    The row stays locked during the POST, so two workers never send one attempt twice. Returns the delivery
    as `{"id","status","attempts","error"}` plus `retry_in` (seconds until the next attempt, None when
    there is none): after a retryable failure `delays[attempts - 1]`, while delays remain; otherwise the
    delivery is `failed` (or `delivered`) for good and audited.
    """
    async with db.transaction() as conn:
        row = await store.lock_pending_delivery(conn, delivery_id)
        if row is None:  # already finished, or another worker is sending it right now
            return {"id": delivery_id, "status": "busy_or_done", "attempts": None, "error": None, "retry_in": None}
        attempts = int(row["attempts"]) + 1
        error, retryable = await _post_once(url, json.dumps(row["payload"]).encode(), f"digest-{delivery_id}")
        retry_in = delays[attempts - 1] if error is not None and retryable and attempts <= len(delays) else None
        status = "delivered" if error is None else ("retrying" if retry_in is not None else "failed")
        await store.finish_delivery(
            conn, delivery_id=delivery_id, status=status, attempts=attempts, error=error, at=clock.now()
        )
        if status != "retrying":
            await audit.record(
                conn,
                actor_id=None,
                action=f"digest.{status}",
                entity="notification_delivery",
                entity_id=delivery_id,
                details={"location_id": row["location"], "attempts": attempts, "error": error},
            )
    return {"id": delivery_id, "status": status, "attempts": attempts, "error": error, "retry_in": retry_in}


async def _deliver(url: str, location_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    """POST one digest now, retrying with exponential back-off (RETRY_DELAYS) in this task: for manual runs."""
    delivery_id = await create_delivery(location_id, payload)
    while True:
        result = await attempt_delivery(delivery_id, url, delays=RETRY_DELAYS)
        if result["retry_in"] is None:
            result.pop("retry_in")
            return result
        await asyncio.sleep(result["retry_in"])


async def _zones(location_ids: list[int], default_zone: str) -> dict[int, str]:
    async with db.connection() as conn:
        zones = await jobs_store.location_zones(conn, default_zone)
    return {i: zones.get(i, default_zone) for i in location_ids}


async def location_digest(location_id: int, day: date) -> dict[str, Any] | None:
    """One location's digest for its local `day` (None when there is nothing to report); raises NotFound.

    `delivered_today` says whether that day's digest was already delivered.
    """
    async with db.connection() as conn:
        locations = await store.digest_locations(conn, location_id)
    if not locations:
        raise NotFound.of("location", location_id)
    await catch_up(location_id)
    return await _location_digest(locations[0], day, clock.now())


async def digest(
    location_id: int | None,
    send: bool,
    *,
    webhook_url: str | None = None,
    default_zone: str = DEFAULT_TIMEZONE,
) -> list[dict[str, Any]]:
    """One digest per location with open reorder alerts (new ones flagged) or lots to act on by expiry.

    Each is dated with its location's local day. With `send`, each is POSTed as JSON to `webhook_url`
    (Settings' INVENTORY_WEBHOOK_URL; retried with back-off, recorded in notification_delivery), at most once
    a local day per location. Raises NotFound for an unknown location.
    """
    now = clock.now()
    async with db.connection() as conn:
        locations = await store.digest_locations(conn, location_id)
    if location_id is not None and not locations:
        raise NotFound.of("location", location_id)
    await catch_up()
    zones = await _zones([loc["id"] for loc in locations], default_zone)
    url = (webhook_url or "").strip()
    problem = webhook_problem(url)
    results: list[dict[str, Any]] = []
    for location in locations:
        # The digest's day is the location's own date: "already sent today" resets at its local midnight.
        found = await _location_digest(location, clock.today_in(zones[location["id"]], now), now)
        if found is None:
            continue
        delivered_today = found.pop("delivered_today")
        if not send:
            found["delivery"] = {"status": "not_sent"}
        elif problem is not None:
            found["delivery"] = problem
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
