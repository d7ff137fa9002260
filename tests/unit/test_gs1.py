"""Reading scans: GS1 element strings in every form scanners send, GTINs, label codes, lost separators."""

from __future__ import annotations

import calendar
import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.domain.errors import BarcodeInvalid, GtinInvalid, Unprocessable
from inventory.domain.gs1 import (
    GS,
    GS1_CHARSET,
    MAX_READINGS,
    Reading,
    format_element_string,
    format_hri,
    read_barcode,
)
from inventory.domain.labelcode import format_lot_code, mod10_check_digit

TODAY = date(2025, 6, 15)
GTIN = "03760001234565"
EAN13 = GTIN[1:]
MACHINE = f"01{GTIN}17281231" + f"10A1B2{GS}21SER1"
FULL = Reading(kind="gs1", gtin=GTIN, expiry=date(2028, 12, 31), lot_number="A1B2", serial="SER1")
LABEL = format_lot_code(1234)
BAD_LABEL = LABEL[:-1] + str((int(LABEL[-1]) + 1) % 10)


def read(raw: str) -> list[Reading]:
    return read_barcode(raw, today=TODAY)


def gs1(
    *,
    expiry: date | None = None,
    lot_number: str | None = None,
    serial: str | None = None,
    other: tuple[tuple[str, str], ...] = (),
) -> Reading:
    return Reading(kind="gs1", gtin=GTIN, expiry=expiry, lot_number=lot_number, serial=serial, other=other)


# --- forms that must be understood --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(MACHINE, FULL, id="gs-separator"),
        pytest.param(MACHINE.replace(GS, "|"), FULL, id="pipe-separator"),
        pytest.param(MACHINE.replace(GS, "^"), FULL, id="caret-separator"),
        pytest.param(MACHINE.replace(GS, "~"), FULL, id="tilde-separator"),
        pytest.param("]d2" + MACHINE, FULL, id="symbology-datamatrix"),
        pytest.param("]C1" + MACHINE, FULL, id="symbology-gs1-128"),
        pytest.param("]Q3" + MACHINE, FULL, id="symbology-qr"),
        pytest.param("]e0" + MACHINE, FULL, id="symbology-databar"),
        pytest.param("]J1" + MACHINE, FULL, id="symbology-dotcode"),
        pytest.param("]d1" + MACHINE, FULL, id="symbology-other-id"),
        pytest.param(GS + MACHINE, FULL, id="leading-fnc1"),
        pytest.param("|" + MACHINE.replace(GS, "|"), FULL, id="leading-substitute"),
        pytest.param("]d2" + GS + MACHINE, FULL, id="symbology-and-leading-fnc1"),
        pytest.param(MACHINE + GS, FULL, id="trailing-fnc1"),
        pytest.param("  " + MACHINE + "\r\n", FULL, id="surrounding-whitespace"),
        pytest.param(f"01{GTIN}{GS}{GS}17281231" + f"10A1B2{GS}21SER1", FULL, id="doubled-separator"),
        pytest.param(f"(01){GTIN}(17)281231(10)A1B2(21)SER1", FULL, id="hri"),
        pytest.param(f"(01){GTIN} (17)281231 (10)A1B2 (21)SER1\n", FULL, id="hri-with-spaces"),
        pytest.param(f"]d2(01){GTIN}(17)281231(10)A1B2(21)SER1", FULL, id="hri-with-symbology"),
        pytest.param(f"(01){GTIN}(21)SER1(10)A1B2(17)281231", FULL, id="hri-any-order"),
        pytest.param(f"01{GTIN}21SER1{GS}17281231" + "10A1B2", FULL, id="machine-any-order"),
        pytest.param(f"01{GTIN}17281231" + "10A1B2", gs1(expiry=date(2028, 12, 31), lot_number="A1B2"), id="lot-last"),
        pytest.param(f"01{GTIN}", gs1(), id="gtin-only-as-gs1"),
    ],
)
def test_reads_every_form(raw: str, expected: Reading) -> None:
    assert read(raw) == [expected]


