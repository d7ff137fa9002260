"""The chair's list of a local day's sessions, and course planning in the location's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from inventory import clock
from tests.support import factories as f
from tests.support.http import H, is_problem


def at(text: str) -> datetime:
    """An instant given in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def place(client: httpx.AsyncClient, headers: H, timezone: str = f.PARIS) -> dict[str, Any]:
    response = await client.post(
        "/api/locations", json={"name": f.unique("Chair room"), "timezone": timezone}, headers=headers["manager"]
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def new_client(client: httpx.AsyncClient, headers: H) -> dict[str, Any]:
    response = await client.post(
        "/api/clients",
        json={"full_name": f.unique("Camille"), "email": "camille@example.com", "phone": "+33 6 00 00 00 00"},
        headers=headers["staff"],
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def session_at(client: httpx.AsyncClient, headers: H, client_id: int, location_id: int, when: str) -> int:
    response = await client.post(
        "/api/sessions",
        json={"client_id": client_id, "location_id": location_id, "scheduled_for": when, "treatment": "Mesolift"},
        headers=headers["staff"],
    )
    assert response.status_code == 201, response.text
    session_id: int = response.json()["id"]
    return session_id


async def day(client: httpx.AsyncClient, headers: H, location_id: int, date: str) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/sessions", params={"location_id": location_id, "date": date}, headers=headers["staff"]
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


async def test_a_session_belongs_to_the_local_day_it_is_scheduled_on(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    room = await place(client, auth_headers)
    person = await new_client(client, auth_headers)
    late = await session_at(client, auth_headers, person["id"], room["id"], "2027-03-01T22:59:00Z")  # 23:59 Paris
    after_midnight = await session_at(client, auth_headers, person["id"], room["id"], "2027-03-01T23:00:00Z")
    assert [s["id"] for s in await day(client, auth_headers, room["id"], "2027-03-01")] == [late]
    assert [s["id"] for s in await day(client, auth_headers, room["id"], "2027-03-02")] == [after_midnight]


async def test_the_same_instant_lands_on_each_location_own_day(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    paris, tokyo = await place(client, auth_headers), await place(client, auth_headers, "Asia/Tokyo")
    person = await new_client(client, auth_headers)
    in_paris = await session_at(client, auth_headers, person["id"], paris["id"], "2027-03-01T16:00:00Z")
    in_tokyo = await session_at(client, auth_headers, person["id"], tokyo["id"], "2027-03-01T16:00:00Z")
    assert [s["id"] for s in await day(client, auth_headers, paris["id"], "2027-03-01")] == [in_paris]
    assert await day(client, auth_headers, tokyo["id"], "2027-03-01") == []
    assert [s["id"] for s in await day(client, auth_headers, tokyo["id"], "2027-03-02")] == [in_tokyo]


async def test_the_day_lists_planned_then_open_then_closed_with_the_client_name_and_no_contacts(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    clock.set(at("2027-02-20T10:00:00"))
    room = await place(client, auth_headers)
    person = await new_client(client, auth_headers)
    closed = await session_at(client, auth_headers, person["id"], room["id"], "2027-03-01T07:00:00Z")
    assert (await client.post(f"/api/sessions/{closed}/close", headers=auth_headers["staff"])).status_code == 200
    opened = await session_at(client, auth_headers, person["id"], room["id"], "2027-03-01T15:00:00Z")
    course = await client.post(
        "/api/courses",
        json={
            "client_id": person["id"],
            "location_id": room["id"],
            "treatment": "Mesotherapy",
            "start_date": "2027-03-01",
            "sessions": 2,
            "interval_days": 7,
        },
        headers=auth_headers["staff"],
    )
    assert course.status_code == 201, course.text
    planned = course.json()["planned_sessions"][0]
    items = await day(client, auth_headers, room["id"], "2027-03-01")
    assert [(s["id"], s["status"]) for s in items] == [(planned["id"], "planned"), (opened, "open"), (closed, "closed")]
    first = items[0]
    assert first["client_id"] == person["id"] and first["client_name"] == person["full_name"]
    assert (first["course_id"], first["sequence"], first["treatment"]) == (course.json()["id"], 1, "Mesotherapy")
    assert first["scheduled_for"] == "2027-03-01T08:00:00Z"  # 09:00 in Paris
    assert not {"email", "phone"} & set(first)
    open_only = await client.get(
        "/api/sessions",
        params={"location_id": room["id"], "date": "2027-03-01", "status": "open"},
        headers=auth_headers["staff"],
    )
    assert [s["id"] for s in open_only.json()] == [opened]


async def test_a_day_without_a_location_is_refused_and_an_unknown_location_is_404(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    headers = auth_headers["staff"]
    assert is_problem(await client.get("/api/sessions", params={"date": "2027-03-01"}, headers=headers), 422)
    unknown = await client.get("/api/sessions", params={"date": "2027-03-01", "location_id": 999999}, headers=headers)
    assert is_problem(unknown, 404, "not_found")
    bad = await client.get("/api/sessions", params={"date": "2027-02-30", "location_id": 1}, headers=headers)
    assert is_problem(bad, 422)
    room = await place(client, auth_headers, "Asia/Tokyo")
    for edge in ("9999-12-31", "0001-01-01"):
        overflow = await client.get("/api/sessions", params={"date": edge, "location_id": room["id"]}, headers=headers)
        assert is_problem(overflow, 422, "validation_error")
    assert await day(client, auth_headers, room["id"], "9999-12-30") == []


async def test_course_sessions_keep_their_local_time_across_a_dst_change(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    clock.set(at("2027-03-20T10:00:00"))
    room = await place(client, auth_headers)
    person = await new_client(client, auth_headers)
    course = await client.post(
        "/api/courses",
        json={
            "client_id": person["id"],
            "location_id": room["id"],
            "treatment": "Mesolift",
            "start_date": "2027-03-27",  # Paris moves to summer time in the night of 27 to 28 March
            "sessions": 3,
            "interval_days": 1,
        },
        headers=auth_headers["staff"],
    )
    assert course.status_code == 201, course.text
    times = [s["scheduled_for"] for s in course.json()["planned_sessions"]]
    assert times == ["2027-03-27T08:00:00Z", "2027-03-28T07:00:00Z", "2027-03-29T07:00:00Z"]
    assert [s["sequence"] for s in await day(client, auth_headers, room["id"], "2027-03-28")] == [2]


async def test_a_course_starts_on_the_local_date_at_a_location_in_new_york(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    clock.set(at("2027-03-20T10:00:00"))
    room = await place(client, auth_headers, "America/New_York")
    person = await new_client(client, auth_headers)
    course = await client.post(
        "/api/courses",
        json={
            "client_id": person["id"],
            "location_id": room["id"],
            "treatment": "Mesolift",
            "start_date": "2027-03-05",  # New York is on UTC-5 before 14 March, UTC-4 after
            "sessions": 2,
            "interval_days": 14,
        },
        headers=auth_headers["staff"],
    )
    assert course.status_code == 201, course.text
    times = [s["scheduled_for"] for s in course.json()["planned_sessions"]]
    assert times == ["2027-03-05T14:00:00Z", "2027-03-19T13:00:00Z"]
