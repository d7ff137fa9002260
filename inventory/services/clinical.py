"""Clients, treatment sessions and courses of sessions."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from inventory import clock, db
from inventory.domain import dates
from inventory.domain import protocols as protocol_rules
from inventory.domain.erasure import client_erased
from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.domain.quantities import Quantity
from inventory.domain.vigilance import SEXES
from inventory.services import alerting, protocols
from inventory.services.checks import require
from inventory.store import audit, catalog
from inventory.store import clinical as store

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-/]{5,40}$")
MAX_SESSIONS = 52
COURSE_SESSION_TIME = time(9, 0)  # local time at the course's location


def sees_contacts(actor: Actor) -> bool:
    """Whether this role may see clients' e-mail and phone (managers handle recalls; staff never see them)."""
    return actor.has_role("manager")


def client_view(row: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """A client; contact details only for roles that need them (managers handle recalls)."""
    show_contacts = sees_contacts(actor)
    return {
        "id": row["id"],
        "full_name": row["full_name"],
        "email": row["email"] if show_contacts else None,
        "phone": row["phone"] if show_contacts else None,
        "date_of_birth": row["date_of_birth"],
        "sex": row.get("sex"),
        "allergies": list(row["allergies"] or []),
        "erased_at": row.get("erased_at"),
    }


MAX_NAME_LENGTH = 200  # the columns' lengths
MAX_ALLERGY_LENGTH = 120
MAX_ALLERGIES = 50


def _clean_allergies(allergies: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for allergy in allergies:
        cleaned = " ".join(allergy.split())
        if cleaned and cleaned.casefold() not in seen:
            seen[cleaned.casefold()] = cleaned
    return list(seen.values())


def _check_allergies(allergies: list[str]) -> None:
    """Raise Unprocessable (field allergies) for an allergy too long or with control characters, or too many."""
    if len(allergies) > MAX_ALLERGIES:
        raise Unprocessable(
            f"A client has at most {MAX_ALLERGIES} allergies.", code="validation_error", field="allergies"
        )
    if any(len(a) > MAX_ALLERGY_LENGTH or not a.isprintable() for a in allergies):
        raise Unprocessable(
            f"An allergy has at most {MAX_ALLERGY_LENGTH} printable characters.",
            code="validation_error",
            field="allergies",
        )


async def create_client(
    *,
    actor: Actor,
    full_name: str,
    email: str | None = None,
    phone: str | None = None,
    date_of_birth: date | None = None,
    allergies: list[str] | None = None,
    sex: str | None = None,
) -> dict[str, Any]:
    """Register a client; raises Unprocessable (with the `field` at fault) for an empty or overlong name, a bad
    e-mail or phone, an impossible birth date, a sex other than female, male or other, bad allergies."""
    name = " ".join(full_name.split())
    if not name:
        raise Unprocessable("The client's full name is required.", code="validation_error", field="full_name")
    if len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise Unprocessable(
            f"The name has at most {MAX_NAME_LENGTH} printable characters.", code="validation_error", field="full_name"
        )
    email = (email or "").strip() or None
    if email is not None and (len(email) > 254 or not email.isprintable() or not _EMAIL.match(email)):
        raise Unprocessable("The e-mail address is not valid.", code="validation_error", field="email")
    phone = (phone or "").strip() or None
    if phone is not None and not _PHONE.match(phone):
        raise Unprocessable("The phone number is not valid.", code="validation_error", field="phone")
    if date_of_birth is not None and not date(1900, 1, 1) <= date_of_birth <= clock.today():
        raise Unprocessable("The date of birth is not plausible.", code="validation_error", field="date_of_birth")
    if sex is not None and sex not in SEXES:
        raise Unprocessable("The sex is female, male or other.", code="validation_error", field="sex")
    cleaned = _clean_allergies(allergies or [])
    _check_allergies(cleaned)
    async with db.transaction() as conn:
        row = await store.create_client(
            conn,
            full_name=name,
            email=email,
            phone=phone,
            date_of_birth=date_of_birth,
            allergies=cleaned,
            sex=sex,
        )
        await audit.record(conn, actor_id=actor.id, action="client.create", entity="client", entity_id=row["id"])
    return client_view(row, actor)


async def change_allergies(
    *, actor: Actor, client_id: int, add: list[str] | None = None, remove: list[str] | None = None
) -> dict[str, Any]:
    """Add and remove allergies of a client (case-insensitively, under the row's lock, so no change is lost); audited.

    Raises NotFound, Conflict(client_erased), Unprocessable (an allergy too long or with control characters, or
    more than 50 in all).
    """
    added = _clean_allergies(add or [])
    _check_allergies(added)
    removed = {" ".join(a.split()).casefold() for a in remove or []}
    async with db.transaction() as conn:
        before = await store.lock_client_allergies(conn, client_id)
        if before is None:
            raise NotFound.of("client", client_id)
        await _require_live_client(conn, client_id)  # under the row's lock: an erasure cannot slip in between
        after = _clean_allergies([a for a in before if a.casefold() not in removed] + added)
        _check_allergies(after)
        if after != before:
            await store.set_client_allergies(conn, client_id, after)
            await audit.record(
                conn,
                actor_id=actor.id,
                action="client.allergies",
                entity="client",
                entity_id=client_id,
                details={"before": before, "after": after},
            )
        row = await store.get_client(conn, client_id)
    assert row is not None
    return client_view(row, actor)


async def get_client(*, actor: Actor, client_id: int) -> dict[str, Any]:
    """One client; raises NotFound."""
    async with db.connection() as conn:
        row = await store.get_client(conn, client_id)
    if row is None:
        raise NotFound.of("client", client_id)
    return client_view(row, actor)


async def list_clients(*, actor: Actor, query: str | None, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Clients whose name contains the query; raises Unprocessable for control characters."""
    if query is not None and not query.isprintable():
        raise Unprocessable("The search text contains control characters.", code="validation_error")
    async with db.connection() as conn:
        rows = await store.list_clients(conn, query=query, limit=limit, offset=offset)
    return [client_view(r, actor) for r in rows]


async def create_session(
    *,
    actor: Actor,
    client_id: int,
    location_id: int,
    scheduled_for: datetime | None = None,
    treatment: str | None = None,
    protocol_id: int | None = None,
) -> dict[str, Any]:
    """Open a treatment session for a client at a location, following a protocol if given; raises NotFound."""
    if scheduled_for is not None:
        if scheduled_for.tzinfo is None:
            scheduled_for = scheduled_for.replace(tzinfo=UTC)
        now = clock.now()
        # Checked before storing: a moment near year 9999 with a negative offset overflows in UTC.
        dates.require_moment_between(
            scheduled_for,
            now - timedelta(days=366 * dates.MAX_BOOKING_YEARS),
            now + timedelta(days=366 * dates.MAX_BOOKING_YEARS),
            what="scheduled_for",
        )
    async with db.transaction() as conn:
        await _require_live_client(conn, client_id)
        await require(conn, "location", location_id)
        if protocol_id is not None:
            await protocols.require_protocol(conn, protocol_id)
        session_id = await store.create_session(
            conn,
            client_id=client_id,
            location_id=location_id,
            treatment=(treatment or "").strip() or None,
            scheduled_for=scheduled_for,
            created_by=actor.id,
            protocol_id=protocol_id,
        )
        await audit.record(
            conn,
            actor_id=actor.id,
            action="session.create",
            entity="session",
            entity_id=session_id,
            details={"client_id": client_id, "location_id": location_id},
        )
        session = await _session(conn, session_id)
    return session


async def _require_live_client(conn: db.Connection, client_id: int) -> None:
    """Raise NotFound for an unknown client, Conflict(client_erased) for an erased one (no new records)."""
    erased = await store.client_erased(conn, client_id)
    if erased is None:
        raise NotFound.of("client", client_id)
    if erased:
        raise client_erased(client_id)


async def _session(conn: db.Connection, session_id: int) -> dict[str, Any]:
    row = await store.get_session(conn, session_id)
    if row is None:
        raise NotFound.of("session", session_id)
    return row


async def get_session(*, session_id: int) -> dict[str, Any]:
    """A session with its recorded uses and, when it follows a protocol, its checklist."""
    async with db.connection() as conn:
        session = await _session(conn, session_id)
        usages = await store.session_usages(conn, session_id)
        checklist = await protocols.session_checklist(conn, session_id, session["protocol_id"])
    return {**session, "usages": usages, "checklist": [item.as_dict() for item in checklist]}


async def list_sessions(
    *,
    location_id: int | None,
    client_id: int | None,
    status: str | None,
    limit: int = 100,
    day: date | None = None,
) -> list[dict[str, Any]]:
    """Sessions, most recent first; with `day`, that local day's at the location, planned first (the chair's list).

    Raises Unprocessable when `day` comes without a location, NotFound for an unknown location.
    """
    if day is None:
        async with db.connection() as conn:
            return await store.list_sessions(
                conn, location_id=location_id, client_id=client_id, status=status, limit=limit
            )
    if location_id is None:
        raise Unprocessable(
            "A day's sessions are listed per location: give location_id with date.", code="validation_error"
        )
    if not date.min < day < date.max:  # the day's bounds as instants must exist in every zone
        raise Unprocessable("The date is out of range.", code="validation_error")
    async with db.connection() as conn:
        location = await catalog.get_location(conn, location_id)
        if location is None:
            raise NotFound.of("location", location_id)
        timezone = location["timezone"]
        return await store.day_sessions(
            conn,
            location_id=location_id,
            start=clock.day_start(day, timezone),
            end=clock.day_end(day, timezone),
            client_id=client_id,
            status=status,
            limit=limit,
        )


async def close_session(*, actor: Actor, session_id: int) -> dict[str, Any]:
    """Close a session: no more scans; raises NotFound, Conflict(session_closed).

    A session whose protocol items were not all used in full still closes, with a `protocol_incomplete` warning.
    """
    async with db.transaction() as conn:
        status = await store.lock_session_status(conn, session_id)
        if status is None:
            raise NotFound.of("session", session_id)
        if status == "closed":
            raise Conflict("The session is already closed.", code="session_closed")
        await store.close_session(conn, session_id)
        session = await _session(conn, session_id)
        checklist = await protocols.session_checklist(conn, session_id, session["protocol_id"])
        warning = protocol_rules.incomplete(checklist)
        await audit.record(
            conn,
            actor_id=actor.id,
            action="session.close",
            entity="session",
            entity_id=session_id,
            **({"details": {"warnings": ["protocol_incomplete"]}} if warning else {}),
        )
        return {**session, "warnings": [warning] if warning else []}


async def create_course(
    *,
    actor: Actor,
    client_id: int,
    location_id: int,
    treatment: str,
    start_date: date,
    sessions: int,
    interval_days: int,
    products: list[tuple[int, int]],
    protocol_id: int | None = None,
) -> dict[str, Any]:
    """Book a course: its planned sessions and the products each is expected to use.

    With a protocol, every planned session follows it and, when no products are given, the protocol's items
    (and quantities) are what each session is expected to use: the forecasts count them.
    """
    treatment = " ".join(treatment.split())
    if not treatment:
        raise Unprocessable("The treatment is required.", code="validation_error")
    if not 1 <= sessions <= MAX_SESSIONS:
        raise Unprocessable(f"A course has 1 to {MAX_SESSIONS} sessions.", code="validation_error")
    if not 1 <= interval_days <= 365:
        raise Unprocessable("The interval is 1 to 365 days.", code="validation_error")
    today = clock.today()
    dates.require_between(
        start_date,
        dates.add_days(today, -365),
        dates.years_after(today, dates.MAX_BOOKING_YEARS),
        what="The start date",
    )
    if len({p for p, _ in products}) != len(products):
        raise Unprocessable("A product is listed twice.", code="validation_error")
    if any(q < 1 for _, q in products):
        raise Unprocessable("Quantities are positive whole numbers.", code="validation_error")
    async with db.transaction() as conn:
        await _require_live_client(conn, client_id)
        location = await catalog.get_location(conn, location_id)
        if location is None:
            raise NotFound.of("location", location_id)
        timezone = location["timezone"]
        if start_date < clock.today_in(timezone) - timedelta(days=365):
            raise Unprocessable("The start date is too far in the past.", code="validation_error")
        expected: list[tuple[int, Quantity]] = list(products)
        if protocol_id is not None:
            protocol = await protocols.require_protocol(conn, protocol_id)
            if not products:
                expected = [(item.product_id, item.quantity) for item in protocol.items]
        for product_id, _ in products:
            await require(conn, "product", product_id)
        course_id = await store.create_course(
            conn,
            client_id=client_id,
            location_id=location_id,
            treatment=treatment,
            start_date=start_date,
            sessions=sessions,
            interval_days=interval_days,
            created_by=actor.id,
            protocol_id=protocol_id,
        )
        await store.add_course_products(conn, course_id, expected)
        planned = [
            (
                client_id,
                location_id,
                course_id,
                n + 1,
                treatment,
                # The same wall-clock time at the location on each day, whatever DST does in between.
                clock.at_local(
                    dates.add_days(start_date, n * interval_days, what="A planned session"),
                    COURSE_SESSION_TIME,
                    timezone,
                ),
                actor.id,
            )
            for n in range(sessions)
        ]
        await store.add_planned_sessions(conn, planned, protocol_id=protocol_id)
        # Booked sessions inside a lead time raise forecast demand now, not at tomorrow's catch-up.
        await alerting.reevaluate(conn, [(product_id, location_id) for product_id, _ in expected])
        await audit.record(
            conn,
            actor_id=actor.id,
            action="course.create",
            entity="course",
            entity_id=course_id,
            details={"client_id": client_id, "sessions": sessions, "interval_days": interval_days},
        )
        return await _course(conn, course_id)


async def _course(conn: db.Connection, course_id: int) -> dict[str, Any]:
    row = await store.get_course(conn, course_id)
    if row is None:
        raise NotFound.of("course", course_id)
    return {
        **row,
        "products": await store.course_products(conn, course_id),
        "planned_sessions": await store.course_sessions(conn, course_id),
    }


async def get_course(*, course_id: int) -> dict[str, Any]:
    """A course with its planned sessions."""
    async with db.connection() as conn:
        return await _course(conn, course_id)


async def client_courses(*, client_id: int) -> list[dict[str, Any]]:
    """A client's courses, latest first, each with its location, products (named) and planned sessions."""
    async with db.connection() as conn:
        courses = await store.client_courses(conn, client_id)
        ids = [c["id"] for c in courses]
        products = await store.courses_products(conn, ids) if ids else []
        sessions = await store.client_course_sessions(conn, client_id) if ids else []
    return [
        {
            **course,
            "products": [p for p in products if p["course_id"] == course["id"]],
            "planned_sessions": [s for s in sessions if s["course_id"] == course["id"]],
        }
        for course in courses
    ]