def test_other_application_identifiers_are_kept_in_order() -> None:
    raw = f"01{GTIN}11250101" + "15281130" + "17281231" + f"10A1{GS}30" + f"12{GS}240" + f"XYZ{GS}70032812311200{GS}21S"
    [reading] = read(raw)
    assert reading == gs1(
        expiry=date(2028, 12, 31),
        lot_number="A1",
        serial="S",
        other=(("11", "250101"), ("15", "281130"), ("30", "12"), ("240", "XYZ"), ("7003", "2812311200")),
    )
    assert reading.as_element_string() == (
        f"(01){GTIN}(17)281231(10)A1(21)S(11)250101(15)281130(30)12(240)XYZ(7003)2812311200"
    )


def test_gs1_message_without_gtin_is_a_reading_without_gtin() -> None:
    assert read("17281231" + "10LOT7") == [Reading(kind="gs1", expiry=date(2028, 12, 31), lot_number="LOT7")]


@pytest.mark.parametrize(
    ("raw", "gtin"),
    [
        pytest.param("96385074", "00000096385074", id="gtin-8"),
        pytest.param("036000291452", "00036000291452", id="gtin-12"),
        pytest.param(EAN13, GTIN, id="gtin-13"),
        pytest.param(GTIN, GTIN, id="gtin-14"),
        pytest.param("10012345000017", "10012345000017", id="gtin-14-case-level"),
        pytest.param(f" {EAN13}\r\n", GTIN, id="line-end"),
        pytest.param("]E0" + EAN13, GTIN, id="ean-13-symbology"),
        pytest.param("]E4" + "96385074", "00000096385074", id="ean-8-symbology"),
        pytest.param("]E3" + EAN13 + "12", GTIN, id="ean-13-with-2-digit-add-on"),
        pytest.param("]E3" + EAN13 + "51234", GTIN, id="ean-13-with-5-digit-add-on"),
        pytest.param("]I1" + "10012345000017", "10012345000017", id="itf-14-symbology"),
    ],
)
def test_plain_gtins(raw: str, gtin: str) -> None:
    assert read(raw) == [Reading(kind="gtin", gtin=gtin)]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(LABEL, id="label"),
        pytest.param(LABEL.lower(), id="label-lower-case"),
        pytest.param("]C0" + LABEL, id="label-with-code-128-symbology"),
        pytest.param(LABEL + "\n", id="label-line-end"),
    ],
)
def test_label_codes(raw: str) -> None:
    [reading] = read(raw)
    assert reading == Reading(kind="label", lot_id=1234)
    assert reading.as_element_string() == LABEL


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yymmdd", "today", "expected"),
    [
        pytest.param("280200", TODAY, date(2028, 2, 29), id="day-00-leap-february"),
        pytest.param("270200", TODAY, date(2027, 2, 28), id="day-00-february"),
        pytest.param("281100", TODAY, date(2028, 11, 30), id="day-00-30-day-month"),
        pytest.param("281200", TODAY, date(2028, 12, 31), id="day-00-december"),
        pytest.param("750101", TODAY, date(2075, 1, 1), id="century-50-years-ahead"),
        pytest.param("760101", TODAY, date(1976, 1, 1), id="century-51-years-ahead-is-past"),
        pytest.param("300101", date(2080, 3, 1), date(2130, 1, 1), id="century-next"),
        pytest.param("310101", date(2080, 3, 1), date(2031, 1, 1), id="century-49-years-back"),
        pytest.param("000229", TODAY, date(2000, 2, 29), id="leap-2000"),
    ],
)
def test_expiry_dates(yymmdd: str, today: date, expected: date) -> None:
    [reading] = read_barcode(f"01{GTIN}17{yymmdd}", today=today)
    assert reading.expiry == expected


