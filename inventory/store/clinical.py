"""Clients, treatment sessions and courses of sessions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from inventory import db
from inventory.db import Connection
from inventory.domain.quantities import Quantity
from inventory.store import lots, users

CLIENT_COLUMNS = "id, full_name, email, phone, date_of_birth, allergies, created_at, sex, erased_at"
SESSION_COLUMNS = (
    "s.id, s.client AS client_id, (SELECT c.full_name FROM client c WHERE c.id = s.client) AS client_name,"
    " s.location AS location_id, s.course AS course_id, s.sequence, s.status,"
    " s.treatment, s.scheduled_for, s.created_at, s.closed_at, s.protocol AS protocol_id"
)


# ------------------------------------------------------------------ clients


async def create_client(
    conn: Connection,
    *,
    full_name: str,
    email: str | None,
    phone: str | None,
    date_of_birth: date | None,
    allergies: list[str],
    sex: str | None = None,
) -> dict[str, Any]:
    """Insert a client."""
    row = await conn.fetchrow(
        "INSERT INTO client (full_name, email, phone, date_of_birth, allergies, created_at, sex)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {CLIENT_COLUMNS}",
        full_name,
        email,
        phone,
        date_of_birth,
        allergies,
        db.now(),
        sex,
    )
    assert row is not None
    return dict(row)


async def get_client(conn: Connection, client_id: int) -> dict[str, Any] | None:
    """A client by id."""
    row = await conn.fetchrow(f"SELECT {CLIENT_COLUMNS} FROM client WHERE id = $1", client_id)
    return dict(row) if row else None


async def lock_client_allergies(conn: Connection, client_id: int) -> list[str] | None:
    """A client's allergies, the row locked for update (None when the client does not exist)."""
    row = await conn.fetchrow("SELECT allergies FROM client WHERE id = $1 FOR UPDATE", client_id)
    return None if row is None else list(row["allergies"] or [])


async def set_client_allergies(conn: Connection, client_id: int, allergies: list[str]) -> None:
    """Replace a client's allergies."""
    await conn.execute("UPDATE client SET allergies = $2 WHERE id = $1", client_id, allergies)


