"""Purchasing over HTTP: suppliers, drafts from alerts in packs, send, cancel, on order in the alerts, receiving."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from inventory import clock
from inventory.domain.models import Actor
from inventory.services import alerting, webhook
from inventory.store import digests
from tests.support import factories as f
from tests.support.clinic import Clinic, build, with_rule
from tests.support.db import row_counts
from tests.support.webhook import Hook

H = dict[str, dict[str, str]]
TABLES = ("supplier", "supplier_product", "purchase_order", "purchase_order_line", "receipt", "audit_event")


async def _supplier(client: httpx.AsyncClient, h: H, name: str | None = None) -> dict[str, Any]:
    response = await client.post(
        "/api/suppliers", json={"name": name or f.unique("Supplier"), "email": "o@s.test"}, headers=h["manager"]
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _sells(
    client: httpx.AsyncClient, h: H, supplier_id: int, product_id: int, *, pack_units: int = 6, lead: int = 3
) -> httpx.Response:
    return await client.put(
        f"/api/suppliers/{supplier_id}/products/{product_id}",
        json={"pack_units": pack_units, "lead_time_days": lead, "reference": "REF-1"},
        headers=h["manager"],
    )


async def _short(actors: dict[str, Actor], *, reorder_point: int = 5, par_level: int = 20) -> Clinic:
    """3 on hand, boxes of 10: the alert suggests 20 (par 20 - 3 = 17, up to whole boxes)."""
    clinic = await build(actors, on_hand=3)
    await with_rule(actors, clinic, reorder_point=reorder_point, par_level=par_level, lead_time_days=0)
    return clinic


async def _from_alerts(client: httpx.AsyncClient, h: H, location_id: int, **headers: str) -> httpx.Response:
    return await client.post(
        "/api/purchase-orders/from-alerts", json={"location_id": location_id}, headers={**h["manager"], **headers}
    )


async def _alert(client: httpx.AsyncClient, h: H, clinic: Clinic, status: str = "all") -> dict[str, Any]:
    response = await client.get(
        f"/api/alerts/reorder?status={status}&location_id={clinic.location_id}&product_id={clinic.product['id']}",
        headers=h["manager"],
    )
    items: list[dict[str, Any]] = response.json()["items"]
    return max(items, key=lambda a: a["id"] or 0)


async def _drafted(
    client: httpx.AsyncClient, h: H, actors: dict[str, Actor], **kw: Any
) -> tuple[Clinic, dict[str, Any]]:
    clinic = await _short(actors, **kw)
    supplier = await _supplier(client, h)
    assert (await _sells(client, h, supplier["id"], clinic.product["id"])).status_code == 200
    response = await _from_alerts(client, h, clinic.location_id)
    assert response.status_code == 201, response.text
    (order,) = response.json()["items"]
    return clinic, order


# ------------------------------------------------------------------ suppliers


async def test_a_supplier_is_created_and_listed_with_what_it_sells(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    supplier = await _supplier(client, auth_headers, "Filorga Direct")
    assert supplier["name"] == "Filorga Direct" and supplier["products"] == []
    response = await client.put(
        f"/api/suppliers/{supplier['id']}/products/{clinic.product['id']}",
        json={"pack_gtin": clinic.box_gtin[1:], "pack_units": 10, "lead_time_days": 5},
        headers=auth_headers["manager"],
    )
    assert response.status_code == 200, response.text
    (product,) = response.json()["products"]
    assert product["pack_gtin"] == clinic.box_gtin  # stored as 14 digits
    assert (product["pack_units"], product["lead_time_days"], product["reference"]) == (10, 5, None)
    again = await _sells(client, auth_headers, supplier["id"], clinic.product["id"], pack_units=12, lead=1)
    assert [(p["pack_units"], p["pack_gtin"]) for p in again.json()["products"]] == [(12, None)]  # one per product
    listed = await client.get("/api/suppliers", headers=auth_headers["staff"])
    assert listed.status_code == 200
    assert any(s["id"] == supplier["id"] for s in listed.json()["items"])


async def test_a_supplier_name_is_unique_ignoring_case(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    await _supplier(client, auth_headers, "Medical Supplies SA")
    before = await row_counts(conn, TABLES)
    response = await client.post(
        "/api/suppliers", json={"name": "medical  supplies sa"}, headers=auth_headers["manager"]
    )
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate"
    assert await row_counts(conn, TABLES) == before


async def test_a_bad_pack_gtin_is_refused(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    supplier = await _supplier(client, auth_headers)
    before = await row_counts(conn, TABLES)
    response = await client.put(
        f"/api/suppliers/{supplier['id']}/products/{clinic.product['id']}",
        json={"pack_gtin": "3760001234568", "pack_units": 10, "lead_time_days": 5},
        headers=auth_headers["manager"],
    )
    assert response.status_code == 422
    assert response.json()["code"] == "gtin_invalid"
    assert await row_counts(conn, TABLES) == before


async def test_unknown_supplier_or_product_is_404(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    supplier = await _supplier(client, auth_headers)
    assert (await _sells(client, auth_headers, 2_000_000_000, clinic.product["id"])).status_code == 404
    assert (await _sells(client, auth_headers, supplier["id"], 2_000_000_000)).status_code == 404


async def test_staff_may_not_write_suppliers_or_orders(client: httpx.AsyncClient, auth_headers: H) -> None:
    staff = auth_headers["staff"]
    assert (await client.post("/api/suppliers", json={"name": "X"}, headers=staff)).status_code == 403
    assert (await client.post("/api/purchase-orders/from-alerts", json={}, headers=staff)).status_code == 403
    assert (await client.post("/api/purchase-orders/1/send", headers=staff)).status_code == 403
    assert (await client.post("/api/purchase-orders/1/cancel", headers=staff)).status_code == 403


# ------------------------------------------------------------------ drafts from alerts


async def test_from_alerts_drafts_one_order_in_whole_packs(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)
    assert order["status"] == "draft" and order["expected_on"] is None and order["late"] is False
    assert order["location"]["id"] == clinic.location_id
    # the alert suggests 20 (boxes of 10); the supplier sells packs of 6: 4 packs, 24 units
    assert order["lines"] == [
        {
            "product_id": clinic.product["id"],
            "product_name": clinic.product["name"],
            "quantity": 24,
            "received": 0,
            "outstanding": 24,
            "over_delivered": 0,
            "pack_units": 6,
            "packs": 4,
        }
    ]
    got = await client.get(f"/api/purchase-orders/{order['id']}", headers=auth_headers["staff"])
    assert got.status_code == 200 and got.json() == order


async def test_a_second_from_alerts_run_adds_nothing_to_the_draft(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)
    again = await _from_alerts(client, auth_headers, clinic.location_id)
    assert again.status_code == 201
    assert again.json() == {"items": [], "unassigned": []}
    lines = await conn.fetch("SELECT quantity FROM purchase_order_line WHERE purchase_order = $1", order["id"])
    assert [r["quantity"] for r in lines] == [24]


async def test_a_second_from_alerts_run_orders_nothing_new_after_the_first_was_sent(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)
    sent = await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])
    assert sent.status_code == 200, sent.text
    alert = await _alert(client, auth_headers, clinic)
    assert alert["on_order"] == 24
    assert alert["status"] == "resolved"  # 3 on hand + 24 on order is above the point
    again = await _from_alerts(client, auth_headers, clinic.location_id)
    assert again.json() == {"items": [], "unassigned": []}


async def test_products_without_a_supplier_are_reported(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await _short(actors)
    response = await _from_alerts(client, auth_headers, clinic.location_id)
    assert response.status_code == 201
    assert response.json() == {
        "items": [],
        "unassigned": [{"product_id": clinic.product["id"], "location_id": clinic.location_id, "quantity": 20}],
    }
    assert await conn.fetchval("SELECT count(*) FROM purchase_order") == 0
    assert await conn.fetchval("SELECT count(*) FROM audit_event WHERE action = 'purchase_order.from_alerts'") == 1


async def test_from_alerts_for_an_unknown_location_is_404(client: httpx.AsyncClient, auth_headers: H) -> None:
    response = await _from_alerts(client, auth_headers, 2_000_000_000)
    assert response.status_code == 404


async def test_from_alerts_replays_with_the_same_idempotency_key(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await _short(actors)
    supplier = await _supplier(client, auth_headers)
    await _sells(client, auth_headers, supplier["id"], clinic.product["id"])
    first = await _from_alerts(client, auth_headers, clinic.location_id, **{"Idempotency-Key": "po-1"})
    replay = await _from_alerts(client, auth_headers, clinic.location_id, **{"Idempotency-Key": "po-1"})
    assert first.status_code == replay.status_code == 201
    assert replay.headers.get("Idempotency-Replayed") == "true"
    assert replay.json() == first.json()
    assert await conn.fetchval("SELECT count(*) FROM purchase_order") == 1


# ------------------------------------------------------------------ drafts, send, cancel


async def test_a_draft_line_is_edited_but_not_once_sent(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)
    path = f"/api/purchase-orders/{order['id']}/lines/{clinic.product['id']}"
    edited = await client.patch(path, json={"quantity": 12}, headers=auth_headers["manager"])
    assert edited.status_code == 200, edited.text
    assert edited.json()["lines"][0]["quantity"] == 12
    assert (await client.patch(path.rsplit("/", 1)[0] + "/2000000000", json={"quantity": 1},
                               headers=auth_headers["manager"])).status_code == 404  # fmt: skip
    await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])
    before = await row_counts(conn, TABLES)
    refused = await client.patch(path, json={"quantity": 30}, headers=auth_headers["manager"])
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    assert await row_counts(conn, TABLES) == before


async def test_a_draft_line_set_to_zero_is_removed_and_comes_back_on_the_next_run_from_alerts(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)
    path = f"/api/purchase-orders/{order['id']}/lines/{clinic.product['id']}"
    removed = await client.patch(path, json={"quantity": 0}, headers=auth_headers["manager"])
    assert removed.status_code == 200, removed.text
    assert removed.json()["lines"] == []
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM audit_event WHERE action = 'purchase_order.line_removed' AND entity_id = $1",
            order["id"],
        )
        == 1
    )
    again = await client.patch(path, json={"quantity": 0}, headers=auth_headers["manager"])
    assert again.status_code == 404 and again.json()["code"] == "not_found"
    sent = await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])
    assert sent.status_code == 409  # an order with no line is never sent
    back = await _from_alerts(client, auth_headers, clinic.location_id)
    [line] = back.json()["items"][0]["lines"]
    assert line["product_id"] == clinic.product["id"]


async def test_sending_sets_the_expected_date_from_the_suppliers_lead_time(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)
    sent = await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])
    body = sent.json()
    assert body["status"] == "sent"
    assert body["expected_on"] == (clock.today_in(f.PARIS) + timedelta(days=3)).isoformat()
    assert body["late"] is False
    twice = await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_transition"
    listed = await client.get(
        f"/api/purchase-orders?status=sent&location_id={clinic.location_id}", headers=auth_headers["manager"]
    )
    assert [o["id"] for o in listed.json()["items"]] == [order["id"]]


async def test_send_replays_with_the_same_idempotency_key(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    _, order = await _drafted(client, auth_headers, actors)
    headers = {**auth_headers["manager"], "Idempotency-Key": "send-1"}
    first = await client.post(f"/api/purchase-orders/{order['id']}/send", headers=headers)
    replay = await client.post(f"/api/purchase-orders/{order['id']}/send", headers=headers)
    assert first.status_code == replay.status_code == 200
    assert replay.headers.get("Idempotency-Replayed") == "true"


async def test_a_late_order_is_flagged(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    _, order = await _drafted(client, auth_headers, actors)
    await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])
    await conn.execute(
        "UPDATE purchase_order SET expected_on = $2 WHERE id = $1", order["id"], clock.today_in(f.PARIS) - timedelta(1)
    )
    got = await client.get(f"/api/purchase-orders/{order['id']}", headers=auth_headers["manager"])
    assert got.json()["late"] is True


async def test_cancel_takes_the_order_off_on_order(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)
    await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])
    assert (await _alert(client, auth_headers, clinic))["on_order"] == 24
    cancelled = await client.post(f"/api/purchase-orders/{order['id']}/cancel", headers=auth_headers["manager"])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    alert = await _alert(client, auth_headers, clinic, "open")
    assert (alert["on_order"], alert["suggested_quantity"]) == (0, 20)
    again = await client.post(f"/api/purchase-orders/{order['id']}/cancel", headers=auth_headers["manager"])
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    redraft = await _from_alerts(client, auth_headers, clinic.location_id)
    assert [line["quantity"] for line in redraft.json()["items"][0]["lines"]] == [24]


async def test_unknown_orders_are_404(client: httpx.AsyncClient, auth_headers: H) -> None:
    h = auth_headers["manager"]
    assert (await client.get("/api/purchase-orders/2000000000", headers=h)).status_code == 404
    assert (await client.get("/api/purchase-orders/2000000000.pdf", headers=h)).status_code == 404
    assert (await client.get("/api/purchase-orders/2000000000.csv", headers=h)).status_code == 404
    assert (await client.post("/api/purchase-orders/2000000000/send", headers=h)).status_code == 404
    assert (await client.post("/api/purchase-orders/2000000000/cancel", headers=h)).status_code == 404
    assert (await client.patch("/api/purchase-orders/2000000000/lines/1", json={"quantity": 1},
                               headers=h)).status_code == 404  # fmt: skip


# ------------------------------------------------------------------ documents


async def test_the_order_as_pdf_and_csv(client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)
    pdf = await client.get(f"/api/purchase-orders/{order['id']}.pdf", headers=auth_headers["manager"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    csv = await client.get(f"/api/purchase-orders/{order['id']}.csv", headers=auth_headers["manager"])
    assert csv.status_code == 200
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.content.startswith(b"\xef\xbb\xbf")
    rows = csv.content.decode("utf-8-sig").splitlines()
    assert rows[0] == "product_id,product,gtin,supplier_reference,pack_units,packs,quantity,received"
    assert rows[1] == f"{clinic.product['id']},{clinic.product['name']},{clinic.gtin},REF-1,6,4,24,0"


# ------------------------------------------------------------------ on order and receiving


async def test_a_partial_receipt_keeps_the_rest_on_order_and_on_the_alert(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors, reorder_point=15, par_level=20)
    path = f"/api/purchase-orders/{order['id']}"
    await client.patch(f"{path}/lines/{clinic.product['id']}", json={"quantity": 6}, headers=auth_headers["manager"])
    await client.post(f"{path}/send", headers=auth_headers["manager"])
    alert = await _alert(client, auth_headers, clinic, "open")
    assert (alert["usable_on_hand"], alert["on_order"], alert["projected_at_arrival"]) == (3, 6, 9)
    received = await client.post(
        "/api/receipts",
        json={
            "location_id": clinic.location_id,
            "purchase_order_id": order["id"],
            "lines": [
                {"product_id": clinic.product["id"], "lot_number": "PO1", "expiry_date": f.in_days(300).isoformat(),
                 "quantity": 4}
            ],
        },
        headers=auth_headers["staff"],
    )  # fmt: skip
    assert received.status_code == 201, received.text
    assert received.json()["purchase_order_id"] == order["id"]
    got = (await client.get(path, headers=auth_headers["staff"])).json()
    assert got["status"] == "partially_received"
    assert [(li["quantity"], li["received"]) for li in got["lines"]] == [(6, 4)]
    alert = await _alert(client, auth_headers, clinic, "open")
    assert (alert["usable_on_hand"], alert["on_order"], alert["projected_at_arrival"]) == (7, 2, 9)
    assert await conn.fetchval("SELECT purchase_order FROM receipt WHERE id = $1", received.json()["id"]) == order["id"]
    actions = await conn.fetch("SELECT action FROM audit_event WHERE entity = 'purchase_order' AND entity_id = $1",
                               order["id"])  # fmt: skip
    assert "purchase_order.receive" in [a["action"] for a in actions]


async def test_the_rest_received_and_an_over_delivery_make_it_received(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)
    other = await f.product(actors["manager"])
    await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])
    expiry = f.in_days(300).isoformat()
    received = await client.post(
        "/api/receipts",
        json={
            "location_id": clinic.location_id,
            "purchase_order_id": order["id"],
            "lines": [
                {"product_id": clinic.product["id"], "lot_number": "PO2", "expiry_date": expiry, "quantity": 25},
                {"product_id": other["id"], "lot_number": "X1", "expiry_date": expiry, "quantity": 2},
            ],
        },
        headers=auth_headers["staff"],
    )
    assert received.status_code == 201, received.text
    got = (await client.get(f"/api/purchase-orders/{order['id']}", headers=auth_headers["staff"])).json()
    assert got["status"] == "received"
    assert {li["product_id"]: (li["quantity"], li["received"]) for li in got["lines"]} == {
        clinic.product["id"]: (24, 25),  # one beyond the order
        other["id"]: (0, 2),  # a product the order did not name
    }
    ((_, figures),) = (
        await alerting.figures_now(conn, [(clinic.product["id"], clinic.location_id)], clock.now())
    ).values()
    assert figures is not None and figures["on_order"] == 0
    cancel = await client.post(f"/api/purchase-orders/{order['id']}/cancel", headers=auth_headers["manager"])
    assert cancel.status_code == 409


@pytest.mark.parametrize("state", ["draft", "cancelled"])
async def test_a_receipt_naming_a_draft_or_cancelled_order_is_refused(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection, state: str
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)
    if state == "cancelled":
        await client.post(f"/api/purchase-orders/{order['id']}/cancel", headers=auth_headers["manager"])
    before = await row_counts(conn, (*TABLES, "stock_movement", "lot"))
    refused = await client.post(
        "/api/receipts",
        json={
            "location_id": clinic.location_id,
            "purchase_order_id": order["id"],
            "lines": [{"product_id": clinic.product["id"], "lot_number": "PO3",
                       "expiry_date": f.in_days(300).isoformat(), "quantity": 4}],
        },
        headers=auth_headers["staff"],
    )  # fmt: skip
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    assert await row_counts(conn, (*TABLES, "stock_movement", "lot")) == before


async def test_a_receipt_naming_an_unknown_order_or_another_location_is_refused(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)
    await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])
    elsewhere = await f.location(actors["manager"])
    line = {"product_id": clinic.product["id"], "lot_number": "PO4", "expiry_date": f.in_days(300).isoformat(),
            "quantity": 1}  # fmt: skip
    unknown = await client.post(
        "/api/receipts",
        json={"location_id": clinic.location_id, "purchase_order_id": 2_000_000_000, "lines": [line]},
        headers=auth_headers["staff"],
    )
    assert unknown.status_code == 404
    wrong = await client.post(
        "/api/receipts",
        json={"location_id": elsewhere["id"], "purchase_order_id": order["id"], "lines": [line]},
        headers=auth_headers["staff"],
    )
    assert wrong.status_code == 409 and wrong.json()["code"] == "location_mismatch"


# ------------------------------------------------------------------ the webhook, the lead time, late orders


@pytest.fixture
def webhook_app(app: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[str | None], None]:
    """Point the app's INVENTORY_WEBHOOK_URL somewhere for this test."""

    def point(url: str | None) -> None:
        monkeypatch.setattr(app.state, "settings", dataclasses.replace(app.state.settings, webhook_url=url))

    return point


