"""The service's clock: UTC instants, and each location's local day; tests move or set it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_offset = timedelta(0)


class UnknownTimezone(ValueError):
    """A name that is not an IANA time zone this machine knows."""


def now() -> datetime:
    """The current time (UTC), shifted when a test has moved the clock."""
    return datetime.now(UTC) + _offset


def today() -> date:
    """Today's UTC date: only for dates that belong to no location (use `today_in` for a location's day)."""
    return now().date()


@lru_cache(maxsize=1)
def _known_names() -> frozenset[str]:
    # The tz database directory also holds files that are not zones a clinic is in.
    return frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}


def zone_names() -> frozenset[str]:
    """Every IANA time zone name a location may be given (what `zone` accepts)."""
    return _known_names()


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone called `name`; raises UnknownTimezone for anything else (paths, "localtime", "")."""
    # zoneinfo alone would also load files such as "posixrules" or "localtime": only listed names are zones.
    if name not in _known_names():
        raise UnknownTimezone(f"{name!r} is not an IANA time zone name (e.g. Europe/Paris)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:  # pragma: no cover - listed names load
        raise UnknownTimezone(f"{name!r} is not an IANA time zone name") from error


def local_now(tz: str, at: datetime | None = None) -> datetime:
    """The instant `at` (default: now) as wall-clock time in zone `tz`."""
    return (now() if at is None else at).astimezone(zone(tz))


def today_in(tz: str, at: datetime | None = None) -> date:
    """The local date in zone `tz` at instant `at` (default: now): "today" at a location."""
    return local_now(tz, at).date()


def day_start(day: date, tz: str) -> datetime:
    """The UTC instant local day `day` begins in zone `tz` (local midnight, or the first instant after a gap)."""
    return at_local(day, time(0), tz)


def day_end(day: date, tz: str) -> datetime:
    """The UTC instant local day `day` ends in zone `tz`: the start of the next day (exclusive bound)."""
    return day_start(day + timedelta(days=1), tz)


def at_local(day: date, wall: time, tz: str) -> datetime:
    """The UTC instant of wall-clock time `wall` on local day `day` in zone `tz`.

    A time skipped by a DST change moves forward by the gap (02:30 on a spring-forward day is 03:30); a
    repeated one is its first occurrence.
    """
    # fold=0 (PEP 495) reads a skipped time with the offset before the change, i.e. after the gap, and a
    # repeated time as its first occurrence.
    return datetime.combine(day, wall, tzinfo=zone(tz)).astimezone(UTC)


def set(instant: datetime) -> None:
    """Make now() return `instant` (an aware datetime) from here on, still ticking (tests only)."""
    global _offset
    if instant.tzinfo is None:
        raise ValueError("clock.set needs an aware datetime")
    _offset = instant - datetime.now(UTC)


def shift(delta: timedelta) -> None:
    """Move the clock by delta (tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    """Put the clock back to real time."""
    global _offset
    _offset = timedelta(0)
