"""The service's clock; tests move it to see what happens overnight."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    """The current time (UTC), shifted when a test has moved the clock."""
    return datetime.now(UTC) + _offset


def today() -> date:
    """Today's date, as the clinic sees it."""
    return now().date()


def shift(delta: timedelta) -> None:
    """Move the clock by delta (tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    """Put the clock back to real time."""
    global _offset
    _offset = timedelta(0)
