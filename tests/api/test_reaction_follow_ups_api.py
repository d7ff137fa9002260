"""Following a reaction up: append-only notes of managers; the latest outcome is the reaction's current one."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pytest

from inventory import clock
from inventory.domain.errors import NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.services import reaction_follow_ups, scanning, vigilance, vigilance_report
from inventory.store.vigilance import ReactionRecord
from tests.support.clinic import Clinic, build
from tests.support.db import row_counts

H = dict[str, dict[str, str]]


async def _reaction(actors: dict[str, Actor], clinic: Clinic, outcome: str | None = "recovering") -> ReactionRecord:
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    return await vigilance.record_reaction(
        actor=actors["staff"],
        session_id=clinic.session["id"],
        kind="swelling",
        severity="moderate",
        onset_at=clock.now() - timedelta(hours=2),
        outcome=outcome,
    )


async def test_the_latest_follow_up_with_an_outcome_sets_the_current_outcome(actors: dict[str, Actor]) -> None:
    clinic = await build(actors, on_hand=4)
    reaction = await _reaction(actors, clinic)
    followed = await reaction_follow_ups.get_followed(reaction_id=reaction.id)
    assert followed.follow_ups == () and followed.current_outcome == "recovering"

    await reaction_follow_ups.add_follow_up(
        actor=actors["manager"], reaction_id=reaction.id, note="Worse: seen again", outcome="not_recovered"
    )
    await reaction_follow_ups.add_follow_up(actor=actors["manager"], reaction_id=reaction.id, note="Left a message")
    followed = await reaction_follow_ups.get_followed(reaction_id=reaction.id)
    assert [f.note for f in followed.follow_ups] == ["Worse: seen again", "Left a message"]
    assert followed.current_outcome == "not_recovered"  # a note without an outcome keeps the last one
    assert followed.reaction.outcome == "recovering"  # what was recorded stays as it was

    await reaction_follow_ups.add_follow_up(
        actor=actors["manager"], reaction_id=reaction.id, note="All gone", outcome="recovered"
    )
    listed = await reaction_follow_ups.list_followed(product_id=clinic.product["id"])
    assert [(r.reaction.id, r.current_outcome, len(r.follow_ups)) for r in listed] == [(reaction.id, "recovered", 3)]
    report = await vigilance_report.reaction_report(reaction_id=reaction.id)
    assert report.outcome == "recovered"


async def test_a_reaction_without_outcome_gets_one_from_its_follow_up(actors: dict[str, Actor]) -> None:
    clinic = await build(actors, on_hand=2)
    reaction = await _reaction(actors, clinic, outcome=None)
    assert (await reaction_follow_ups.get_followed(reaction_id=reaction.id)).current_outcome is None
    await reaction_follow_ups.add_follow_up(
        actor=actors["manager"], reaction_id=reaction.id, note="Phoned", outcome="unknown"
    )
    assert (await reaction_follow_ups.get_followed(reaction_id=reaction.id)).current_outcome == "unknown"


async def test_the_service_refuses_a_bad_follow_up_and_writes_nothing(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=2)
    reaction = await _reaction(actors, clinic)
    before = await row_counts(conn, ["reaction_follow_up", "audit_event"])
    for note, outcome in (("", None), ("   ", None), ("x" * 2001, None), ("a\x00b", None), ("ok", "fine")):
        with pytest.raises(Unprocessable):
            await reaction_follow_ups.add_follow_up(
                actor=actors["manager"], reaction_id=reaction.id, note=note, outcome=outcome
            )
    with pytest.raises(NotFound):
        await reaction_follow_ups.add_follow_up(actor=actors["manager"], reaction_id=999_999, note="x")
    with pytest.raises(NotFound):
        await reaction_follow_ups.get_followed(reaction_id=999_999)
    assert await row_counts(conn, ["reaction_follow_up", "audit_event"]) == before


async def test_a_follow_up_is_never_rewritten(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=2)
    reaction = await _reaction(actors, clinic)
    made = await reaction_follow_ups.add_follow_up(actor=actors["manager"], reaction_id=reaction.id, note="Seen")
    for statement in (
        "UPDATE reaction_follow_up SET note = 'rewritten' WHERE id = $1",
        "DELETE FROM reaction_follow_up WHERE id = $1",
    ):
        with pytest.raises(asyncpg.PostgresError):
            async with conn.transaction():
                await conn.execute(statement, made.id)
    assert await conn.fetchval("SELECT note FROM reaction_follow_up WHERE id = $1", made.id) == "Seen"


async def test_managers_follow_up_over_http_and_the_reaction_shows_it(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=3)
    reaction = await _reaction(actors, clinic)
    path = f"/api/reactions/{reaction.id}/follow-ups"
    staff = await client.post(path, json={"note": "x"}, headers=auth_headers["staff"])
    assert staff.status_code == 403
    key = {**auth_headers["manager"], "Idempotency-Key": "follow-up-1"}
    made = await client.post(path, json={"note": "Much better", "outcome": "recovered"}, headers=key)
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["reaction_id"], body["outcome"], body["note"], body["recorded_by"]) == (
        reaction.id,
        "recovered",
        "Much better",
        actors["manager"].id,
    )
    replay = await client.post(path, json={"note": "Much better", "outcome": "recovered"}, headers=key)
    assert replay.status_code == 201 and replay.json() == body
    assert await conn.fetchval("SELECT count(*) FROM reaction_follow_up WHERE reaction = $1", reaction.id) == 1
    audit = await conn.fetchrow(
        "SELECT actor, details FROM audit_event WHERE action = 'reaction.follow_up' AND entity_id = $1", reaction.id
    )
    assert audit is not None and audit["actor"] == actors["manager"].id
    assert audit["details"] == {"follow_up_id": body["id"], "outcome": "recovered"}

    shown = (await client.get(f"/api/reactions/{reaction.id}", headers=auth_headers["manager"])).json()
    assert shown["outcome"] == "recovering" and shown["current_outcome"] == "recovered"
    assert [f["id"] for f in shown["follow_ups"]] == [body["id"]]
    assert [lot["id"] for lot in shown["lots"]] == [clinic.lot["id"]]
    listed = await client.get(f"/api/reactions?lot_id={clinic.lot['id']}", headers=auth_headers["manager"])
    assert [(r["id"], r["current_outcome"], len(r["follow_ups"])) for r in listed.json()["items"]] == [
        (reaction.id, "recovered", 1)
    ]
    csv = await client.get(f"/api/reactions/{reaction.id}/report?format=csv", headers=auth_headers["manager"])
    assert ",recovered," in csv.text

    bad = await client.post(path, json={"note": "  "}, headers=auth_headers["manager"])
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    missing = await client.post("/api/reactions/999999/follow-ups", json={"note": "x"}, headers=auth_headers["manager"])
    assert missing.status_code == 404
