"""Receiving deliveries over HTTP: by fields and by barcode, lots, refusals, idempotency."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from inventory.domain.gs1 import format_element_string, format_hri
from inventory.domain.models import Actor
from tests.support import factories as f
from tests.support.db import row_counts
from tests.support.http import H, is_problem

RECEIPT_TABLES = (
    "receipt",
    "receipt_line",
    "stock_movement",
    "stock_level",
    "lot",
    "audit_event",
    "idempotency_record",
)


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Row counts of the tables a receipt writes."""
    return await row_counts(conn, RECEIPT_TABLES)


def line(product_id: int, lot_number: str, days: int = 200, quantity: int = 5) -> dict[str, Any]:
    """A line by fields."""
    return {
        "product_id": product_id,
        "lot_number": lot_number,
        "expiry_date": f.in_days(days).isoformat(),
        "quantity": quantity,
    }


async def post(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    location_id: int,
    *lines: dict[str, Any],
    key: str | None = None,
    **extra: Any,
) -> httpx.Response:
    """POST /api/receipts."""
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return await client.post(
        "/api/receipts", json={"location_id": location_id, "lines": list(lines), **extra}, headers=headers
    )


async def test_receipt_by_fields_has_the_contract_shape(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    response = await post(
        client,
        auth_headers["staff"],
        s.location_id,
        line(s.product_id, "  LOT-A1 ", quantity=6),
        supplier="Mesoestetic France",
        reference="BL-2026-001",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body["id"], int)
    assert (body["location_id"], body["supplier"], body["reference"]) == (
        s.location_id,
        "Mesoestetic France",
        "BL-2026-001",
    )
    [received] = body["lines"]
    lot = received["lot"]
    assert {"id", "product_id", "lot_number", "expiry_date", "status"} <= set(lot)
    assert (lot["product_id"], lot["lot_number"], lot["expiry_date"], lot["status"]) == (
        s.product_id,
        "LOT-A1",
        f.in_days(200).isoformat(),
        "active",
    )
    assert (received["quantity"], received["on_hand"], received["lot_created"]) == (6, 6, True)
    assert received["label_url"] == f"/api/lots/{lot['id']}/label?format=png"
    assert await conn.fetchval("SELECT received_by FROM receipt WHERE id = $1", body["id"]) == actors["staff"].id


async def test_each_line_has_its_own_label_url(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    response = await post(
        client, auth_headers["staff"], s.location_id, line(s.product_id, "LA"), line(s.product_id, "LB")
    )
    assert response.status_code == 201, response.text
    urls = [received["label_url"] for received in response.json()["lines"]]
    ids = [received["lot"]["id"] for received in response.json()["lines"]]
    assert urls == [f"/api/lots/{lot_id}/label?format=png" for lot_id in ids]
    assert len(set(ids)) == 2


async def test_receipt_by_gs1_barcode_in_every_form(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    expiry = f.in_days(120)
    codes = [
        format_element_string(gtin=s.gtin, expiry=expiry, lot_number="GS-77"),
        "]C1" + format_element_string(gtin=s.gtin, expiry=expiry, lot_number="GS-77"),
        format_hri(gtin=s.gtin, expiry=expiry, lot_number="GS-77") + "\r\n",
    ]
    lot_ids = set()
    for on_hand, code in enumerate(codes, start=1):
        response = await post(client, auth_headers["staff"], s.location_id, {"barcode": code, "quantity": 1})
        assert response.status_code == 201, (code, response.text)
        received = response.json()["lines"][0]
        assert (received["lot"]["lot_number"], received["lot"]["expiry_date"]) == ("GS-77", expiry.isoformat())
        assert received["on_hand"] == on_hand
        lot_ids.add(received["lot"]["id"])
    assert len(lot_ids) == 1


async def test_box_gtin_multiplies_the_quantity_by_its_units(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    code = format_element_string(gtin=s.box_gtin, expiry=f.in_days(90), lot_number="BX1")
    response = await post(client, auth_headers["staff"], s.location_id, {"barcode": code, "quantity": 2})
    assert response.status_code == 201, response.text
    received = response.json()["lines"][0]
    assert (received["quantity"], received["on_hand"]) == (20, 20)
    assert received["lot"]["product_id"] == s.product_id


async def test_lower_case_lot_number_adds_to_the_upper_case_lot(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    first = await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "AB12", quantity=3))
    second = await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "ab12", quantity=4))
    assert second.status_code == 201, second.text
    a, b = first.json()["lines"][0], second.json()["lines"][0]
    assert a["lot"]["id"] == b["lot"]["id"]
    assert b["lot"]["lot_number"] == "AB12"
    assert (b["lot_created"], b["on_hand"]) == (False, 7)


async def test_same_lot_number_of_different_products_makes_different_lots(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s, other = await f.product_and_location(actors), await f.product_and_location(actors)
    a = await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "ab12", days=100))
    b = await post(client, auth_headers["staff"], s.location_id, line(other.product_id, "AB12", days=300))
    assert b.status_code == 201, b.text
    assert a.json()["lines"][0]["lot"]["id"] != b.json()["lines"][0]["lot"]["id"]
    assert b.json()["lines"][0]["lot"]["lot_number"] == "AB12"