def test_the_century_follows_the_callers_today_not_the_wall_clock() -> None:
    [in_2026] = read_barcode(f"01{GTIN}17901231", today=date(2026, 12, 1))
    [in_2050] = read_barcode(f"01{GTIN}17901231", today=date(2050, 1, 1))
    assert (in_2026.expiry, in_2050.expiry) == (date(1990, 12, 31), date(2090, 12, 31))


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        pytest.param("", "Nothing", id="empty"),
        pytest.param("  \r\n\t", "Nothing", id="whitespace"),
        pytest.param("]d2", "no data", id="only-symbology"),
        pytest.param(GS + "|", "no data", id="only-separators"),
        pytest.param(f"01{GTIN[:-1]}6", "check digit", id="gs1-bad-check-digit"),
        pytest.param(EAN13[:-1] + "6", "check digit", id="gtin-bad-check-digit"),
        pytest.param("]E0" + EAN13[:-1] + "6", "check digit", id="ean-13-bad-check-digit"),
        pytest.param(f"01{GTIN}17281331", "not a valid date", id="month-13"),
        pytest.param(f"01{GTIN}17280001", "not a valid date", id="month-00"),
        pytest.param(f"01{GTIN}17281232", "not a valid date", id="day-32"),
        pytest.param(f"01{GTIN}17280230" + "10A", "not a valid date", id="february-30"),
        pytest.param(f"01{GTIN}17270229", "not a valid date", id="february-29-non-leap"),
        pytest.param(f"(01){GTIN}(17)281301", "not a valid date", id="hri-month-13"),
        pytest.param(f"01{GTIN}172812", "field format", id="date-too-short"),
        pytest.param(f"01{GTIN}05123", "application identifier", id="unknown-ai"),
        pytest.param(f"(01){GTIN}(05)123", "(05)", id="hri-unknown-ai"),
        pytest.param("(17281231", "known (AI)", id="hri-broken"),
        pytest.param(f"01{GTIN}10" + "A" * 21, "'A' does not start with", id="lot-too-long"),
        pytest.param(f"01{GTIN}10AB CD", "application identifier", id="space-in-lot"),
        pytest.param(f"01{GTIN}10A{GS}10B", "twice", id="repeated-ai"),
        pytest.param("hello", "not a GTIN, a GS1 barcode or a label code", id="garbage"),
        pytest.param("12345", "not a GTIN, a GS1 barcode or a label code", id="short-number"),
        pytest.param("]C1" + EAN13, "application identifier", id="gs1-symbology-with-plain-gtin"),
        pytest.param(GS + EAN13, "application identifier", id="fnc1-with-plain-gtin"),
        pytest.param("]", "symbology", id="lone-bracket"),
        pytest.param("]1A" + MACHINE, "symbology", id="bad-symbology"),
        pytest.param("\uff10\uff11" + GTIN, "cannot carry", id="full-width-digits"),
        pytest.param("é", "cannot carry", id="accent"),
        pytest.param("\x00\x01\x02", "not a GTIN", id="control-characters"),
        pytest.param("1" * 600, "characters long", id="too-long"),
        pytest.param(BAD_LABEL, "check digit", id="label-bad-check-digit"),
        pytest.param("MILX", "malformed", id="label-malformed"),
        pytest.param("MIL" + "1" * 13, "malformed", id="label-too-long"),
        pytest.param(f"01{GTIN}10{GS}", "(10) has no data", id="empty-lot"),
        pytest.param(f"(01){GTIN}(10)AB CD", "does not fit", id="hri-space-inside-value"),
        pytest.param(f"(01){GTIN}(10)", "(10) has no data", id="hri-empty-value"),
    ],
)
def test_refusals(raw: str, fragment: str) -> None:
    with pytest.raises(BarcodeInvalid) as caught:
        read(raw)
    assert fragment in caught.value.detail
    assert caught.value.code == "barcode_invalid"


# --- lost separators ----------------------------------------------------------------------------


def test_lost_separator_with_a_single_valid_split_gives_one_reading() -> None:
    # The lot plus "21XYZ" would be 23 characters, over the 20 a lot may have: only one split fits.
    assert read(f"01{GTIN}10ABCDEFGHIJKLMNOPQR21XYZ") == [gs1(lot_number="ABCDEFGHIJKLMNOPQR", serial="XYZ")]


