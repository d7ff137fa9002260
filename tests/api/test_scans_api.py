"""The scan at the chair over HTTP: every refusal and warning the contract names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import asyncpg
import httpx

from inventory import clock
from inventory.domain.labelcode import format_lot_code
from inventory.domain.models import Actor
from inventory.services import clinical
from tests.support import factories as f
from tests.support.clinic import build
from tests.support.db import row_counts
from tests.support.http import is_problem

H = dict[str, dict[str, str]]


async def scan(
    client: httpx.AsyncClient, headers: dict[str, str], session_id: int, barcode: str, **extra: object
) -> httpx.Response:
    return await client.post(f"/api/sessions/{session_id}/scans", json={"barcode": barcode, **extra}, headers=headers)


async def test_gs1_scan_records_use_and_decrements_stock(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    response = await scan(client, auth_headers["staff"], clinic.session["id"], "]d2" + clinic.code() + "\r\n")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["lot"]["id"] == clinic.lot["id"]
    assert body["product"]["id"] == clinic.product["id"]
    assert body["on_hand_after"] == 9
    assert body["warnings"] == []
    row = await conn.fetchrow("SELECT client, lot, barcode FROM usage WHERE id = $1", body["usage_id"])
    assert row["client"] == clinic.client["id"] and row["lot"] == clinic.lot["id"]
    assert row["barcode"] == "]d2" + clinic.code()


async def test_hri_form_and_substitute_separators_resolve_to_the_same_lot(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    expiry = clinic.lot["expiry_date"].strftime("%y%m%d")
    lot = clinic.lot["lot_number"]
    for barcode in (
        f"(01){clinic.gtin}(17){expiry}(10){lot}",
        f"01{clinic.gtin}10{lot}|17{expiry}",
        f"]C101{clinic.gtin}17{expiry}10{lot}",
    ):
        response = await scan(client, auth_headers["staff"], clinic.session["id"], barcode)
        assert response.status_code == 201, (barcode, response.text)
        assert response.json()["lot"]["id"] == clinic.lot["id"]


async def test_own_label_code_resolves_to_exactly_that_lot(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    response = await scan(client, auth_headers["staff"], clinic.session["id"], format_lot_code(clinic.lot["id"]))
    assert response.status_code == 201, response.text
    assert response.json()["lot"]["id"] == clinic.lot["id"]


async def test_plain_gtin_with_one_usable_lot_is_inferred(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    response = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.gtin[1:])
    assert response.status_code == 201, response.text
    assert [w["code"] for w in response.json()["warnings"]] == ["lot_inferred"]


async def test_plain_gtin_with_several_lots_is_lot_ambiguous_with_candidates(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="SECOND1",
        expiry=f.in_days(300),
        quantity=3,
    )
    response = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.gtin)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "lot_ambiguous"
    assert {c["lot_number"] for c in body["candidates"]} == {clinic.lot["lot_number"], "SECOND1"}


async def test_plain_gtin_without_stock_here_is_lot_required(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=1)
    other = await f.location(actors["manager"])
    session = await clinical.create_session(
        actor=actors["staff"], client_id=clinic.client["id"], location_id=other["id"]
    )
    response = await scan(client, auth_headers["staff"], session["id"], clinic.gtin)
    assert response.status_code == 409
    assert response.json()["code"] == "lot_required"


async def test_unknown_gtin_is_product_unknown(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    response = await scan(client, auth_headers["staff"], clinic.session["id"], f.make_gtin(999_999, prefix="400000"))
    assert response.status_code == 404
    assert response.json()["code"] == "product_unknown"


async def test_garbage_and_bad_check_digit_are_barcode_invalid(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    bad_check = clinic.gtin[:-1] + str((int(clinic.gtin[-1]) + 1) % 10)
    for barcode in ("hello", bad_check, f"01{clinic.gtin}17261332", "\x00\x01"):
        response = await scan(client, auth_headers["staff"], clinic.session["id"], barcode)
        assert response.status_code == 422, (barcode, response.text)
        assert response.json()["code"] == "barcode_invalid"
    assert await conn.fetchval("SELECT count(*) FROM usage WHERE session = $1", clinic.session["id"]) == 0


async def test_closed_session_refuses_scans(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    closed = await client.post(f"/api/sessions/{clinic.session['id']}/close", headers=auth_headers["staff"])
    assert closed.status_code == 200
    response = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())
    assert response.status_code == 409
    assert response.json()["code"] == "session_closed"


async def test_expired_lot_is_refused_on_the_day_after_expiry(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, expiry_days=3)
    clock.shift(timedelta(days=3))
    assert (await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())).status_code == 201
    clock.shift(timedelta(days=1))
    response = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())
    assert response.status_code == 409
    assert response.json()["code"] == "lot_expired"
    assert await conn.fetchval("SELECT on_hand FROM stock_level WHERE lot = $1", clinic.lot["id"]) == 9


async def test_recalled_and_quarantined_lots_are_refused_without_override(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    for status in ("quarantined", "recalled"):
        await conn.execute("UPDATE lot SET status = $2 WHERE id = $1", clinic.lot["id"], status)
        response = await scan(
            client, auth_headers["staff"], clinic.session["id"], clinic.code(), override_reason="I insist"
        )
        assert response.status_code == 409
        assert response.json()["code"] == f"lot_{status}"


async def test_serial_is_used_once_ever(client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]) -> None:
    clinic = await build(actors)
    code = clinic.code(serial="SN0001")
    assert (await scan(client, auth_headers["staff"], clinic.session["id"], code)).status_code == 201
    response = await scan(client, auth_headers["staff"], clinic.session["id"], code)
    assert response.status_code == 409
    assert response.json()["code"] == "serial_already_used"


async def test_allergy_conflict_refuses_then_override_records_reason(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, allergies=["vitamine c"], ingredients=["Hyaluronic acid", "Vitamine C"])
    refused = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())
    assert refused.status_code == 409
    assert refused.json()["code"] == "allergy_conflict"
    assert refused.json()["ingredients"] == ["Vitamine C"]
    accepted = await scan(
        client,
        auth_headers["staff"],
        clinic.session["id"],
        clinic.code(),
        override_reason="Patch test negative, doctor approved",
    )
    assert accepted.status_code == 201
    assert "allergy_overridden" in [w["code"] for w in accepted.json()["warnings"]]
    reason = await conn.fetchval("SELECT override_reason FROM usage WHERE id = $1", accepted.json()["usage_id"])
    assert reason == "Patch test negative, doctor approved"


async def test_accented_allergy_matches_unaccented_ingredient(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, allergies=["LIDOCAÏNE"], ingredients=["Lidocaine hydrochloride"])
    response = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())
    assert response.json()["code"] == "allergy_conflict"


async def test_fefo_violation_warns_when_an_earlier_lot_is_on_the_shelf(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, expiry_days=200)
    await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="EARLY1",
        expiry=f.in_days(100),
        quantity=2,
    )
    response = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())
    assert response.status_code == 201
    assert "fefo_violation" in [w["code"] for w in response.json()["warnings"]]


async def test_expires_soon_warns(client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]) -> None:
    clinic = await build(actors, expiry_days=10)
    response = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())
    assert [w["code"] for w in response.json()["warnings"]] == ["expires_soon"]


async def test_use_beyond_stock_is_recorded_with_stock_discrepancy(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=1)
    await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())
    response = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code(), repeat=True)
    assert response.status_code == 201
    assert response.json()["on_hand_after"] == -1
    assert "stock_discrepancy" in [w["code"] for w in response.json()["warnings"]]
    ledger = await conn.fetchval("SELECT sum(quantity) FROM stock_movement WHERE lot = $1", clinic.lot["id"])
    assert ledger == -1


async def test_lot_never_received_is_created_and_flagged(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    response = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code("NEWLOT9"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert "lot_not_received" in [w["code"] for w in body["warnings"]]
    assert body["lot"]["lot_number"] == "NEWLOT9"
    assert await conn.fetchval("SELECT not_received FROM lot WHERE id = $1", body["lot"]["id"]) is True


async def test_box_gtin_at_use_consumes_quantity_units(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    code = clinic.code().replace(clinic.gtin, clinic.box_gtin, 1)
    response = await scan(client, auth_headers["staff"], clinic.session["id"], code, quantity=2)
    assert response.status_code == 201, response.text
    assert response.json()["quantity"] == 2
    assert response.json()["on_hand_after"] == 8


async def test_idempotent_retry_records_one_use(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    headers = {**auth_headers["staff"], "Idempotency-Key": "scan-retry-1"}
    first = await scan(client, headers, clinic.session["id"], clinic.code())
    second = await scan(client, headers, clinic.session["id"], clinic.code())
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotency-replayed") == "true"
    assert await conn.fetchval("SELECT count(*) FROM usage WHERE session = $1", clinic.session["id"]) == 1
    reused = await scan(client, headers, clinic.session["id"], clinic.code(), quantity=2)
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"


async def test_void_restores_stock_and_keeps_the_use_visible(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    used = (await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())).json()
    voided = await client.post(
        f"/api/usages/{used['usage_id']}/void", json={"reason": "wrong client"}, headers=auth_headers["staff"]
    )
    assert voided.status_code == 200, voided.text
    assert voided.json()["on_hand_after"] == 10
    again = await client.post(
        f"/api/usages/{used['usage_id']}/void", json={"reason": "again"}, headers=auth_headers["staff"]
    )
    assert again.json()["code"] == "usage_voided"
    session = (await client.get(f"/api/sessions/{clinic.session['id']}", headers=auth_headers["staff"])).json()
    assert session["usages"][0]["voided"] is True


async def test_staff_cannot_void_someone_elses_scan_but_a_manager_can(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    used = (await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())).json()
    url = f"/api/usages/{used['usage_id']}/void"
    assert (await client.post(url, json={"reason": "x"}, headers=auth_headers["staff2"])).status_code == 403
    assert (await client.post(url, json={"reason": "x"}, headers=auth_headers["manager"])).status_code == 200


async def test_unknown_session_is_404(client: httpx.AsyncClient, auth_headers: H) -> None:
    response = await scan(client, auth_headers["staff"], 999_999, "4006381333931")
    assert response.status_code == 404


async def test_scan_body_errors_are_422_problems(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    url = f"/api/sessions/{clinic.session['id']}/scans"
    for body in (
        {},
        {"barcode": 5},
        {"barcode": ""},
        {"barcode": "x" * 600},
        {"barcode": "x", "quantity": 0},
        {"barcode": "x", "quantity": -1},
        {"barcode": "x", "quantity": "two"},
    ):
        response = await client.post(url, json=body, headers=auth_headers["staff"])
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_gs1_without_gtin_names_a_lot_only_when_its_number_is_unique(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    expiry = clinic.lot["expiry_date"].strftime("%y%m%d")
    known = await scan(
        client, auth_headers["staff"], clinic.session["id"], f"(17){expiry}(10){clinic.lot['lot_number']}"
    )
    assert known.status_code == 201, known.text
    assert known.json()["lot"]["id"] == clinic.lot["id"]
    for barcode in ("(10)NOSUCHLOT", "(21)12345", f"]C110{clinic.lot['lot_number']}X"):
        refused = await scan(client, auth_headers["staff"], clinic.session["id"], barcode)
        assert refused.status_code == 422, (barcode, refused.text)
        assert refused.json()["code"] == "barcode_invalid"
    assert await conn.fetchval("SELECT count(*) FROM usage WHERE session = $1", clinic.session["id"]) == 1


async def test_generated_gs1_strings_never_break_the_scan(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    import random

    clinic = await build(actors)
    rng = random.Random(20261125)
    elements: list[Callable[[], str]] = [
        lambda: f"(01){clinic.gtin}",
        lambda: f"(01){f.make_gtin(rng.randrange(10**6), prefix='400000')}",
        lambda: f"(17){rng.randrange(100):02d}{rng.randrange(14):02d}{rng.randrange(33):02d}",
        lambda: f"(10){rng.choice(['', clinic.lot['lot_number'], 'AB(21)7', 'x' * 25, 'Lot-9/2'])}",
        lambda: f"(21){rng.randrange(10**6)}",
        lambda: f"(11){rng.randrange(10**6):06d}",
        lambda: "(30)12",
        lambda: "(99)" + "Z" * rng.randrange(3),
    ]
    statuses = set()
    for _ in range(150):
        text = "".join(rng.choice(elements)() for _ in range(rng.randrange(1, 5)))
        if rng.random() < 0.5:
            text = text.replace("(", "").replace(")", "") if rng.random() < 0.5 else "]C1" + text
        response = await scan(client, auth_headers["staff"], clinic.session["id"], text)
        assert response.status_code < 500, (text, response.text)
        statuses.add(response.status_code)
        received = await client.post(
            "/api/receipts",
            json={"location_id": clinic.location_id, "lines": [{"barcode": text, "quantity": 1}]},
            headers=auth_headers["staff"],
        )
        assert received.status_code < 500, (text, received.text)
        statuses.add(received.status_code)
    assert statuses <= {201, 404, 409, 422}


async def test_override_reason_that_is_a_scanner_burst_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, allergies=["vitamine c"], ingredients=["Hyaluronic acid", "Vitamine C"])
    tables = ("usage", "stock_movement", "audit_event", "lot")
    before = await row_counts(conn, tables)
    for reason in ("]C101037600010010131726121310K0SOON", clinic.code(), "ok"):
        response = await scan(
            client, auth_headers["staff"], clinic.session["id"], clinic.code(), override_reason=reason
        )
        assert is_problem(response, 422, "override_reason_invalid")
    assert await row_counts(conn, tables) == before


async def test_bad_override_reason_is_refused_even_without_an_allergy_conflict(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    response = await scan(
        client, auth_headers["staff"], clinic.session["id"], clinic.code(), override_reason="]d2" + clinic.code()
    )
    assert is_problem(response, 422, "override_reason_invalid")
    assert await conn.fetchval("SELECT count(*) FROM usage WHERE session = $1", clinic.session["id"]) == 0


async def test_recorded_override_reason_is_in_the_scan_response_and_the_session(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, allergies=["vitamine c"], ingredients=["Hyaluronic acid", "Vitamine C"])
    reason = "Patch test negative, doctor approved"
    accepted = await scan(
        client, auth_headers["staff"], clinic.session["id"], clinic.code(), override_reason=f"  {reason}\r\n"
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["override_reason"] == reason
    session = (await client.get(f"/api/sessions/{clinic.session['id']}", headers=auth_headers["staff"])).json()
    assert [u["override_reason"] for u in session["usages"]] == [reason]


async def test_override_reason_without_a_conflict_is_not_recorded(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    response = await scan(
        client, auth_headers["staff"], clinic.session["id"], clinic.code(), override_reason="Doctor approved"
    )
    assert response.status_code == 201, response.text
    assert response.json()["override_reason"] is None
    session = (await client.get(f"/api/sessions/{clinic.session['id']}", headers=auth_headers["staff"])).json()
    assert session["usages"][0]["override_reason"] is None


async def test_same_barcode_on_the_session_within_ten_seconds_is_a_repeat_scan_and_writes_nothing(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    first = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())
    assert first.status_code == 201, first.text
    tables = ("usage", "stock_movement", "audit_event")
    before = await row_counts(conn, tables)
    clock.shift(timedelta(seconds=9))
    again = await scan(client, auth_headers["staff"], clinic.session["id"], " " + clinic.code() + "\r\n")
    assert is_problem(again, 409, "repeat_scan")
    assert again.json()["usage_id"] == first.json()["usage_id"]
    assert again.json()["seconds_ago"] == 9
    assert await row_counts(conn, tables) == before


async def test_repeat_confirmed_records_the_second_use(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    first = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())
    second = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code(), repeat=True)
    assert second.status_code == 201, second.text
    assert second.json()["usage_id"] != first.json()["usage_id"]
    assert second.json()["on_hand_after"] == 8


async def test_same_barcode_ten_seconds_later_by_the_service_clock_is_recorded(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    assert (await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())).status_code == 201
    clock.shift(timedelta(seconds=10))
    response = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())
    assert response.status_code == 201, response.text


async def test_a_voided_earlier_use_does_not_make_a_repeat(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    used = (await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())).json()
    voided = await client.post(
        f"/api/usages/{used['usage_id']}/void", json={"reason": "wrong client"}, headers=auth_headers["staff"]
    )
    assert voided.status_code == 200, voided.text
    response = await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())
    assert response.status_code == 201, response.text


async def test_repeat_compares_the_scanned_text_per_session(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    assert (await scan(client, auth_headers["staff"], clinic.session["id"], clinic.code())).status_code == 201
    other = await clinical.create_session(
        actor=actors["staff"], client_id=clinic.client["id"], location_id=clinic.location_id
    )
    on_other_session = await scan(client, auth_headers["staff"], other["id"], clinic.code())
    assert on_other_session.status_code == 201, on_other_session.text
    expiry = clinic.lot["expiry_date"].strftime("%y%m%d")
    other_text = f"(01){clinic.gtin}(17){expiry}(10){clinic.lot['lot_number']}"
    another_label = await scan(client, auth_headers["staff"], clinic.session["id"], other_text)
    assert another_label.status_code == 201, another_label.text


async def test_a_retry_with_the_same_idempotency_key_is_a_replay_not_a_repeat(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    first = await scan(
        client, {**auth_headers["staff"], "Idempotency-Key": "chair-1"}, clinic.session["id"], clinic.code()
    )
    retry = await scan(
        client, {**auth_headers["staff"], "Idempotency-Key": "chair-1"}, clinic.session["id"], clinic.code()
    )
    assert retry.status_code == 201, retry.text
    assert retry.headers.get("idempotency-replayed") == "true"
    assert retry.json() == first.json()
    new_key = await scan(
        client, {**auth_headers["staff"], "Idempotency-Key": "chair-2"}, clinic.session["id"], clinic.code()
    )
    assert is_problem(new_key, 409, "repeat_scan")
    assert await conn.fetchval("SELECT count(*) FROM usage WHERE session = $1", clinic.session["id"]) == 1


async def test_gs1_digital_link_scans_in_path_query_and_percent_encoded_forms(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    lot, gtin = clinic.lot["lot_number"], clinic.gtin
    expiry = clinic.lot["expiry_date"].strftime("%y%m%d")
    for uri in (
        f"https://id.example.com/01/{gtin}/10/{lot}?17={expiry}",
        f"HTTPS://ID.EXAMPLE.COM/clinic/prefix/01/{gtin[1:]}/10/{lot}",
        f"http://example.org/01/{gtin}/22/A1/10/{lot.replace('L', '%4C')}?17={expiry}&21=SER9",
        f"]Q1https://example.org/gtin/{gtin}/lot/{lot}?exp={expiry}\r\n",
    ):
        response = await scan(client, auth_headers["staff"], clinic.session["id"], uri)
        assert response.status_code == 201, (uri, response.text)
        assert response.json()["lot"]["id"] == clinic.lot["id"]


async def test_digital_link_serial_in_the_query_is_recorded(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    uri = f"https://id.example.com/01/{clinic.gtin}/10/{clinic.lot['lot_number']}?21=AMP%2F7"
    response = await scan(client, auth_headers["staff"], clinic.session["id"], uri)
    assert response.status_code == 201, response.text
    assert await conn.fetchval("SELECT serial FROM usage WHERE id = $1", response.json()["usage_id"]) == "AMP/7"


async def test_broken_digital_link_scan_is_barcode_invalid(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    for uri in (
        f"https://id.example.com/01/{clinic.gtin}/10/{clinic.lot['lot_number']}?17=261399",
        f"https://id.example.com/01/{clinic.gtin}/21/S1/10/{clinic.lot['lot_number']}",
        "https://www.example.com/shop/ampoules",
    ):
        response = await scan(client, auth_headers["staff"], clinic.session["id"], uri)
        assert is_problem(response, 422, "barcode_invalid")
    assert await conn.fetchval("SELECT count(*) FROM usage WHERE session = $1", clinic.session["id"]) == 0


async def test_phone_camera_datamatrix_and_qr_text_scans(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    for text in ("]d2" + clinic.code(serial="CAM1"), clinic.code(serial="CAM2"), "]Q3" + clinic.code(serial="CAM3")):
        response = await scan(client, auth_headers["staff"], clinic.session["id"], text)
        assert response.status_code == 201, (text, response.text)
        assert response.json()["lot"]["id"] == clinic.lot["id"]