async def test_known_lot_with_another_expiry_is_409_and_nothing_is_written(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    first = await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "MM1", days=200))
    before = await counts(conn)
    response = await post(
        client,
        auth_headers["staff"],
        s.location_id,
        line(s.product_id, "NEWLOT"),
        line(s.product_id, "mm1", days=199),
        key="mismatch-1",
    )
    assert is_problem(response, 409, "lot_expiry_mismatch")
    body = response.json()
    assert body["lot_id"] == first.json()["lines"][0]["lot"]["id"]
    assert body["recorded_expiry"] == f.in_days(200).isoformat()
    assert await counts(conn) == before


async def test_expired_lot_is_422_lot_expired(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    before = await counts(conn)
    response = await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "OLD", days=-1))
    assert is_problem(response, 422, "lot_expired")
    code = format_element_string(gtin=s.gtin, expiry=f.in_days(-30), lot_number="OLD2")
    assert is_problem(
        await post(client, auth_headers["staff"], s.location_id, {"barcode": code, "quantity": 1}), 422, "lot_expired"
    )
    assert await counts(conn) == before


async def test_unknown_gtin_is_404_product_unknown(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    code = format_element_string(gtin=f.make_gtin(4242, prefix="400111"), expiry=f.in_days(60), lot_number="U1")
    before = await counts(conn)
    response = await post(client, auth_headers["staff"], s.location_id, {"barcode": code, "quantity": 1})
    assert is_problem(response, 404, "product_unknown")
    assert await counts(conn) == before


async def test_plain_gtin_barcode_is_422(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    before = await counts(conn)
    for code in (s.gtin, s.gtin[1:]):
        response = await post(client, auth_headers["staff"], s.location_id, {"barcode": code, "quantity": 1})
        assert is_problem(response, 422, "barcode_incomplete")
    assert await counts(conn) == before


@pytest.mark.parametrize(
    ("make_line", "status", "code"),
    [
        (lambda s: {"barcode": "hello", "quantity": 1}, 422, "barcode_invalid"),
        (lambda s: {"barcode": s.gtin[:-1] + str((int(s.gtin[-1]) + 1) % 10), "quantity": 1}, 422, "barcode_invalid"),
        (lambda s: {**line(s.product_id, "Q"), "quantity": 0}, 422, "validation_error"),
        (lambda s: {**line(s.product_id, "Q"), "quantity": -4}, 422, "validation_error"),
        (lambda s: {**line(s.product_id, "Q"), "quantity": 2**40}, 422, "validation_error"),
        (lambda s: {**line(s.product_id, "Q"), "quantity": 1.5}, 422, "validation_error"),
        (lambda s: {**line(s.product_id, "Q"), "expiry_date": "2026-02-30"}, 422, "validation_error"),
        (lambda s: {**line(s.product_id, "Q"), "expiry_date": "not-a-date"}, 422, "validation_error"),
        (lambda s: {**line(s.product_id, "Q"), "lot_number": "x" * 65}, 422, "validation_error"),
        (lambda s: {**line(s.product_id, "Q"), "lot_number": "   "}, 422, None),
        (lambda s: {**line(s.product_id, "Q"), "lot_number": "A\x00B"}, 422, None),
        (lambda s: {**line(s.product_id, "Q"), "product_id": 999_999}, 404, "not_found"),
        (lambda s: {"product_id": s.product_id, "quantity": 1}, 422, "validation_error"),
        (lambda s: {**line(s.product_id, "Q"), "barcode": "]C1" + s.gtin}, 422, "validation_error"),
        (lambda s: {**line(s.product_id, "Q"), "colour": "blue"}, 422, "validation_error"),
    ],
)
async def test_bad_lines_are_refused_and_nothing_is_written(
    client: httpx.AsyncClient,
    auth_headers: H,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    make_line: Any,
    status: int,
    code: str | None,
) -> None:
    s = await f.product_and_location(actors)
    before = await counts(conn)
    response = await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "GOOD"), make_line(s))
    assert is_problem(response, status, code)
    assert await counts(conn) == before


async def test_unknown_location_and_empty_receipts_are_refused(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    before = await counts(conn)
    assert is_problem(await post(client, auth_headers["staff"], 999_999, line(s.product_id, "L")), 404, "not_found")
    assert is_problem(await post(client, auth_headers["staff"], s.location_id), 422)
    too_many = [line(s.product_id, f"L{i}") for i in range(501)]
    assert is_problem(await post(client, auth_headers["staff"], s.location_id, *too_many), 422)
    assert is_problem(
        await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "L"), supplier="x" * 10_000), 422
    )
    assert await counts(conn) == before


