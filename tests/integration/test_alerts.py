"""Reorder and expiry alerts on PostgreSQL: every trigger, catching up with the calendar, the digest and races."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

import asyncpg
import pytest

from inventory import clock, db
from inventory.domain.errors import Conflict, NotFound
from inventory.domain.models import Actor
from inventory.services import (
    alert_refresh,
    alerting,
    catalog,
    clinical,
    digest,
    expiry_views,
    recall_cases,
    reorder_alerts,
    scanning,
    stock,
    webhook,
)
from tests.support import factories as f
from tests.support.clinic import Clinic, build
from tests.support.webhook import Hook

# ------------------------------------------------------------------ helpers


async def set_rule(
    actors: dict[str, Actor], clinic: Clinic, point: int, par: int, lead: int = 0, location_id: int | None = None
) -> None:
    """A stock rule for the clinic's product."""
    await catalog.set_rule(
        actor=actors["manager"],
        location_id=location_id or clinic.location_id,
        product_id=clinic.product["id"],
        reorder_point=point,
        par_level=par,
        lead_time_days=lead,
    )


async def alert_rows(conn: asyncpg.Connection, clinic: Clinic, location_id: int | None = None) -> list[Any]:
    """Every reorder alert row (open and resolved) of the clinic's product at a location, oldest first."""
    return list(
        await conn.fetch(
            "SELECT * FROM reorder_alert WHERE product = $1 AND location = $2 ORDER BY id",
            clinic.product["id"],
            location_id or clinic.location_id,
        )
    )


async def open_alert(conn: asyncpg.Connection, clinic: Clinic, location_id: int | None = None) -> Any:
    """The open alert of the clinic's product at a location, or None."""
    return await conn.fetchrow(
        "SELECT * FROM reorder_alert WHERE product = $1 AND location = $2 AND status = 'open'",
        clinic.product["id"],
        location_id or clinic.location_id,
    )


async def scan(actors: dict[str, Actor], clinic: Clinic, quantity: int = 1, lot: dict[str, Any] | None = None) -> None:
    """Record a use through the real scan service."""
    barcode = clinic.code() if lot is None else clinic.code(lot["lot_number"], expiry=lot["expiry_date"])
    # Repeated uses of one barcode on one session are deliberate here: confirm them (else 409 repeat_scan).
    await scanning.record_use(
        actor=actors["staff"], session_id=clinic.session["id"], barcode=barcode, quantity=quantity, repeat=True
    )


async def receive(
    actors: dict[str, Actor], clinic: Clinic, quantity: int, days: int = 300, location_id: int | None = None
) -> dict[str, Any]:
    """Receive a new lot of the clinic's product; returns the lot."""
    line = await f.receive(
        actors["manager"],
        location_id=location_id or clinic.location_id,
        product_id=clinic.product["id"],
        lot_number=f.unique("R").replace(" ", ""),
        expiry=f.in_days(days),
        quantity=quantity,
    )
    lot: dict[str, Any] = line["lot"]
    return lot


async def past_use(conn: asyncpg.Connection, clinic: Clinic, quantity: int, days_ago: int) -> None:
    """A usage recorded `days_ago` days before the service's today (for the 28-day trend)."""
    used_at = datetime.combine(clock.today_in(f.PARIS) - timedelta(days=days_ago), time(12), tzinfo=UTC)
    await conn.execute(
        "INSERT INTO usage (session, client, lot, product, location, quantity, barcode, used_by, used_at, warnings)"
        " SELECT $1, $2, $3, $4, $5, $6, 'test', id, $7, '[]'::jsonb FROM app_user WHERE email = 'staff@clinic.test'",
        clinic.session["id"],
        clinic.client["id"],
        clinic.lot["id"],
        clinic.product["id"],
        clinic.location_id,
        quantity,
        used_at,
    )


def mine(items: list[dict[str, Any]], clinic: Clinic) -> list[dict[str, Any]]:
    """The listed alerts of the clinic's product and location."""
    return [
        i for i in items if i["product"]["id"] == clinic.product["id"] and i["location"]["id"] == clinic.location_id
    ]


# ------------------------------------------------------------------ stock changes re-evaluate in their transaction