async def _deliveries(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, location, payload, status FROM notification_delivery"
        " WHERE payload->>'kind' = 'purchase_order.sent' ORDER BY id"
    )
    return rows


async def test_sending_posts_the_order_to_the_webhook_once_committed(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    webhook_app: Callable[[str | None], None],
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)
    with Hook([200]) as hook:
        webhook_app(hook.url)
        jobs_before = await conn.fetchval("SELECT count(*) FROM pgqueuer WHERE entrypoint = 'webhook.deliver'")
        headers = {**auth_headers["manager"], "Idempotency-Key": "send-hook"}
        sent = await client.post(f"/api/purchase-orders/{order['id']}/send", headers=headers)
        assert sent.status_code == 200
        replay = await client.post(f"/api/purchase-orders/{order['id']}/send", headers=headers)
        assert replay.headers.get("Idempotency-Replayed") == "true"
        refused = await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])
        assert refused.status_code == 409
        (delivery,) = await _deliveries(conn)  # queued once: not by the replay, not by the refusal
        assert (delivery["location"], delivery["status"]) == (clinic.location_id, "queued")
        jobs_after = await conn.fetchval("SELECT count(*) FROM pgqueuer WHERE entrypoint = 'webhook.deliver'")
        assert jobs_after == jobs_before + 1  # its attempt is a job, visible to workers when the send commits
        result = await webhook.attempt_delivery(delivery["id"], hook.url)
    assert result["status"] == "delivered"
    (body,) = hook.bodies
    assert body["kind"] == "purchase_order.sent"
    assert body["order"] == sent.json()  # the order exactly as the API shows it
    assert body["supplier_email"] == "o@s.test"
    audit = await conn.fetch(
        "SELECT action FROM audit_event WHERE entity = 'purchase_order' AND entity_id = $1", order["id"]
    )
    assert "purchase_order.webhook_queued" in [a["action"] for a in audit]


