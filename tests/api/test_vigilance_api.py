"""Vigilance over HTTP and at the service: reactions tied to a session's lots, signals, quarantine from a signal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from inventory import clock
from inventory.domain.models import Actor
from inventory.services import clinical, scanning, vigilance
from tests.support import factories as f
from tests.support.clinic import Clinic, build
from tests.support.db import row_counts

H = dict[str, dict[str, str]]


def _onset(hours_ago: float = 1) -> str:
    return (clock.now() - timedelta(hours=hours_ago)).isoformat()


async def _session_with_use(actors: dict[str, Actor], clinic: Clinic) -> dict[str, Any]:
    """Another client's session at the clinic, with one use of the clinic's lot."""
    other = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Other"))
    session = await clinical.create_session(
        actor=actors["staff"], client_id=other["id"], location_id=clinic.location_id
    )
    await scanning.record_use(actor=actors["staff"], session_id=session["id"], barcode=clinic.code(), repeat=True)
    return session


async def _react(client: httpx.AsyncClient, headers: dict[str, str], session_id: int, **body: Any) -> httpx.Response:
    return await client.post(
        f"/api/sessions/{session_id}/reactions",
        json={"kind": "swelling", "severity": "mild", "onset_at": _onset(), **body},
        headers=headers,
    )


async def test_staff_record_a_reaction_and_every_lot_of_the_session_is_linked(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    second = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number=f.unique("B").replace(" ", ""),
        expiry=f.in_days(300),
        quantity=3,
    )
    voided = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number=f.unique("V").replace(" ", ""),
        expiry=f.in_days(310),
        quantity=3,
    )
    session_id = clinic.session["id"]
    for code in (clinic.code(), clinic.code(), clinic.code(second["lot"]["lot_number"], expiry=f.in_days(300))):
        await scanning.record_use(actor=actors["staff"], session_id=session_id, barcode=code, repeat=True)
    wrong = await scanning.record_use(
        actor=actors["staff"],
        session_id=session_id,
        barcode=clinic.code(voided["lot"]["lot_number"], expiry=f.in_days(310)),
    )
    await scanning.void_usage(actor=actors["staff"], usage_id=wrong["usage_id"], reason="wrong ampoule")

    response = await _react(
        client, auth_headers["staff"], session_id, kind="nodule", outcome="recovering", description="Left cheek"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: body[k] for k in ("session_id", "client_id", "kind", "severity", "outcome", "description")} == {
        "session_id": session_id,
        "client_id": clinic.client["id"],
        "kind": "nodule",
        "severity": "mild",
        "outcome": "recovering",
        "description": "Left cheek",
    }
    assert [lot["id"] for lot in body["lots"]] == sorted([clinic.lot["id"], second["lot"]["id"]])
    assert set(body["lots"][0]) == {"id", "lot_number", "product_id", "expiry_date"}
    links = await conn.fetchval("SELECT count(*) FROM reaction_lot WHERE reaction = $1", body["id"])
    assert links == 3  # one per non-voided use
    audit = await conn.fetchrow(
        "SELECT details FROM audit_event WHERE action = 'reaction.record' AND entity_id = $1", body["id"]
    )
    assert audit is not None and sorted(audit["details"]["lot_ids"]) == sorted(b["id"] for b in body["lots"])

    shown = await client.get(f"/api/reactions/{body['id']}", headers=auth_headers["manager"])
    assert shown.status_code == 200 and {k: shown.json()[k] for k in body} == body
    assert shown.json()["follow_ups"] == [] and shown.json()["current_outcome"] == "recovering"
    assert (await client.get(f"/api/reactions/{body['id']}", headers=auth_headers["staff"])).status_code == 403
    by_lot = await client.get(f"/api/reactions?lot_id={second['lot']['id']}", headers=auth_headers["manager"])
    assert [r["id"] for r in by_lot.json()["items"]] == [body["id"]]
    by_product = await client.get(f"/api/reactions?product_id={clinic.product['id']}", headers=auth_headers["manager"])
    assert [r["id"] for r in by_product.json()["items"]] == [body["id"]]
    none = await client.get(f"/api/reactions?lot_id={voided['lot']['id']}", headers=auth_headers["manager"])
    assert none.json()["items"] == []


async def test_a_session_without_uses_takes_a_reaction_with_no_lots(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=2)
    response = await _react(client, auth_headers["staff"], clinic.session["id"], severity="moderate")
    assert response.status_code == 201, response.text
    assert response.json()["lots"] == [] and response.json()["outcome"] is None


async def test_an_onset_in_the_future_or_long_before_the_session_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=2)
    before = await row_counts(conn, ["reaction", "reaction_lot", "audit_event"])
    future = await _react(client, auth_headers["staff"], clinic.session["id"], onset_at=_onset(-0.5))
    assert future.status_code == 422 and future.json()["code"] == "onset_in_future"
    early = await _react(client, auth_headers["staff"], clinic.session["id"], onset_at=_onset(25))
    assert early.status_code == 422 and early.json()["code"] == "onset_too_early"
    assert (await _react(client, auth_headers["staff"], clinic.session["id"], onset_at=_onset(23))).status_code == 201
    after = await row_counts(conn, ["reaction", "reaction_lot", "audit_event"])
    assert after["reaction"] == before["reaction"] + 1


async def test_the_service_refuses_what_the_lists_do_not_hold(actors: dict[str, Actor]) -> None:
    import pytest

    from inventory.domain.errors import NotFound, Unprocessable

    clinic = await build(actors, on_hand=1)
    good = {"session_id": clinic.session["id"], "kind": "pain", "severity": "mild", "onset_at": clock.now()}
    for change in ({"kind": "itch"}, {"severity": "fatal"}, {"outcome": "fine"}, {"description": "x" * 2001}):
        with pytest.raises(Unprocessable):
            await vigilance.record_reaction(actor=actors["staff"], **{**good, **change})
    with pytest.raises(NotFound):
        await vigilance.record_reaction(actor=actors["staff"], **{**good, "session_id": 999_999})
    record = await vigilance.record_reaction(actor=actors["staff"], **good)
    assert record.lots == () and record.client_id == clinic.client["id"]


async def _signal(client: httpx.AsyncClient, auth_headers: H, signal_id: str) -> dict[str, Any] | None:
    response = await client.get("/api/vigilance/signals", headers=auth_headers["manager"])
    assert response.status_code == 200, response.text
    return next((s for s in response.json()["items"] if s["id"] == signal_id), None)


async def test_three_distinct_clients_on_a_lot_raise_a_lot_and_a_product_signal(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    sessions = [clinic.session, await _session_with_use(actors, clinic), await _session_with_use(actors, clinic)]
    lot_signal, product_signal = f"lot-{clinic.lot['id']}", f"product-{clinic.product['id']}"
    # one client three times: no signal
    for _ in range(3):
        assert (await _react(client, auth_headers["staff"], sessions[0]["id"])).status_code == 201
    assert await _signal(client, auth_headers, lot_signal) is None
    # a second client: still none
    assert (await _react(client, auth_headers["staff"], sessions[1]["id"])).status_code == 201
    assert await _signal(client, auth_headers, lot_signal) is None
    # a third: the lot and its product signal
    assert (await _react(client, auth_headers["staff"], sessions[2]["id"])).status_code == 201
    found = await _signal(client, auth_headers, lot_signal)
    assert found is not None
    assert (found["kind"], found["clients"], found["reactions"], found["serious"], found["uses"]) == (
        "lot",
        3,
        5,
        0,
        3,
    )
    assert found["lot"]["id"] == clinic.lot["id"] and found["product"]["id"] == clinic.product["id"]
    assert found["reasons"] == ["clients"] and found["first_onset"] <= found["last_onset"]
    product = await _signal(client, auth_headers, product_signal)
    assert product is not None and product["lot"] is None and product["clients"] == 3
    # 91 days on, none of them count
    clock.shift(timedelta(days=91))
    assert await _signal(client, auth_headers, lot_signal) is None
    assert (await client.get("/api/vigilance/signals", headers=auth_headers["staff"])).status_code == 403


async def test_one_serious_reaction_is_a_signal_and_one_call_quarantines_its_lot(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    assert (await _react(client, auth_headers["staff"], clinic.session["id"], severity="serious")).status_code == 201
    signal_id = f"lot-{clinic.lot['id']}"
    found = await _signal(client, auth_headers, signal_id)
    assert found is not None and found["serious"] == 1 and found["reasons"] == ["serious"]

    staff = await client.post(
        f"/api/vigilance/signals/{signal_id}/quarantine", json={"reason": "x"}, headers=auth_headers["staff"]
    )
    assert staff.status_code == 403
    product = await client.post(
        f"/api/vigilance/signals/product-{clinic.product['id']}/quarantine",
        json={"reason": "Serious reaction"},
        headers=auth_headers["manager"],
    )
    assert product.status_code == 422 and product.json()["code"] == "signal_needs_lot"
    held = await client.post(
        f"/api/vigilance/signals/{signal_id}/quarantine",
        json={"reason": "Serious reaction"},
        headers=auth_headers["manager"],
    )
    assert held.status_code == 200, held.text
    body = held.json()
    assert body["signal_id"] == signal_id and body["lot"]["status"] == "quarantined"
    assert body["reason"] == f"Vigilance signal {signal_id}: Serious reaction"
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", clinic.lot["id"]) == "quarantined"
    audit = await conn.fetchrow(
        "SELECT details FROM audit_event WHERE action = 'lot.quarantine' AND entity_id = $1", clinic.lot["id"]
    )
    assert audit is not None and audit["details"]["signal"]["id"] == signal_id
    again = await client.post(
        f"/api/vigilance/signals/{signal_id}/quarantine", json={"reason": "again"}, headers=auth_headers["manager"]
    )
    assert again.status_code == 409 and again.json()["code"] == "lot_quarantined"
    unknown = await client.post(
        "/api/vigilance/signals/lot-999999/quarantine", json={"reason": "x"}, headers=auth_headers["manager"]
    )
    assert unknown.status_code == 404
    garbage = await client.post(
        "/api/vigilance/signals/batch-1/quarantine", json={"reason": "x"}, headers=auth_headers["manager"]
    )
    assert garbage.status_code == 404


async def test_a_client_may_carry_a_sex(client: httpx.AsyncClient, auth_headers: H) -> None:
    made = await client.post(
        "/api/clients", json={"full_name": "Ana Sexed", "sex": "female"}, headers=auth_headers["staff"]
    )
    assert made.status_code == 201 and made.json()["sex"] == "female"
    shown = await client.get(f"/api/clients/{made.json()['id']}", headers=auth_headers["staff"])
    assert shown.json()["sex"] == "female"
    plain = await client.post("/api/clients", json={"full_name": "No Sex"}, headers=auth_headers["staff"])
    assert plain.json()["sex"] is None
    bad = await client.post("/api/clients", json={"full_name": "X", "sex": "f"}, headers=auth_headers["staff"])
    assert bad.status_code == 422


async def test_the_report_names_product_and_lot_but_never_the_client(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    import csv
    import io
    from datetime import date

    import pypdfium2

    clinic = await build(actors, on_hand=5)
    person = await clinical.create_client(
        actor=actors["manager"],
        full_name="Léa Confidentielle",
        email="lea.secret@example.com",
        phone="+33 6 99 88 77 66",
        date_of_birth=date(1990, 3, 17),
        sex="female",
    )
    session = await clinical.create_session(
        actor=actors["staff"], client_id=person["id"], location_id=clinic.location_id
    )
    await scanning.record_use(actor=actors["staff"], session_id=session["id"], barcode=clinic.code())
    made = await _react(
        client,
        auth_headers["staff"],
        session["id"],
        severity="serious",
        outcome="recovered",
        description="Léa Confidentielle called",
    )
    reaction_id = made.json()["id"]
    age = clock.today().year - 1990 - (clock.today().timetuple()[1:3] < (3, 17))
    band = f"{age // 10 * 10}-{age // 10 * 10 + 9}"
    secrets = ("Confidentielle", "lea.secret", "99 88 77 66", "1990-03-17", "17/03/1990")

    pdf = await client.get(f"/api/reactions/{reaction_id}/report?format=pdf", headers=auth_headers["manager"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(pdf.content)
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    for shown in (clinic.lot["lot_number"], clinic.gtin, clinic.product["name"], band, "female", "serious"):
        assert shown in text, shown
    for hidden in secrets:
        assert hidden not in text, hidden

    got = await client.get(f"/api/reactions/{reaction_id}/report?format=csv", headers=auth_headers["manager"])
    assert got.status_code == 200 and got.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    row = rows[0]
    assert (row["lot"], row["gtin"], row["age_band"], row["sex"], row["severity"], row["outcome"]) == (
        clinic.lot["lot_number"],
        clinic.gtin,
        band,
        "female",
        "serious",
        "recovered",
    )
    assert row["use_date"] == clock.today_in(f.PARIS).isoformat() and row["clinic"]
    for hidden in secrets:
        assert hidden not in got.text, hidden
    staff = await client.get(f"/api/reactions/{reaction_id}/report", headers=auth_headers["staff"])
    assert staff.status_code == 403
