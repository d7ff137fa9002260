"""Recall cases on PostgreSQL: lots recalled and quarantined at once, clients listed and contacted, races."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import asyncpg
import pytest

from inventory import db
from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.labelcode import format_lot_code
from inventory.domain.models import Actor
from inventory.services import clinical, quarantine, recall_cases, recall_contacts, scanning, stock
from inventory.services.recall_cases import RecallCase
from inventory.services.recall_contacts import AffectedClient
from tests.support import factories as f
from tests.support.clinic import Clinic, build, with_rule
from tests.support.db import wait_until_blocked_by


async def client_session(actors: dict[str, Actor], clinic: Clinic, **client: Any) -> tuple[int, int]:
    """A new client with an open session at the clinic's location; returns (client id, session id)."""
    made = await clinical.create_client(
        actor=actors["manager"], full_name=client.pop("full_name", f.unique("Client")), **client
    )
    session = await clinical.create_session(actor=actors["staff"], client_id=made["id"], location_id=clinic.location_id)
    return int(made["id"]), int(session["id"])


async def use(actors: dict[str, Actor], session_id: int, barcode: str, quantity: int = 1) -> dict[str, Any]:
    """Record a use through the real scan service."""
    # Repeated uses of one barcode on one session are deliberate here: confirm them (else 409 repeat_scan).
    return await scanning.record_use(
        actor=actors["staff"], session_id=session_id, barcode=barcode, quantity=quantity, repeat=True
    )


async def ledger_consistent(conn: asyncpg.Connection, lot_id: int) -> bool:
    """Each level of the lot equals the sum of its ledger rows."""
    bad = await conn.fetch(
        "SELECT s.location FROM stock_level s"
        " LEFT JOIN stock_movement m ON m.lot = s.lot AND m.location = s.location"
        " WHERE s.lot = $1 GROUP BY s.location, s.on_hand HAVING s.on_hand <> coalesce(sum(m.quantity), 0)",
        lot_id,
    )
    return not bad


async def test_recall_marks_lots_recalled_and_quarantines_stock_at_every_location(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    room = await f.location(actors["manager"])
    lot_id = clinic.lot["id"]
    await stock.transfer(
        actor=actors["manager"],
        lot_id=lot_id,
        from_location_id=clinic.location_id,
        to_location_id=room["id"],
        quantity=4,
        reason=None,
    )
    case = await recall_cases.create_recall(
        actor=actors["manager"], lot_ids=[lot_id], reason="Sterility", source="ANSM", reference="R-1"
    )
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", lot_id) == "recalled"
    rows = await conn.fetch(
        "SELECT location, quantity, reason, recall_id FROM stock_movement"
        " WHERE lot = $1 AND kind = 'quarantine' ORDER BY location",
        lot_id,
    )
    assert [(r["location"], r["quantity"], r["reason"], r["recall_id"]) for r in rows] == sorted(
        [(clinic.location_id, 0, "Sterility", case.id), (room["id"], 0, "Sterility", case.id)]
    )
    # on-hand stays the physical count; usable stock no longer includes it
    levels = {
        r["location"]: r["on_hand"]
        for r in await conn.fetch("SELECT location, on_hand FROM stock_level WHERE lot = $1", lot_id)
    }
    assert levels == {clinic.location_id: 6, room["id"]: 4}
    assert await ledger_consistent(conn, lot_id)
    assert case.lots[0].quarantined_units == 10
    assert case.report.units_quarantined == 10
    assert case.status == "open"
    assert (case.source, case.reference) == ("ANSM", "R-1")
    assert case.created_by.id == actors["manager"].id


async def test_scan_after_the_recall_is_refused_and_writes_nothing(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="notice")
    with pytest.raises(Conflict) as refused:
        await use(actors, clinic.session["id"], clinic.code())
    assert refused.value.code == "lot_recalled"
    assert await conn.fetchval("SELECT count(*) FROM usage WHERE lot = $1", clinic.lot["id"]) == 0


async def test_affected_clients_are_those_with_a_non_voided_use(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    used_twice, session_twice = await client_session(actors, clinic, email="a@example.com")
    voided_only, session_voided = await client_session(actors, clinic)
    await use(actors, clinic.session["id"], clinic.code())
    await use(actors, session_twice, clinic.code(), quantity=2)
    await use(actors, session_twice, clinic.code())
    mistake = await use(actors, session_voided, clinic.code())
    await scanning.void_usage(actor=actors["manager"], usage_id=mistake["usage_id"], reason="wrong client")
    case = await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="notice")
    clients = {c.client.id: c for c in case.clients}
    assert set(clients) == {clinic.client["id"], used_twice}
    assert voided_only not in clients
    assert all(c.contact_status == "to_contact" for c in clients.values())
    assert clients[used_twice].quantity == 3
    assert len(clients[used_twice].usages) == 2
    assert clients[used_twice].client.email == "a@example.com"
    assert case.report.clients_affected == 2
    assert case.report.clients_to_contact == 2
    assert case.lots[0].quarantined_units == 10 - 1 - 3


async def test_recall_of_several_lots_across_products(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors)
    other = await build(actors)
    case = await recall_cases.create_recall(
        actor=actors["manager"],
        lot_ids=[other.lot["id"], clinic.lot["id"], clinic.lot["id"]],
        reason="notice",
    )
    assert sorted(lot.lot.id for lot in case.lots) == sorted([clinic.lot["id"], other.lot["id"]])
    statuses = await conn.fetch("SELECT status FROM lot WHERE id = ANY($1::int[])", [clinic.lot["id"], other.lot["id"]])
    assert {r["status"] for r in statuses} == {"recalled"}


async def test_recall_reevaluates_reorder_alerts(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=10)
    await with_rule(actors, clinic, reorder_point=3, par_level=12, lead_time_days=2)
    open_before = await conn.fetchval(
        "SELECT count(*) FROM reorder_alert WHERE product = $1 AND location = $2 AND status = 'open'",
        clinic.product["id"],
        clinic.location_id,
    )
    assert open_before == 0
    await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="notice")
    alert = await conn.fetchrow(
        "SELECT details FROM reorder_alert WHERE product = $1 AND location = $2 AND status = 'open'",
        clinic.product["id"],
        clinic.location_id,
    )
    assert alert is not None
    assert alert["details"]["usable_on_hand"] == 0