async def test_scan_taking_usable_stock_to_the_point_opens_one_alert_with_its_arithmetic(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=7)
    await set_rule(actors, clinic, point=5, par=20)
    await scan(actors, clinic)
    assert await open_alert(conn, clinic) is None
    await scan(actors, clinic)
    alert = await open_alert(conn, clinic)
    assert alert is not None
    assert alert["details"]["usable_on_hand"] == 5
    assert alert["details"]["suggested_quantity"] == 20  # 15 to par, in boxes of 10
    assert alert["details"]["box_size"] == 10
    await scan(actors, clinic)
    rows = await alert_rows(conn, clinic)
    assert len(rows) == 1
    assert rows[0]["details"]["usable_on_hand"] == 4
    opened = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE entity = 'reorder_alert' AND entity_id = $1"
        " AND action = 'reorder_alert.open'",
        rows[0]["id"],
    )
    assert opened == 1


async def test_receipt_lifting_usable_stock_above_the_point_resolves_the_alert(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=5)
    await set_rule(actors, clinic, point=5, par=20)
    assert await open_alert(conn, clinic) is not None
    await receive(actors, clinic, 10)
    rows = await alert_rows(conn, clinic)
    assert [r["status"] for r in rows] == ["resolved"]
    assert rows[0]["resolved_at"] is not None
    assert rows[0]["details"]["usable_on_hand"] == 15
    assert mine(await reorder_alerts.list_reorder(status="open"), clinic) == []
    assert [i["status"] for i in mine(await reorder_alerts.list_reorder(status="resolved"), clinic)] == ["resolved"]


async def test_recall_of_a_lot_opens_the_alert(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=6)
    await receive(actors, clinic, 4)
    await set_rule(actors, clinic, point=5, par=20)
    assert await open_alert(conn, clinic) is None
    await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="Manufacturer notice")
    alert = await open_alert(conn, clinic)
    assert alert is not None
    assert alert["details"]["usable_on_hand"] == 4


async def test_void_restoring_stock_resolves_and_disposal_reopens(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=6)
    await set_rule(actors, clinic, point=5, par=20)
    used = await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    assert await open_alert(conn, clinic) is not None
    await scanning.void_usage(actor=actors["staff"], usage_id=used["usage_id"], reason="scanned twice")
    assert await open_alert(conn, clinic) is None
    await stock.dispose(
        actor=actors["manager"], lot_id=clinic.lot["id"], location_id=clinic.location_id, quantity=1, reason="broken"
    )
    assert await open_alert(conn, clinic) is not None
    assert [r["status"] for r in await alert_rows(conn, clinic)] == ["resolved", "open"]


