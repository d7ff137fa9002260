"""Two reactions recorded at once on one session, on the race database: both are kept and both linked."""

from __future__ import annotations

import asyncio

import pytest

from inventory import clock, db
from inventory.domain.models import Actor
from inventory.services import clinical, scanning, vigilance
from tests.integration.test_concurrency import race_actors
from tests.support import factories as f
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


async def test_three_clients_reacting_at_once_raise_the_lot_and_product_signals_exactly_once(race_pool: None) -> None:
    actors: dict[str, Actor] = await race_actors()
    clinic = await build(actors, on_hand=10)
    sessions = []
    for _ in range(3):
        person = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Signal"))
        session = await clinical.create_session(
            actor=actors["staff"], client_id=person["id"], location_id=clinic.location_id
        )
        await scanning.record_use(actor=actors["staff"], session_id=session["id"], barcode=clinic.code(), repeat=True)
        sessions.append(session)
    async with db.connection() as other:
        held = other.transaction()
        await held.start()
        # What a reaction checking the product's signals holds: all three wait for it, then race each other.
        await other.execute("SELECT pg_advisory_xact_lock(hashtext('vigilance-signal'), $1)", clinic.product["id"])
        tasks = [
            asyncio.create_task(
                vigilance.record_reaction(
                    actor=actors["staff"], session_id=s["id"], kind="nodule", severity="mild", onset_at=clock.now()
                )
            )
            for s in sessions
        ]
        await wait_until_blocked_by(other, count=3)
        await held.commit()
    reactions = await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    async with db.connection() as conn:
        raised = await conn.fetch(
            "SELECT entity_id, details FROM audit_event WHERE action = 'vigilance.signal'"
            " AND entity_id = ANY($1::int[]) ORDER BY id",
            [r.id for r in reactions],
        )
    assert sorted(r["details"]["signal"] for r in raised) == sorted(
        [f"lot-{clinic.lot['id']}", f"product-{clinic.product['id']}"]
    )
    assert len({r["entity_id"] for r in raised}) == 1  # one reaction, the third to commit, raised both
    assert all(r["details"]["clients"] == 3 for r in raised)
