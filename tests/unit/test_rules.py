"""Usability rules: expiry, expiring soon, name normalisation, allergy matching and repeat scans."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.domain.rules import (
    EXPIRES_SOON_DAYS,
    allergy_conflicts,
    expires_soon,
    is_expired,
    normalise_name,
    repeat_seconds_ago,
)

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("expiry", "expired"),
    [
        (TODAY - timedelta(days=1), True),
        (TODAY, False),
        (TODAY + timedelta(days=1), False),
        (date(2026, 10, 31), True),
        (date(2027, 1, 1), False),
    ],
)
def test_a_lot_is_usable_up_to_and_including_its_expiry_date(expiry: date, expired: bool) -> None:
    assert is_expired(expiry, TODAY) is expired


def test_leap_day_expiry_is_usable_on_the_day_and_expired_the_next() -> None:
    assert not is_expired(date(2028, 2, 29), date(2028, 2, 29))
    assert is_expired(date(2028, 2, 29), date(2028, 3, 1))


@pytest.mark.parametrize(
    ("days", "soon"),
    [(-1, False), (0, True), (1, True), (EXPIRES_SOON_DAYS, True), (EXPIRES_SOON_DAYS + 1, False), (400, False)],
)
def test_expires_soon_covers_today_to_the_threshold_and_never_an_expired_lot(days: int, soon: bool) -> None:
    assert expires_soon(TODAY + timedelta(days=days), TODAY) is soon


def test_expires_soon_takes_its_own_window() -> None:
    assert expires_soon(TODAY + timedelta(days=7), TODAY, within_days=7)
    assert not expires_soon(TODAY + timedelta(days=8), TODAY, within_days=7)
    assert not expires_soon(TODAY + timedelta(days=1), TODAY, within_days=0)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(-800, 800))
def test_expired_and_expiring_soon_never_hold_together(today: date, offset: int) -> None:
    expiry = today + timedelta(days=offset)
    assert not (is_expired(expiry, today) and expires_soon(expiry, today))
    assert is_expired(expiry, today) is (offset < 0)


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("Lidocaïne", "lidocaine"),
        ("  VITAMINE-C ", "vitamine c"),
        ("Acide  hyaluronique (HA)", "acide hyaluronique ha"),
        ("ÉDTA", "edta"),
        ("", ""),
        ("---", ""),
        ("Straße", "strasse"),
        ("B12", "b12"),
    ],
)
def test_names_are_compared_without_case_accents_or_punctuation(text: str, normal: str) -> None:
    assert normalise_name(text) == normal


@pytest.mark.parametrize(
    ("allergies", "ingredients", "matches"),
    [
        (["lidocaine"], ["Lidocaine hydrochloride", "Hyaluronic acid"], ["Lidocaine hydrochloride"]),
        (["LIDOCAÏNE"], ["lidocaine"], ["lidocaine"]),
        (["vitamin c"], ["Vitamin C", "Vitamin E"], ["Vitamin C"]),
        (["vitamin"], ["Vitamin C"], ["Vitamin C"]),
        (["caine"], ["Lidocaine"], []),
        (["acid"], ["Hyaluronic acid", "Acido"], ["Hyaluronic acid"]),
        (["", "   ", "--"], ["Hyaluronic acid"], []),
        ([], ["Hyaluronic acid"], []),
        (["latex"], [], []),
        (["hyaluronic acid"], ["Hyaluronic-acid (cross-linked)"], ["Hyaluronic-acid (cross-linked)"]),
    ],
)
def test_allergies_match_whole_words_of_ingredients(
    allergies: list[str], ingredients: list[str], matches: list[str]
) -> None:
    assert allergy_conflicts(allergies, ingredients) == matches


def test_each_matching_ingredient_is_listed_once_in_product_order() -> None:
    ingredients = ["Vitamin C", "Lidocaine", "Vitamin C ester"]
    assert allergy_conflicts(["vitamin c", "VITAMIN C", "lidocaine"], ingredients) == ingredients


@given(st.text(max_size=40))
def test_normalisation_is_idempotent_and_a_name_matches_itself(name: str) -> None:
    normal = normalise_name(name)
    assert normalise_name(normal) == normal
    if normal:
        assert allergy_conflicts([name], [name]) == [name]


NOW = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        (None, None),
        (NOW, 0),
        (NOW - timedelta(seconds=9.9), 9),
        (NOW - timedelta(seconds=10), None),
        (NOW - timedelta(hours=1), None),
        (NOW + timedelta(seconds=3), 0),
        (NOW + timedelta(seconds=10), None),
    ],
)
def test_the_same_barcode_within_ten_seconds_is_a_repeat(previous: datetime | None, expected: int | None) -> None:
    assert repeat_seconds_ago(previous, NOW) == expected
