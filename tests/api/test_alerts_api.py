"""Alerts over HTTP: the contract's shapes, manager-only access, acknowledging, expiry views, bad input."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pytest

from inventory import clock
from inventory.domain.models import Actor
from inventory.services import alert_refresh
from tests.support import factories as f
from tests.support.clinic import Clinic, build, with_rule
from tests.support.writes import table_writes, written

H = dict[str, dict[str, str]]

ROUTES = [
    ("GET", "/api/alerts/reorder"),
    ("GET", "/api/alerts/reorder/1"),
    ("POST", "/api/alerts/reorder/1/acknowledge"),
    ("GET", "/api/alerts/expiry?within_days=30"),
    ("GET", "/api/alerts/digest"),
]


async def below_point(actors: dict[str, Actor], on_hand: int = 3, expiry_days: int = 200) -> Clinic:
    """A clinic whose product sits below its reorder point (5, par 20, boxes of 10)."""
    clinic = await build(actors, on_hand=on_hand, expiry_days=expiry_days)
    await with_rule(actors, clinic, reorder_point=5, par_level=20, lead_time_days=0)
    return clinic


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_alert_routes_need_a_token(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_alert_routes_are_for_managers_only(
    client: httpx.AsyncClient, auth_headers: H, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=auth_headers["staff"])
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "forbidden"


async def test_reorder_list_has_the_contract_fields_and_the_arithmetic(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await below_point(actors)
    response = await client.get(
        "/api/alerts/reorder",
        params={"status": "open", "location_id": clinic.location_id},
        headers=auth_headers["manager"],
    )
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert item["product"]["id"] == clinic.product["id"]
    assert item["product"]["name"] == clinic.product["name"]
    assert item["location"]["id"] == clinic.location_id
    assert (item["usable_on_hand"], item["reorder_point"], item["par_level"]) == (3, 5, 20)
    assert item["suggested_quantity"] == 20
    assert item["status"] == "open"
    assert item["opened_at"]
    assert item["acknowledged"] is False
    assert item["acknowledged_at"] is None and item["acknowledged_by"] is None
    for key in (
        "expiring_within_lead_time",
        "expiring_unused",
        "forecast_courses",
        "forecast_trend",
        "forecast_demand",
        "projected_at_arrival",
        "box_size",
        "lead_time_days",
    ):
        assert key in item
    assert item["box_size"] == 10
    one = await client.get(f"/api/alerts/reorder/{item['id']}", headers=auth_headers["admin"])
    assert one.status_code == 200
    assert one.json()["id"] == item["id"]


async def test_acknowledge_keeps_the_alert_open_and_names_the_manager(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await below_point(actors)
    alert_id = await conn.fetchval(
        "SELECT id FROM reorder_alert WHERE product = $1 AND status = 'open'", clinic.product["id"]
    )
    response = await client.post(f"/api/alerts/reorder/{alert_id}/acknowledge", headers=auth_headers["manager"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "open"
    assert body["acknowledged"] is True
    assert body["acknowledged_by"] == {"id": actors["manager"].id, "email": "manager@clinic.test"}
    again = await client.post(f"/api/alerts/reorder/{alert_id}/acknowledge", headers=auth_headers["manager"])
    assert again.status_code == 200
    assert again.json()["acknowledged_at"] == body["acknowledged_at"]
    listed = await client.get(
        "/api/alerts/reorder", params={"location_id": clinic.location_id}, headers=auth_headers["manager"]
    )
    assert listed.json()["items"][0]["acknowledged"] is True
    await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="MORE1",
        expiry=f.in_days(300),
        quantity=30,
    )
    resolved = await client.post(f"/api/alerts/reorder/{alert_id}/acknowledge", headers=auth_headers["manager"])
    assert resolved.status_code == 409
    assert resolved.json()["code"] == "alert_resolved"
    history = await client.get(
        "/api/alerts/reorder",
        params={"status": "resolved", "location_id": clinic.location_id},
        headers=auth_headers["manager"],
    )
    assert [i["id"] for i in history.json()["items"]] == [alert_id]
    assert history.json()["items"][0]["resolved_at"]


@pytest.mark.parametrize("alert_id", ["999999999", "99999999999999999999", "0"])
async def test_unknown_alert_is_404_problem(client: httpx.AsyncClient, auth_headers: H, alert_id: str) -> None:
    response = await client.post(f"/api/alerts/reorder/{alert_id}/acknowledge", headers=auth_headers["manager"])
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_expiry_lists_expired_with_negative_days_left_and_expiring_within_n_days(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=4, expiry_days=0)
    await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="SOON1",
        expiry=f.in_days(20),
        quantity=6,
    )
    await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="LATER1",
        expiry=f.in_days(200),
        quantity=6,
    )
    clock.shift(timedelta(days=2))
    headers = auth_headers["manager"]
    response = await client.get(
        "/api/alerts/expiry", params={"within_days": 30, "location_id": clinic.location_id}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(i["lot"]["lot_number"], i["days_left"], i["on_hand"]) for i in body["items"]] == [
        (clinic.lot["lot_number"], -2, 4),
        ("SOON1", 18, 6),
    ]
    item = body["items"][0]
    assert set(item) >= {"lot", "product", "location", "on_hand", "days_left"}
    assert item["lot"]["expiry_date"] == clinic.lot["expiry_date"].isoformat()
    assert item["product"]["id"] == clinic.product["id"]
    assert item["location"]["id"] == clinic.location_id
    assert "surplus" not in item
    assert body["as_of"] == clock.today_in(f.PARIS).isoformat()

    async def view(name: str) -> list[str]:
        answer = await client.get(
            "/api/alerts/expiry",
            params={"within_days": 30, "view": name, "location_id": clinic.location_id},
            headers=headers,
        )
        assert answer.status_code == 200, answer.text
        return [i["lot"]["lot_number"] for i in answer.json()["items"]]

    assert await view("expired") == [clinic.lot["lot_number"]]
    assert await view("expiring") == ["SOON1"]
    assert await view("unused_in_time") == ["SOON1"]  # no use at all: every unit will expire


@pytest.mark.parametrize(
    "query",
    [
        "/api/alerts/expiry?within_days=-1",
        "/api/alerts/expiry?within_days=abc",
        "/api/alerts/expiry?within_days=99999999999",
        "/api/alerts/expiry?view=everything",
        "/api/alerts/reorder?status=closed",
        "/api/alerts/reorder?location_id=0",
        "/api/alerts/reorder?location_id=99999999999",
        "/api/alerts/reorder?limit=0",
    ],
)
async def test_bad_alert_queries_are_422_problems(client: httpx.AsyncClient, auth_headers: H, query: str) -> None:
    response = await client.get(query, headers=auth_headers["manager"])
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_digest_preview_sends_nothing(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await below_point(actors)
    response = await client.get(
        "/api/alerts/digest", params={"location_id": clinic.location_id}, headers=auth_headers["manager"]
    )
    assert response.status_code == 200, response.text
    [digest] = response.json()["items"]
    assert digest["payload"]["summary"]["open_reorder_alerts"] == 1
    assert (
        await conn.fetchval("SELECT count(*) FROM notification_delivery WHERE location = $1", clinic.location_id) == 0
    )


async def test_openapi_documents_the_alert_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert "/api/alerts/reorder" in paths
    assert "/api/alerts/reorder/{alert_id}/acknowledge" in paths
    assert "/api/alerts/expiry" in paths


async def expiring_tonight_with_two_more(actors: dict[str, Actor], on_hand: int) -> Clinic:
    """A clinic with `on_hand` units usable through today, 2 more for months, and the rule 5 / 20."""
    clinic = await below_point(actors, on_hand=on_hand, expiry_days=0)
    await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number=f.unique("L").replace(" ", ""),
        expiry=f.in_days(300),
        quantity=2,
    )
    return clinic


async def test_reorder_view_counts_a_lot_that_expired_overnight_out_before_any_job_runs(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    stored = await expiring_tonight_with_two_more(actors, on_hand=2)  # 4 usable: open
    due = await expiring_tonight_with_two_more(actors, on_hand=6)  # 8 usable: no alert yet
    await alert_refresh.refresh_all()
    alert_id = await conn.fetchval(
        "SELECT id FROM reorder_alert WHERE location = $1 AND status = 'open'", stored.location_id
    )
    clock.shift(timedelta(days=1))  # both first lots expired overnight; no job, no stock change since
    for clinic, expected_id in ((stored, alert_id), (due, None)):
        response = await client.get(
            "/api/alerts/reorder", params={"location_id": clinic.location_id}, headers=auth_headers["manager"]
        )
        [item] = response.json()["items"]
        assert (item["id"], item["status"], item["usable_on_hand"]) == (expected_id, "open", 2)
        assert item["evaluated_on"] == clock.today_in(f.PARIS).isoformat()
    one = (await client.get(f"/api/alerts/reorder/{alert_id}", headers=auth_headers["manager"])).json()
    assert one["usable_on_hand"] == 2
    stored_details = await conn.fetchval("SELECT details FROM reorder_alert WHERE id = $1", alert_id)
    assert stored_details["usable_on_hand"] == 4  # computed on read, not written
    assert await conn.fetchval("SELECT count(*) FROM reorder_alert WHERE location = $1", due.location_id) == 0


async def test_no_alert_get_writes_a_row_even_on_a_day_no_refresh_has_evaluated(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    stored = await expiring_tonight_with_two_more(actors, on_hand=2)
    due = await expiring_tonight_with_two_more(actors, on_hand=6)
    await alert_refresh.refresh_all()
    alert_id = await conn.fetchval(
        "SELECT id FROM reorder_alert WHERE location = $1 AND status = 'open'", stored.location_id
    )
    clock.shift(timedelta(days=1))  # what the catch-up on read used to write: the new day's alerts and watermark
    paths = [
        "/api/alerts/reorder",
        "/api/alerts/reorder?status=all",
        "/api/alerts/reorder?status=resolved",
        f"/api/alerts/reorder?location_id={due.location_id}",
        f"/api/alerts/reorder?product_id={due.product['id']}&limit=1",
        f"/api/alerts/reorder/{alert_id}",
        "/api/alerts/expiry?within_days=30",
        "/api/alerts/expiry?within_days=30&view=expired",
        "/api/alerts/expiry?within_days=30&view=expiring",
        "/api/alerts/expiry?within_days=30&view=unused_in_time",
        f"/api/alerts/expiry?within_days=30&location_id={due.location_id}",
        "/api/alerts/digest",
        f"/api/alerts/digest?location_id={due.location_id}",
    ]
    for path in paths:
        before = await table_writes(conn)
        response = await client.get(path, headers=auth_headers["manager"])
        assert response.status_code == 200, (path, response.text)
        assert written(before, await table_writes(conn)) == {}, path
    # The counters do see this transaction's writes: a POST shows up.
    before = await table_writes(conn)
    acknowledged = await client.post(f"/api/alerts/reorder/{alert_id}/acknowledge", headers=auth_headers["manager"])
    assert acknowledged.status_code == 200
    assert written(before, await table_writes(conn)) == {"reorder_alert": (0, 1, 0), "audit_event": (1, 0, 0)}
