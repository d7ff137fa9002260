"""Allergy-override reasons: what a person typed is accepted, what a scanner sent into the box is not."""

from __future__ import annotations

from datetime import date

import pytest

from inventory.domain.gs1 import GS, format_element_string, format_hri
from inventory.domain.labelcode import format_lot_code
from inventory.domain.override import MIN_REASON_CHARACTERS, clean_override_reason, override_reason_refusal

TODAY = date(2026, 12, 1)
GTIN = "03760001001013"
MACHINE = format_element_string(gtin=GTIN, expiry=date(2026, 12, 13), lot_number="K0SOON", serial="SN7")


def refusal(text: str) -> str | None:
    return override_reason_refusal(text, today=TODAY)


@pytest.mark.parametrize(
    "reason",
    [
        "Patch test negative, doctor approved",
        "Patch test negative on 2 May; doctor agreed",
        "Dr Martin checked: no reaction in 2024",
        "Allergie levée par le Dr Dupont",
        "I insist",
        "  Doctor approved  \r\n",
        "Lot 10K0SOON used, allergy is to latex only",
        "Tested OK",
    ],
)
def test_reasons_people_write_are_accepted(reason: str) -> None:
    assert refusal(reason) is None


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param("]C101037600010010131726121310K0SOON", id="the-incident"),
        pytest.param("]d2" + MACHINE.replace(GS, "|"), id="datamatrix-burst"),
        pytest.param("]Q3https://id.example.com/01/09506000134352/10/ABC123", id="qr-digital-link"),
        pytest.param("]E04006381333931", id="ean-with-symbology"),
        pytest.param("]C1 patch test ok", id="symbology-then-words"),
    ],
)
def test_text_starting_with_a_symbology_identifier_is_refused(reason: str) -> None:
    assert "symbology" in (refusal(reason) or "")


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param(MACHINE, id="element-string-with-gs"),
        pytest.param(GS + "01" + GTIN, id="leading-fnc1"),
        pytest.param("Doctor\x1dapproved", id="gs-inside-words"),
        pytest.param("Doctor approved\x00", id="nul"),
        pytest.param("Doctor\napproved", id="line-break-inside"),
        pytest.param("Doctor approved\x7f", id="del"),
    ],
)
def test_text_with_control_characters_is_refused(reason: str) -> None:
    assert "control characters" in (refusal(reason) or "")


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param(MACHINE.replace(GS, "|"), id="element-string-substitute-separator"),
        pytest.param(format_hri(gtin=GTIN, expiry=date(2026, 12, 13), lot_number="K0SOON"), id="hri"),
        pytest.param("(01)03760001001014(10)X", id="hri-bad-check-digit"),
        pytest.param("4006381333931", id="gtin-13"),
        pytest.param(format_lot_code(1234), id="own-label"),
    ],
)
def test_text_that_reads_as_a_barcode_is_refused(reason: str) -> None:
    assert "barcode" in (refusal(reason) or "")


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param("01037600010010131726121310K0SOON", id="element-string-bad-check-digit"),
        pytest.param("K0SOON2612", id="lot-like"),
        pytest.param("4006381333932", id="gtin-bad-check-digit"),
        pytest.param("SN-0001/AB.7", id="code-with-punctuation"),
        pytest.param("ftp://example.com/x", id="uri"),
        pytest.param("https://id.example.com/01/09506000134352/10/ABC123?17=271231", id="digital-link"),
        pytest.param("HTTPS://ID.EXAMPLE.COM/01/09506000134352", id="digital-link-upper-case"),
    ],
)
def test_one_code_like_token_is_refused(reason: str) -> None:
    assert refusal(reason) is not None


@pytest.mark.parametrize("reason", ["ok", "ok!!", "....  ....", "n/a", "a b c d"])
def test_a_reason_needs_a_few_real_characters(reason: str) -> None:
    assert f"at least {MIN_REASON_CHARACTERS}" in (refusal(reason) or "")


def test_cleaning_keeps_inner_text_and_drops_edge_line_ends_but_not_separators() -> None:
    assert clean_override_reason("  Doctor approved\r\n") == "Doctor approved"
    assert clean_override_reason(GS + "0103") == GS + "0103"