async def test_unknown_lot_is_not_found_and_nothing_is_written(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    recalls_before = await conn.fetchval("SELECT count(*) FROM recall")
    with pytest.raises(NotFound) as missing:
        await recall_cases.create_recall(
            actor=actors["manager"], lot_ids=[clinic.lot["id"], 2_000_000_000], reason="notice"
        )
    assert missing.value.extra["lot_ids"] == [2_000_000_000]
    assert await conn.fetchval("SELECT count(*) FROM recall") == recalls_before
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", clinic.lot["id"]) == "active"
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM stock_movement WHERE lot = $1 AND kind = 'quarantine'", clinic.lot["id"]
        )
        == 0
    )


@pytest.mark.parametrize(("lot_ids", "reason"), [([], "notice"), ([1], "   "), (list(range(1, 502)), "x")])
async def test_a_recall_needs_lots_and_a_reason(
    actors: dict[str, Actor], conn: asyncpg.Connection, lot_ids: list[int], reason: str
) -> None:
    with pytest.raises(Unprocessable):
        await recall_cases.create_recall(actor=actors["manager"], lot_ids=lot_ids, reason=reason)


async def test_an_already_recalled_lot_can_be_named_by_a_second_case(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    await use(actors, clinic.session["id"], clinic.code())
    first = await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="first")
    second = await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="second")
    assert second.id != first.id
    assert [c.client.id for c in second.clients] == [clinic.client["id"]]
    details = await conn.fetchval(
        "SELECT details FROM audit_event WHERE action = 'recall.create' AND entity_id = $1", second.id
    )
    assert details["already_recalled"] == [clinic.lot["id"]]


async def test_contact_status_follows_its_transitions_with_who_and_when(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    await use(actors, clinic.session["id"], clinic.code())
    case = await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="notice")
    client_id = clinic.client["id"]

    async def move(status: str, note: str | None = None) -> AffectedClient:
        return await recall_contacts.set_client_status(
            actor=actors["manager"],
            recall_id=case.id,
            client_id=client_id,
            contact_status=status,
            note=note,
        )

    with pytest.raises(Conflict) as skipped:
        await move("acknowledged")
    assert skipped.value.code == "invalid_transition"
    assert skipped.value.extra["allowed"] == ["contacted", "unreachable"]
    entry = await move("contacted", "phoned at 10:00")
    assert entry.contact_status == "contacted"
    assert entry.note == "phoned at 10:00"
    assert entry.updated_by is not None and entry.updated_by.id == actors["manager"].id
    assert entry.updated_at is not None
    entry = await move("acknowledged")
    assert entry.note == "phoned at 10:00"
    with pytest.raises(Conflict) as back:
        await move("contacted")
    assert back.value.code == "invalid_transition"
    report = (await recall_cases.get_recall(actor=actors["manager"], recall_id=case.id)).report
    assert report.clients_contacted == 1
    assert report.clients_acknowledged == 1
    assert report.clients_to_contact == 0


