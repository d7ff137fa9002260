"""Receiving at the service level: lots matched or created, stock added, all lines or none."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from inventory import clock
from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.gs1 import format_element_string
from inventory.domain.labelcode import format_lot_code
from inventory.domain.models import Actor
from inventory.services import catalog, receiving
from inventory.store import lots
from tests.support import factories as f
from tests.support.db import row_counts

WRITTEN_TABLES = ("receipt", "receipt_line", "stock_movement", "stock_level", "lot", "audit_event", "reorder_alert")


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Row counts of the tables a receipt writes."""
    return await row_counts(conn, WRITTEN_TABLES)


async def receive(actor: Actor, location_id: int, *lines: receiving.LineIn) -> dict[str, Any]:
    """Receive the lines at the location."""
    return await receiving.receive(
        actor=actor, location_id=location_id, supplier="Supplier", reference="BL-1", lines=list(lines)
    )


def by_fields(product_id: int, lot_number: str, days: int = 200, quantity: int = 5) -> receiving.LineIn:
    """A line entered by hand."""
    return receiving.LineIn(
        quantity=quantity, product_id=product_id, lot_number=lot_number, expiry_date=f.in_days(days)
    )


async def ledger_matches_levels(conn: asyncpg.Connection) -> bool:
    """Every level equals the sum of its ledger rows, and every ledger pair has a level."""
    mismatches = await conn.fetchval(
        "SELECT count(*) FROM (SELECT lot, location, sum(quantity) AS total FROM stock_movement"
        " GROUP BY lot, location) m FULL JOIN stock_level s ON s.lot = m.lot AND s.location = m.location"
        " WHERE coalesce(m.total, 0) <> coalesce(s.on_hand, 0)"
    )
    return int(mismatches) == 0


