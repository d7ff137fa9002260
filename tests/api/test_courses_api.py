"""Courses over HTTP: a course books its planned sessions at the location's local time, with expected products."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pytest

from inventory.domain.models import Actor
from tests.support import factories as f
from tests.support.clinic import Clinic, build
from tests.support.db import row_counts
from tests.support.http import H, is_problem


async def test_a_course_books_its_sessions_every_interval_at_nine_local_time(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    start = f.in_days(3)
    booked = await client.post(
        "/api/courses",
        json={
            "client_id": clinic.client["id"],
            "location_id": clinic.location_id,
            "treatment": " Vitamin   glow ",
            "start_date": start.isoformat(),
            "sessions": 3,
            "interval_days": 14,
            "products": [{"product_id": clinic.product["id"], "quantity": 2}],
        },
        headers=auth_headers["staff"],
    )
    assert booked.status_code == 201, booked.text
    course = booked.json()
    assert course["treatment"] == "Vitamin glow"
    assert [p["quantity"] for p in course["products"]] == [2]
    planned = course["planned_sessions"]
    assert [s["sequence"] for s in planned] == [1, 2, 3]
    assert {s["status"] for s in planned} == {"planned"}
    assert [s["scheduled_for"][:10] for s in planned] == [
        (start + timedelta(days=14 * n)).isoformat() for n in range(3)
    ]
    assert all(s["scheduled_for"][11:16] in ("08:00", "07:00") for s in planned)  # 09:00 in Paris, as UTC
    shown = await client.get(f"/api/courses/{course['id']}", headers=auth_headers["staff"])
    assert shown.json()["planned_sessions"] == planned


def course(clinic: Clinic, **changes: object) -> dict[str, object]:
    """A valid course body for the clinic's client and location, with some fields changed."""
    return {
        "client_id": clinic.client["id"],
        "location_id": clinic.location_id,
        "treatment": "Glow",
        "start_date": f.in_days(1).isoformat(),
        "sessions": 2,
        "interval_days": 7,
        **changes,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"treatment": "  "},
        {"sessions": 0},
        {"sessions": 53},
        {"interval_days": 0},
        {"start_date": "1990-01-01"},
        {"products": [{"product_id": 0, "quantity": 1}]},
        {"duplicate_product": True},
    ],
)
async def test_a_bad_course_is_refused_and_books_nothing(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    change: dict[str, object],
) -> None:
    clinic = await build(actors)
    body = course(clinic)
    if change.pop("duplicate_product", False):
        body["products"] = [{"product_id": clinic.product["id"]}, {"product_id": clinic.product["id"]}]
    body.update(change)
    before = await row_counts(conn, ["course", "treatment_session", "audit_event"])
    response = await client.post("/api/courses", json=body, headers=auth_headers["staff"])
    assert is_problem(response, 422)
    assert await row_counts(conn, ["course", "treatment_session", "audit_event"]) == before


async def test_a_course_for_an_unknown_product_is_404_and_books_nothing(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    before = await row_counts(conn, ["course", "treatment_session"])
    response = await client.post(
        "/api/courses", json=course(clinic, products=[{"product_id": 999999999}]), headers=auth_headers["staff"]
    )
    assert is_problem(response, 404)
    assert await row_counts(conn, ["course", "treatment_session"]) == before
    assert is_problem(await client.get("/api/courses/999999999", headers=auth_headers["staff"]), 404)