async def test_an_unreachable_client_who_calls_back_can_be_marked_contacted(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    await use(actors, clinic.session["id"], clinic.code())
    case = await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="notice")
    for status in ("unreachable", "contacted", "unreachable"):
        entry = await recall_contacts.set_client_status(
            actor=actors["manager"],
            recall_id=case.id,
            client_id=clinic.client["id"],
            contact_status=status,
        )
        assert entry.contact_status == status


async def test_a_client_outside_the_case_is_not_found(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors)
    case = await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="notice")
    with pytest.raises(NotFound):
        await recall_contacts.set_client_status(
            actor=actors["manager"],
            recall_id=case.id,
            client_id=clinic.client["id"],
            contact_status="contacted",
        )
    with pytest.raises(NotFound):
        await recall_cases.get_recall(actor=actors["manager"], recall_id=2_000_000_000)


async def test_closing_records_who_and_when_and_a_second_close_is_refused(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    await use(actors, clinic.session["id"], clinic.code())
    case = await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="notice")
    closed = await recall_cases.close_recall(actor=actors["admin"], recall_id=case.id, note="all done")
    assert closed.status == "closed"
    assert closed.closed_by is not None and closed.closed_by.id == actors["admin"].id
    assert closed.closed_at is not None
    assert closed.closing_note == "all done"
    with pytest.raises(Conflict) as again:
        await recall_cases.close_recall(actor=actors["manager"], recall_id=case.id)
    assert again.value.code == "recall_closed"
    with pytest.raises(Conflict) as late:
        await recall_contacts.set_client_status(
            actor=actors["manager"],
            recall_id=case.id,
            client_id=clinic.client["id"],
            contact_status="contacted",
        )
    assert late.value.code == "recall_closed"
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", clinic.lot["id"]) == "recalled"


async def test_report_counts_quarantined_disposed_and_remaining_units(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    await stock.dispose(
        actor=actors["manager"],
        lot_id=clinic.lot["id"],
        location_id=clinic.location_id,
        quantity=1,
        reason="broken",
    )
    case = await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="notice")
    await stock.dispose(
        actor=actors["manager"],
        lot_id=clinic.lot["id"],
        location_id=clinic.location_id,
        quantity=6,
        reason="recall",
    )
    report = (await recall_cases.get_recall(actor=actors["manager"], recall_id=case.id)).report
    assert report.units_quarantined == 9
    assert report.units_disposed == 6
    assert report.units_on_hand == 3
    assert await ledger_consistent(conn, clinic.lot["id"])


async def test_reading_a_case_is_audited_with_its_clients(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors)
    await use(actors, clinic.session["id"], clinic.code())
    case = await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="notice")
    await recall_cases.get_recall(actor=actors["admin"], recall_id=case.id)
    await recall_contacts.clients_csv(actor=actors["manager"], recall_id=case.id)
    events = await conn.fetch(
        "SELECT actor, action, details FROM audit_event WHERE entity = 'recall' AND entity_id = $1 ORDER BY id",
        case.id,
    )
    assert [(e["action"], e["actor"]) for e in events] == [
        ("recall.create", actors["manager"].id),
        ("recall.view", actors["admin"].id),
        ("recall.export", actors["manager"].id),
    ]
    assert all(e["details"]["client_ids"] == [clinic.client["id"]] for e in events)


