"""The location's local day decides expiry: refusals flip at local midnight, in winter and in summer."""

from __future__ import annotations

from datetime import UTC, date, datetime

import asyncpg
import httpx
import pytest

from inventory import clock
from inventory.domain.models import Actor
from tests.support import factories as f
from tests.support.clinic import Clinic, build
from tests.support.http import H, is_problem

WINTER_EXPIRY = date(2027, 3, 1)  # Paris is UTC+1: the day after begins at 23:00 UTC
SUMMER_EXPIRY = date(2027, 7, 15)  # Paris is UTC+2: the day after begins at 22:00 UTC


def at(text: str) -> datetime:
    """An instant given in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def clinic_with_lot_expiring(actors: dict[str, Actor], expiry: date, *, timezone: str = f.PARIS) -> Clinic:
    """A clinic (at a location in `timezone`) whose lot expires on `expiry`, built at noon UTC that day."""
    clock.set(at(f"{expiry.isoformat()}T12:00:00"))
    return await build(actors, expiry_days=0, timezone=timezone)


async def scan(client: httpx.AsyncClient, headers: H, clinic: Clinic) -> httpx.Response:
    return await client.post(
        f"/api/sessions/{clinic.session['id']}/scans", json={"barcode": clinic.code()}, headers=headers["staff"]
    )


@pytest.mark.parametrize(
    ("expiry", "last_usable", "first_refused"),
    [
        (WINTER_EXPIRY, "2027-03-01T22:59:00", "2027-03-01T23:00:00"),
        (SUMMER_EXPIRY, "2027-07-15T21:59:00", "2027-07-15T22:00:00"),
    ],
    ids=["winter", "summer"],
)
async def test_scan_refuses_an_expired_lot_from_local_midnight_in_paris(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    expiry: date,
    last_usable: str,
    first_refused: str,
) -> None:
    clinic = await clinic_with_lot_expiring(actors, expiry)
    clock.set(at(last_usable))
    assert (await scan(client, auth_headers, clinic)).status_code == 201
    clock.set(at(first_refused))
    refused = await scan(client, auth_headers, clinic)
    assert is_problem(refused, 409, "lot_expired")
    assert await conn.fetchval("SELECT count(*) FROM usage WHERE lot = $1", clinic.lot["id"]) == 1


async def receive(
    client: httpx.AsyncClient, headers: H, location_id: int, product_id: int, expiry: date
) -> httpx.Response:
    line = {
        "product_id": product_id,
        "lot_number": f.unique("R").replace(" ", ""),
        "expiry_date": expiry.isoformat(),
        "quantity": 1,
    }
    return await client.post(
        "/api/receipts", json={"location_id": location_id, "lines": [line]}, headers=headers["staff"]
    )


@pytest.mark.parametrize(
    ("expiry", "last_usable", "first_refused"),
    [
        (WINTER_EXPIRY, "2027-03-01T22:59:00", "2027-03-01T23:00:00"),
        (SUMMER_EXPIRY, "2027-07-15T21:59:00", "2027-07-15T22:00:00"),
    ],
    ids=["winter", "summer"],
)
async def test_receiving_refuses_an_expired_lot_from_local_midnight_in_paris(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    expiry: date,
    last_usable: str,
    first_refused: str,
) -> None:
    target = await f.product_and_location(actors)
    clock.set(at(last_usable))
    accepted = await receive(client, auth_headers, target.location_id, target.product_id, expiry)
    assert accepted.status_code == 201, accepted.text
    clock.set(at(first_refused))
    refused = await receive(client, auth_headers, target.location_id, target.product_id, expiry)
    assert is_problem(refused, 422, "lot_expired")
    assert await conn.fetchval("SELECT count(*) FROM receipt WHERE location = $1", target.location_id) == 1


@pytest.mark.parametrize(
    ("instant", "refused_in", "usable_in"),
    [
        ("2027-03-01T15:00:00", "Asia/Tokyo", f.PARIS),  # Tokyo (UTC+9) is already on 2 March
        ("2027-03-02T03:00:00", f.PARIS, "America/New_York"),  # New York (UTC-5) is still on 1 March
    ],
    ids=["tokyo-ahead", "new-york-behind"],
)
async def test_the_same_instant_is_another_day_at_a_location_in_another_zone(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], instant: str, refused_in: str, usable_in: str
) -> None:
    refusing = await clinic_with_lot_expiring(actors, WINTER_EXPIRY, timezone=refused_in)
    usable = await clinic_with_lot_expiring(actors, WINTER_EXPIRY, timezone=usable_in)
    clock.set(at(instant))
    assert is_problem(await scan(client, auth_headers, refusing), 409, "lot_expired")
    assert (await scan(client, auth_headers, usable)).status_code == 201


async def test_the_rows_a_scan_writes_carry_the_service_clock_not_the_database_clock(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await clinic_with_lot_expiring(actors, WINTER_EXPIRY)
    clock.set(at("2027-03-01T22:30:00"))
    response = await scan(client, auth_headers, clinic)
    assert response.status_code == 201, response.text
    usage_id = response.json()["usage_id"]
    used_at = await conn.fetchval("SELECT used_at FROM usage WHERE id = $1", usage_id)
    assert at("2027-03-01T22:30:00") <= used_at < at("2027-03-01T22:31:00")
    moved_at = await conn.fetchval("SELECT created_at FROM stock_movement WHERE usage = $1", usage_id)
    audited_at = await conn.fetchval(
        "SELECT created_at FROM audit_event WHERE action = 'usage.record' AND entity_id = $1", usage_id
    )
    assert moved_at == audited_at == used_at  # one transaction, one instant