async def test_transfer_opens_at_the_source_and_resolves_at_the_destination(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    room = await f.location(actors["manager"])
    await set_rule(actors, clinic, point=5, par=20)
    await set_rule(actors, clinic, point=3, par=10, location_id=room["id"])
    assert await open_alert(conn, clinic, room["id"]) is not None  # nothing there yet
    await stock.transfer(
        actor=actors["manager"],
        lot_id=clinic.lot["id"],
        from_location_id=clinic.location_id,
        to_location_id=room["id"],
        quantity=6,
        reason=None,
    )
    assert await open_alert(conn, clinic) is not None
    assert await open_alert(conn, clinic, room["id"]) is None


async def test_adjustment_and_rule_change_re_evaluate(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=10)
    await set_rule(actors, clinic, point=5, par=20)
    await stock.adjust(
        actor=actors["manager"],
        lot_id=clinic.lot["id"],
        location_id=clinic.location_id,
        counted=4,
        delta=None,
        reason="count",
    )
    assert await open_alert(conn, clinic) is not None
    await set_rule(actors, clinic, point=3, par=20)
    assert await open_alert(conn, clinic) is None


async def test_product_without_a_rule_never_alerts(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=1)
    await scan(actors, clinic)
    assert await alert_rows(conn, clinic) == []


async def test_unchanged_figures_are_not_rewritten(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=3)
    await set_rule(actors, clinic, point=5, par=20)
    before = await open_alert(conn, clinic)
    await alerting.reevaluate(conn, [(clinic.product["id"], clinic.location_id)] * 3)
    after = await open_alert(conn, clinic)
    assert after["updated_at"] == before["updated_at"]
    assert after["id"] == before["id"]


# ------------------------------------------------------------------ the calendar: overnight expiry, booked courses


async def test_lot_expiring_overnight_reads_as_an_alert_at_once_and_the_refresh_opens_it(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=6, expiry_days=0)  # usable through today
    await receive(actors, clinic, 2)
    await set_rule(actors, clinic, point=5, par=20)
    assert mine(await reorder_alerts.list_reorder(), clinic) == []
    clock.shift(timedelta(days=1))
    [listed] = mine(await reorder_alerts.list_reorder(), clinic)
    assert (listed["usable_on_hand"], listed["status"], listed["id"], listed["opened_at"]) == (2, "open", None, None)
    assert listed["evaluated_on"] == clock.today_in(f.PARIS).isoformat()
    assert await open_alert(conn, clinic) is None  # the read wrote nothing
    await alert_refresh.refresh_location(clinic.location_id)  # the nightly job
    alert = await open_alert(conn, clinic)
    [stored] = mine(await reorder_alerts.list_reorder(), clinic)
    assert (stored["id"], stored["usable_on_hand"]) == (alert["id"], 2)
    assert await alert_refresh.catch_up(clinic.location_id) == 0  # the day is evaluated once


async def test_lot_expiring_overnight_opens_the_alert_on_refresh(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=6, expiry_days=0)
    await set_rule(actors, clinic, point=0, par=10)
    assert await open_alert(conn, clinic) is None
    clock.shift(timedelta(days=1))
    assert await alert_refresh.refresh_all() >= 1
    alert = await open_alert(conn, clinic)
    assert alert is not None
    assert alert["details"]["usable_on_hand"] == 0


async def test_an_alert_time_alone_resolves_reads_as_resolved_until_the_refresh_resolves_it(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=20)
    for days_ago in range(1, 9):
        await past_use(conn, clinic, 10, days_ago)  # 80 in 28 days: 20 over the lead time, nothing left
    await set_rule(actors, clinic, point=5, par=30, lead=7)
    await alert_refresh.refresh_all()
    alert = await open_alert(conn, clinic)
    assert alert is not None
    clock.shift(timedelta(days=28))  # every one of those uses has left the 28-day trend
    assert mine(await reorder_alerts.list_reorder(), clinic) == []
    [now] = mine(await reorder_alerts.list_reorder(status="all"), clinic)
    assert (now["id"], now["status"], now["resolved_at"], now["used_last_28_days"]) == (
        alert["id"],
        "resolved",
        None,
        0,
    )
    assert [a["id"] for a in mine(await reorder_alerts.list_reorder(status="resolved"), clinic)] == [alert["id"]]
    assert (await reorder_alerts.get_reorder(alert["id"]))["status"] == "resolved"
    assert (await open_alert(conn, clinic))["id"] == alert["id"]  # still open in the table: reads write nothing
    await alert_refresh.refresh_location(clinic.location_id)
    assert await open_alert(conn, clinic) is None
    [resolved] = mine(await reorder_alerts.list_reorder(status="resolved"), clinic)
    assert resolved["resolved_at"] is not None


async def test_stock_expiring_within_the_lead_time_opens_the_alert_when_it_enters_the_window(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10, expiry_days=12)
    await receive(actors, clinic, 4)
    await set_rule(actors, clinic, point=5, par=20, lead=7)
    assert mine(await reorder_alerts.list_reorder(), clinic) == []
    clock.shift(timedelta(days=6))  # the 10 now expire on day 6 of a 7-day lead time, with no use to take them
    listed = mine(await reorder_alerts.list_reorder(), clinic)
    assert len(listed) == 1
    assert listed[0]["expiring_within_lead_time"] == 10
    assert listed[0]["expiring_unused"] == 10
    assert listed[0]["usable_on_hand"] == 14


async def test_booked_course_inside_the_lead_time_opens_the_alert_before_the_trend_alone_would(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    trend_only, booked = await build(actors, on_hand=20), await build(actors, on_hand=20)
    for clinic in (trend_only, booked):
        for days_ago in range(1, 9):
            await past_use(conn, clinic, 7, days_ago)  # 56 in 28 days: 2 a day, 14 over the lead time
        await set_rule(actors, clinic, point=5, par=30, lead=7)
    await clinical.create_course(
        actor=actors["staff"],
        client_id=booked.client["id"],
        location_id=booked.location_id,
        treatment="Mesotherapy face",
        start_date=f.in_days(10),
        sessions=1,
        interval_days=21,
        products=[(booked.product["id"], 2)],
    )
    assert await alert_refresh.refresh_all() >= 2
    assert await open_alert(conn, trend_only) is None
    assert await open_alert(conn, booked) is None  # the session is beyond the lead time
    clock.shift(timedelta(days=4))  # day 10 is now inside the 7-day window
    listed = await reorder_alerts.list_reorder()
    assert mine(listed, trend_only) == []
    [alert] = mine(listed, booked)
    assert alert["forecast_courses"] == 2
    assert alert["forecast_trend"] == 14
    assert alert["usable_on_hand"] == 20
    assert alert["suggested_quantity"] == 30  # 30 - (20 - 16) = 26, in boxes of 10


async def test_course_booked_within_the_lead_time_alerts_as_soon_as_re_evaluated(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=8)
    await set_rule(actors, clinic, point=5, par=20, lead=14)
    assert await open_alert(conn, clinic) is None
    await clinical.create_course(
        actor=actors["staff"],
        client_id=clinic.client["id"],
        location_id=clinic.location_id,
        treatment="Hair",
        start_date=clock.today_in(f.PARIS),
        sessions=4,
        interval_days=7,
        products=[(clinic.product["id"], 2)],
    )
    await alerting.reevaluate(conn, [(clinic.product["id"], clinic.location_id)])
    alert = await open_alert(conn, clinic)
    assert alert is not None
    assert alert["details"]["forecast_courses"] == 4  # sessions today and in 7 days; 14 and 21 are beyond


async def test_voided_and_old_use_do_not_count_towards_the_trend(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=30)
    await set_rule(actors, clinic, point=5, par=30, lead=7)
    await past_use(conn, clinic, 28, 3)
    await past_use(conn, clinic, 280, 29)  # outside the window
    await past_use(conn, clinic, 280, 2)
    await conn.execute("UPDATE usage SET voided_at = now() WHERE quantity = 280 AND lot = $1", clinic.lot["id"])
    await alert_refresh.refresh_all()
    row = await conn.fetchrow(
        "SELECT details FROM reorder_alert WHERE product = $1 AND location = $2",
        clinic.product["id"],
        clinic.location_id,
    )
    assert row is None  # 30 - 7 = 23, above the point
    await set_rule(actors, clinic, point=23, par=30, lead=7)
    alert = await open_alert(conn, clinic)
    assert alert["details"]["used_last_28_days"] == 28
    assert alert["details"]["forecast_trend"] == 7


# ------------------------------------------------------------------ acknowledging


async def test_acknowledged_alert_stays_open_with_who_and_when(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=3)
    await set_rule(actors, clinic, point=5, par=20)
    alert_id = (await open_alert(conn, clinic))["id"]
    first = await reorder_alerts.acknowledge(actor=actors["manager"], alert_id=alert_id)
    assert first["status"] == "open"
    assert first["acknowledged"] is True
    assert first["acknowledged_by"] == {"id": actors["manager"].id, "email": "manager@clinic.test"}
    again = await reorder_alerts.acknowledge(actor=actors["admin"], alert_id=alert_id)
    assert again["acknowledged_at"] == first["acknowledged_at"]
    assert again["acknowledged_by"]["id"] == actors["manager"].id
    await scan(actors, clinic)
    assert (await open_alert(conn, clinic))["acknowledged_by"] == actors["manager"].id
    await receive(actors, clinic, 20)
    with pytest.raises(Conflict) as refused:
        await reorder_alerts.acknowledge(actor=actors["manager"], alert_id=alert_id)
    assert refused.value.code == "alert_resolved"
    with pytest.raises(NotFound):
        await reorder_alerts.acknowledge(actor=actors["manager"], alert_id=2_000_000_000)


# ------------------------------------------------------------------ expiry views


async def test_expiry_views_show_expired_expiring_and_unused_in_time(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=3, expiry_days=1)
    soon = await receive(actors, clinic, 15, days=12)
    await receive(actors, clinic, 5, days=300)
    clock.shift(timedelta(days=2))
    for days_ago in range(1, 29):
        await past_use(conn, clinic, 1, days_ago)  # one a day
    everything = [i for i in await expiry_views.expiry(within_days=30) if i["location"]["id"] == clinic.location_id]
    assert [(i["lot"]["id"], i["days_left"], i["state"]) for i in everything] == [
        (clinic.lot["id"], -1, "expired"),
        (soon["id"], 10, "expiring"),
    ]
    assert everything[0]["on_hand"] == 3
    expired = await expiry_views.expiry(within_days=30, view="expired", location_id=clinic.location_id)
    assert [i["lot"]["id"] for i in expired] == [clinic.lot["id"]]
    expiring = await expiry_views.expiry(within_days=30, view="expiring", location_id=clinic.location_id)
    assert [i["lot"]["id"] for i in expiring] == [soon["id"]]
    assert await expiry_views.expiry(within_days=5, view="expiring", location_id=clinic.location_id) == []
    [unused] = await expiry_views.expiry(within_days=30, view="unused_in_time", location_id=clinic.location_id)
    assert unused["lot"]["id"] == soon["id"]
    assert unused["expected_use"] == 11  # days 0..10 at one a day
    assert unused["surplus"] == 4


async def test_lot_used_up_in_time_is_not_listed_as_unused(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=10, expiry_days=20)
    await clinical.create_course(
        actor=actors["staff"],
        client_id=clinic.client["id"],
        location_id=clinic.location_id,
        treatment="Face",
        start_date=f.in_days(1),
        sessions=3,
        interval_days=7,
        products=[(clinic.product["id"], 2)],
    )
    [listed] = await expiry_views.expiry(within_days=30, view="unused_in_time", location_id=clinic.location_id)
    assert listed["expected_use"] == 6
    assert listed["surplus"] == 4
    for days_ago in range(1, 29):
        await past_use(conn, clinic, 1, days_ago)
    assert await expiry_views.expiry(within_days=30, view="unused_in_time", location_id=clinic.location_id) == []


# ------------------------------------------------------------------ the daily digest


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """No waiting between webhook attempts."""
    monkeypatch.setattr(webhook, "RETRY_DELAYS", (0.0, 0.0, 0.0, 0.0))


async def test_digest_is_one_message_per_location_with_new_and_open_alerts_and_expiry(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=3, expiry_days=20)
    await receive(actors, clinic, 1, days=300)
    await set_rule(actors, clinic, point=5, par=20)
    quiet = await f.location(actors["manager"])
    [found] = await digest.digest(location_id=clinic.location_id, send=False)
    payload = found["payload"]
    assert payload["location"]["id"] == clinic.location_id
    assert payload["summary"]["open_reorder_alerts"] == 1
    assert payload["summary"]["new_reorder_alerts"] == 1
    assert payload["reorder"][0]["suggested_quantity"] == 20
    assert [lot["on_hand"] for lot in payload["expiring"]] == [3]
    assert found["delivery"] == {"status": "not_sent"}
    json.dumps(payload)  # ready for the wire
    assert await digest.digest(location_id=quiet["id"], send=False) == []
    text = digest.format_digests([found])
    assert "reorder" in text and clinic.product["name"] in text
    with pytest.raises(NotFound):
        await digest.digest(location_id=2_000_000_000, send=False)


async def test_digest_send_retries_with_back_off_and_records_the_delivery(
    actors: dict[str, Actor], conn: asyncpg.Connection, fast_retries: None
) -> None:
    clinic = await build(actors, on_hand=3)
    await set_rule(actors, clinic, point=5, par=20)
    with Hook([503, 500, 200]) as hook:
        [found] = await digest.digest(location_id=clinic.location_id, send=True, webhook_url=hook.url)
        assert found["delivery"]["status"] == "delivered"
        assert found["delivery"]["attempts"] == 3
        assert len(hook.bodies) == 3
        assert hook.bodies[-1]["location"]["id"] == clinic.location_id
        assert hook.bodies[-1]["reorder"][0]["product"]["id"] == clinic.product["id"]
        [again] = await digest.digest(location_id=clinic.location_id, send=True, webhook_url=hook.url)
        assert again["delivery"] == {"status": "already_sent"}
        assert len(hook.bodies) == 3
    row = await conn.fetchrow("SELECT * FROM notification_delivery WHERE id = $1", found["delivery"]["id"])
    assert (row["status"], row["attempts"], row["location"]) == ("delivered", 3, clinic.location_id)
    assert row["delivered_at"] is not None
    assert row["payload"]["date"] == clock.today_in(f.PARIS).isoformat()  # the location's local day
    clock.shift(timedelta(days=1))
    [next_day] = await digest.digest(location_id=clinic.location_id, send=False)
    assert next_day["payload"]["reorder"][0]["new"] is False  # already in yesterday's digest


async def test_digest_send_gives_up_after_the_last_attempt_or_on_a_refusal(
    actors: dict[str, Actor], conn: asyncpg.Connection, fast_retries: None
) -> None:
    clinic = await build(actors, on_hand=3)
    await set_rule(actors, clinic, point=5, par=20)
    with Hook([500]) as hook:
        [found] = await digest.digest(location_id=clinic.location_id, send=True, webhook_url=hook.url)
    assert found["delivery"]["status"] == "failed"
    assert found["delivery"]["attempts"] == len(webhook.RETRY_DELAYS) + 1
    assert found["delivery"]["error"] == "HTTP 500"
    with Hook([400]) as hook:
        [refused] = await digest.digest(location_id=clinic.location_id, send=True, webhook_url=hook.url)
    assert (refused["delivery"]["status"], refused["delivery"]["attempts"]) == ("failed", 1)
    statuses = await conn.fetch(
        "SELECT status FROM notification_delivery WHERE location = $1 ORDER BY id", clinic.location_id
    )
    assert [r["status"] for r in statuses] == ["failed", "failed"]
    [unset] = await digest.digest(location_id=clinic.location_id, send=True, webhook_url=None)
    assert unset["delivery"]["status"] == "not_configured"
    assert "webhook: failed" in digest.format_digests([found])


# ------------------------------------------------------------------ races (commits on the race database)


async def _race_actors() -> dict[str, Actor]:
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT id, email, role FROM app_user WHERE email LIKE '%@clinic.test'")
    by_email = {r["email"]: Actor(id=r["id"], role=r["role"], email=r["email"]) for r in rows}
    return {name: by_email[f"{name}@clinic.test"] for name in ("staff", "staff2", "manager", "admin")}


@pytest.mark.race
async def test_twenty_concurrent_scans_below_the_point_leave_one_alert_with_the_final_figures(
    race_pool: None,
) -> None:
    actors = await _race_actors()
    clinic = await build(actors, on_hand=10)
    other = await receive(actors, clinic, 10)
    await set_rule(actors, clinic, point=14, par=30)

    async def use(n: int) -> None:
        await scan(actors, clinic, lot=None if n % 2 else other)

    await asyncio.gather(*(use(n) for n in range(20)))
    async with db.connection() as conn:
        rows = await alert_rows(conn, clinic)
        assert [r["status"] for r in rows] == ["open"]
        assert rows[0]["details"]["usable_on_hand"] == 0
        assert rows[0]["details"]["suggested_quantity"] == 30
        usable = await conn.fetchval(
            "SELECT sum(on_hand) FROM stock_level s JOIN lot l ON l.id = s.lot WHERE l.product = $1",
            clinic.product["id"],
        )
        assert usable == 0


async def test_reads_compute_a_stale_day_as_of_now_and_the_refresh_of_each_location_stores_it(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    here, there = await build(actors, on_hand=6, expiry_days=0), await build(actors, on_hand=6, expiry_days=0)
    for clinic in (here, there):
        await set_rule(actors, clinic, point=0, par=10)
    await alert_refresh.refresh_all()  # evaluates today everywhere
    assert await alert_refresh.catch_up() == 0
    clock.shift(timedelta(days=1))
    assert len(mine(await reorder_alerts.list_reorder(location_id=here.location_id), here)) == 1
    assert len(mine(await reorder_alerts.list_reorder(), there)) == 1
    assert await open_alert(conn, here) is None and await open_alert(conn, there) is None  # reads wrote nothing
    await alert_refresh.refresh_location(here.location_id)
    assert await open_alert(conn, here) is not None
    assert await open_alert(conn, there) is None  # not refreshed yet: its day is still yesterday
    assert await alert_refresh.catch_up(here.location_id) == 0
    [pending] = mine(await reorder_alerts.list_reorder(), there)
    assert pending["id"] is None
    assert await alert_refresh.catch_up() >= 1  # the rest
    assert await open_alert(conn, there) is not None
    assert await alert_refresh.catch_up() == 0