async def test_receipt_by_fields_creates_lot_adds_stock_and_writes_ledger_and_audit(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await f.product_and_location(actors)
    result = await receive(actors["staff"], s.location_id, by_fields(s.product_id, "AB-100", quantity=7))
    line = result["lines"][0]
    assert line["lot_created"] is True
    assert line["quantity"] == 7
    assert line["on_hand"] == 7
    assert line["lot"]["lot_number"] == "AB-100"
    assert line["lot"]["expiry_date"] == f.in_days(200)
    assert line["lot"]["status"] == "active"
    movement = await conn.fetchrow(
        'SELECT quantity, kind, "user", receipt_line FROM stock_movement WHERE lot = $1', line["lot"]["id"]
    )
    assert movement is not None
    assert (movement["quantity"], movement["kind"], movement["user"]) == (7, "receive", actors["staff"].id)
    assert (
        await conn.fetchval("SELECT receipt FROM receipt_line WHERE id = $1", movement["receipt_line"]) == result["id"]
    )
    audit = await conn.fetchrow(
        "SELECT actor, action FROM audit_event WHERE entity = 'receipt' AND entity_id = $1", result["id"]
    )
    assert audit is not None
    assert (audit["actor"], audit["action"]) == (actors["staff"].id, "receipt.create")
    assert await ledger_matches_levels(conn)


async def test_lot_number_is_kept_as_printed_trimmed_and_matched_ignoring_case(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await f.product_and_location(actors)
    first = await receive(actors["staff"], s.location_id, by_fields(s.product_id, "  Ab12 \t", quantity=3))
    second = await receive(actors["staff"], s.location_id, by_fields(s.product_id, "aB12", quantity=4))
    lot = first["lines"][0]["lot"]
    assert lot["lot_number"] == "Ab12"
    assert second["lines"][0]["lot"]["id"] == lot["id"]
    assert second["lines"][0]["lot"]["lot_number"] == "Ab12"
    assert second["lines"][0]["lot_created"] is False
    assert second["lines"][0]["on_hand"] == 7
    assert await conn.fetchval("SELECT count(*) FROM lot WHERE product = $1", s.product_id) == 1


async def test_lot_numbers_are_unique_per_product_never_globally(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await f.product_and_location(actors)
    other = await f.product_and_location(actors)
    a = await receive(actors["staff"], s.location_id, by_fields(s.product_id, "ab12", days=100))
    b = await receive(actors["staff"], s.location_id, by_fields(other.product_id, "AB12", days=300))
    assert a["lines"][0]["lot"]["id"] != b["lines"][0]["lot"]["id"]
    assert b["lines"][0]["lot_created"] is True
    assert b["lines"][0]["lot"]["expiry_date"] == f.in_days(300)


async def test_known_lot_with_another_expiry_is_refused_and_nothing_is_written(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await f.product_and_location(actors)
    first = await receive(actors["staff"], s.location_id, by_fields(s.product_id, "EXP1", days=200))
    before = await counts(conn)
    with pytest.raises(Conflict) as refused:
        await receive(actors["staff"], s.location_id, by_fields(s.product_id, "exp1", days=201))
    assert refused.value.code == "lot_expiry_mismatch"
    assert refused.value.extra["lot_id"] == first["lines"][0]["lot"]["id"]
    assert refused.value.extra["recorded_expiry"] == f.in_days(200).isoformat()
    assert await counts(conn) == before


async def test_a_refused_line_rolls_back_the_lines_before_it(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await f.product_and_location(actors)
    await receive(actors["staff"], s.location_id, by_fields(s.product_id, "OLD1", days=200))
    before = await counts(conn)
    with pytest.raises(Conflict):
        await receive(
            actors["staff"], s.location_id, by_fields(s.product_id, "NEW1"), by_fields(s.product_id, "OLD1", days=150)
        )
    assert await counts(conn) == before
    assert await conn.fetchval("SELECT count(*) FROM lot WHERE lot_key = 'NEW1' AND product = $1", s.product_id) == 0


async def test_two_lines_of_one_new_lot_with_different_expiries_are_refused(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await f.product_and_location(actors)
    before = await counts(conn)
    with pytest.raises(Conflict) as refused:
        await receive(
            actors["staff"],
            s.location_id,
            by_fields(s.product_id, "TWIN", days=100),
            by_fields(s.product_id, "twin", days=101),
        )
    assert refused.value.code == "lot_expiry_mismatch"
    assert await counts(conn) == before


async def test_two_lines_of_one_lot_add_up_on_one_lot(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await f.product_and_location(actors)
    result = await receive(
        actors["staff"],
        s.location_id,
        by_fields(s.product_id, "SAME", quantity=2),
        by_fields(s.product_id, "same", quantity=3),
    )
    first, second = result["lines"]
    assert first["lot"]["id"] == second["lot"]["id"]
    assert (first["on_hand"], second["on_hand"]) == (2, 5)
    assert await conn.fetchval("SELECT on_hand FROM stock_level WHERE lot = $1", first["lot"]["id"]) == 5


async def test_expired_lot_is_refused_but_a_lot_expiring_today_is_received(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await f.product_and_location(actors)
    before = await counts(conn)
    with pytest.raises(Unprocessable) as refused:
        await receive(actors["staff"], s.location_id, by_fields(s.product_id, "OLD", days=-1))
    assert refused.value.code == "lot_expired"
    assert await counts(conn) == before
    today = await receive(actors["staff"], s.location_id, by_fields(s.product_id, "TODAY", days=0))
    assert today["lines"][0]["lot"]["expiry_date"] == clock.today_in(f.PARIS)


async def test_lot_expired_follows_the_service_clock(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await f.product_and_location(actors)
    clock.shift(timedelta(days=400))
    with pytest.raises(Unprocessable) as refused:
        await receive(
            actors["staff"],
            s.location_id,
            receiving.LineIn(
                quantity=1,
                product_id=s.product_id,
                lot_number="L",
                expiry_date=clock.today_in(f.PARIS) - timedelta(days=1),
            ),
        )
    assert refused.value.code == "lot_expired"


async def test_gs1_barcode_of_the_unit_gtin_receives_the_lot_it_names(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await f.product_and_location(actors)
    code = format_element_string(gtin=s.gtin, expiry=f.in_days(90), lot_number="GS1LOT")
    result = await receive(actors["staff"], s.location_id, receiving.LineIn(quantity=4, barcode=code))
    line = result["lines"][0]
    assert (line["lot"]["lot_number"], line["lot"]["expiry_date"], line["quantity"]) == ("GS1LOT", f.in_days(90), 4)
    assert line["lot"]["product_id"] == s.product_id
    row = await conn.fetchrow("SELECT gtin, barcode, quantity FROM receipt_line WHERE receipt = $1", result["id"])
    assert row is not None
    assert (row["gtin"], row["barcode"], row["quantity"]) == (s.gtin, code, 4)


async def test_box_gtin_multiplies_quantity_by_units(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await f.product_and_location(actors)
    code = format_element_string(gtin=s.box_gtin, expiry=f.in_days(90), lot_number="BOX1")
    result = await receive(actors["staff"], s.location_id, receiving.LineIn(quantity=3, barcode=code))
    line = result["lines"][0]
    assert line["quantity"] == 30
    assert line["on_hand"] == 30
    assert await conn.fetchval("SELECT quantity FROM stock_movement WHERE lot = $1", line["lot"]["id"]) == 30


async def test_box_and_unit_barcodes_of_one_lot_share_the_lot(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await f.product_and_location(actors)
    box = format_element_string(gtin=s.box_gtin, expiry=f.in_days(90), lot_number="MIX1")
    unit = format_element_string(gtin=s.gtin, expiry=f.in_days(90), lot_number="mix1")
    result = await receive(
        actors["staff"],
        s.location_id,
        receiving.LineIn(quantity=1, barcode=box),
        receiving.LineIn(quantity=2, barcode=unit),
    )
    assert result["lines"][0]["lot"]["id"] == result["lines"][1]["lot"]["id"]
    assert await conn.fetchval("SELECT on_hand FROM stock_level WHERE lot = $1", result["lines"][0]["lot"]["id"]) == 12


async def test_plain_gtin_barcode_without_lot_and_expiry_is_refused(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await f.product_and_location(actors)
    before = await counts(conn)
    for code in (s.gtin, s.gtin[1:], format_element_string(gtin=s.gtin, lot_number="NOEXP")):
        with pytest.raises(Unprocessable) as refused:
            await receive(actors["staff"], s.location_id, receiving.LineIn(quantity=1, barcode=code))
        assert refused.value.code == "barcode_incomplete", code
    assert await counts(conn) == before


async def test_unknown_gtin_is_product_unknown(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await f.product_and_location(actors)
    code = format_element_string(gtin=f.make_gtin(123, prefix="400999"), expiry=f.in_days(90), lot_number="X")
    with pytest.raises(NotFound) as refused:
        await receive(actors["staff"], s.location_id, receiving.LineIn(quantity=1, barcode=code))
    assert refused.value.code == "product_unknown"


async def test_unreadable_barcode_is_barcode_invalid(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await f.product_and_location(actors)
    bad_check = s.gtin[:-1] + str((int(s.gtin[-1]) + 1) % 10)
    for code in ("hello", bad_check, f"01{s.gtin}17261332" + "10X"):
        with pytest.raises(Unprocessable) as refused:
            await receive(actors["staff"], s.location_id, receiving.LineIn(quantity=1, barcode=code))
        assert refused.value.code == "barcode_invalid", code


async def test_own_label_code_receives_into_that_lot(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await f.product_and_location(actors)
    first = await receive(actors["staff"], s.location_id, by_fields(s.product_id, "LBL1", quantity=2))
    lot_id = first["lines"][0]["lot"]["id"]
    again = await receive(actors["staff"], s.location_id, receiving.LineIn(quantity=3, barcode=format_lot_code(lot_id)))
    assert again["lines"][0]["lot"]["id"] == lot_id
    assert again["lines"][0]["on_hand"] == 5


async def test_barcode_and_fields_together_are_refused(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await f.product_and_location(actors)
    code = format_element_string(gtin=s.gtin, expiry=f.in_days(90), lot_number="BOTH")
    for line in (
        receiving.LineIn(quantity=1, barcode=code, product_id=s.product_id),
        receiving.LineIn(quantity=1, barcode=code, lot_number="BOTH"),
        receiving.LineIn(quantity=1, barcode=code, expiry_date=f.in_days(91)),
    ):
        with pytest.raises(Unprocessable):
            await receive(actors["staff"], s.location_id, line)


async def test_line_by_fields_needs_product_lot_and_expiry(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await f.product_and_location(actors)
    for line in (
        receiving.LineIn(quantity=1, product_id=s.product_id, lot_number="L"),
        receiving.LineIn(quantity=1, product_id=s.product_id, expiry_date=f.in_days(9)),
        receiving.LineIn(quantity=1, lot_number="L", expiry_date=f.in_days(9)),
        receiving.LineIn(quantity=1, product_id=s.product_id, lot_number="   ", expiry_date=f.in_days(9)),
        receiving.LineIn(quantity=1, product_id=s.product_id, lot_number="A\x07B", expiry_date=f.in_days(9)),
    ):
        with pytest.raises(Unprocessable):
            await receive(actors["staff"], s.location_id, line)


async def test_quantity_must_be_a_positive_whole_number(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await f.product_and_location(actors)
    for quantity in (0, -1, 100_001):
        with pytest.raises(Unprocessable):
            await receive(actors["staff"], s.location_id, by_fields(s.product_id, "Q", quantity=quantity))
    with pytest.raises(Unprocessable):
        await receive(actors["staff"], s.location_id)


async def test_unknown_location_and_product_are_not_found(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await f.product_and_location(actors)
    with pytest.raises(NotFound) as location:
        await receive(actors["staff"], 999_999, by_fields(s.product_id, "L"))
    assert location.value.extra["entity"] == "location"
    with pytest.raises(NotFound) as product:
        await receive(actors["staff"], s.location_id, by_fields(999_999, "L"))
    assert product.value.extra["entity"] == "product"


@pytest.mark.parametrize("status", ["recalled", "quarantined"])
async def test_recalled_or_quarantined_lot_cannot_be_received(
    conn: asyncpg.Connection, actors: dict[str, Actor], status: str
) -> None:
    s = await f.product_and_location(actors)
    first = await receive(actors["staff"], s.location_id, by_fields(s.product_id, "BAD1"))
    await conn.execute("UPDATE lot SET status = $2 WHERE id = $1", first["lines"][0]["lot"]["id"], status)
    before = await counts(conn)
    with pytest.raises(Conflict) as refused:
        await receive(actors["staff"], s.location_id, by_fields(s.product_id, "bad1"))
    assert refused.value.code == f"lot_{status}"
    assert await counts(conn) == before


async def test_receiving_a_lot_first_seen_at_a_scan_clears_its_not_received_flag(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await f.product_and_location(actors)
    lot, _ = await lots.get_or_create(
        conn,
        product_id=s.product_id,
        lot_number="SEEN",
        key="SEEN",
        similar="SEEN",
        expiry=f.in_days(50),
        not_received=True,
    )
    result = await receive(actors["staff"], s.location_id, by_fields(s.product_id, "seen", days=50))
    assert result["lines"][0]["lot"]["id"] == lot["id"]
    assert result["lines"][0]["lot"]["not_received"] is False
    assert await conn.fetchval("SELECT not_received FROM lot WHERE id = $1", lot["id"]) is False


async def test_receipt_resolves_the_reorder_alert(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await f.product_and_location(actors)
    await catalog.set_rule(
        actor=actors["manager"],
        location_id=s.location_id,
        product_id=s.product_id,
        reorder_point=5,
        par_level=20,
        lead_time_days=3,
    )
    status = "SELECT status FROM reorder_alert WHERE product = $1 AND location = $2 ORDER BY id DESC LIMIT 1"
    assert await conn.fetchval(status, s.product_id, s.location_id) == "open"
    await receive(actors["staff"], s.location_id, by_fields(s.product_id, "R1", quantity=6))
    assert await conn.fetchval(status, s.product_id, s.location_id) == "resolved"


async def test_on_hand_equals_the_ledger_sum_after_many_receipts(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await f.product_and_location(actors)
    other = await f.location(actors["manager"])
    box = format_element_string(gtin=s.box_gtin, expiry=f.in_days(60), lot_number="SUM2")
    for location_id in (s.location_id, other["id"]):
        await receive(
            actors["staff"],
            location_id,
            by_fields(s.product_id, "SUM1", quantity=4),
            receiving.LineIn(quantity=2, barcode=box),
            by_fields(s.product_id, "sum1", quantity=1),
        )
    levels = await conn.fetch(
        "SELECT l.lot_key, s.on_hand FROM stock_level s JOIN lot l ON l.id = s.lot WHERE l.product = $1"
        " ORDER BY s.location, l.lot_key",
        s.product_id,
    )
    assert [(r["lot_key"], r["on_hand"]) for r in levels] == [("SUM1", 5), ("SUM2", 20)] * 2
    assert await ledger_matches_levels(conn)


async def test_many_interleaved_lines_each_get_their_running_on_hand_and_their_own_ledger_row(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await f.product_and_location(actors)
    await receive(actors["staff"], s.location_id, by_fields(s.product_id, "K1", quantity=4))
    numbers = ["k1", "N2", "k3", "n2", "K1", "k3", "N4"] * 7
    lines = [by_fields(s.product_id, number, quantity=i + 1) for i, number in enumerate(numbers)]
    result = await receive(actors["staff"], s.location_id, *lines)
    running = {"K1": 4}
    for i, (number, received) in enumerate(zip(numbers, result["lines"], strict=True)):
        key = number.upper()
        running[key] = running.get(key, 0) + i + 1
        assert (received["quantity"], received["on_hand"]) == (i + 1, running[key]), i
    assert [received["lot_created"] for received in result["lines"][:7]] == [
        False,
        True,
        True,
        False,
        False,
        False,
        True,
    ]
    assert not any(received["lot_created"] for received in result["lines"][7:])
    rows = await conn.fetch(
        "SELECT r.id, r.quantity, r.lot, m.quantity AS moved, m.lot AS moved_lot FROM receipt_line r"
        " JOIN stock_movement m ON m.receipt_line = r.id WHERE r.receipt = $1 ORDER BY r.id",
        result["id"],
    )
    assert len(rows) == len(numbers)
    assert all(row["quantity"] == row["moved"] and row["lot"] == row["moved_lot"] for row in rows)
    assert sorted(row["quantity"] for row in rows) == list(range(1, len(numbers) + 1))
    assert await ledger_matches_levels(conn)
