"""GTIN normalisation: lengths, padding, check digits and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.domain.errors import GtinInvalid
from inventory.domain.gtin import is_valid_gtin, normalize_gtin
from inventory.domain.labelcode import mod10_check_digit


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("96385074", "00000096385074", id="gtin-8"),
        pytest.param("036000291452", "00036000291452", id="gtin-12"),
        pytest.param("4006381333931", "04006381333931", id="gtin-13"),
        pytest.param("3760001234565", "03760001234565", id="gtin-13-france"),
        pytest.param("10012345000017", "10012345000017", id="gtin-14"),
        pytest.param("03760001234565", "03760001234565", id="gtin-14-padded-already"),
        pytest.param("  3760001234565\r\n", "03760001234565", id="surrounding-whitespace"),
        pytest.param("3 760001 234565", "03760001234565", id="grouped-like-ean-13-hri"),
    ],
)
def test_normalize_accepts_valid_gtins_and_pads_to_14(value: str, expected: str) -> None:
    assert normalize_gtin(value) == expected
    assert is_valid_gtin(value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("3760001234566", "check digit", id="bad-check-digit-13"),
        pytest.param("96385075", "check digit", id="bad-check-digit-8"),
        pytest.param("10012345000018", "check digit", id="bad-check-digit-14"),
        pytest.param("376000123456A", "digits only", id="letter"),
        pytest.param("3760001-234565", "digits only", id="hyphen"),
        pytest.param(
            "\uff13\uff17\uff16\uff10\uff10\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff15",
            "digits only",
            id="full-width-digits",
        ),
        pytest.param("٣٧٦٠٠٠١٢٣٤٥٦٥", "digits only", id="arabic-indic-digits"),
        pytest.param("1234567", "8, 12, 13 or 14", id="7-digits"),
        pytest.param("123456789", "8, 12, 13 or 14", id="9-digits"),
        pytest.param("12345678901", "8, 12, 13 or 14", id="11-digits"),
        pytest.param("012345678901234", "8, 12, 13 or 14", id="15-digits"),
        pytest.param("0103760001234565", "8, 12, 13 or 14", id="16-digits-gs1"),
        pytest.param("", "required", id="empty"),
        pytest.param("   ", "required", id="blank"),
        pytest.param("00000000000000", "placeholder", id="all-zeros"),
    ],
)
def test_normalize_refuses_invalid_gtins(value: str, fragment: str) -> None:
    with pytest.raises(GtinInvalid, match=fragment) as caught:
        normalize_gtin(value)
    assert caught.value.code == "gtin_invalid"
    assert not is_valid_gtin(value)


payloads = st.text("0123456789", min_size=7, max_size=13).filter(lambda p: len(p) in (7, 11, 12, 13))


@settings(max_examples=200, deadline=None)
@given(payload=payloads)
def test_any_payload_with_its_check_digit_is_valid_and_others_are_not(payload: str) -> None:
    gtin = payload + str(mod10_check_digit(payload))
    if set(gtin) == {"0"}:
        assert not is_valid_gtin(gtin)
        return
    assert normalize_gtin(gtin) == gtin.zfill(14)
    for wrong in set("0123456789") - {gtin[-1]}:
        assert not is_valid_gtin(gtin[:-1] + wrong)
