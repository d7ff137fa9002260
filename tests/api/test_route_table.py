"""Tests generated from the app's route table, so a new route cannot slip past them.

- every /api write route records its audit event (a route missing from WRITES fails the first test);
- no /api read that staff may call shows a client's e-mail or phone (a GET route missing from READS fails).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from inventory import clock
from inventory.domain.models import Actor
from tests.support import factories as f
from tests.support.clinic import Clinic, build, with_rule

H = dict[str, dict[str, str]]
Ids = dict[str, Any]
EMAIL = "c@example.com"  # the contacts tests/support/clinic.py gives its client
PHONE = "+33 6 12 34 56 78"


@dataclass(frozen=True)
class Write:
    """How to call one write route, as whom, and the audit action it must leave (None: why it leaves none)."""

    method: str
    route: str
    role: str
    path: Callable[[Ids], str]
    body: Callable[[Ids], dict[str, Any] | None]
    action: str | None
    why_none: str = ""


def _no_body(_: Ids) -> None:
    return None


# In the order they run: later writes use what earlier ones made (ids collected in `Ids`).
WRITES = [
    Write("POST", "/api/auth/token", "anonymous", lambda i: "/api/auth/token",
          lambda i: {"email": "staff2@clinic.test", "password": i["password"]}, "auth.token"),
    Write("POST", "/api/auth/refresh", "staff", lambda i: "/api/auth/refresh", _no_body, "auth.refresh"),
    Write("POST", "/api/users", "admin", lambda i: "/api/users",
          lambda i: {"email": f"{i['tag']}@clinic.test", "role": "staff", "password": "a long enough passphrase 7"},
          "user.create"),
    Write("PATCH", "/api/users/{user_id:int}", "admin", lambda i: f"/api/users/{i['user']}",
          lambda i: {"role": "manager"}, "user.update"),
    Write("POST", "/api/users/{user_id:int}/password", "admin", lambda i: f"/api/users/{i['user']}/password",
          lambda i: {"password": "another long passphrase 9"}, "user.password_reset"),
    Write("POST", "/api/brands", "manager", lambda i: "/api/brands", lambda i: {"name": f"Brand {i['tag']}"},
          "brand.create"),
    Write("POST", "/api/products", "manager", lambda i: "/api/products",
          lambda i: {"brand_id": i["brand"], "name": "P", "ingredients": [], "gtin": i["gtin"]}, "product.create"),
    Write("PATCH", "/api/products/{product_id:int}", "manager", lambda i: f"/api/products/{i['product']}",
          lambda i: {"implant": True}, "product.update"),
    Write("POST", "/api/locations", "manager", lambda i: "/api/locations", lambda i: {"name": f"Room {i['tag']}"},
          "location.create"),
    Write("POST", "/api/protocols", "manager", lambda i: "/api/protocols",
          lambda i: {"name": f"Protocol {i['tag']}", "items": [{"product_id": i["product"], "quantity": 2}]},
          "protocol.create"),
    Write("PATCH", "/api/locations/{location_id:int}", "manager", lambda i: f"/api/locations/{i['location']}",
          lambda i: {"timezone": "Europe/London"}, "location.update"),
    Write("PUT", "/api/locations/{location_id:int}/rules/{product_id:int}", "manager",
          lambda i: f"/api/locations/{i['location']}/rules/{i['product']}",
          lambda i: {"reorder_point": 50, "par_level": 60, "lead_time_days": 1}, "stock_rule.set"),
    Write("POST", "/api/receipts", "staff", lambda i: "/api/receipts",
          lambda i: {"location_id": i["location"], "lines": [
              {"product_id": i["product"], "lot_number": "RT1", "expiry_date": i["expiry"], "quantity": 9}]},
          "receipt.create"),
    Write("POST", "/api/transfers", "manager", lambda i: "/api/transfers",
          lambda i: {"lot_id": i["lot"], "from_location_id": i["location"], "to_location_id": i["clinic_location"],
                     "quantity": 1}, "stock.transfer"),
    Write("POST", "/api/adjustments", "manager", lambda i: "/api/adjustments",
          lambda i: {"lot_id": i["lot"], "location_id": i["location"], "delta": -1, "reason": "count"},
          "stock.adjust"),
    Write("POST", "/api/disposals", "manager", lambda i: "/api/disposals",
          lambda i: {"lot_id": i["lot"], "location_id": i["location"], "quantity": 1, "reason": "broken"},
          "stock.dispose"),
    Write("POST", "/api/stocktakes", "manager", lambda i: "/api/stocktakes",
          lambda i: {"location_id": i["location"]}, "stocktake.start"),
    Write("POST", "/api/stocktakes/{stocktake_id:int}/counts", "staff",
          lambda i: f"/api/stocktakes/{i['stocktake']}/counts", lambda i: {"lot_id": i["lot"], "quantity": 2},
          "stocktake.count"),
    Write("POST", "/api/stocktakes/{stocktake_id:int}/approve", "manager",
          lambda i: f"/api/stocktakes/{i['stocktake']}/approve", _no_body, "stocktake.approve"),
    Write("POST", "/api/stocktakes", "manager", lambda i: "/api/stocktakes",
          lambda i: {"location_id": i["location"]}, "stocktake.start"),
    Write("POST", "/api/stocktakes/{stocktake_id:int}/cancel", "manager",
          lambda i: f"/api/stocktakes/{i['stocktake']}/cancel", _no_body, "stocktake.cancel"),
    Write("POST", "/api/clients", "staff", lambda i: "/api/clients",
          lambda i: {"full_name": f"Client {i['tag']}", "allergies": []}, "client.create"),
    Write("POST", "/api/sessions", "staff", lambda i: "/api/sessions",
          lambda i: {"client_id": i["client"], "location_id": i["clinic_location"]}, "session.create"),
    Write("POST", "/api/courses", "staff", lambda i: "/api/courses",
          lambda i: {"client_id": i["client"], "location_id": i["clinic_location"], "treatment": "Glow",
                     "start_date": i["expiry"], "sessions": 2, "interval_days": 14}, "course.create"),
    Write("POST", "/api/sessions/{session_id:int}/scans", "staff",
          lambda i: f"/api/sessions/{i['clinic_session']}/scans", lambda i: {"barcode": i["code"]}, "usage.record"),
    Write("POST", "/api/sessions/{session_id:int}/reactions", "staff",
          lambda i: f"/api/sessions/{i['clinic_session']}/reactions",
          lambda i: {"kind": "swelling", "severity": "serious", "onset_at": i["onset"]}, "reaction.record"),
    Write("POST", "/api/reactions/{reaction_id:int}/follow-ups", "manager",
          lambda i: f"/api/reactions/{i['reaction']}/follow-ups",
          lambda i: {"note": "Called the client", "outcome": "recovering"}, "reaction.follow_up"),
    Write("POST", "/api/vigilance/signals/{signal:str}/quarantine", "manager",
          lambda i: f"/api/vigilance/signals/lot-{i['clinic_lot']}/quarantine",
          lambda i: {"reason": "serious reaction"}, "lot.quarantine"),
    Write("POST", "/api/alerts/reorder/{alert_id:int}/acknowledge", "manager",
          lambda i: f"/api/alerts/reorder/{i['alert']}/acknowledge", _no_body, "reorder_alert.acknowledge"),
    Write("POST", "/api/lots/{lot_id:int}/quarantine", "manager", lambda i: f"/api/lots/{i['lot']}/quarantine",
          lambda i: {"reason": "damaged box"}, "lot.quarantine"),
    Write("POST", "/api/lots/{lot_id:int}/release", "manager", lambda i: f"/api/lots/{i['lot']}/release",
          lambda i: {"reason": "box fine"}, "lot.release"),
    Write("POST", "/api/recalls", "manager", lambda i: "/api/recalls",
          lambda i: {"lot_ids": [i["clinic_lot"]], "reason": "Manufacturer notice"}, "recall.create"),
    Write("PATCH", "/api/recalls/{recall_id:int}/clients/{client_id:int}", "manager",
          lambda i: f"/api/recalls/{i['recall']}/clients/{i['clinic_client']}",
          lambda i: {"contact_status": "contacted"}, "recall.client_status"),
    Write("POST", "/api/recalls/{recall_id:int}/clients/{client_id:int}", "manager",
          lambda i: f"/api/recalls/{i['recall']}/clients/{i['clinic_client']}",
          lambda i: {"contact_status": "acknowledged"}, "recall.client_status"),
    Write("POST", "/api/recalls/{recall_id:int}/close", "manager", lambda i: f"/api/recalls/{i['recall']}/close",
          _no_body, "recall.close"),
    Write("POST", "/api/usages/{usage_id:int}/void", "staff", lambda i: f"/api/usages/{i['usage']}/void",
          lambda i: {"reason": "scanned twice"}, "usage.void"),
    Write("POST", "/api/sessions/{session_id:int}/close", "staff",
          lambda i: f"/api/sessions/{i['session']}/close", _no_body, "session.close"),
    Write("POST", "/api/labels/sheet", "staff", lambda i: "/api/labels/sheet",
          lambda i: {"items": [{"lot_id": i["lot"], "copies": 1}]}, None,
          "draws a PDF; it changes nothing"),
    Write("POST", "/api/auth/logout", "staff2_fresh", lambda i: "/api/auth/logout", _no_body, "auth.logout"),
    Write("POST", "/api/suppliers", "manager", lambda i: "/api/suppliers",
          lambda i: {"name": f"Supplier {i['tag']}"}, "supplier.create"),
    Write("PUT", "/api/suppliers/{supplier_id:int}/products/{product_id:int}", "manager",
          lambda i: f"/api/suppliers/{i['supplier']}/products/{i['clinic_product']}",
          lambda i: {"pack_units": 5, "lead_time_days": 2}, "supplier_product.set"),
    Write("POST", "/api/purchase-orders/from-alerts", "manager", lambda i: "/api/purchase-orders/from-alerts",
          lambda i: {"location_id": i["clinic_location"]}, "purchase_order.from_alerts"),
    Write("PATCH", "/api/purchase-orders/{order_id:int}/lines/{product_id:int}", "manager",
          lambda i: f"/api/purchase-orders/{i['order']}/lines/{i['clinic_product']}",
          lambda i: {"quantity": 20}, "purchase_order.line_set"),
    Write("POST", "/api/purchase-orders/{order_id:int}/send", "manager",
          lambda i: f"/api/purchase-orders/{i['order']}/send", _no_body, "purchase_order.send"),
    Write("POST", "/api/purchase-orders/{order_id:int}/cancel", "manager",
          lambda i: f"/api/purchase-orders/{i['order']}/cancel", _no_body, "purchase_order.cancel"),
    Write("POST", "/api/clients/{client_id:int}/erase", "admin", lambda i: f"/api/clients/{i['client']}/erase",
          lambda i: {"reason": "asked by the client"}, "client.erase"),
    Write("POST", "/api/supplier-returns", "manager", lambda i: "/api/supplier-returns",
          lambda i: {"lot_id": i["clinic_lot"], "location_id": i["clinic_location"], "quantity": 1,
                     "supplier_id": i["supplier"], "reason": "damaged"}, "supplier_return.create"),
]  # fmt: skip


def _api_routes(app: Litestar, methods: set[str]) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in app.routes
        if route.path.startswith("/api")
        for method in getattr(route, "methods", ())
        if method in methods
    }


def test_every_write_route_is_in_the_table(app: Litestar) -> None:
    assert {(w.method, w.route) for w in WRITES} == _api_routes(app, {"POST", "PUT", "PATCH", "DELETE"})


def _collect(ids: Ids, write: Write, body: Any) -> None:
    """Remember the ids the later writes need."""
    if write.route == "/api/users":
        ids["user"] = body["id"]
    elif write.route == "/api/brands":
        ids["brand"] = body["id"]
    elif write.route == "/api/products":
        ids["product"] = body["id"]
    elif write.route == "/api/locations":
        ids["location"] = body["id"]
    elif write.route == "/api/receipts":
        ids["lot"] = body["lines"][0]["lot"]["id"]
    elif write.route == "/api/clients":
        ids["client"] = body["id"]
    elif write.route == "/api/sessions":
        ids["session"] = body["id"]
    elif write.route.endswith("/scans"):
        ids["usage"] = body["usage_id"] if "usage_id" in body else body["id"]
    elif write.route == "/api/recalls":
        ids["recall"] = body["id"]
    elif write.route == "/api/suppliers":
        ids["supplier"] = body["id"]
    elif write.route == "/api/purchase-orders/from-alerts":
        ids["order"] = body["items"][0]["id"]
    elif write.route == "/api/stocktakes":
        ids["stocktake"] = body["id"]
    elif write.route.endswith("/reactions"):
        ids["reaction"] = body["id"]


async def _clinic_with_alert(actors: dict[str, Actor]) -> Clinic:
    """A clinic whose product is below its reorder point, so a reorder alert is open."""
    clinic = await build(actors, on_hand=3)
    await with_rule(actors, clinic, reorder_point=5, par_level=20, lead_time_days=0)
    return clinic


async def test_every_write_route_records_its_audit_event(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
) -> None:
    from tests.conftest import PASSWORD

    clinic = await _clinic_with_alert(actors)
    alert = await conn.fetchval("SELECT id FROM reorder_alert WHERE product = $1", clinic.product["id"])
    tag = f.unique("rt").replace(" ", "")
    ids: Ids = {
        "password": PASSWORD,
        "tag": tag,
        "gtin": f.make_gtin(int(tag[2:]) + 77),
        "expiry": f.in_days(120).isoformat(),
        "clinic_location": clinic.location_id,
        "clinic_session": clinic.session["id"],
        "clinic_lot": clinic.lot["id"],
        "clinic_product": clinic.product["id"],
        "clinic_client": clinic.client["id"],
        "code": clinic.code(),
        "alert": alert,
        "onset": clock.now().isoformat(),
    }
    fresh = await client.post("/api/auth/token", json={"email": "staff2@clinic.test", "password": PASSWORD})
    headers = {
        **auth_headers,
        "anonymous": {},
        "staff2_fresh": {"Authorization": f"Bearer {fresh.json()['access_token']}"},
    }
    for write in WRITES:
        before = await conn.fetchval("SELECT coalesce(max(id), 0) FROM audit_event")
        response = await client.request(
            write.method, write.path(ids), json=write.body(ids), headers=headers[write.role]
        )
        assert response.status_code < 300, (write.route, response.status_code, response.text)
        actions = [r["action"] for r in await conn.fetch("SELECT action FROM audit_event WHERE id > $1", before)]
        if write.action is None:
            assert write.why_none
            assert actions == [], (write.route, actions)
        else:
            assert write.action in actions, (write.route, actions)
        if response.headers.get("content-type", "").startswith("application/json"):
            _collect(ids, write, response.json())


# GET routes staff may call, with the ids they need; managers' routes are checked to refuse staff (403).
READS: dict[str, Callable[[Clinic], str] | None] = {
    "/api/users": None,
    "/api/brands": lambda c: "/api/brands",
    "/api/locations": lambda c: "/api/locations",
    "/api/products": lambda c: "/api/products",
    "/api/products/{product_id:int}": lambda c: f"/api/products/{c.product['id']}",
    "/api/rules": lambda c: "/api/rules",
    "/api/lots/{lot_id:int}": lambda c: f"/api/lots/{c.lot['id']}",
    "/api/lots": lambda c: f"/api/lots?lot_number={c.lot['lot_number']}",
    "/api/stock": lambda c: f"/api/stock?location_id={c.location_id}",
    "/api/movements": None,
    "/api/audit": None,
    "/api/clients": lambda c: f"/api/clients?q={c.client['full_name']}",
    "/api/sessions": lambda c: f"/api/sessions?location_id={c.location_id}&date={f.in_days(0).isoformat()}",
    "/api/clients/{client_id:int}": lambda c: f"/api/clients/{c.client['id']}",
    "/api/courses/{course_id:int}": lambda c: f"/api/courses/{c.session.get('course_id') or 0}",
    "/api/sessions/{session_id:int}": lambda c: f"/api/sessions/{c.session['id']}",
    "/api/alerts/digest": None,
    "/api/alerts/expiry": None,
    "/api/alerts/reorder/{alert_id:int}": None,
    "/api/alerts/reorder": None,
    "/api/clients/{client_id:int}/history": None,
    "/api/trace/lot": None,
    "/api/recalls/{recall_id:int}/clients.csv": None,
    "/api/recalls": None,
    "/api/recalls/{recall_id:int}": None,
    "/api/lots/{lot_id:int}/label": lambda c: f"/api/lots/{c.lot['id']}/label?format=svg",
    "/api/labels/templates": lambda c: "/api/labels/templates",
    "/api/reactions/{reaction_id:int}": None,
    "/api/reactions/{reaction_id:int}/report": None,
    "/api/reactions": None,
    "/api/vigilance/signals": None,
    # Staff print it at the chair; it names the client (the card is the client's), never e-mail or phone (the
    # card's text is checked in test_implants_and_erasure_api.py; a PDF's compressed text cannot be searched here).
    "/api/usages/{usage_id:int}/implant-card": lambda c: "/api/usages/999999/implant-card",
    "/api/suppliers": lambda c: "/api/suppliers",
    "/api/purchase-orders": lambda c: "/api/purchase-orders",
    "/api/purchase-orders/{document:str}": lambda c: "/api/purchase-orders/1",
    "/api/stocktakes/{stocktake_id:int}": None,
    "/api/stocktakes": lambda c: f"/api/stocktakes?location_id={c.location_id}&status=open",
    "/api/supplier-returns": None,
    "/api/supplier-returns/{document:str}": None,
    "/api/containers": lambda c: f"/api/containers?location_id={c.location_id}",
    "/api/protocols": lambda c: "/api/protocols",
    "/api/protocols/{protocol_id:int}": lambda c: "/api/protocols/1",
}


def test_every_read_route_is_in_the_table(app: Litestar) -> None:
    assert {("GET", route) for route in READS} == _api_routes(app, {"GET"})


@pytest.mark.parametrize("route", sorted(READS))
async def test_staff_never_see_a_clients_contacts(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], route: str
) -> None:
    clinic = await build(actors, on_hand=5)
    scanned = await client.post(
        f"/api/sessions/{clinic.session['id']}/scans", json={"barcode": clinic.code()}, headers=auth_headers["staff"]
    )
    assert scanned.status_code == 201
    make_path = READS[route]
    if make_path is None:  # a manager's route: staff are refused before anything is read
        concrete = (
            route.replace("{alert_id:int}", "1").replace("{recall_id:int}", "1").replace("{reaction_id:int}", "1")
        )
        concrete = concrete.replace("{stocktake_id:int}", "1").replace("{document:str}", "1")
        concrete = concrete.replace("{client_id:int}", str(clinic.client["id"]))
        refused = await client.get(concrete, headers=auth_headers["staff"])
        assert refused.status_code == 403, (route, refused.status_code)
        return
    response = await client.get(make_path(clinic), headers=auth_headers["staff"])
    assert response.status_code in (200, 404), (route, response.status_code, response.text)
    assert EMAIL not in response.text and PHONE not in response.text, route
    shown = await client.get(f"/api/clients/{clinic.client['id']}", headers=auth_headers["manager"])
    assert shown.json()["email"] == EMAIL  # the same client's contacts exist, for the roles that may see them
