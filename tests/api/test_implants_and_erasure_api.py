"""Implants and their UDI, implant cards, client erasure and retention: over HTTP and at the service."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pypdfium2
import pytest
from litestar import Litestar

from inventory import clock
from inventory.domain.erasure import pseudonym
from inventory.domain.errors import Conflict
from inventory.domain.gs1 import format_element_string
from inventory.domain.models import Actor
from inventory.services import catalog, clinical, erasure, scanning, vigilance
from tests.conftest import SECRET
from tests.support import factories as f
from tests.support.clinic import Clinic, build
from tests.support.db import row_counts

H = dict[str, dict[str, str]]


def _pdf_text(content: bytes) -> str:
    document = pypdfium2.PdfDocument(content)
    return "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


async def _implant(actors: dict[str, Actor], clinic: Clinic) -> dict[str, Any]:
    """An implant product (a filler) with a lot in stock at the clinic's location."""
    gtin = f.make_gtin(next(_seeds))
    product = await catalog.create_product(
        actor=actors["manager"],
        brand_id=clinic.product["brand_id"],
        name=f.unique("Filler"),
        gtin=gtin,
        packs=[],
        ingredients=["Hyaluronic acid"],
        storage="room",
        implant=True,
    )
    lot_number = f.unique("IMP").replace(" ", "")
    line = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=product["id"],
        lot_number=lot_number,
        expiry=f.in_days(400),
        quantity=5,
    )
    return {"product": product, "gtin": gtin, "lot": line["lot"], "lot_number": lot_number, "expiry": f.in_days(400)}


_seeds = iter(range(700_001, 10**6, 11))


# ------------------------------------------------------------------ implants and UDI


async def test_a_product_is_an_implant_only_when_marked(client: httpx.AsyncClient, auth_headers: H) -> None:
    brand = await client.post("/api/brands", json={"name": f.unique("Brand")}, headers=auth_headers["manager"])
    body = {"brand_id": brand.json()["id"], "ingredients": ["Hyaluronic acid"]}
    marked = await client.post(
        "/api/products", json={**body, "name": f.unique("Filler"), "implant": True}, headers=auth_headers["manager"]
    )
    assert marked.status_code == 201, marked.text
    assert marked.json()["implant"] is True
    shown = await client.get(f"/api/products/{marked.json()['id']}", headers=auth_headers["staff"])
    assert shown.json()["implant"] is True
    plain = await client.post(
        "/api/products", json={**body, "name": f.unique("Ampoule")}, headers=auth_headers["manager"]
    )
    assert plain.json()["implant"] is False
    bad = await client.post(
        "/api/products", json={**body, "name": f.unique("X"), "implant": "yes"}, headers=auth_headers["manager"]
    )
    assert bad.status_code == 422


