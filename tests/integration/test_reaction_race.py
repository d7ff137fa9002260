"""Two reactions recorded at once on one session, on the race database: both are kept and both linked."""

from __future__ import annotations

import asyncio

import pytest

from inventory import clock, db
from inventory.domain.models import Actor
from inventory.services import scanning, vigilance
from tests.integration.test_concurrency import race_actors
from tests.support.clinic import build
from tests.support.db import wait_until_blocked_by

pytestmark = pytest.mark.race


async def test_two_reactions_recorded_at_once_on_one_session_are_both_kept_and_linked(race_pool: None) -> None:
    actors: dict[str, Actor] = await race_actors()
    clinic = await build(actors, on_hand=5)
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    session_id = clinic.session["id"]
    async with db.connection() as other:
        scan = other.transaction()
        await scan.start()
        # What a scan in flight holds on its session: both reactions wait for it, then both go ahead together.
        await other.execute("SELECT 1 FROM treatment_session WHERE id = $1 FOR NO KEY UPDATE", session_id)
        tasks = [
            asyncio.create_task(
                vigilance.record_reaction(
                    actor=actors[who], session_id=session_id, kind=kind, severity="mild", onset_at=clock.now()
                )
            )
            for who, kind in (("staff", "swelling"), ("staff2", "bruising"))
        ]
        await wait_until_blocked_by(other, count=2)
        assert not any(t.done() for t in tasks)
        await scan.commit()
    first, second = await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    assert first.id != second.id
    assert [lot.id for lot in first.lots] == [lot.id for lot in second.lots] == [clinic.lot["id"]]
    async with db.connection() as conn:
        kept = await conn.fetch(
            "SELECT r.id, count(rl.id) AS links FROM reaction r LEFT JOIN reaction_lot rl ON rl.reaction = r.id"
            " WHERE r.session = $1 GROUP BY r.id ORDER BY r.id",
            session_id,
        )
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_event WHERE action = 'reaction.record' AND entity_id = ANY($1::int[])",
            [first.id, second.id],
        )
    assert [(r["id"], r["links"]) for r in kept] == sorted([(first.id, 1), (second.id, 1)])
    assert audited == 2
