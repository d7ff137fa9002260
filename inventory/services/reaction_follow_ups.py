"""Following a reaction up (managers): append a note, maybe a new outcome; the latest outcome is the current one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inventory import clock, db
from inventory.domain import vigilance as rules
from inventory.domain.errors import NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.store import audit
from inventory.store import reaction_follow_ups as store
from inventory.store import vigilance as reactions
from inventory.store.reaction_follow_ups import FollowUpRecord
from inventory.store.vigilance import ReactionRecord

MAX_NOTE = 2000


@dataclass(frozen=True)
class FollowedReaction:
    """A reaction with its follow-ups (oldest first) and the outcome they leave it with."""

    reaction: ReactionRecord
    follow_ups: tuple[FollowUpRecord, ...]

    @property
    def current_outcome(self) -> str | None:
        """The latest follow-up's outcome, else the outcome recorded with the reaction."""
        return current_outcome(self.reaction.outcome, self.follow_ups)


def current_outcome(recorded: str | None, follow_ups: Sequence[FollowUpRecord]) -> str | None:
    """The outcome of the latest follow-up that names one, else `recorded`."""
    for follow_up in reversed(follow_ups):
        if follow_up.outcome is not None:
            return follow_up.outcome
    return recorded


def _note(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise Unprocessable("A note is required.", code="validation_error", field="note")
    if len(text) > MAX_NOTE or "\x00" in text:
        raise Unprocessable(f"The note has at most {MAX_NOTE} characters.", code="validation_error", field="note")
    return text


async def add_follow_up(*, actor: Actor, reaction_id: int, note: str, outcome: str | None = None) -> FollowUpRecord:
    """Append a follow-up to a reaction; audited.

    Raises NotFound (reaction), Unprocessable: an empty or over-long note, an outcome off the list.
    """
    text = _note(note)
    if outcome is not None and outcome not in rules.OUTCOMES:
        raise Unprocessable(
            f"The outcome is one of: {', '.join(rules.OUTCOMES)}.", code="validation_error", field="outcome"
        )
    async with db.transaction() as conn:
        if not await store.reaction_exists(conn, reaction_id):
            raise NotFound.of("reaction", reaction_id)
        record = await store.insert(
            conn,
            reaction_id=reaction_id,
            outcome=outcome,
            note=text,
            recorded_by=actor.id,
            recorded_at=clock.now(),
        )
        await audit.record(
            conn,
            actor_id=actor.id,
            action="reaction.follow_up",
            entity="reaction",
            entity_id=reaction_id,
            details={"follow_up_id": record.id, "outcome": outcome},
        )
    return record


async def get_followed(*, reaction_id: int) -> FollowedReaction:
    """One reaction with its lots and follow-ups; raises NotFound."""
    async with db.connection() as conn:
        reaction = await reactions.get_reaction(conn, reaction_id)
        if reaction is None:
            raise NotFound.of("reaction", reaction_id)
        follow_ups = await store.of_reactions(conn, [reaction_id])
    return FollowedReaction(reaction=reaction, follow_ups=follow_ups.get(reaction_id, ()))


async def list_followed(
    *,
    lot_id: int | None = None,
    product_id: int | None = None,
    severity: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[FollowedReaction]:
    """Reactions (latest onset first) with their follow-ups, of one lot, of any lot of one product, of a severity."""
    async with db.connection() as conn:
        found = await reactions.list_reactions(
            conn, lot_id=lot_id, product_id=product_id, severity=severity, limit=limit, offset=offset
        )
        follow_ups = await store.of_reactions(conn, [r.id for r in found])
    return [FollowedReaction(reaction=r, follow_ups=follow_ups.get(r.id, ())) for r in found]