async def test_an_implant_use_keeps_its_udi_and_its_card_names_device_lot_serial_udi_clinic_and_client(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=3)
    implant = await _implant(actors, clinic)
    barcode = format_element_string(
        gtin=implant["gtin"], expiry=implant["expiry"], lot_number=implant["lot_number"], serial="SN0042"
    )
    used = await client.post(
        f"/api/sessions/{clinic.session['id']}/scans", json={"barcode": barcode}, headers=auth_headers["staff"]
    )
    assert used.status_code == 201, used.text
    expiry = implant["expiry"].strftime("%y%m%d")
    udi = f"(01){implant['gtin']}(17){expiry}(10){implant['lot_number']}(21)SN0042"
    assert used.json()["udi"] == udi
    usage_id = used.json()["usage_id"]
    assert await conn.fetchval("SELECT udi FROM usage WHERE id = $1", usage_id) == udi
    other = await client.post(
        f"/api/sessions/{clinic.session['id']}/scans", json={"barcode": clinic.code()}, headers=auth_headers["staff"]
    )
    assert other.json()["udi"] is None
    assert await conn.fetchval("SELECT udi FROM usage WHERE id = $1", other.json()["usage_id"]) is None

    card = await client.get(f"/api/usages/{usage_id}/implant-card?format=pdf", headers=auth_headers["staff"])
    assert card.status_code == 200, card.text
    assert card.headers["content-type"] == "application/pdf" and card.headers["cache-control"] == "no-store"
    text = _pdf_text(card.content)
    location = await conn.fetchval("SELECT name FROM location WHERE id = $1", clinic.location_id)
    for shown in (
        implant["product"]["name"],
        implant["product"]["brand"],
        implant["lot_number"],
        "SN0042",
        udi,
        clock.today_in(f.PARIS).isoformat(),
        location,
        clinic.client["full_name"],
    ):
        assert shown in text.replace("\r", "").replace("\n", ""), shown
    for hidden in ("c@example.com", "12 34 56 78"):  # the card names the client, never the contacts
        assert hidden not in text, hidden
    assert (
        await client.get(f"/api/usages/{usage_id}/implant-card", headers=auth_headers["manager"])
    ).status_code == 200
    audited = await conn.fetch(
        "SELECT actor, details FROM audit_event WHERE action = 'usage.implant_card' AND entity_id = $1", usage_id
    )
    assert [(a["actor"], a["details"]["udi"]) for a in audited] == [
        (actors["staff"].id, udi),
        (actors["manager"].id, udi),
    ]

    not_implant = await client.get(
        f"/api/usages/{other.json()['usage_id']}/implant-card", headers=auth_headers["staff"]
    )
    assert not_implant.status_code == 409 and not_implant.json()["code"] == "not_implant"
    missing = await client.get("/api/usages/999999/implant-card", headers=auth_headers["staff"])
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert (
        await client.get(f"/api/usages/{usage_id}/implant-card?format=png", headers=auth_headers["staff"])
    ).status_code == 422
    assert (await client.get(f"/api/usages/{usage_id}/implant-card")).status_code == 401
    await scanning.void_usage(actor=actors["staff"], usage_id=usage_id, reason="wrong syringe")
    voided = await client.get(f"/api/usages/{usage_id}/implant-card", headers=auth_headers["staff"])
    assert voided.status_code == 409 and voided.json()["code"] == "usage_voided"

    trace = await client.get(
        "/api/trace/lot", params={"lot_number": implant["lot_number"]}, headers=auth_headers["manager"]
    )
    [match] = trace.json()["matches"]
    assert match["product"]["implant"] is True and [u["udi"] for u in match["usages"]] == [udi]
    history = await client.get(f"/api/clients/{clinic.client['id']}/history", headers=auth_headers["manager"])
    udis = {lot["lot"]["id"]: [u["udi"] for u in lot["usages"]] for lot in history.json()["lots"]}
    assert udis == {implant["lot"]["id"]: [udi], clinic.lot["id"]: [None]}


async def test_an_implant_scanned_before_it_was_marked_has_no_card_but_says_why(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=3)
    used = await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    # What marking the product later leaves: an implant product whose old use kept no UDI.
    await conn.execute("UPDATE product SET implant = true WHERE id = $1", clinic.product["id"])
    card = await client.get(f"/api/usages/{used['usage_id']}/implant-card", headers=auth_headers["staff"])
    assert card.status_code == 409 and card.json()["code"] == "udi_missing"


# ------------------------------------------------------------------ erasure


async def _person(actors: dict[str, Actor], clinic: Clinic) -> dict[str, Any]:
    return await clinical.create_client(
        actor=actors["manager"],
        full_name="Margaux Oubliée",
        email="margaux.oubliee@example.com",
        phone="+33 6 12 34 56 78",
        date_of_birth=date(1984, 5, 9),
        allergies=["Lidocaine"],
        sex="female",
    )


PERSONAL = ("Margaux", "Oubliée", "margaux.oubliee", "12 34 56 78", "1984-05-09")