async def test_without_a_webhook_sending_queues_nothing(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    webhook_app: Callable[[str | None], None],
) -> None:
    _, order = await _drafted(client, auth_headers, actors)
    webhook_app(None)
    sent = await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])
    assert sent.status_code == 200
    assert await _deliveries(conn) == []


async def test_a_sent_order_does_not_change_the_digests_last_delivery(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    webhook_app: Callable[[str | None], None],
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)
    with Hook([200]) as hook:
        webhook_app(hook.url)
        await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])
        (delivery,) = await _deliveries(conn)
        await webhook.attempt_delivery(delivery["id"], hook.url)
    last = await digests.last_delivery(conn, clinic.location_id, clock.today_in(f.PARIS).isoformat())
    assert (last["last_delivered"], last["delivered_today"]) == (None, None)  # only digests count


async def test_the_alert_shows_the_suppliers_lead_time_over_http(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await _short(actors)
    alert = await _alert(client, auth_headers, clinic, "open")
    assert (alert["lead_time_days"], alert["lead_time_source"], alert["lead_time_supplier"]) == (0, "rule", None)
    supplier = await _supplier(client, auth_headers)
    assert (await _sells(client, auth_headers, supplier["id"], clinic.product["id"], lead=4)).status_code == 200
    alert = await _alert(client, auth_headers, clinic, "open")
    assert alert["lead_time_days"] == 4
    assert alert["lead_time_source"] == "supplier"
    assert alert["lead_time_supplier"] == {"id": supplier["id"], "name": supplier["name"]}
    assert alert["rule_lead_time_days"] == 0


async def test_late_orders_are_flagged_and_listed_with_the_clock_moved(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)  # the supplier's lead time is 3 days
    sent = (await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])).json()
    late = f"/api/purchase-orders?late=true&location_id={clinic.location_id}"
    assert (await client.get(late, headers=auth_headers["staff"])).json()["items"] == []
    clock.shift(timedelta(days=3))  # due today
    assert (await client.get(f"/api/purchase-orders/{order['id']}", headers=auth_headers["staff"])).json()[
        "late"
    ] is False
    clock.shift(timedelta(days=1))
    got = (await client.get(f"/api/purchase-orders/{order['id']}", headers=auth_headers["staff"])).json()
    assert (got["late"], got["expected_on"]) == (True, sent["expected_on"])
    listed = (await client.get(late, headers=auth_headers["staff"])).json()["items"]
    assert [o["id"] for o in listed] == [order["id"]] and listed[0]["late"] is True
    on_time = f"/api/purchase-orders?late=false&location_id={clinic.location_id}"
    assert order["id"] not in [
        o["id"] for o in (await client.get(on_time, headers=auth_headers["staff"])).json()["items"]
    ]


