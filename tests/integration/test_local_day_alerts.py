"""Reorder and expiry alerts count days from each location's local date, flipping at its local midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest

from inventory import clock
from inventory.domain.models import Actor
from inventory.services import alert_refresh, catalog, expiry_views, reorder_alerts
from tests.support import factories as f
from tests.support.clinic import Clinic, build, with_rule

EXPIRY = date(2027, 3, 1)


def at(text: str) -> datetime:
    """An instant given in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def clinic_expiring(actors: dict[str, Actor], timezone: str = f.PARIS, expiry: date = EXPIRY) -> Clinic:
    """A clinic whose only lot (6 units) expires on `expiry`, with a rule that alerts once that lot is unusable."""
    clock.set(at(f"{expiry.isoformat()}T12:00:00"))
    clinic = await build(actors, on_hand=6, expiry_days=0, timezone=timezone)
    await with_rule(actors, clinic, reorder_point=2, par_level=10, lead_time_days=0)
    return clinic


def mine(items: list[dict[str, Any]], clinic: Clinic) -> list[dict[str, Any]]:
    return [
        i for i in items if i["location"]["id"] == clinic.location_id and i["product"]["id"] == clinic.product["id"]
    ]


@pytest.mark.parametrize(
    ("expiry", "last_usable", "first_expired", "next_day"),
    [
        (EXPIRY, "2027-03-01T22:59:00", "2027-03-01T23:00:00", "2027-03-02"),
        (date(2027, 7, 15), "2027-07-15T21:59:00", "2027-07-15T22:00:00", "2027-07-16"),
    ],
    ids=["winter", "summer"],
)
async def test_reorder_usable_stock_drops_the_lot_at_local_midnight(
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    expiry: date,
    last_usable: str,
    first_expired: str,
    next_day: str,
) -> None:
    clinic = await clinic_expiring(actors, expiry=expiry)
    clock.set(at(last_usable))
    assert mine(await reorder_alerts.list_reorder(location_id=clinic.location_id), clinic) == []
    clock.set(at(first_expired))
    [alert] = mine(await reorder_alerts.list_reorder(location_id=clinic.location_id), clinic)
    assert (alert["usable_on_hand"], alert["evaluated_on"]) == (0, next_day)


async def test_expiry_days_left_counts_from_the_local_date(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await clinic_expiring(actors)
    clock.set(at("2027-03-01T22:59:00"))
    [before] = mine(await expiry_views.expiry(within_days=5, location_id=clinic.location_id), clinic)
    assert (before["days_left"], before["state"]) == (0, "expiring")
    clock.set(at("2027-03-01T23:00:00"))
    [after] = mine(await expiry_views.expiry(within_days=5, location_id=clinic.location_id), clinic)
    assert (after["days_left"], after["state"]) == (-1, "expired")
    assert mine(await expiry_views.expiry(within_days=5, view="expired", location_id=clinic.location_id), clinic) == [
        after
    ]
    assert await expiry_views.as_of(location_id=clinic.location_id, default_timezone="UTC") == date(2027, 3, 2)


async def test_a_tokyo_location_is_a_day_ahead_of_a_paris_one_on_the_same_instant(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    paris = await clinic_expiring(actors)
    tokyo = await clinic_expiring(actors, timezone="Asia/Tokyo")
    clock.set(at("2027-03-01T15:30:00"))  # 16:30 on 1 March in Paris, 00:30 on 2 March in Tokyo
    shelf = await expiry_views.expiry(within_days=5)
    assert [i["days_left"] for i in mine(shelf, paris)] == [0]
    assert [i["days_left"] for i in mine(shelf, tokyo)] == [-1]
    reorder = await reorder_alerts.list_reorder()
    assert mine(reorder, paris) == []
    [tokyo_alert] = mine(reorder, tokyo)
    assert (tokyo_alert["usable_on_hand"], tokyo_alert["evaluated_on"]) == (0, "2027-03-02")


async def test_catch_up_runs_again_when_a_location_reaches_its_own_next_day(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    paris = await clinic_expiring(actors)
    clock.set(at("2027-03-01T20:00:00"))
    await alert_refresh.catch_up()
    assert await alert_refresh.catch_up() == 0  # every location's day is evaluated
    clock.set(at("2027-03-01T23:00:00"))  # midnight in Paris, still 1 March in UTC
    assert await alert_refresh.catch_up() >= 1
    assert mine(await reorder_alerts.list_reorder(location_id=paris.location_id), paris) != []


async def test_changing_a_location_time_zone_moves_its_day_at_once(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await clinic_expiring(actors)
    clock.set(at("2027-03-01T16:00:00"))
    assert mine(await reorder_alerts.list_reorder(location_id=clinic.location_id), clinic) == []
    moved = await catalog.update_location(
        actor=actors["manager"], location_id=clinic.location_id, timezone="Asia/Tokyo"
    )
    assert moved["timezone"] == "Asia/Tokyo"
    alert = await conn.fetchrow(
        "SELECT details FROM reorder_alert WHERE location = $1 AND status = 'open'", clinic.location_id
    )
    assert alert is not None and alert["details"]["evaluated_on"] == "2027-03-02"
    event = await conn.fetchrow(
        "SELECT details FROM audit_event WHERE action = 'location.update' AND entity_id = $1", clinic.location_id
    )
    assert event["details"] == {"timezone": {"from": f.PARIS, "to": "Asia/Tokyo"}}