async def test_erasure_keeps_trace_complete_under_the_pseudonym_and_leaves_no_personal_data(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    person = await _person(actors, clinic)
    sessions = [
        await clinical.create_session(actor=actors["staff"], client_id=person["id"], location_id=clinic.location_id)
        for _ in range(2)
    ]
    for session in sessions:
        await scanning.record_use(actor=actors["staff"], session_id=session["id"], barcode=clinic.code(), repeat=True)
    reaction = await vigilance.record_reaction(
        actor=actors["staff"],
        session_id=sessions[0]["id"],
        kind="nodule",
        severity="moderate",
        onset_at=clock.now() - timedelta(hours=2),
        description="Margaux Oubliée phoned about a lump",
    )
    recall = await client.post(
        "/api/recalls", json={"lot_ids": [clinic.lot["id"]], "reason": "Notice"}, headers=auth_headers["manager"]
    )
    recall_id = recall.json()["id"]

    async def trace() -> list[tuple[int, int, int, str, str | None, str | None]]:
        got = await client.get(
            "/api/trace/lot", params={"lot_number": clinic.lot["lot_number"]}, headers=auth_headers["manager"]
        )
        return [
            (
                u["usage_id"],
                m["lot"]["id"],
                u["client"]["id"],
                u["client"]["full_name"],
                u["client"]["email"],
                u["client"]["phone"],
            )
            for m in got.json()["matches"]
            for u in m["usages"]
        ]

    before = await trace()
    mine_before = [row for row in before if row[2] == person["id"]]
    assert len(mine_before) == 2 and mine_before[0][3] == "Margaux Oubliée"
    report_before = await client.get(f"/api/reactions/{reaction.id}/report?format=csv", headers=auth_headers["manager"])
    band = next(csv.DictReader(io.StringIO(report_before.content.decode("utf-8-sig"))))["age_band"]
    counts = await row_counts(conn, ["usage", "stock_movement", "reaction", "reaction_lot", "recall_client"])

    refused = await client.post(
        f"/api/clients/{person['id']}/erase", json={"reason": "asked"}, headers=auth_headers["manager"]
    )
    assert refused.status_code == 403
    erased = await client.post(
        f"/api/clients/{person['id']}/erase",
        json={"reason": "Margaux Oubliée asked by e-mail from margaux.oubliee@example.com"},
        headers=auth_headers["admin"],
    )
    assert erased.status_code == 200, erased.text
    alias = pseudonym(person["id"], SECRET)
    body = erased.json()
    assert (body["full_name"], body["email"], body["phone"], body["date_of_birth"], body["allergies"]) == (
        alias,
        None,
        None,
        None,
        [],
    )
    assert body["sex"] == "female" and body["erased_at"] is not None

    row = await conn.fetchrow("SELECT * FROM client WHERE id = $1", person["id"])
    assert row is not None
    assert (row["full_name"], row["email"], row["phone"], row["date_of_birth"]) == (alias, None, None, None)
    after = await trace()
    assert [(u, lot, c) for u, lot, c, *_ in after] == [(u, lot, c) for u, lot, c, *_ in before]  # same usages
    assert [r[3:] for r in after if r[2] == person["id"]] == [(alias, None, None)] * 2
    assert await row_counts(conn, ["usage", "stock_movement", "reaction", "reaction_lot", "recall_client"]) == counts

    export = await client.get(f"/api/recalls/{recall_id}/clients.csv", headers=auth_headers["manager"])
    assert alias in export.text
    for hidden in PERSONAL:
        assert hidden not in export.text, hidden
    report = await client.get(f"/api/reactions/{reaction.id}/report?format=csv", headers=auth_headers["manager"])
    row_after = next(csv.DictReader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert (row_after["age_band"], row_after["sex"]) == (band, "female") and band != "unknown"
    pdf = _pdf_text((await client.get(f"/api/reactions/{reaction.id}/report", headers=auth_headers["manager"])).content)
    assert band in pdf
    for text in (report.text, pdf):
        for hidden in PERSONAL:
            assert hidden not in text, hidden

    # The reaction's free text named the client and cannot be rewritten: it is withheld once the client is erased.
    shown = await client.get(f"/api/reactions/{reaction.id}", headers=auth_headers["manager"])
    assert shown.json()["description"] is None and shown.json()["severity"] == "moderate"
    assert [lot["id"] for lot in shown.json()["lots"]] == [clinic.lot["id"]]

    [event] = await conn.fetch(
        "SELECT actor, details FROM audit_event WHERE action = 'client.erase' AND entity_id = $1", person["id"]
    )
    assert event["actor"] == actors["admin"].id and event["details"]["pseudonym"] == alias
    assert event["details"]["reason"] == f"{alias} asked by e-mail from {alias}"
    every_event = await conn.fetch(
        "SELECT details::text AS d FROM audit_event WHERE (entity = 'client' AND entity_id = $1)"
        " OR details->>'client_id' = $1::text",
        person["id"],
    )
    assert every_event
    for audit_row in every_event:
        for hidden in PERSONAL:
            assert hidden not in audit_row["d"], hidden


async def test_an_erased_client_is_refused_a_second_erasure_new_sessions_and_courses(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=2)
    person = await _person(actors, clinic)
    path = f"/api/clients/{person['id']}/erase"
    assert (await client.post(path, json={"reason": "asked"}, headers=auth_headers["admin"])).status_code == 200
    before = await row_counts(conn, ["client", "audit_event", "treatment_session", "course"])
    again = await client.post(path, json={"reason": "asked"}, headers=auth_headers["admin"])
    assert again.status_code == 409 and again.json()["code"] == "client_erased"
    session = await client.post(
        "/api/sessions",
        json={"client_id": person["id"], "location_id": clinic.location_id},
        headers=auth_headers["staff"],
    )
    assert session.status_code == 409 and session.json()["code"] == "client_erased"
    course = await client.post(
        "/api/courses",
        json={
            "client_id": person["id"],
            "location_id": clinic.location_id,
            "treatment": "Glow",
            "start_date": f.in_days(3).isoformat(),
            "sessions": 2,
            "interval_days": 21,
            "products": [],
        },
        headers=auth_headers["staff"],
    )
    assert course.status_code == 409 and course.json()["code"] == "client_erased"
    assert await row_counts(conn, ["client", "audit_event", "treatment_session", "course"]) == before
    missing = await client.post("/api/clients/999999/erase", json={"reason": "x"}, headers=auth_headers["admin"])
    assert missing.status_code == 404
    blank = await client.post(path, json={"reason": "  "}, headers=auth_headers["admin"])
    assert blank.status_code == 422


async def test_an_erased_clients_open_session_takes_no_scan_and_their_allergies_no_change(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=2)
    person = await _person(actors, clinic)
    opened = await clinical.create_session(
        actor=actors["staff"], client_id=person["id"], location_id=clinic.location_id
    )
    erased = await client.post(
        f"/api/clients/{person['id']}/erase", json={"reason": "asked"}, headers=auth_headers["admin"]
    )
    assert erased.status_code == 200
    before = await row_counts(conn, ["usage", "stock_movement", "client"])
    scan = await client.post(
        f"/api/sessions/{opened['id']}/scans", json={"barcode": clinic.code()}, headers=auth_headers["staff"]
    )
    assert scan.status_code == 409 and scan.json()["code"] == "client_erased", scan.text
    with pytest.raises(Conflict) as refused:
        await clinical.change_allergies(actor=actors["staff"], client_id=person["id"], add=["Latex"])
    assert refused.value.code == "client_erased"
    assert await row_counts(conn, ["usage", "stock_movement", "client"]) == before
    assert await conn.fetchval("SELECT allergies FROM client WHERE id = $1", person["id"]) == []


async def test_erasure_scrubs_the_clients_name_out_of_recall_contact_notes(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=5)
    person = await _person(actors, clinic)
    session = await clinical.create_session(
        actor=actors["staff"], client_id=person["id"], location_id=clinic.location_id
    )
    await scanning.record_use(actor=actors["staff"], session_id=session["id"], barcode=clinic.code())
    recall = await client.post(
        "/api/recalls", json={"lot_ids": [clinic.lot["id"]], "reason": "Notice"}, headers=auth_headers["manager"]
    )
    noted = await client.patch(
        f"/api/recalls/{recall.json()['id']}/clients/{person['id']}",
        json={"contact_status": "contacted", "note": "Spoke to Margaux on +33 6 12 34 56 78"},
        headers=auth_headers["manager"],
    )
    assert noted.status_code == 200, noted.text
    await erasure.erase_client(actor=actors["admin"], client_id=person["id"], reason="asked", secret=SECRET)
    note = await conn.fetchval("SELECT note FROM recall_client WHERE client = $1", person["id"])
    alias = pseudonym(person["id"], SECRET)
    assert note == f"Spoke to {alias} on {alias}"


# ------------------------------------------------------------------ retention


async def test_the_retention_job_pseudonymises_clients_whose_last_session_is_past_the_period(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=2)
    clock.shift(-timedelta(days=366 * 21))
    try:
        old = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Old"), email="old@example.com")
        await clinical.create_session(actor=actors["staff"], client_id=old["id"], location_id=clinic.location_id)
        returning = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Back"))
        await clinical.create_session(actor=actors["staff"], client_id=returning["id"], location_id=clinic.location_id)
        idle = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Idle"))
    finally:
        clock.reset()
    await clinical.create_session(actor=actors["staff"], client_id=returning["id"], location_id=clinic.location_id)
    recent = clinic.client

    assert await erasure.erase_past_retention(years=22, secret=SECRET) == 0  # not yet 22 years
    erased = await erasure.erase_past_retention(years=20, secret=SECRET)
    rows = {
        r["id"]: r
        for r in await conn.fetch(
            "SELECT id, full_name, email, erased_at FROM client WHERE id = ANY($1::int[])",
            [old["id"], returning["id"], idle["id"], recent["id"]],
        )
    }
    assert erased >= 2  # other tests' old clients may be in this database too
    for gone in (old, idle):
        assert rows[gone["id"]]["full_name"] == pseudonym(gone["id"], SECRET) and rows[gone["id"]]["email"] is None
        assert rows[gone["id"]]["erased_at"] is not None
    for kept in (returning, recent):
        assert rows[kept["id"]]["erased_at"] is None and rows[kept["id"]]["full_name"] == kept["full_name"]
    audit = await conn.fetch(
        "SELECT actor, details FROM audit_event WHERE action = 'client.erase' AND entity_id = ANY($1::int[])",
        [old["id"], idle["id"]],
    )
    assert [a["actor"] for a in audit] == [None, None]  # the system
    assert all(a["details"]["reason"] == "retention: no session for 20 years" for a in audit)
    assert await erasure.erase_past_retention(years=20, secret=SECRET) == 0  # once


@pytest.mark.parametrize("years", [20])
async def test_a_reaction_keeps_the_age_band_at_its_onset(
    actors: dict[str, Actor], conn: asyncpg.Connection, years: int
) -> None:
    clinic = await build(actors, on_hand=2)
    born = clock.today() - timedelta(days=366 * years + 30)
    person = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Band"), date_of_birth=born)
    session = await clinical.create_session(
        actor=actors["staff"], client_id=person["id"], location_id=clinic.location_id
    )
    reaction = await vigilance.record_reaction(
        actor=actors["staff"], session_id=session["id"], kind="pain", severity="mild", onset_at=clock.now()
    )
    assert await conn.fetchval("SELECT age_band FROM reaction WHERE id = $1", reaction.id) == "20-29"


async def test_the_age_band_backfill_of_the_migration_agrees_with_the_domain_rule(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    import importlib

    from inventory.domain.vigilance import age_band

    backfill = importlib.import_module("migrations.inventory_2026_12_01t15_51_00_000000").STATEMENTS
    clinic = await build(actors, on_hand=1)
    today = clock.today_in(f.PARIS)
    thirty = date(today.year - 30, today.month, min(today.day, 28))  # 30 today (or a day or so ago)
    births = [thirty, thirty + timedelta(days=1 + today.day - thirty.day), thirty.replace(year=today.year - 9), None]
    made = []
    for born in births:
        person = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Backfill"), date_of_birth=born)
        session = await clinical.create_session(
            actor=actors["staff"], client_id=person["id"], location_id=clinic.location_id
        )
        reaction = await vigilance.record_reaction(
            actor=actors["staff"], session_id=session["id"], kind="pain", severity="mild", onset_at=clock.now()
        )
        made.append((reaction.id, age_band(born, today)))
    # What the migration found: reactions recorded before the band was kept (rolled back with the test).
    await conn.execute("ALTER TABLE reaction DISABLE TRIGGER reaction_append_only")
    await conn.execute("UPDATE reaction SET age_band = 'unknown'")
    await conn.execute("ALTER TABLE reaction ENABLE TRIGGER reaction_append_only")
    for statement in backfill[:3]:
        await conn.execute(statement)
    got = {r["id"]: r["age_band"] for r in await conn.fetch("SELECT id, age_band FROM reaction")}
    assert [(rid, got[rid]) for rid, _ in made] == made
    assert [band for _, band in made] == ["30-39", "20-29", "0-9", "unknown"]


# ------------------------------------------------------------------ signals over HTTP


async def test_the_reaction_that_reaches_the_rule_over_http_queues_one_signal_event_per_subject(
    app: Litestar, client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    import dataclasses

    clinic = await build(actors, on_hand=10)
    sessions = []
    for _ in range(3):
        person = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Http"))
        session = await clinical.create_session(
            actor=actors["staff"], client_id=person["id"], location_id=clinic.location_id
        )
        await scanning.record_use(actor=actors["staff"], session_id=session["id"], barcode=clinic.code(), repeat=True)
        sessions.append(session)
    saved = app.state.settings
    app.state.settings = dataclasses.replace(saved, webhook_url="http://127.0.0.1:9/hook")
    try:
        made = []
        for session in sessions:
            response = await client.post(
                f"/api/sessions/{session['id']}/reactions",
                json={"kind": "nodule", "severity": "mild", "onset_at": clock.now().isoformat()},
                headers=auth_headers["staff"],
            )
            assert response.status_code == 201, response.text
            made.append(response.json()["id"])
            queued = await conn.fetch(
                "SELECT payload FROM notification_delivery WHERE payload->>'kind' = 'vigilance.signal'"
            )
            assert len(queued) == (2 if len(made) == 3 else 0)
    finally:
        app.state.settings = saved
    assert {q["payload"]["signal"]["id"] for q in queued} == {
        f"lot-{clinic.lot['id']}",
        f"product-{clinic.product['id']}",
    }
    assert all(q["payload"]["reaction_id"] == made[2] for q in queued)
    jobs_queued = await conn.fetchval("SELECT count(*) FROM pgqueuer WHERE entrypoint = 'webhook.deliver'")
    assert jobs_queued == 2  # sent by the worker once this transaction commits
    signals = await client.get("/api/vigilance/signals", headers=auth_headers["manager"])
    assert {s["id"] for s in signals.json()["items"]} == {q["payload"]["signal"]["id"] for q in queued}
