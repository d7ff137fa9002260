"""Stocktake at the service level: blind counts that add, expected as of each count, approval in one transaction."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.labelcode import format_lot_code
from inventory.domain.models import Actor
from inventory.services import scanning, stocktake
from inventory.store.stock import ledger_sum, on_hand
from tests.support import factories as f
from tests.support.clinic import Clinic, build
from tests.support.db import row_counts

WRITTEN = ("stocktake", "stocktake_count", "stock_movement", "stock_level", "audit_event", "lot")


async def _open(actors: dict[str, Actor], clinic: Clinic) -> int:
    started = await stocktake.start(actor=actors["manager"], location_id=clinic.location_id)
    assert started["status"] == "open"
    return int(started["id"])


async def _line(stocktake_id: int, lot_id: int) -> dict[str, Any]:
    review = await stocktake.review(stocktake_id=stocktake_id)
    lines: list[dict[str, Any]] = [line for line in review["lines"] if line["lot"]["id"] == lot_id]
    assert len(lines) == 1
    return lines[0]


async def test_one_open_stocktake_per_location(actors: dict[str, Actor]) -> None:
    clinic = await build(actors)
    first = await _open(actors, clinic)
    with pytest.raises(Conflict) as refused:
        await stocktake.start(actor=actors["manager"], location_id=clinic.location_id)
    assert refused.value.code == "stocktake_open"
    assert refused.value.extra["stocktake_id"] == first
    await stocktake.cancel(actor=actors["manager"], stocktake_id=first)
    assert await _open(actors, clinic) != first


async def test_start_at_an_unknown_location_is_not_found(actors: dict[str, Actor]) -> None:
    with pytest.raises(NotFound):
        await stocktake.start(actor=actors["manager"], location_id=999_999)


async def test_counts_add_and_each_is_a_row_of_its_own(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=10)
    st = await _open(actors, clinic)
    one = await stocktake.count(actor=actors["staff"], stocktake_id=st, barcode=clinic.code(), quantity=4)
    two = await stocktake.count(actor=actors["staff2"], stocktake_id=st, lot_id=clinic.lot["id"], quantity=3)
    three = await stocktake.count(actor=actors["staff"], stocktake_id=st, barcode=clinic.code(), quantity=2)
    assert (one["your_total"], two["your_total"], three["your_total"]) == (4, 3, 6)
    rows = await conn.fetch("SELECT quantity, counted_by FROM stocktake_count WHERE stocktake = $1 ORDER BY id", st)
    assert [(r["quantity"], r["counted_by"]) for r in rows] == [
        (4, actors["staff"].id),
        (3, actors["staff2"].id),
        (2, actors["staff"].id),
    ]
    line = await _line(st, clinic.lot["id"])
    assert (line["counted"], line["expected"], line["variance"], line["counts"]) == (9, 10, -1, 3)


async def test_a_count_answer_is_blind(actors: dict[str, Actor]) -> None:
    clinic = await build(actors, on_hand=10)
    st = await _open(actors, clinic)
    answer = await stocktake.count(actor=actors["staff"], stocktake_id=st, barcode=clinic.code(), quantity=1)
    assert answer["lot"] == {
        "id": clinic.lot["id"],
        "lot_number": clinic.lot["lot_number"],
        "expiry_date": clinic.lot["expiry_date"],
    }
    assert answer["product"]["id"] == clinic.product["id"]
    assert answer["unknown_lot"] is False
    assert not {"expected", "on_hand", "variance", "on_hand_at_count"} & set(answer)
    assert 10 not in answer.values()


async def test_every_kind_of_code_counts_the_lot_and_a_box_counts_its_units(actors: dict[str, Actor]) -> None:
    clinic = await build(actors, on_hand=30)
    st = await _open(actors, clinic)
    lot, gtin = clinic.lot["lot_number"], clinic.gtin
    expiry = clinic.lot["expiry_date"].strftime("%y%m%d")
    codes = [
        clinic.code(),
        f"(01){gtin}(17){expiry}(10){lot}",
        f"]d2{clinic.code()}\r\n",
        f"https://id.example.com/01/{gtin}/10/{lot}?17={expiry}",
        format_lot_code(clinic.lot["id"]),
        gtin,  # a plain GTIN: the only lot of the product on this shelf
    ]
    for code in codes:
        counted = await stocktake.count(actor=actors["staff"], stocktake_id=st, barcode=code, quantity=1)
        assert counted["lot"]["id"] == clinic.lot["id"], code
    box = f"(01){clinic.box_gtin}(17){expiry}(10){lot}"
    boxed = await stocktake.count(actor=actors["staff"], stocktake_id=st, barcode=box, quantity=2)
    assert boxed["quantity"] == 20
    assert (await _line(st, clinic.lot["id"]))["counted"] == len(codes) + 20


async def test_a_plain_gtin_with_several_lots_on_the_shelf_is_ambiguous(actors: dict[str, Actor]) -> None:
    clinic = await build(actors, on_hand=3)
    await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="SECOND1",
        expiry=f.in_days(300),
        quantity=2,
    )
    st = await _open(actors, clinic)
    with pytest.raises(Conflict) as refused:
        await stocktake.count(actor=actors["staff"], stocktake_id=st, barcode=clinic.gtin, quantity=1)
    assert refused.value.code == "lot_ambiguous"


async def test_a_lot_the_system_does_not_know_is_flagged_and_never_created(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=5)
    st = await _open(actors, clinic)
    lots_before = await row_counts(conn, ("lot",))
    code = clinic.code("NEVERSEEN7", expiry=f.in_days(400))
    counted = await stocktake.count(actor=actors["staff"], stocktake_id=st, barcode=code, quantity=3)
    assert counted["unknown_lot"] is True
    assert counted["lot"] == {"id": None, "lot_number": "NEVERSEEN7", "expiry_date": f.in_days(400)}
    await stocktake.count(actor=actors["staff2"], stocktake_id=st, barcode=code, quantity=1)
    assert await row_counts(conn, ("lot",)) == lots_before
    review = await stocktake.review(stocktake_id=st)
    (unknown,) = review["unknown_lots"]
    assert (unknown["gtin"], unknown["lot_number"], unknown["expiry_date"]) == (
        clinic.gtin,
        "NEVERSEEN7",
        f.in_days(400),
    )
    assert (unknown["counted"], unknown["counts"]) == (4, 2)
    approved = await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    assert approved["adjustments"] == []  # the known lot was not counted; the unknown one is not stock
    assert await row_counts(conn, ("lot",)) == lots_before


async def test_lots_nobody_counted_are_listed_and_approval_leaves_them(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=5)
    other = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="UNCOUNTED1",
        expiry=f.in_days(300),
        quantity=4,
    )
    st = await _open(actors, clinic)
    await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=clinic.lot["id"], quantity=5)
    review = await stocktake.review(stocktake_id=st)
    assert [(n["lot"]["id"], n["on_hand"]) for n in review["not_counted"]] == [(other["lot"]["id"], 4)]
    await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    assert await on_hand(conn, other["lot"]["id"], clinic.location_id) == 4


async def test_a_use_recorded_during_the_count_gives_the_right_variance_and_final_on_hand(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    lot_id, where = clinic.lot["id"], clinic.location_id
    st = await _open(actors, clinic)
    # 9 on the shelf (one ampoule went missing before the count), then 2 used at the chair while counting goes on.
    await stocktake.count(actor=actors["staff"], stocktake_id=st, barcode=clinic.code(), quantity=9)
    for _ in range(2):
        await scanning.record_use(
            actor=actors["staff2"], session_id=clinic.session["id"], barcode=clinic.code(), repeat=True
        )
    line = await _line(st, lot_id)
    assert (line["expected"], line["counted"], line["variance"]) == (10, 9, -1)
    assert (line["on_hand"], line["movements_since_count"], line["on_hand_after_approval"]) == (8, -2, 7)
    approved = await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    assert approved["adjustments"] == [{"lot_id": lot_id, "before": 8, "delta": -1, "on_hand": 7}]
    assert await on_hand(conn, lot_id, where) == 7  # counted 9 + the 2 used since
    assert await ledger_sum(conn, lot_id, where) == 7


async def test_a_receipt_before_a_lots_first_count_is_expected_and_one_after_is_kept(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=5)
    lot_id, where = clinic.lot["id"], clinic.location_id
    st = await _open(actors, clinic)

    async def delivery(quantity: int) -> None:
        await f.receive(
            actors["staff"],
            location_id=where,
            product_id=clinic.product["id"],
            lot_number=clinic.lot["lot_number"],
            expiry=clinic.lot["expiry_date"],
            quantity=quantity,
        )

    await delivery(3)  # arrives after the stocktake opened but before anyone counted the lot: it is on the shelf
    await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=lot_id, quantity=8)
    await delivery(4)  # arrives after the count: not on the counted shelf, still stock
    line = await _line(st, lot_id)
    assert (line["expected"], line["variance"], line["movements_since_count"]) == (8, 0, 4)
    approved = await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    assert approved["adjustments"] == []
    assert await on_hand(conn, lot_id, where) == 12


async def test_approval_writes_one_adjust_row_per_differing_lot_with_the_stocktake_as_reason(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    second = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="EXACT1",
        expiry=f.in_days(300),
        quantity=4,
    )
    third = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="SURPLUS1",
        expiry=f.in_days(310),
        quantity=1,
    )
    st = await _open(actors, clinic)
    await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=clinic.lot["id"], quantity=7)
    await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=second["lot"]["id"], quantity=4)
    await stocktake.count(actor=actors["staff2"], stocktake_id=st, lot_id=third["lot"]["id"], quantity=3)
    before = await conn.fetchval("SELECT coalesce(max(id), 0) FROM stock_movement")
    approved = await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    assert approved["status"] == "approved" and approved["approved_by"] == actors["manager"].id
    rows = await conn.fetch(
        'SELECT lot, quantity, kind, reason, "user" FROM stock_movement WHERE id > $1 ORDER BY lot', before
    )
    assert [(r["lot"], r["quantity"], r["kind"], r["reason"], r["user"]) for r in rows] == [
        (clinic.lot["id"], -3, "adjust", f"stocktake {st}", actors["manager"].id),
        (third["lot"]["id"], 2, "adjust", f"stocktake {st}", actors["manager"].id),
    ]
    for lot_id, expected in ((clinic.lot["id"], 7), (second["lot"]["id"], 4), (third["lot"]["id"], 3)):
        assert await on_hand(conn, lot_id, clinic.location_id) == expected
        assert await ledger_sum(conn, lot_id, clinic.location_id) == expected
    audit = await conn.fetchrow(
        "SELECT actor, details FROM audit_event WHERE action = 'stocktake.approve' AND entity_id = $1", st
    )
    assert audit["actor"] == actors["manager"].id and len(audit["details"]["adjustments"]) == 2


async def test_approving_twice_is_refused_and_writes_once(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=10)
    st = await _open(actors, clinic)
    await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=clinic.lot["id"], quantity=6)
    await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    counts = await row_counts(conn, WRITTEN)
    with pytest.raises(Conflict) as refused:
        await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    assert refused.value.code == "stocktake_closed"
    with pytest.raises(Conflict):
        await stocktake.cancel(actor=actors["manager"], stocktake_id=st)
    with pytest.raises(Conflict):
        await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=clinic.lot["id"], quantity=1)
    assert await row_counts(conn, WRITTEN) == counts
    assert await on_hand(conn, clinic.lot["id"], clinic.location_id) == 6


async def test_approval_is_all_or_nothing(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=10)
    low = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="LOW1",
        expiry=f.in_days(300),
        quantity=5,
    )
    assert low["lot"]["id"] > clinic.lot["id"]  # adjusted after the first lot: its failure must undo that one
    st = await _open(actors, clinic)
    await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=clinic.lot["id"], quantity=12)
    await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=low["lot"]["id"], quantity=1)
    # 3 of LOW1 used since it was counted: counted 1 + (-3) moved since cannot be on the shelf.
    low_code = clinic.code("LOW1", expiry=f.in_days(300))
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=low_code, quantity=3)
    counts = await row_counts(conn, WRITTEN)
    with pytest.raises(Conflict) as refused:
        await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    assert refused.value.code == "insufficient_stock"
    assert refused.value.extra["lot_id"] == low["lot"]["id"]
    assert await row_counts(conn, WRITTEN) == counts
    assert await on_hand(conn, clinic.lot["id"], clinic.location_id) == 10
    assert (await stocktake.review(stocktake_id=st))["status"] == "open"
    # Recounting the lot (counts add) makes the approval possible.
    await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=low["lot"]["id"], quantity=3)
    await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    assert await on_hand(conn, clinic.lot["id"], clinic.location_id) == 12
    assert await on_hand(conn, low["lot"]["id"], clinic.location_id) == 1  # counted 4, 3 used since


async def test_cancel_closes_without_touching_stock(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=10)
    st = await _open(actors, clinic)
    await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=clinic.lot["id"], quantity=2)
    cancelled = await stocktake.cancel(actor=actors["manager"], stocktake_id=st)
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_by"] == actors["manager"].id
    assert await on_hand(conn, clinic.lot["id"], clinic.location_id) == 10
    with pytest.raises(Conflict) as refused:
        await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    assert refused.value.code == "stocktake_closed"


async def test_count_refusals_write_nothing(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=10)
    st = await _open(actors, clinic)
    counts = await row_counts(conn, WRITTEN)
    for call, error in (
        (dict(barcode=clinic.code(), lot_id=clinic.lot["id"], quantity=1), Unprocessable),
        (dict(quantity=1), Unprocessable),
        (dict(barcode=clinic.code(), quantity=0), Unprocessable),
        (dict(barcode="   ", quantity=1), Unprocessable),
        (dict(lot_id=999_999, quantity=1), NotFound),
        (dict(barcode=f.make_gtin(987_654), quantity=1), NotFound),
    ):
        with pytest.raises(error):
            await stocktake.count(actor=actors["staff"], stocktake_id=st, **call)
    with pytest.raises(NotFound):
        await stocktake.count(actor=actors["staff"], stocktake_id=999_999, lot_id=clinic.lot["id"], quantity=1)
    assert await row_counts(conn, WRITTEN) == counts


async def test_count_rows_cannot_be_changed(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=10)
    st = await _open(actors, clinic)
    counted = await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=clinic.lot["id"], quantity=2)
    with pytest.raises(asyncpg.RestrictViolationError):
        async with conn.transaction():  # a savepoint: the refusal must not abort the test's transaction
            await conn.execute("UPDATE stocktake_count SET quantity = 5 WHERE id = $1", counted["id"])


async def test_a_known_lot_the_location_never_held_is_flagged_and_never_becomes_stock_there(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=5)
    elsewhere = await build(actors, on_hand=4)  # its lot lives at another location only
    st = await _open(actors, clinic)
    await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=clinic.lot["id"], quantity=5)
    await stocktake.count(actor=actors["staff"], stocktake_id=st, barcode=elsewhere.code(), quantity=3)
    await stocktake.count(actor=actors["staff2"], stocktake_id=st, lot_id=elsewhere.lot["id"], quantity=1)
    review = await stocktake.review(stocktake_id=st)
    assert [line["lot"]["id"] for line in review["lines"]] == [clinic.lot["id"]]  # not a variance to approve
    (flagged,) = review["not_at_location"]
    assert (flagged["lot"]["id"], flagged["counted"], flagged["counts"]) == (elsewhere.lot["id"], 4, 2)
    assert review["lots_differing"] == 0
    before = await row_counts(conn, ("stock_movement", "stock_level"))
    approved = await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    assert approved["adjustments"] == [] and approved["not_at_location"] == [elsewhere.lot["id"]]
    assert await row_counts(conn, ("stock_movement", "stock_level")) == before  # no level made at this location
    assert await on_hand(conn, elsewhere.lot["id"], clinic.location_id) is None
    assert await on_hand(conn, elsewhere.lot["id"], elsewhere.location_id) == 4
    details = await conn.fetchval(
        "SELECT details FROM audit_event WHERE action = 'stocktake.approve' AND entity_id = $1", st
    )
    assert details["not_at_location"] == [elsewhere.lot["id"]]


async def test_a_lot_the_location_held_before_is_adjusted_even_at_zero(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=2)
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code(), quantity=2)
    st = await _open(actors, clinic)
    await stocktake.count(actor=actors["staff"], stocktake_id=st, lot_id=clinic.lot["id"], quantity=1)
    review = await stocktake.review(stocktake_id=st)
    assert review["not_at_location"] == []
    assert [(line["expected"], line["variance"]) for line in review["lines"]] == [(0, 1)]
    approved = await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    assert [a["delta"] for a in approved["adjustments"]] == [1]
    assert await on_hand(conn, clinic.lot["id"], clinic.location_id) == 1


async def test_lots_not_counted_are_listed_in_the_review_before_approval_is_asked(actors: dict[str, Actor]) -> None:
    clinic = await build(actors, on_hand=5)
    st = await _open(actors, clinic)
    review = await stocktake.review(stocktake_id=st)  # nothing counted yet: every lot on the shelf is listed
    assert [(n["lot"]["id"], n["on_hand"]) for n in review["not_counted"]] == [(clinic.lot["id"], 5)]
    assert review["lines"] == [] and review["status"] == "open"