async def test_clients_csv_has_one_row_per_client_with_only_what_a_recall_needs(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    risky, session_id = await client_session(
        actors, clinic, full_name="=HYPERLINK(1)", phone="+33 6 00 00 00 01", allergies=["Latex"]
    )
    await use(actors, clinic.session["id"], clinic.code(), quantity=2)
    await use(actors, clinic.session["id"], clinic.code())
    await use(actors, session_id, clinic.code())
    case = await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="notice")
    content = await recall_contacts.clients_csv(actor=actors["manager"], recall_id=case.id)
    assert content.startswith("\ufeff".encode())  # Excel then reads "Léa" as UTF-8
    text = content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(recall_contacts.CSV_COLUMNS)
    assert len(rows) == 2
    by_id = {int(r["client_id"]): r for r in rows}
    mine = by_id[clinic.client["id"]]
    assert mine["full_name"] == clinic.client["full_name"]
    assert mine["email"] == "c@example.com"
    assert mine["phone"] == "+33 6 12 34 56 78"
    assert mine["quantity"] == "3"
    assert mine["contact_status"] == "to_contact"
    assert mine["lots"] == f"{clinic.lot['lot_number']} ({clinic.product['name']}) x3"
    assert len(mine["session_dates"]) == 10
    assert by_id[risky]["full_name"] == "'=HYPERLINK(1)"  # never run as a formula
    assert "Latex" not in text  # allergies and birth dates are not a recall's business


async def test_quarantine_holds_a_lot_and_release_lifts_it_with_reasons_audited(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    lot_id = clinic.lot["id"]
    held = await quarantine.quarantine_lot(actor=actors["manager"], lot_id=lot_id, reason="fridge failure")
    assert held.lot.status == "quarantined"
    assert held.stock == [quarantine.LocationStock(location_id=clinic.location_id, on_hand=10)]
    with pytest.raises(Conflict) as refused:
        await use(actors, clinic.session["id"], clinic.code())
    assert refused.value.code == "lot_quarantined"
    with pytest.raises(Conflict) as twice:
        await quarantine.quarantine_lot(actor=actors["manager"], lot_id=lot_id, reason="again")
    assert twice.value.code == "lot_quarantined"
    released = await quarantine.release_lot(actor=actors["manager"], lot_id=lot_id, reason="temperature log fine")
    assert released.lot.status == "active"
    await use(actors, clinic.session["id"], clinic.code())
    kinds = await conn.fetch(
        "SELECT kind, quantity, reason FROM stock_movement"
        " WHERE lot = $1 AND kind IN ('quarantine', 'release') ORDER BY id",
        lot_id,
    )
    assert [(k["kind"], k["quantity"], k["reason"]) for k in kinds] == [
        ("quarantine", 0, "fridge failure"),
        ("release", 0, "temperature log fine"),
    ]
    actions = await conn.fetch(
        "SELECT action, actor, details FROM audit_event WHERE entity = 'lot' AND entity_id = $1"
        " AND action IN ('lot.quarantine', 'lot.release') ORDER BY id",
        lot_id,
    )
    assert [(a["action"], a["details"]["reason"]) for a in actions] == [
        ("lot.quarantine", "fridge failure"),
        ("lot.release", "temperature log fine"),
    ]
    assert await ledger_consistent(conn, lot_id)


async def test_a_recalled_lot_is_never_released_nor_quarantined(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="notice")
    for change in (quarantine.release_lot, quarantine.quarantine_lot):
        with pytest.raises(Conflict) as refused:
            await change(actor=actors["manager"], lot_id=clinic.lot["id"], reason="try")
        assert refused.value.code == "lot_recalled"
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", clinic.lot["id"]) == "recalled"


async def test_releasing_an_active_lot_is_refused(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors)
    with pytest.raises(Conflict) as refused:
        await quarantine.release_lot(actor=actors["manager"], lot_id=clinic.lot["id"], reason="why")
    assert refused.value.code == "lot_not_quarantined"
    with pytest.raises(NotFound):
        await quarantine.quarantine_lot(actor=actors["manager"], lot_id=2_000_000_000, reason="x")


async def test_a_quarantined_lot_can_still_be_recalled(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors)
    await quarantine.quarantine_lot(actor=actors["manager"], lot_id=clinic.lot["id"], reason="suspicious")
    case = await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="confirmed")
    assert case.lots[0].lot.status == "recalled"


# ------------------------------------------------------------------ races: real commits on the race database


async def race_actors() -> dict[str, Actor]:
    """The seeded users, read through the race pool."""
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT id, email, role FROM app_user WHERE email LIKE '%@clinic.test'")
    by_email = {r["email"]: Actor(id=r["id"], role=r["role"], email=r["email"]) for r in rows}
    return {name: by_email[f"{name}@clinic.test"] for name in ("staff", "staff2", "manager", "admin")}