async def list_clients(conn: Connection, *, query: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    """Clients whose name contains the query (matched literally: % and _ are not wildcards), by name."""
    if query is not None:
        query = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await conn.fetch(
        f"SELECT {CLIENT_COLUMNS} FROM client WHERE ($1::text IS NULL OR full_name ILIKE '%' || $1 || '%')"
        " ORDER BY lower(full_name), id LIMIT $2 OFFSET $3",
        query,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


async def client_erased(conn: Connection, client_id: int) -> bool | None:
    """Whether the client was erased, share-locked so an erasure in flight commits first; None when unknown."""
    row = await conn.fetchrow("SELECT erased_at FROM client WHERE id = $1 FOR SHARE", client_id)
    return None if row is None else row["erased_at"] is not None


async def lock_client(conn: Connection, client_id: int) -> dict[str, Any] | None:
    """A client locked for update (erasure)."""
    row = await conn.fetchrow(f"SELECT {CLIENT_COLUMNS} FROM client WHERE id = $1 FOR UPDATE", client_id)
    return dict(row) if row else None


async def pseudonymise_client(conn: Connection, client_id: int, *, pseudonym: str, at: datetime) -> dict[str, Any]:
    """Replace the client's name by `pseudonym`; drop contacts, birth date and allergies; mark it erased at `at`."""
    row = await conn.fetchrow(
        "UPDATE client SET full_name = $2, email = NULL, phone = NULL, date_of_birth = NULL, allergies = '{}',"
        f" erased_at = $3 WHERE id = $1 RETURNING {CLIENT_COLUMNS}",
        client_id,
        pseudonym,
        at,
    )
    assert row is not None
    return dict(row)


async def recall_notes(conn: Connection, client_id: int) -> list[tuple[int, str]]:
    """The recall contact notes about a client (id, note), locked for update."""
    rows = await conn.fetch(
        "SELECT id, note FROM recall_client WHERE client = $1 AND note IS NOT NULL FOR UPDATE", client_id
    )
    return [(r["id"], r["note"]) for r in rows]


async def set_recall_note(conn: Connection, recall_client_id: int, note: str) -> None:
    """Rewrite one recall contact note (erasure scrubs the client's name and contacts out of it)."""
    await conn.execute("UPDATE recall_client SET note = $2 WHERE id = $1", recall_client_id, note)


async def clients_past_retention(conn: Connection, *, before: datetime, limit: int) -> list[int]:
    """Clients not erased whose last session (planned time or creation), or their own creation when they have
    none, is before `before`; oldest first."""
    rows = await conn.fetch(
        "SELECT c.id FROM client c LEFT JOIN LATERAL (SELECT max(greatest(s.created_at, coalesce(s.scheduled_for,"
        " s.created_at))) AS last FROM treatment_session s WHERE s.client = c.id) t ON true"
        " WHERE c.erased_at IS NULL AND coalesce(t.last, c.created_at) < $1 ORDER BY c.id LIMIT $2",
        before,
        limit,
    )
    return [r["id"] for r in rows]


# ------------------------------------------------------------------ sessions


async def create_session(
    conn: Connection,
    *,
    client_id: int,
    location_id: int,
    treatment: str | None,
    scheduled_for: datetime | None,
    created_by: int,
    protocol_id: int | None = None,
) -> int:
    """Insert an open session (scheduled now unless given); returns its id."""
    value = await conn.fetchval(
        "INSERT INTO treatment_session (client, location, status, treatment, scheduled_for, created_by, created_at,"
        " protocol) VALUES ($1, $2, 'open', $3, coalesce($4::timestamptz, $6::timestamptz), $5, $6, $7) RETURNING id",
        client_id,
        location_id,
        treatment,
        scheduled_for,
        created_by,
        db.now(),
        protocol_id,
    )
    return int(value)


async def get_session(conn: Connection, session_id: int) -> dict[str, Any] | None:
    """A session by id."""
    row = await conn.fetchrow(f"SELECT {SESSION_COLUMNS} FROM treatment_session s WHERE s.id = $1", session_id)
    return dict(row) if row else None


async def session_usages(conn: Connection, session_id: int) -> list[dict[str, Any]]:
    """The uses recorded in a session, voided ones included, in order."""
    rows = await conn.fetch(
        "SELECT u.id AS usage_id, u.lot AS lot_id, l.lot_number, l.expiry_date, u.product AS product_id,"
        " p.name AS product_name, u.quantity, u.used_at, u.used_by AS user_id, u.warnings,"
        " u.override_reason, u.voided_at IS NOT NULL AS voided, u.void_reason"
        " FROM usage u JOIN lot l ON l.id = u.lot JOIN product p ON p.id = u.product"
        " WHERE u.session = $1 ORDER BY u.id",
        session_id,
    )
    return [dict(r) for r in rows]


async def list_sessions(
    conn: Connection, *, location_id: int | None, client_id: int | None, status: str | None, limit: int
) -> list[dict[str, Any]]:
    """Sessions, most recent first."""
    rows = await conn.fetch(
        f"SELECT {SESSION_COLUMNS} FROM treatment_session s WHERE ($1::int IS NULL OR s.location = $1)"
        " AND ($2::int IS NULL OR s.client = $2) AND ($3::text IS NULL OR s.status = $3)"
        " ORDER BY s.scheduled_for DESC NULLS LAST, s.id DESC LIMIT $4",
        location_id,
        client_id,
        status,
        limit,
    )
    return [dict(r) for r in rows]


async def day_sessions(
    conn: Connection,
    *,
    location_id: int,
    start: datetime,
    end: datetime,
    client_id: int | None,
    status: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """A location's sessions scheduled in [start, end): planned, then open, then closed, each by scheduled time."""
    rows = await conn.fetch(
        f"SELECT {SESSION_COLUMNS} FROM treatment_session s WHERE s.location = $1"
        " AND s.scheduled_for >= $2 AND s.scheduled_for < $3 AND ($4::text IS NULL OR s.status = $4)"
        " AND ($5::int IS NULL OR s.client = $5)"
        " ORDER BY CASE s.status WHEN 'planned' THEN 0 WHEN 'open' THEN 1 ELSE 2 END, s.scheduled_for, s.id"
        " LIMIT $6",
        location_id,
        start,
        end,
        status,
        client_id,
        limit,
    )
    return [dict(r) for r in rows]


async def lock_session_status(conn: Connection, session_id: int) -> str | None:
    """A session's status, the row locked for update (None when it does not exist)."""
    value = await conn.fetchval("SELECT status FROM treatment_session WHERE id = $1 FOR UPDATE", session_id)
    return None if value is None else str(value)


async def close_session(conn: Connection, session_id: int) -> None:
    """Mark a session closed now."""
    await conn.execute(
        "UPDATE treatment_session SET status = 'closed', closed_at = $2 WHERE id = $1", session_id, db.now()
    )


@dataclass(frozen=True)
class ScanLock:
    """A session locked for a scan, with what rode on its lock: the token's check and the barcode's look-up."""

    session: dict[str, Any]
    token_valid: bool  # true when no token was given
    looked_up: dict[str, Any] | None  # lots.GTIN_AND_KEY_COLUMNS for the GTIN asked, None when unknown or not asked


async def lock_session_for_scan(
    conn: Connection,
    session_id: int,
    *,
    token: tuple[int, str, float] | None = None,
    gtin_and_key: tuple[str, str | None] | None = None,
) -> ScanLock | None:
    """A session with its client's allergies and its location's time zone, locked FOR NO KEY UPDATE: one scan at once.

    Scans of one session wait for each other, so the repeat-scan check sees the use a concurrent scan of the
    same barcode just committed; closing the session (FOR UPDATE) waits for scans in flight, and a scan after
    the close sees it. The usage rows' foreign-key checks (FOR KEY SHARE) do not conflict with this lock.
    The rest of the transaction plans its prepared statements generically (plan_cache_mode, set by this statement).
    With `token` (user id, jti, issued at) it checks that bearer token; with `gtin_and_key` it looks the barcode up
    as lots.find_by_gtin_and_key does.
    """
    # What rides on the lock costs no round trip of its own. The protocol's products (null without a protocol):
    # not_in_protocol. The scan's plan_cache_mode: set for the rest of the transaction only (is_local), it makes
    # the statements that follow reuse one generic plan each; their shapes never vary, and planning them afresh on
    # every scan (custom plans) costs more than running them. A SET LOCAL of its own would be a round trip, and a
    # session-wide setting would force generic plans on every other query of the connection too. The bearer
    # token's check, in the scan's own snapshot: a revocation committed before it is seen. The barcode's look-up:
    # like the rest of the statement it reads the snapshot taken before the lock was granted, as a look-up made
    # just before the lock would; the lot's status is read again under the lot's own lock, and a lot a concurrent
    # scan just created is found by lots.get_or_create.
    gtin, key = gtin_and_key or (None, None)
    row = await conn.fetchrow(
        "SELECT s.id, s.status, s.location, s.client, c.allergies, c.erased_at IS NOT NULL AS client_erased,"
        " o.timezone, set_config('plan_cache_mode', 'force_generic_plan', true) AS plans,"
        f" $2::int IS NULL OR EXISTS (SELECT 1 FROM app_user u WHERE {users.token_valid_sql('$2', '$3', '$4')})"
        " AS token_valid,"
        f" {', '.join(f'b.{name} AS found_{name}' for name in lots.GTIN_AND_KEY_COLUMNS)},"
        " CASE WHEN s.protocol IS NULL THEN NULL ELSE"
        " array(SELECT i.product FROM protocol_item i WHERE i.protocol = s.protocol) END AS protocol_products"
        " FROM treatment_session s"
        " JOIN client c ON c.id = s.client JOIN location o ON o.id = s.location"
        f" LEFT JOIN LATERAL ({lots.gtin_and_key_sql('$5::text', '$6::text')}) b ON true"
        " WHERE s.id = $1 FOR NO KEY UPDATE OF s",
        session_id,
        *(token or (None, None, None)),
        gtin,
        key,
    )
    if row is None:
        return None
    session = dict(row)
    found = {name: session.pop(f"found_{name}") for name in lots.GTIN_AND_KEY_COLUMNS}
    return ScanLock(
        session=session,
        token_valid=session.pop("token_valid"),
        looked_up=found if found["product_id"] is not None else None,
    )


async def open_session(conn: Connection, session_id: int) -> None:
    """Mark a (planned) session open."""
    await conn.execute("UPDATE treatment_session SET status = 'open' WHERE id = $1", session_id)


# ------------------------------------------------------------------ courses


async def create_course(
    conn: Connection,
    *,
    client_id: int,
    location_id: int,
    treatment: str,
    start_date: date,
    sessions: int,
    interval_days: int,
    created_by: int,
    protocol_id: int | None = None,
) -> int:
    """Insert a course; returns its id."""
    value = await conn.fetchval(
        "INSERT INTO course (client, location, treatment, start_date, sessions, interval_days, created_by,"
        " created_at, protocol) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        client_id,
        location_id,
        treatment,
        start_date,
        sessions,
        interval_days,
        created_by,
        db.now(),
        protocol_id,
    )
    return int(value)


async def add_course_products(conn: Connection, course_id: int, products: Sequence[tuple[int, Quantity]]) -> None:
    """Attach the products (product id, quantity) each session of a course is expected to use."""
    await conn.executemany(
        "INSERT INTO course_product (course, product, quantity) VALUES ($1, $2, $3)",
        [(course_id, product_id, quantity) for product_id, quantity in products],
    )


async def add_planned_sessions(
    conn: Connection, planned: list[tuple[int, int, int, int, str, datetime, int]], *, protocol_id: int | None = None
) -> None:
    """Insert planned sessions (client, location, course, sequence, treatment, scheduled_for, created_by)."""
    at = db.now()
    await conn.executemany(
        "INSERT INTO treatment_session (client, location, course, sequence, status, treatment, scheduled_for,"
        " created_by, created_at, protocol) VALUES ($1, $2, $3, $4, 'planned', $5, $6, $7, $8, $9)",
        [(*row, at, protocol_id) for row in planned],
    )


async def get_course(conn: Connection, course_id: int) -> dict[str, Any] | None:
    """A course's own row."""
    row = await conn.fetchrow(
        "SELECT id, client AS client_id, location AS location_id, treatment, start_date, sessions, interval_days,"
        " protocol AS protocol_id FROM course WHERE id = $1",
        course_id,
    )
    return dict(row) if row else None


async def course_products(conn: Connection, course_id: int) -> list[dict[str, Any]]:
    """The products of a course with their quantities."""
    rows = await conn.fetch(
        "SELECT product AS product_id, quantity FROM course_product WHERE course = $1 ORDER BY id", course_id
    )
    return [dict(r) for r in rows]


async def course_sessions(conn: Connection, course_id: int) -> list[dict[str, Any]]:
    """The sessions of a course in sequence."""
    rows = await conn.fetch(
        f"SELECT {SESSION_COLUMNS} FROM treatment_session s WHERE s.course = $1 ORDER BY s.sequence", course_id
    )
    return [dict(r) for r in rows]


async def client_courses(conn: Connection, client_id: int) -> list[dict[str, Any]]:
    """A client's courses, latest start first, with their location's name and time zone."""
    rows = await conn.fetch(
        "SELECT c.id, c.client AS client_id, c.location AS location_id, o.name AS location_name,"
        " o.timezone AS location_timezone, c.treatment, c.start_date, c.sessions, c.interval_days"
        " FROM course c JOIN location o ON o.id = c.location WHERE c.client = $1"
        " ORDER BY c.start_date DESC, c.id DESC",
        client_id,
    )
    return [dict(r) for r in rows]


async def courses_products(conn: Connection, course_ids: list[int]) -> list[dict[str, Any]]:
    """The products of these courses with their names, brands and quantities."""
    rows = await conn.fetch(
        "SELECT cp.course AS course_id, cp.product AS product_id, p.name AS product_name, b.name AS brand_name,"
        " cp.quantity FROM course_product cp JOIN product p ON p.id = cp.product JOIN brand b ON b.id = p.brand"
        " WHERE cp.course = ANY($1::int[]) ORDER BY cp.id",
        course_ids,
    )
    return [dict(r) for r in rows]


async def client_course_sessions(conn: Connection, client_id: int) -> list[dict[str, Any]]:
    """The sessions of a client's courses, by course and sequence."""
    rows = await conn.fetch(
        f"SELECT {SESSION_COLUMNS} FROM treatment_session s WHERE s.client = $1 AND s.course IS NOT NULL"
        " ORDER BY s.course, s.sequence",
        client_id,
    )
    return [dict(r) for r in rows]