async def test_order_lines_show_ordered_received_outstanding_and_over_delivered(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic, order = await _drafted(client, auth_headers, actors)  # 24 ordered
    await client.post(f"/api/purchase-orders/{order['id']}/send", headers=auth_headers["manager"])
    expiry = f.in_days(300).isoformat()

    async def receive(quantity: int) -> dict[str, Any]:
        response = await client.post(
            "/api/receipts",
            json={
                "location_id": clinic.location_id,
                "purchase_order_id": order["id"],
                "lines": [{"product_id": clinic.product["id"], "lot_number": "OD1", "expiry_date": expiry,
                           "quantity": quantity}],
            },
            headers=auth_headers["staff"],
        )  # fmt: skip
        assert response.status_code == 201, response.text
        got: dict[str, Any] = (
            await client.get(f"/api/purchase-orders/{order['id']}", headers=auth_headers["staff"])
        ).json()
        return got

    under = await receive(10)
    (line,) = under["lines"]
    assert (under["status"], line["quantity"], line["received"], line["outstanding"], line["over_delivered"]) == (
        "partially_received", 24, 10, 14, 0
    )  # fmt: skip
    pair = (clinic.product["id"], clinic.location_id)
    ((_, figures),) = (await alerting.figures_now(conn, [pair], clock.now())).values()
    assert figures is not None and figures["on_order"] == 14  # the rest stays on order
    over = await receive(17)
    (line,) = over["lines"]
    assert (over["status"], line["received"], line["outstanding"], line["over_delivered"]) == ("received", 27, 0, 3)
    recorded = await conn.fetch(
        "SELECT details FROM audit_event WHERE action = 'purchase_order.receive' AND entity_id = $1 ORDER BY id",
        order["id"],
    )
    product = clinic.product["id"]
    assert [r["details"]["lines"] for r in recorded] == [
        [{"product_id": product, "ordered": 24, "received": 10, "outstanding": 14, "over_delivered": 0}],
        [{"product_id": product, "ordered": 24, "received": 27, "outstanding": 0, "over_delivered": 3}],
    ]  # the under-delivery, then the over-delivery, as they were recorded
