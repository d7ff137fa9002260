"""Reactions, the lots they are linked to, and what the signal rule and the reports read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from inventory.db import Connection
from inventory.domain.vigilance import ReactionLink
from inventory.store.common import unit_gtin_sql
from inventory.store.records import LotRef, ProductRef, lot_ref, product_ref


@dataclass(frozen=True)
class SessionForReaction:
    """What recording a reaction needs of its session."""

    id: int
    client_id: int
    location_id: int
    start: datetime  # the earliest of its planned time (or creation) and its first use
    date_of_birth: date | None = None  # the client's, for the age band kept with the reaction
    timezone: str = "UTC"  # the location's: the onset's local date decides the age band


@dataclass(frozen=True)
class ReactionLotRecord:
    """A lot linked to a reaction."""

    id: int
    lot_number: str
    product_id: int
    expiry_date: date


@dataclass(frozen=True)
class ReactionRecord:
    """A recorded reaction with its linked lots."""

    id: int
    session_id: int
    client_id: int
    client_name: str  # the pseudonym once the client is erased
    kind: str
    severity: str
    onset_at: datetime
    outcome: str | None
    description: str | None
    recorded_by: int
    recorded_at: datetime
    lots: tuple[ReactionLotRecord, ...]


@dataclass(frozen=True)
class ReportLine:
    """One lot of a reaction as a vigilance form asks for it."""

    product: str
    brand: str
    gtin: str | None
    lot_number: str
    expiry_date: date
    used_at: datetime  # the lot's first non-voided use in the session


@dataclass(frozen=True)
class ReportSubject:
    """The reaction's context for a report: never the client's name or contacts."""

    date_of_birth: date | None
    sex: str | None
    location_name: str
    timezone: str
    age_band: str  # kept at recording: what the report shows once the birth date is gone (erasure)


async def lock_session(conn: Connection, session_id: int) -> SessionForReaction | None:
    """The session, share-locked: a scan in flight (FOR NO KEY UPDATE) commits first, so its lot is linked."""
    row = await conn.fetchrow(
        "SELECT s.id, s.client AS client_id, s.location AS location_id,"
        " least(coalesce(s.scheduled_for, s.created_at), s.created_at,"
        "       (SELECT min(u.used_at) FROM usage u WHERE u.session = s.id)) AS start,"
        " c.date_of_birth, o.timezone"
        " FROM treatment_session s JOIN client c ON c.id = s.client JOIN location o ON o.id = s.location"
        " WHERE s.id = $1 FOR SHARE OF s",
        session_id,
    )
    return None if row is None else SessionForReaction(**dict(row))


async def insert_reaction(
    conn: Connection,
    *,
    session: SessionForReaction,
    kind: str,
    severity: str,
    onset_at: datetime,
    outcome: str | None,
    description: str | None,
    recorded_by: int,
    recorded_at: datetime,
    age_band: str = "unknown",
) -> int:
    """Insert a reaction and link every non-voided use of its session (one row per use); returns its id."""
    reaction_id: int = await conn.fetchval(
        "INSERT INTO reaction (session, client, kind, severity, onset_at, outcome, description, recorded_by,"
        " recorded_at, age_band) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        session.id,
        session.client_id,
        kind,
        severity,
        onset_at,
        outcome,
        description,
        recorded_by,
        recorded_at,
        age_band,
    )
    await conn.execute(
        "INSERT INTO reaction_lot (reaction, lot, usage)"
        " SELECT $1, u.lot, u.id FROM usage u WHERE u.session = $2 AND u.voided_at IS NULL ORDER BY u.id",
        reaction_id,
        session.id,
    )
    return reaction_id


# The free-text description may name the client and a reaction cannot be rewritten: once the client is erased it
# is withheld on every read (the structured fields, which never name anyone, stay).
_REACTION = (
    "SELECT r.id, r.session AS session_id, r.client AS client_id, c.full_name AS client_name, r.kind, r.severity,"
    " r.onset_at, r.outcome, CASE WHEN c.erased_at IS NULL THEN r.description END AS description,"
    " r.recorded_by, r.recorded_at FROM reaction r JOIN client c ON c.id = r.client"
)


async def _with_lots(conn: Connection, rows: list[Any]) -> list[ReactionRecord]:
    ids = [r["id"] for r in rows]
    lots = await conn.fetch(
        "SELECT DISTINCT rl.reaction, l.id, l.lot_number, l.product AS product_id, l.expiry_date"
        " FROM reaction_lot rl JOIN lot l ON l.id = rl.lot WHERE rl.reaction = ANY($1::int[])"
        " ORDER BY rl.reaction, l.id",
        ids,
    )
    by_reaction: dict[int, list[ReactionLotRecord]] = {}
    for lot in lots:
        values = dict(lot)
        by_reaction.setdefault(values.pop("reaction"), []).append(ReactionLotRecord(**values))
    return [ReactionRecord(**dict(r), lots=tuple(by_reaction.get(r["id"], []))) for r in rows]


async def get_reaction(conn: Connection, reaction_id: int) -> ReactionRecord | None:
    """A reaction with its lots."""
    row = await conn.fetchrow(f"{_REACTION} WHERE r.id = $1", reaction_id)
    return None if row is None else (await _with_lots(conn, [row]))[0]


async def list_reactions(
    conn: Connection,
    *,
    lot_id: int | None,
    product_id: int | None,
    limit: int,
    offset: int,
    severity: str | None = None,
) -> list[ReactionRecord]:
    """Reactions, latest onset first; narrowed to those linked to a lot or to any lot of a product, or of a severity."""
    rows = await conn.fetch(
        f"{_REACTION} WHERE ($1::int IS NULL OR EXISTS (SELECT 1 FROM reaction_lot rl WHERE rl.reaction = r.id"
        " AND rl.lot = $1)) AND ($2::int IS NULL OR EXISTS (SELECT 1 FROM reaction_lot rl JOIN lot l ON l.id = rl.lot"
        " WHERE rl.reaction = r.id AND l.product = $2)) AND ($5::text IS NULL OR r.severity = $5)"
        " ORDER BY r.onset_at DESC, r.id DESC LIMIT $3 OFFSET $4",
        lot_id,
        product_id,
        limit,
        offset,
        severity,
    )
    return await _with_lots(conn, list(rows))


async def reaction_links(
    conn: Connection, *, since: datetime, product_ids: list[int] | None = None
) -> list[ReactionLink]:
    """Every (reaction, lot) pair whose reaction's onset is at or after `since`; of these products' lots only."""
    rows = await conn.fetch(
        "SELECT DISTINCT r.id AS reaction_id, r.client AS client_id, r.severity, r.onset_at, l.id AS lot_id,"
        " l.product AS product_id FROM reaction r JOIN reaction_lot rl ON rl.reaction = r.id"
        " JOIN lot l ON l.id = rl.lot WHERE r.onset_at >= $1 AND ($2::int[] IS NULL OR l.product = ANY($2::int[]))"
        " ORDER BY r.id, l.id",
        since,
        product_ids,
    )
    return [ReactionLink(**dict(r)) for r in rows]


async def lock_signal_subjects(conn: Connection, product_ids: list[int]) -> None:
    """Serialise the signal check of reactions on these products (in id order: no deadlock), until commit.

    Two reactions recorded at once on one product then see each other's links, so exactly one of them raises
    the product's (or a lot's) signal.
    """
    for product_id in sorted(set(product_ids)):
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('vigilance-signal'), $1)", product_id)


@dataclass(frozen=True)
class UsedLot:
    """A lot and how many non-voided uses it has."""

    lot: LotRef
    uses: int


@dataclass(frozen=True)
class UsedProduct:
    """A product and how many non-voided uses it has."""

    product: ProductRef
    uses: int


async def lots(conn: Connection, lot_ids: list[int]) -> dict[int, UsedLot]:
    """Lots by id, with their non-voided uses."""
    rows = await conn.fetch(
        "SELECT l.id, l.product AS product_id, l.lot_number, l.expiry_date, l.status, l.not_received,"
        " (SELECT count(*) FROM usage u WHERE u.lot = l.id AND u.voided_at IS NULL) AS uses"
        " FROM lot l WHERE l.id = ANY($1::int[])",
        lot_ids,
    )
    return {r["id"]: UsedLot(lot_ref(r), int(r["uses"])) for r in rows}


async def products(conn: Connection, product_ids: list[int]) -> dict[int, UsedProduct]:
    """Products by id (name, brand, unit GTIN), with their non-voided uses."""
    rows = await conn.fetch(
        f"SELECT p.id AS product_id, p.name AS product_name, b.id AS brand_id, b.name AS brand_name,"
        f" {unit_gtin_sql('p.id')} AS gtin,"
        " (SELECT count(*) FROM usage u WHERE u.product = p.id AND u.voided_at IS NULL) AS uses"
        " FROM product p JOIN brand b ON b.id = p.brand WHERE p.id = ANY($1::int[])",
        product_ids,
    )
    return {r["product_id"]: UsedProduct(product_ref(r), int(r["uses"])) for r in rows}


async def report_lines(conn: Connection, reaction_id: int) -> list[ReportLine]:
    """The reaction's lots with product, brand, GTIN and the first use of each in the session."""
    rows = await conn.fetch(
        f"SELECT p.name AS product, b.name AS brand, {unit_gtin_sql('p.id')} AS gtin, l.lot_number, l.expiry_date,"
        " min(u.used_at) AS used_at FROM reaction_lot rl JOIN usage u ON u.id = rl.usage JOIN lot l ON l.id = rl.lot"
        " JOIN product p ON p.id = l.product JOIN brand b ON b.id = p.brand WHERE rl.reaction = $1"
        " GROUP BY p.id, p.name, b.name, l.id, l.lot_number, l.expiry_date ORDER BY min(u.used_at), l.id",
        reaction_id,
    )
    return [ReportLine(**dict(r)) for r in rows]


async def report_subject(conn: Connection, reaction_id: int) -> ReportSubject | None:
    """Birth date and sex of the reaction's client (for an age band), and the session's clinic."""
    row = await conn.fetchrow(
        "SELECT c.date_of_birth, c.sex, loc.name AS location_name, loc.timezone, r.age_band FROM reaction r"
        " JOIN client c ON c.id = r.client JOIN treatment_session s ON s.id = r.session"
        " JOIN location loc ON loc.id = s.location WHERE r.id = $1",
        reaction_id,
    )
    return None if row is None else ReportSubject(**dict(row))