@pytest.mark.race
async def test_scans_in_flight_while_a_recall_commits_record_no_use_after_the_recall(race_pool: None) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=100)
    sessions = [clinic.session["id"]] + [(await client_session(actors, clinic))[1] for _ in range(9)]
    uses_seen = 0
    enough = asyncio.Event()

    async def chair(session_id: int) -> list[str]:
        """One chair scanning ampoule after ampoule until the lot is refused."""
        nonlocal uses_seen
        outcomes: list[str] = []
        for _ in range(40):
            try:
                await use(actors, session_id, clinic.code())
            except Conflict as error:
                outcomes.append(error.code)
                break
            outcomes.append("ok")
            uses_seen += 1
            if uses_seen >= 15:
                enough.set()
        return outcomes

    async def recall() -> RecallCase:
        await enough.wait()  # ten chairs are scanning: some scans are in flight as the recall commits
        return await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="race")

    case, chairs = await asyncio.gather(recall(), asyncio.gather(*[chair(s) for s in sessions]))
    for outcomes in chairs:  # every chair: uses, then refusals only from the recall on
        assert outcomes[-1] == "lot_recalled", outcomes
        assert set(outcomes[:-1]) <= {"ok"}, outcomes
    recorded = sum(outcomes.count("ok") for outcomes in chairs)
    async with db.connection() as conn:
        used = await conn.fetch("SELECT id, client FROM usage WHERE lot = $1", clinic.lot["id"])
        cut = await conn.fetchval(
            "SELECT min(id) FROM stock_movement WHERE recall_id = $1 AND kind = 'quarantine'", case.id
        )
        last_use = await conn.fetchval(
            "SELECT max(id) FROM stock_movement WHERE lot = $1 AND kind = 'use'", clinic.lot["id"]
        )
        on_hand = await conn.fetchval("SELECT on_hand FROM stock_level WHERE lot = $1", clinic.lot["id"])
        assert await ledger_consistent(conn, clinic.lot["id"])
    assert len(used) == recorded >= 15
    assert last_use < cut  # every use was written before the recall took the lot
    assert {c.client.id for c in case.clients} == {u["client"] for u in used}
    assert case.lots[0].quarantined_units == on_hand == 100 - recorded


@pytest.mark.race
async def test_a_recall_waits_for_a_scan_holding_the_lot_and_lists_its_client(race_pool: None) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=5)
    engine = db.get_engine()
    assert engine.pool is not None
    scan_conn = await engine.pool.acquire()
    try:
        held = scan_conn.transaction()
        await held.start()
        # What a scan does first: share-lock the lot row.
        await scan_conn.execute("SELECT 1 FROM lot WHERE id = $1 FOR SHARE", clinic.lot["id"])
        recall = asyncio.create_task(
            recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="waits")
        )
        await wait_until_blocked_by(scan_conn)
        assert not recall.done()  # blocked behind the scan
        await scan_conn.execute(
            "INSERT INTO usage (session, client, lot, product, location, quantity, barcode, used_by, used_at)"
            " VALUES ($1, $2, $3, $4, $5, 1, 'held', $6, now())",
            clinic.session["id"],
            clinic.client["id"],
            clinic.lot["id"],
            clinic.product["id"],
            clinic.location_id,
            actors["staff"].id,
        )
        await held.commit()
        case = await asyncio.wait_for(recall, timeout=5)
    finally:
        await engine.pool.release(scan_conn)
    assert [c.client.id for c in case.clients] == [clinic.client["id"]]


@pytest.mark.race
async def test_concurrent_recalls_of_overlapping_lots_do_not_deadlock(race_pool: None) -> None:
    actors = await race_actors()
    clinics = [await build(actors) for _ in range(3)]
    a, b, c = (x.lot["id"] for x in clinics)
    cases = await asyncio.gather(
        *[
            recall_cases.create_recall(actor=actors["manager"], lot_ids=ids, reason=f"r{n}")
            for n, ids in enumerate([[a, b, c], [c, b, a], [b, c], [c, a], [a]] * 2)
        ]
    )
    assert len({case.id for case in cases}) == 10
    async with db.connection() as conn:
        statuses = await conn.fetch("SELECT status FROM lot WHERE id = ANY($1::int[])", [a, b, c])
    assert {r["status"] for r in statuses} == {"recalled"}


async def test_label_code_scan_of_a_recalled_lot_is_refused(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors)
    await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="notice")
    with pytest.raises(Conflict) as refused:
        await use(actors, clinic.session["id"], format_lot_code(clinic.lot["id"]))
    assert refused.value.code == "lot_recalled"
