"""Date bounds: arithmetic on input dates refuses with date_out_of_range instead of overflowing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from inventory.domain import dates
from inventory.domain.errors import DateOutOfRange


def test_adding_days_past_the_calendar_end_is_date_out_of_range() -> None:
    with pytest.raises(DateOutOfRange) as raised:
        dates.add_days(date(9999, 12, 1), 365)
    assert raised.value.code == "date_out_of_range"
    assert raised.value.status == 422


def test_subtracting_days_before_year_one_is_date_out_of_range() -> None:
    with pytest.raises(DateOutOfRange):
        dates.add_days(date(1, 1, 10), -30)


def test_adding_days_inside_the_calendar_is_plain_arithmetic() -> None:
    assert dates.add_days(date(2026, 12, 31), 1) == date(2027, 1, 1)


def test_years_after_keeps_the_day_and_turns_29_february_into_28() -> None:
    assert dates.years_after(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert dates.years_after(date(2026, 7, 14), 50) == date(2076, 7, 14)
    assert dates.years_after(date(9990, 7, 14), 50) == date(9999, 7, 14)


def test_bounds_refuse_outside_and_accept_the_ends() -> None:
    low, high = date(2026, 1, 1), date(2030, 1, 1)
    dates.require_between(low, low, high, what="x")
    dates.require_between(high, low, high, what="x")
    with pytest.raises(DateOutOfRange):
        dates.require_between(date(2030, 1, 2), low, high, what="x")
    with pytest.raises(DateOutOfRange):
        dates.require_not_after(date(2030, 1, 2), high, what="x")
    moment = datetime(2026, 6, 1, tzinfo=UTC)
    with pytest.raises(DateOutOfRange):
        dates.require_moment_between(moment, moment.replace(year=2027), moment.replace(year=2028), what="x")