def test_lost_separator_with_two_valid_splits_gives_both_greedy_first() -> None:
    assert read(f"01{GTIN}10ABC21XYZ") == [gs1(lot_number="ABC21XYZ"), gs1(lot_number="ABC", serial="XYZ")]


def test_lot_hiding_a_valid_expiry_gives_two_readings() -> None:
    assert read(f"01{GTIN}10AB17281231") == [
        gs1(lot_number="AB17281231"),
        gs1(lot_number="AB", expiry=date(2028, 12, 31)),
    ]


def test_lot_hiding_an_impossible_date_gives_one_reading() -> None:
    assert read(f"01{GTIN}10AB17281331") == [gs1(lot_number="AB17281331")]


def test_other_variable_ais_are_split_too() -> None:
    readings = read(f"01{GTIN}10AB240XY")
    assert readings == [gs1(lot_number="AB240XY"), gs1(lot_number="AB", other=(("240", "XY"),))]


def test_separators_seen_elsewhere_mean_none_were_lost() -> None:
    # The scanner sent a GS after the serial, so the lot, last, cannot also hide a serial or a date.
    assert read(f"01{GTIN}21S1{GS}10AB21X17281231") == [gs1(serial="S1", lot_number="AB21X17281231")]


def test_hri_markers_are_boundaries_unless_that_reading_is_invalid() -> None:
    assert read(f"(01){GTIN}(10)A(21)B") == [gs1(lot_number="A", serial="B")]
    assert read(f"(01){GTIN}(10)A(B)") == [gs1(lot_number="A(B)")]
    # (12) would be a due date, "B" is not one: so "(12)" is part of the lot.
    assert read(f"(01){GTIN}(10)A(12)B") == [gs1(lot_number="A(12)B")]
    # The plain split repeats (21): the readings that keep one "(21)" inside a value remain.
    assert read(f"(01){GTIN}(10)A(21)B(21)C") == [
        gs1(lot_number="A", serial="B(21)C"),
        gs1(lot_number="A(21)B", serial="C"),
        gs1(lot_number="A(21)B(21)C"),
    ]
    with pytest.raises(BarcodeInvalid, match=r"\(17\) 281301 is not a valid date"):
        read(f"(01){GTIN}(17)281301(10)A")


def test_numeric_lot_and_serial_run_together_keep_the_truth_among_few_readings() -> None:
    # Every "21", "30", "37", "9x"... inside digits could start a field: the splits that guess the
    # fewest lost separators come first, and the truth (one lost separator) is among them.
    readings = read(f"01{GTIN}10" + "0390039" + "21" + "03709300")
    assert readings[0] == gs1(lot_number="03900392103709300")
    assert gs1(lot_number="0390039", serial="03709300") in readings
    assert len(readings) <= MAX_READINGS


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("91" + "9" * 500, id="machine"),
        pytest.param("(10)1(91)1(92)1(93)1(94)1(95)1(96)1(97)1(98)1(99)1(21)1(10)", id="hri"),
    ],
)
def test_too_many_readings_are_refused(raw: str) -> None:
    with pytest.raises(BarcodeInvalid, match="too many"):
        read(raw)


# --- formatting ---------------------------------------------------------------------------------


def test_format_element_string_puts_fnc1_only_after_variable_fields_that_are_not_last() -> None:
    expiry, lot, serial = date(2028, 12, 31), "A1B2", "SER1"
    assert format_element_string(gtin=EAN13, expiry=expiry, lot_number=lot, serial=serial) == MACHINE
    piped = format_element_string(gtin=EAN13, expiry=expiry, lot_number=lot, serial=serial, fnc1="|")
    assert piped == MACHINE.replace(GS, "|")
    hri = format_hri(gtin=EAN13, expiry=expiry, lot_number=lot, serial=serial)
    assert hri == f"(01){GTIN}(17)281231(10)A1B2(21)SER1"
    assert format_element_string(gtin=GTIN, lot_number="A1") == f"01{GTIN}10A1"
    assert format_element_string(gtin=GTIN, serial="S") == f"01{GTIN}21S"
    assert format_element_string(gtin=GTIN) == f"01{GTIN}"
    assert FULL.as_element_string() == hri
    assert Reading(kind="gtin", gtin=GTIN).as_element_string() == f"(01){GTIN}"


