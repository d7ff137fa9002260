"""Lot numbers: kept as printed, compared ignoring case, matched loosely for look-ups."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.domain.errors import Unprocessable
from inventory.domain.lots import MAX_LOT_LENGTH, clean_lot_number, lot_key, similar_key


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("AB12", "AB12"),
        ("  ab-12\t", "ab-12"),
        ("\nL 001 \r\n", "L 001"),
        ("x" * MAX_LOT_LENGTH, "x" * 64),
        ("Lot/2026.A", "Lot/2026.A"),
    ],
)
def test_lot_number_is_kept_as_printed_and_trimmed(raw: str, clean: str) -> None:
    assert clean_lot_number(raw) == clean


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", "x" * (MAX_LOT_LENGTH + 1), "A\x00B", "A\x1dB", "L\x07"])
def test_empty_oversize_or_unprintable_lot_numbers_are_refused(raw: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        clean_lot_number(raw)
    assert refused.value.code == "lot_number_invalid"


def test_trimming_happens_before_the_length_check() -> None:
    assert clean_lot_number("  " + "x" * MAX_LOT_LENGTH + "  ") == "x" * MAX_LOT_LENGTH


@pytest.mark.parametrize(("a", "b"), [("ab12", "AB12"), (" Ab12 ", "aB12"), ("lot-7", "LOT-7")])
def test_lot_keys_ignore_case_and_surrounding_space(a: str, b: str) -> None:
    assert lot_key(a) == lot_key(b)


@pytest.mark.parametrize(("a", "b"), [("AB-12", "AB12"), ("007", "7"), ("A 1", "A1"), ("AB12", "AB13")])
def test_lot_keys_keep_separators_and_zeros(a: str, b: str) -> None:
    assert lot_key(a) != lot_key(b)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("A-0012", "A12"),
        ("a12", "A12"),
        ("0045X", "45X"),
        ("45-x", "45X"),
        ("L.2026/001", "L2026001"),
        ("L-001", "L1"),
        ("000", "0"),
        ("AB 00", "AB0"),
        ("X0Y", "X0Y"),
        ("10-05", "1005"),
        ("", ""),
    ],
)
def test_similar_key_drops_separators_and_leading_zeros_of_digit_runs(raw: str, key: str) -> None:
    assert similar_key(raw) == key


def test_similar_key_keeps_zeros_inside_numbers() -> None:
    assert similar_key("L1005") == "L1005"
    assert similar_key("L1005") != similar_key("L105")


@given(st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "P", "Zs"]), min_size=1, max_size=64))
def test_keys_are_stable_and_similar_is_coarser_than_exact(raw: str) -> None:
    assert lot_key(lot_key(raw)) == lot_key(raw)
    assert similar_key(similar_key(raw)) == similar_key(raw)
    assert similar_key(raw.lower()) == similar_key(raw.upper()) == similar_key(lot_key(raw))
