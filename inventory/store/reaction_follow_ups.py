"""A reaction's follow-ups: append-only notes of managers, each maybe with a new outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from inventory.db import Connection


@dataclass(frozen=True)
class FollowUpRecord:
    """One follow-up of a reaction."""

    id: int
    reaction_id: int
    outcome: str | None
    note: str
    recorded_by: int
    recorded_at: datetime


_FOLLOW_UP = (
    "SELECT f.id, f.reaction AS reaction_id, f.outcome, f.note, f.recorded_by, f.recorded_at FROM reaction_follow_up f"
)


async def reaction_exists(conn: Connection, reaction_id: int) -> bool:
    """Whether the reaction exists."""
    return bool(await conn.fetchval("SELECT 1 FROM reaction WHERE id = $1", reaction_id))


async def insert(
    conn: Connection, *, reaction_id: int, outcome: str | None, note: str, recorded_by: int, recorded_at: datetime
) -> FollowUpRecord:
    """Append a follow-up; returns it."""
    row = await conn.fetchrow(
        "INSERT INTO reaction_follow_up (reaction, outcome, note, recorded_by, recorded_at)"
        " VALUES ($1, $2, $3, $4, $5)"
        " RETURNING id, reaction AS reaction_id, outcome, note, recorded_by, recorded_at",
        reaction_id,
        outcome,
        note,
        recorded_by,
        recorded_at,
    )
    return FollowUpRecord(**dict(row))


async def of_reactions(conn: Connection, reaction_ids: list[int]) -> dict[int, tuple[FollowUpRecord, ...]]:
    """The follow-ups of each reaction, in the order they were written (oldest first)."""
    rows = await conn.fetch(f"{_FOLLOW_UP} WHERE f.reaction = ANY($1::int[]) ORDER BY f.reaction, f.id", reaction_ids)
    found: dict[int, list[FollowUpRecord]] = {}
    for row in rows:
        found.setdefault(row["reaction_id"], []).append(FollowUpRecord(**dict(row)))
    return {reaction_id: tuple(items) for reaction_id, items in found.items()}