@pytest.mark.parametrize("bad", ["", "A" * 21, "LOT 1", "LOT|1", "lôt"])
def test_format_refuses_values_gs1_cannot_carry(bad: str) -> None:
    with pytest.raises(Unprocessable):
        format_element_string(gtin=GTIN, lot_number=bad)
    with pytest.raises(Unprocessable):
        format_hri(gtin=GTIN, serial=bad)


def test_format_refuses_a_bad_gtin() -> None:
    with pytest.raises(GtinInvalid):
        format_element_string(gtin=EAN13[:-1] + "6")


# --- properties ---------------------------------------------------------------------------------

gtins = (
    st.text("0123456789", min_size=13, max_size=13)
    .map(lambda payload: payload + str(mod10_check_digit(payload)))
    .filter(lambda gtin: gtin != "0" * 14)
)
gs1_values = st.text(alphabet=sorted(GS1_CHARSET), min_size=1, max_size=20)
# Inside the 100-year window around TODAY, so two-digit years come back to the same century.
expiries = st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2074, 12, 31))

MACHINE_FORMS = {
    "gs": lambda s: s,
    "pipe": lambda s: s.replace(GS, "|"),
    "caret": lambda s: s.replace(GS, "^"),
    "tilde": lambda s: s.replace(GS, "~"),
    "]d2": lambda s: "]d2" + s,
    "]C1": lambda s: "]C1" + s,
    "]Q3": lambda s: "]Q3" + s,
    "]e0": lambda s: "]e0" + s,
    "leading-gs": lambda s: GS + s,
    "]d2-leading-gs": lambda s: "]d2" + GS + s,
    "crlf": lambda s: s + "\r\n",
}
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("form", MACHINE_FORMS)
@PROPERTY
@given(gtin=gtins, lot=gs1_values, serial=st.none() | gs1_values, expiry=expiries)
def test_formatted_element_strings_read_back(
    form: str, gtin: str, lot: str, serial: str | None, expiry: date | None
) -> None:
    truth = Reading(kind="gs1", gtin=gtin, lot_number=lot, serial=serial, expiry=expiry)
    raw = MACHINE_FORMS[form](format_element_string(gtin=gtin, expiry=expiry, lot_number=lot, serial=serial))
    readings = read(raw)
    # The whole rest of the data is the last field, which is the truth whenever separators were sent.
    assert readings[0] == truth
    if serial is not None:
        # A separator follows the lot, which proves none was lost: nothing else is possible.
        assert readings == [truth]


@PROPERTY
@given(gtin=gtins, lot=gs1_values, serial=st.none() | gs1_values, expiry=expiries, spaced=st.booleans())
def test_formatted_hri_reads_back(gtin: str, lot: str, serial: str | None, expiry: date | None, spaced: bool) -> None:
    truth = Reading(kind="gs1", gtin=gtin, lot_number=lot, serial=serial, expiry=expiry)
    raw = format_hri(gtin=gtin, expiry=expiry, lot_number=lot, serial=serial)
    if spaced:
        raw = raw.replace("(", " (").strip()
    readings = read(raw)
    if re.search(r"\([0-9]{2,4}\)", lot + (serial or "")) is None:
        assert readings == [truth]
    elif truth not in readings:
        # A lot like "A(17)281231" written in HRI is read as an expiry, as a person would read it.
        assert all(reading.gtin == gtin for reading in readings)


@PROPERTY
@given(gtin=gtins, lot=gs1_values, serial=st.none() | gs1_values, expiry=expiries)
def test_dropped_separators_keep_the_truth_among_the_readings(
    gtin: str, lot: str, serial: str | None, expiry: date | None
) -> None:
    truth = Reading(kind="gs1", gtin=gtin, lot_number=lot, serial=serial, expiry=expiry)
    raw = format_element_string(gtin=gtin, expiry=expiry, lot_number=lot, serial=serial, fnc1="")
    readings = read(raw)
    assert truth in readings
    assert len(set(readings)) == len(readings)