async def test_on_hand_equals_the_ledger_sum_after_receipts(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    box = format_element_string(gtin=s.box_gtin, expiry=f.in_days(90), lot_number="SUM")
    for _ in range(2):
        response = await post(
            client,
            auth_headers["staff"],
            s.location_id,
            line(s.product_id, "sum", days=90),
            {"barcode": box, "quantity": 1},
        )
        assert response.status_code == 201, response.text
    await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "SUM", days=91))  # refused
    stock = (await client.get("/api/stock", params={"product_id": s.product_id}, headers=auth_headers["staff"])).json()[
        "items"
    ]
    assert [(i["lot"]["lot_number"], i["on_hand"]) for i in stock] == [("sum", 30)]
    ledger = await conn.fetchval(
        "SELECT sum(quantity) FROM stock_movement WHERE lot = $1 AND location = $2",
        stock[0]["lot"]["id"],
        s.location_id,
    )
    assert ledger == 30


# ------------------------------------------------------------------ idempotency


async def test_same_idempotency_key_and_body_replays_the_first_receipt(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    first = await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "IDEM"), key="rcpt-1")
    assert first.status_code == 201, first.text
    assert "idempotency-replayed" not in first.headers
    before = await counts(conn)
    again = await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "IDEM"), key="rcpt-1")
    assert again.status_code == 201
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    assert await counts(conn) == before


async def test_same_idempotency_key_with_another_body_is_422(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    assert (
        await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "K1"), key="rcpt-2")
    ).status_code == 201
    before = await counts(conn)
    response = await post(
        client, auth_headers["staff"], s.location_id, line(s.product_id, "K1", quantity=6), key="rcpt-2"
    )
    assert is_problem(response, 422, "idempotency_key_reused")
    assert await counts(conn) == before


async def test_idempotency_keys_belong_to_their_user(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    a = await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "U1"), key="shared")
    b = await post(client, auth_headers["staff2"], s.location_id, line(s.product_id, "U1"), key="shared")
    assert (a.status_code, b.status_code) == (201, 201)
    assert "idempotency-replayed" not in b.headers
    assert b.json()["id"] != a.json()["id"]
    assert b.json()["lines"][0]["on_hand"] == 10


async def test_a_refused_request_keeps_no_key_so_a_corrected_retry_runs(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    refused = await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "R", days=-1), key="rk")
    assert is_problem(refused, 422, "lot_expired")
    assert await conn.fetchval("SELECT count(*) FROM idempotency_record WHERE key = 'rk'") == 0
    retried = await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "R"), key="rk")
    assert retried.status_code == 201, retried.text
    assert "idempotency-replayed" not in retried.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
async def test_invalid_idempotency_key_is_422(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection, key: str
) -> None:
    s = await f.product_and_location(actors)
    before = await counts(conn)
    assert is_problem(await post(client, auth_headers["staff"], s.location_id, line(s.product_id, "K"), key=key), 422)
    assert await counts(conn) == before


def _yymmdd(days: int) -> str:
    return f.in_days(days).strftime("%y%m%d")


async def test_receipt_by_gs1_digital_link_in_path_query_and_percent_encoded_forms(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    expiry = f.in_days(150)
    uris = {
        "DL-1": f"https://id.example.com/01/{s.gtin}/10/DL-1?17={_yymmdd(150)}",
        "DL/2": f"HTTP://Clinic.Example/any/prefix/01/{s.gtin[1:]}/10/DL%2F2?17={_yymmdd(150)}&linkType=pil",
        "DL-3": f"]Q1https://id.example.com/gtin/{s.gtin}/lot/DL-3?exp={_yymmdd(150)}",
    }
    for lot_number, uri in uris.items():
        response = await post(client, auth_headers["staff"], s.location_id, {"barcode": uri, "quantity": 1})
        assert response.status_code == 201, (uri, response.text)
        received = response.json()["lines"][0]
        assert (received["lot"]["product_id"], received["lot"]["lot_number"], received["lot"]["expiry_date"]) == (
            s.product_id,
            lot_number,
            expiry.isoformat(),
        )


async def test_receipt_of_a_broken_digital_link_is_barcode_invalid_and_writes_nothing(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    s = await f.product_and_location(actors)
    before = await counts(conn)
    bad_check = s.gtin[:-1] + str((int(s.gtin[-1]) + 1) % 10)
    for uri in (
        f"https://id.example.com/01/{bad_check}/10/X1?17={_yymmdd(150)}",
        f"https://id.example.com/01/{s.gtin}?10=X1&17={_yymmdd(150)}",
        "https://id.example.com/products/ampoule-x",
    ):
        response = await post(client, auth_headers["staff"], s.location_id, {"barcode": uri, "quantity": 1})
        assert is_problem(response, 422, "barcode_invalid")
    assert await counts(conn) == before
