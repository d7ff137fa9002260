"""Bounds on dates taken from input, so that no date arithmetic on them can overflow."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from inventory.domain.errors import DateOutOfRange

# Ampoules keep for a few years; half a century ahead is generous and still far from date.max.
MAX_EXPIRY_YEARS = 50
# Courses and appointments are booked months ahead, not decades.
MAX_BOOKING_YEARS = 10


def years_after(day: date, years: int) -> date:
    """The same day `years` later (28 February for 29 February), clamped to date.max."""
    year = min(day.year + years, date.max.year)
    return day.replace(year=year, day=min(day.day, 28)) if day.month == 2 else day.replace(year=year)


def add_days(day: date, days: int, *, what: str = "The date") -> date:
    """`day` plus `days`; raises DateOutOfRange instead of OverflowError past the calendar's ends."""
    try:
        return day + timedelta(days=days)
    except OverflowError as error:
        raise DateOutOfRange(f"{what} falls outside the calendar.") from error


def require_between(value: date, earliest: date, latest: date, *, what: str) -> None:
    """Raise DateOutOfRange unless earliest <= value <= latest."""
    if not earliest <= value <= latest:
        raise DateOutOfRange(
            f"{what} must be between {earliest.isoformat()} and {latest.isoformat()}.",
            earliest=earliest.isoformat(),
            latest=latest.isoformat(),
        )


def require_not_after(value: date, latest: date, *, what: str) -> None:
    """Raise DateOutOfRange when value is after latest."""
    if value > latest:
        raise DateOutOfRange(f"{what} must be no later than {latest.isoformat()}.", latest=latest.isoformat())


def require_moment_between(value: datetime, earliest: datetime, latest: datetime, *, what: str) -> None:
    """Raise DateOutOfRange unless earliest <= value <= latest (aware datetimes)."""
    if not earliest <= value <= latest:
        raise DateOutOfRange(
            f"{what} must be between {earliest.date().isoformat()} and {latest.date().isoformat()}.",
            earliest=earliest.isoformat(),
            latest=latest.isoformat(),
        )