def _read_or_refuse(raw: str, today: date) -> None:
    readings: list[Reading] = []
    detail = ""
    try:
        readings = read_barcode(raw, today=today)
    except BarcodeInvalid as exc:
        detail = exc.detail
    assert bool(readings) != bool(detail)
    assert all(isinstance(reading, Reading) for reading in readings)


@PROPERTY
@given(raw=st.text(), today=st.dates())
def test_arbitrary_text_is_read_or_refused_never_crashes(raw: str, today: date) -> None:
    _read_or_refuse(raw, today)


barcode_alphabet = "0123456789()|^~]\x1d\r\n dCQeEAZaz%!-_"


@PROPERTY
@given(raw=st.text(alphabet=barcode_alphabet, max_size=60), today=st.dates())
def test_barcode_like_text_is_read_or_refused_never_crashes(raw: str, today: date) -> None:
    _read_or_refuse(raw, today)


@PROPERTY
@given(
    base=st.sampled_from([MACHINE, f"(01){GTIN}(17)281231(10)A1B2(21)SER1", "]d2" + MACHINE, EAN13]),
    edits=st.lists(st.tuples(st.integers(0, 60), st.text(max_size=3), st.integers(0, 3)), max_size=4),
    today=st.dates(),
)
def test_mangled_barcodes_are_read_or_refused_never_crash(
    base: str, edits: list[tuple[int, str, int]], today: date
) -> None:
    raw = base
    for at, insert, delete in edits:
        raw = raw[:at] + insert + raw[at + delete :]
    _read_or_refuse(raw, today)


# --- public parsers' test vectors (/work/shared/data/gs1_vectors.json, never copied into the project) ----------

_ROOT = Path(__file__).resolve().parents[2]
# The shared folder sits beside the main checkout (../shared); a worktree under wt/ finds it one level up.
_VECTOR_FILES = [base / "shared" / "data" / "gs1_vectors.json" for base in (_ROOT.parent, _ROOT.parent.parent)]
# The vectors' sources are from 2014-2025; their two-digit years are read around this day.
_VECTOR_TODAY = date(2024, 1, 1)


def _vectors() -> list[dict[str, Any]]:
    for path in _VECTOR_FILES:
        if path.exists():
            vectors: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
            return [v for v in vectors if not v["disputed"]]
    return []


def _vector_file_present() -> None:
    if not any(path.exists() for path in _VECTOR_FILES):
        message = f"gs1_vectors.json not found at {' or '.join(map(str, _VECTOR_FILES))}"
        if "CI" in os.environ:
            pytest.fail(message)
        pytest.skip(message)


def _expected_expiry(yymmdd: str | None) -> date | None:
    """The vector's YYMMDD as a date; DD=00 is the month's last day (GS1 General Specifications 7.12)."""
    if yymmdd is None:
        return None
    year, month, day = 2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    return date(year, month, day or calendar.monthrange(year, month)[1])


def _seen(reading: Reading) -> tuple[str | None, str | None, date | None, str | None]:
    return reading.gtin, reading.lot_number, reading.expiry, reading.serial


def _with_check_digit(text: str, gtin: str) -> str:
    """The vector's text with its GTIN's check digit corrected."""
    body = gtin[:-1]
    return text.replace(gtin, body + str(mod10_check_digit(body)), 1)


VECTORS = _vectors()


