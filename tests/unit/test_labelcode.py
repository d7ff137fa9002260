"""This service's own lot code (MIL + id + check digit) and the GS1 mod-10 check digit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.domain.labelcode import PREFIX, format_lot_code, mod10_check_digit, parse_lot_code


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("400638133393", 1),
        ("03600029145", 2),
        ("9638507", 4),
        ("0", 0),
        ("1", 7),
        ("1234", 8),
        ("629104150021", 3),
        ("0000000000000", 0),
    ],
)
def test_mod10_check_digit_matches_published_gtins(digits: str, check: int) -> None:
    assert mod10_check_digit(digits) == check


def test_format_lot_code_appends_the_check_digit_of_the_id() -> None:
    assert format_lot_code(1234) == "MIL12348"
    assert format_lot_code(1) == "MIL17"
    assert format_lot_code(1).startswith(PREFIX)


@pytest.mark.parametrize("lot_id", [0, -1])
def test_lot_ids_are_positive(lot_id: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        format_lot_code(lot_id)


@pytest.mark.parametrize("text", ["MIL12348", "mil12348", "  MIL12348\r\n", "Mil12348"])
def test_label_code_parses_ignoring_case_and_surrounding_space(text: str) -> None:
    assert parse_lot_code(text) == 1234


@pytest.mark.parametrize(
    "text",
    [
        "MIL12344",
        "MIL1234",
        "MIL",
        "MIL7",
        "MIL00",
        "MIL-12348",
        "XIL12348",
        "12348",
        "MIL12348X",
        "MIL 12348",
        "MIL" + "1" * 13,
        "",
    ],
)
def test_wrong_check_digit_or_malformed_codes_are_not_lot_codes(text: str) -> None:
    assert parse_lot_code(text) is None


def test_a_misread_digit_is_caught() -> None:
    code = format_lot_code(987654)
    for position in range(3, len(code) - 1):
        for digit in "0123456789":
            if digit != code[position]:
                misread = code[:position] + digit + code[position + 1 :]
                assert parse_lot_code(misread) != 987654


@given(st.integers(min_value=1, max_value=10**11 - 1))
def test_every_lot_id_round_trips(lot_id: int) -> None:
    assert parse_lot_code(format_lot_code(lot_id)) == lot_id
    assert parse_lot_code(format_lot_code(lot_id).lower()) == lot_id


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_the_check_digit_completes_a_multiple_of_ten(digits: str) -> None:
    full = digits + str(mod10_check_digit(digits))
    weighted = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(reversed(full)))
    assert weighted % 10 == 0


@pytest.mark.parametrize("text", ["MIL\u0661\u0662\u0663\u0664\u0668", "MIL\uff11\uff12\uff13\uff14\uff18"])
def test_only_ascii_digits_make_a_label_code(text: str) -> None:
    assert parse_lot_code(text) is None
