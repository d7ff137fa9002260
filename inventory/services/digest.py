"""The daily digest of each location: new and open reorder alerts, late purchase orders, lots to act on by expiry
and open vigilance signals (the deployment's: lots travel between locations), as of now."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from inventory import clock, db
from inventory.config import DEFAULT_TIMEZONE
from inventory.domain import purchasing as order_rules
from inventory.domain.errors import NotFound
from inventory.services import alert_refresh, expiry_views, purchasing, reorder_alerts, vigilance, webhook
from inventory.store import digests as store
from inventory.store import jobs as jobs_store

DIGEST_EXPIRY_DAYS = 30


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)  # a typed record (a signal's lot or product) as its fields
    if isinstance(value, Decimal):  # a quantity in ml or U: the JSON number it is (exact to two places)
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _jsonable(value: Any) -> Any:
    """Dates as ISO strings and records as objects, as they travel in the webhook body and the delivery record."""
    return json.loads(json.dumps(value, default=_json_default))


async def _location_digest(location: Any, today: date, now: datetime) -> dict[str, Any] | None:
    async with db.connection() as conn:
        last = await store.last_delivery(conn, location["id"], today.isoformat())
    since: datetime = last["last_delivered"] or (now - timedelta(days=1))
    alerts = await reorder_alerts.list_reorder(status="open", location_id=location["id"])
    shelf = await expiry_views.expiry(within_days=DIGEST_EXPIRY_DAYS, location_id=location["id"])
    late = await purchasing.list_orders(location_id=location["id"], late=True, limit=1000)
    signals = await vigilance.list_signals()
    opened = await expiry_views.opened_past_use_by(location_id=location["id"])
    if not alerts and not shelf and not late and not signals and not opened:
        return None
    reorder = [
        {
            "alert_id": a["id"],
            "new": a["opened_at"] is None or a["opened_at"] > since,  # None: opens at the refresh
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
    late_orders = [
        {
            "purchase_order_id": v.order.id,
            "supplier": {"id": v.order.supplier_id, "name": v.order.supplier_name},
            "status": v.order.status,
            "sent_at": v.order.sent_at,
            "expected_on": v.order.expected_on,
            "days_late": (today - v.order.expected_on).days if v.order.expected_on else None,
            "outstanding": sum(
                order_rules.outstanding(order_rules.LineState(li.quantity, li.received)) for li in v.order.lines
            ),
        }
        for v in late
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
            "late_purchase_orders": len(late_orders),
            "open_vigilance_signals": len(signals),
            "opened_past_use_by": len(opened),
        },
        "reorder": reorder,
        "late_purchase_orders": late_orders,
        "expired_on_shelf": expired,
        "expiring": expiring,
        "vigilance_signals": [
            {
                "id": signal.id,
                "kind": signal.kind,
                "lot": signal.lot,
                "product": signal.product,
                "clients": signal.clients,
                "reactions": signal.reactions,
                "serious": signal.serious,
                "uses": signal.uses,
                "last_onset": signal.last_onset,
                "reasons": list(signal.reasons),
            }
            for signal in signals
        ],
        "opened_past_use_by": [
            {
                "container_id": c["id"],
                "lot_id": c["lot"]["id"],
                "lot_number": c["lot"]["lot_number"],
                "product": c["product"],
                "remaining": c["remaining"],
                "use_by": c["use_by"],
            }
            for c in opened
        ],
    }
    return {
        "location_id": location["id"],
        "payload": _jsonable(payload),
        "delivered_today": bool(last["delivered_today"]),
    }


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
    await alert_refresh.catch_up(location_id)  # the job may run before the location's refresh: alerts first
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
    if send:  # a digest that is sent names stored alerts; a preview reads them as of now and writes nothing
        await alert_refresh.catch_up()
    zones = await _zones([loc["id"] for loc in locations], default_zone)
    url = (webhook_url or "").strip()
    problem = webhook.webhook_problem(url)
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
            found["delivery"] = await webhook.deliver_now(url, location["id"], found["payload"])
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
        for order in payload.get("late_purchase_orders", ()):
            lines.append(
                f"   LATE purchase order {order['purchase_order_id']} from {order['supplier']['name']}:"
                f" expected {order['expected_on']}, {order['outstanding']} unit(s) outstanding"
            )
        for lot in payload["expired_on_shelf"]:
            lines.append(
                f"   DISPOSE {lot['product']['name']} lot {lot['lot_number']}: {lot['on_hand']} expired"
                f" {lot['expiry_date']}"
            )
        for opened in payload.get("opened_past_use_by", []):
            lines.append(
                f"   DISPOSE opened {opened['product']['name']} lot {opened['lot_number']}: {opened['remaining']}"
                f" {opened['product']['unit']} left, use by {opened['use_by']}"
            )
        for lot in payload["expiring"]:
            lines.append(
                f"   expiring {lot['product']['name']} lot {lot['lot_number']}: {lot['on_hand']}"
                f" in {lot['days_left']} day(s)"
            )
        for signal in payload.get("vigilance_signals", []):
            subject = f"lot {signal['lot']['lot_number']}" if signal["lot"] else "all lots"
            lines.append(
                f"   SIGNAL {signal['product']['name']} {subject}: {signal['clients']} client(s),"
                f" {signal['serious']} serious, {signal['uses']} use(s)"
            )
        status = delivery.get("status")
        if status and status != "not_sent":
            detail = f", {delivery['attempts']} attempt(s)" if "attempts" in delivery else ""
            error = f": {delivery['error']}" if delivery.get("error") else ""
            lines.append(f"   webhook: {status}{detail}{error}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)