def test_the_shared_vectors_are_read_here() -> None:
    _vector_file_present()
    assert len(VECTORS) >= 100
    assert {v["kind"] for v in VECTORS} >= {"element_string", "hri", "symbology_prefixed", "digital_link"}


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] + "-" + v["kind"] for v in VECTORS])
def test_every_undisputed_vector_reads_as_its_source_expects(vector: dict[str, Any]) -> None:
    raw: str = vector["input"]
    if vector["invalid"]:
        with pytest.raises(BarcodeInvalid):
            read_barcode(raw, today=_VECTOR_TODAY)
        return
    expected = (vector["gtin"], vector["lot"], _expected_expiry(vector["expiry_yymmdd"]), vector["serial"])
    if vector["gtin_check_digit_ok"] is False:
        # The source does not check the GTIN's check digit; the contract refuses it (barcode_invalid). The rest
        # of the message must read as the source says once the digit is right.
        with pytest.raises(BarcodeInvalid, match="check digit"):
            read_barcode(raw, today=_VECTOR_TODAY)
        raw = _with_check_digit(raw, vector["gtin"])
        fixed = _with_check_digit(vector["gtin"], vector["gtin"])
        expected = (fixed, *expected[1:])
    readings = [_seen(r) for r in read_barcode(raw, today=_VECTOR_TODAY)]
    if vector["ambiguity_allowed"]:
        assert expected in readings
    else:
        assert readings[0] == expected


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        pytest.param(
            "https://id.example.com/01/09506000134352/10/ABC123?17=271231&21=XYZ",
            ("09506000134352", "ABC123", date(2027, 12, 31), "XYZ"),
            id="path-and-query",
        ),
        pytest.param(
            "HTTPS://ID.Example.COM/01/09506000134352/10/ABC123",
            ("09506000134352", "ABC123", None, None),
            id="upper-case-scheme-and-host",
        ),
        pytest.param(
            "http://example.com/my/prefix/01/9506000134352/10/AB%2F12?17=280100",
            ("09506000134352", "AB/12", date(2028, 1, 31), None),
            id="prefix-gtin13-percent-encoded-slash",
        ),
        pytest.param(
            "https://example.com/01/01/01/09506000134352",
            ("09506000134352", None, None, None),
            id="prefix-holding-01",
        ),
        pytest.param(
            "]Q1https://example.com/gtin/09506000134352/lot/L1?exp=270600",
            ("09506000134352", "L1", date(2027, 6, 30), None),
            id="qr-short-names",
        ),
    ],
)
def test_digital_link_uris_read_path_and_query_ais(
    uri: str, expected: tuple[str | None, str | None, date | None, str | None]
) -> None:
    assert [_seen(r) for r in read_barcode(uri, today=TODAY)] == [expected]


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("https://example.com/products/12", "no product key"),
        ("https:///01/09506000134352", "without a host"),
        ("https://example.com/01/09506000134353", "check digit"),
        ("https://example.com/01/09506000134352?17=271332", "not a valid date"),
        ("https://example.com/01/09506000134352/10/%E2%82%AC", "does not fit"),
        ("https://example.com/01/09506000134352/10/A?10=A", "appears twice"),
        ("https://example.com/01/09506000134352?21=S1", "belongs in the Digital Link's path"),
        ("ftp://example.com/01/09506000134352", "not a GTIN"),
    ],
)
def test_broken_digital_links_are_refused_with_the_reason(uri: str, fragment: str) -> None:
    with pytest.raises(BarcodeInvalid, match=re.escape(fragment)):
        read_barcode(uri, today=TODAY)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("]d2" + MACHINE, id="datamatrix-with-symbology"),
        pytest.param(MACHINE, id="datamatrix-without-symbology"),
        pytest.param("]Q3" + MACHINE, id="gs1-qr"),
        pytest.param("]d2" + GS + MACHINE + "\n", id="datamatrix-leading-fnc1-and-line-end"),
    ],
)
def test_phone_camera_decoder_text_reads_like_a_scanner(raw: str) -> None:
    assert read(raw) == [FULL]


def test_gmn_check_characters_are_verified() -> None:
    assert read(f"01{GTIN}" + "80131987654Ad4X4bL5ttr2310c2K")[0].other == (("8013", "1987654Ad4X4bL5ttr2310c2K"),)
    with pytest.raises(BarcodeInvalid, match="check characters"):
        read(f"01{GTIN}" + "80131987654Ad4X4bL5ttr2310c2L")
