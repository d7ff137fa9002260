"""The receiving decision on plain objects: receipt bounds, each line's checks, and each line against its lot."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from inventory.domain.errors import Conflict, DateOutOfRange, Unprocessable
from inventory.domain.receiving import (
    MAX_LINES,
    MAX_QUANTITY,
    LineDecision,
    NewLot,
    PlannedLine,
    ReceivedLot,
    check_receipt,
    decide_lines,
    lots_named,
    plan_line,
    receiving_order,
)

TODAY = date(2026, 11, 25)
EXPIRY = TODAY + timedelta(days=200)


def line(index: int, lot_number: str, *, product_id: int = 1, expiry: date = EXPIRY, quantity: int = 5) -> PlannedLine:
    """A planned line."""
    return PlannedLine(index=index, product_id=product_id, lot_number=lot_number, expiry=expiry, quantity=quantity)


def lot(
    lot_id: int,
    lot_number: str,
    *,
    product_id: int = 1,
    expiry: date = EXPIRY,
    status: str = "active",
    created: bool = False,
    not_received: bool = False,
) -> ReceivedLot:
    """A lot as the store returned it."""
    return ReceivedLot(
        id=lot_id,
        product_id=product_id,
        lot_number=lot_number,
        expiry_date=expiry,
        status=status,
        not_received=not_received,
        created=created,
    )


# ------------------------------------------------------------------ the receipt


@pytest.mark.parametrize(
    ("quantities", "detail"),
    [
        ([], "A receipt needs at least one line."),
        ([1] * (MAX_LINES + 1), f"A receipt has at most {MAX_LINES} lines."),
        ([1, 0], "Quantity must be a positive whole number."),
        ([-1], "Quantity must be a positive whole number."),
        ([MAX_QUANTITY + 1], "Quantity must be a positive whole number."),
    ],
)
def test_receipt_bounds_are_validation_errors(quantities: list[int], detail: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        check_receipt(quantities)
    assert (refused.value.code, refused.value.detail) == ("validation_error", detail)


def test_receipt_within_bounds_passes() -> None:
    check_receipt([1, MAX_QUANTITY])
    check_receipt([1] * MAX_LINES)


# ------------------------------------------------------------------ each line


def test_a_pack_gtin_multiplies_the_quantity_by_its_units() -> None:
    planned = plan_line(index=0, product_id=1, lot_number="BOX1", expiry=EXPIRY, quantity=3, units=10, today=TODAY)
    assert planned.quantity == 30
    assert plan_line(index=0, product_id=1, lot_number="U1", expiry=EXPIRY, quantity=3, today=TODAY).quantity == 3


def test_a_line_keeps_what_was_scanned() -> None:
    planned = plan_line(
        index=2, product_id=4, lot_number="Ab12", expiry=EXPIRY, quantity=1, gtin="0376", barcode="]C1…", today=TODAY
    )
    assert planned == PlannedLine(2, 4, "Ab12", EXPIRY, 1, "0376", "]C1…")
    assert planned.key == (4, "AB12")


def test_an_expired_lot_is_refused_but_one_expiring_today_is_received() -> None:
    with pytest.raises(Unprocessable) as refused:
        plan_line(index=1, product_id=1, lot_number="OLD", expiry=TODAY - timedelta(days=1), quantity=1, today=TODAY)
    assert refused.value.code == "lot_expired"
    assert refused.value.detail == f"Line 2: lot OLD expired on {TODAY - timedelta(days=1)}; it cannot be received."
    assert refused.value.extra == {"line": 1}
    assert plan_line(index=0, product_id=1, lot_number="T", expiry=TODAY, quantity=1, today=TODAY).expiry == TODAY


def test_expired_goes_by_the_local_date_given() -> None:
    expiry = date(2027, 3, 1)
    plan_line(index=0, product_id=1, lot_number="L", expiry=expiry, quantity=1, today=date(2027, 3, 1))
    with pytest.raises(Unprocessable):
        plan_line(index=0, product_id=1, lot_number="L", expiry=expiry, quantity=1, today=date(2027, 3, 2))


def test_an_expiry_half_a_century_ahead_is_out_of_range() -> None:
    with pytest.raises(DateOutOfRange) as refused:
        plan_line(index=0, product_id=1, lot_number="F", expiry=date(2077, 1, 1), quantity=1, today=TODAY)
    assert refused.value.detail == "Line 1: the expiry date must be no later than 2076-11-25."
    plan_line(index=0, product_id=1, lot_number="F", expiry=date(2076, 11, 25), quantity=1, today=TODAY)


# ------------------------------------------------------------------ order and the lots named


def test_lines_are_taken_by_product_lot_then_line() -> None:
    lines = [
        line(0, "b2", product_id=2),
        line(1, "A1", product_id=2),
        line(2, "z9", product_id=1),
        line(3, "a1", product_id=2),
    ]
    assert [planned.index for planned in receiving_order(lines)] == [2, 1, 3, 0]


def test_each_lot_is_named_once_as_its_first_line_prints_it() -> None:
    ordered = receiving_order([line(0, "same", expiry=EXPIRY), line(1, "SAME", expiry=TODAY), line(2, "Other")])
    assert lots_named(ordered) == [
        NewLot(product_id=1, lot_number="Other", key="OTHER", similar="OTHER", expiry=EXPIRY),
        NewLot(product_id=1, lot_number="same", key="SAME", similar="SAME", expiry=EXPIRY),
    ]


# ------------------------------------------------------------------ each line against its lot


def test_a_known_lot_with_another_expiry_is_lot_expiry_mismatch() -> None:
    recorded = lot(9, "EXP1", expiry=EXPIRY)
    with pytest.raises(Conflict) as refused:
        decide_lines([line(0, "exp1", expiry=EXPIRY + timedelta(days=1))], {(1, "EXP1"): recorded})
    assert refused.value.code == "lot_expiry_mismatch"
    assert refused.value.detail == (
        f"Lot EXP1 is already recorded with expiry {EXPIRY}, not {EXPIRY + timedelta(days=1)}. Check the box;"
        " correct the existing lot if it was entered wrongly."
    )
    assert refused.value.extra == {"lot_id": 9, "recorded_expiry": EXPIRY.isoformat(), "line": 0}


def test_two_lines_of_one_new_lot_with_different_expiries_conflict_on_the_second() -> None:
    ordered = receiving_order([line(0, "TWIN", expiry=EXPIRY), line(1, "twin", expiry=EXPIRY + timedelta(days=1))])
    created = lot(3, "TWIN", expiry=EXPIRY, created=True)
    with pytest.raises(Conflict) as refused:
        decide_lines(ordered, {(1, "TWIN"): created})
    assert (refused.value.code, refused.value.extra["line"]) == ("lot_expiry_mismatch", 1)


@pytest.mark.parametrize("status", ["recalled", "quarantined"])
def test_a_recalled_or_quarantined_lot_cannot_be_received(status: str) -> None:
    with pytest.raises(Conflict) as refused:
        decide_lines([line(4, "BAD1")], {(1, "BAD1"): lot(2, "BAD1", status=status)})
    assert refused.value.code == f"lot_{status}"
    assert refused.value.detail == f"Lot BAD1 is {status} and cannot be received."
    assert refused.value.extra == {"lot_id": 2, "line": 4}


def test_the_expiry_is_checked_before_the_status() -> None:
    recalled = lot(2, "BAD1", status="recalled")
    with pytest.raises(Conflict) as refused:
        decide_lines([line(0, "BAD1", expiry=TODAY)], {(1, "BAD1"): recalled})
    assert refused.value.code == "lot_expiry_mismatch"


def test_the_first_refusal_in_receiving_order_wins() -> None:
    lots = {(1, "A"): lot(1, "A", status="recalled"), (1, "B"): lot(2, "B", expiry=TODAY)}
    with pytest.raises(Conflict) as refused:
        decide_lines(receiving_order([line(0, "B"), line(1, "A")]), lots)
    assert (refused.value.code, refused.value.extra["line"]) == ("lot_recalled", 1)


def test_only_the_first_line_of_a_created_lot_counts_as_creating_it() -> None:
    ordered = receiving_order([line(0, "NEW", quantity=2), line(1, "new", quantity=3), line(2, "OLD")])
    lots = {(1, "NEW"): lot(5, "NEW", created=True), (1, "OLD"): lot(6, "OLD")}
    decisions = decide_lines(ordered, lots)
    assert decisions == [
        LineDecision(ordered[0], lots[(1, "NEW")], lot_created=True),
        LineDecision(ordered[1], lots[(1, "NEW")], lot_created=False),
        LineDecision(ordered[2], lots[(1, "OLD")], lot_created=False),
    ]
    assert [d.line.index for d in decisions] == [0, 1, 2]
