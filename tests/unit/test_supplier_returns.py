"""Returns to a supplier without a database: reasons, quantities, notes, the document number, the refusal."""

from __future__ import annotations

import pytest

from inventory.domain import supplier_returns as r
from inventory.domain.errors import Conflict, Unprocessable


def test_the_document_number_is_ret_and_the_id_on_six_digits() -> None:
    assert r.document_number(42) == "RET-000042"
    assert r.document_number(1234567) == "RET-1234567"


@pytest.mark.parametrize("reason", r.REASONS)
def test_the_four_reasons_are_accepted(reason: str) -> None:
    assert r.check_reason(reason) == reason


@pytest.mark.parametrize("reason", ["", "Damaged", "lost", " recalled"])
def test_any_other_reason_is_refused(reason: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        r.check_reason(reason)
    assert refused.value.code == "validation_error"


@pytest.mark.parametrize(("quantity", "ok"), [(0, False), (-1, False), (1, True), (100_000, True), (100_001, False)])
def test_a_quantity_is_a_whole_number_from_one(quantity: int, ok: bool) -> None:
    if ok:
        assert r.check_quantity(quantity) == quantity
    else:
        with pytest.raises(Unprocessable):
            r.check_quantity(quantity)


def test_a_note_is_trimmed_empty_is_none_and_control_characters_or_length_are_refused() -> None:
    assert r.clean_note("  box crushed \n") == "box crushed"
    assert r.clean_note("   ") is None
    assert r.clean_note(None) is None
    assert r.clean_note("two\nlines") == "two\nlines"
    with pytest.raises(Unprocessable):
        r.clean_note("a\x00b")
    with pytest.raises(Unprocessable):
        r.clean_note("x" * (r.MAX_NOTE + 1))


def test_returning_more_than_on_hand_is_insufficient_stock_with_the_figures() -> None:
    refusal = r.insufficient(lot_number="A1", location_id=3, on_hand=2, quantity=5)
    assert isinstance(refusal, Conflict)
    assert refusal.code == "insufficient_stock"
    assert refusal.extra == {"on_hand": 2, "requested": 5}
    assert r.insufficient(lot_number="A1", location_id=3, on_hand=-4, quantity=1).extra["on_hand"] == 0


def test_the_ledger_reason_names_the_document_the_reason_and_the_note() -> None:
    assert r.ledger_reason("RET-000007", "damaged", None) == "damaged: RET-000007"
    assert r.ledger_reason("RET-000007", "other", "wrong product") == "other: RET-000007 (wrong product)"
