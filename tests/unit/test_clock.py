"""The clock: UTC now, a zone's local date, local days as UTC instants, and the settings' default zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest

from inventory import clock
from inventory.config import Settings, SettingsError

PARIS = "Europe/Paris"


def at(text: str) -> datetime:
    """An instant given in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(autouse=True)
def real_time() -> Iterator[None]:
    yield
    clock.reset()


def test_now_is_utc_and_set_moves_it_to_the_given_instant() -> None:
    assert clock.now().tzinfo is UTC
    clock.set(at("2027-03-01T23:00:00"))
    assert abs(clock.now() - at("2027-03-01T23:00:00")) < timedelta(seconds=5)
    clock.shift(timedelta(days=1))
    assert clock.now().date() == date(2027, 3, 2)


def test_set_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2027, 3, 1, 23, 0))


@pytest.mark.parametrize(
    ("instant", "paris_day"),
    [
        ("2027-03-01T22:59:59", date(2027, 3, 1)),  # winter: UTC+1
        ("2027-03-01T23:00:00", date(2027, 3, 2)),
        ("2027-07-15T21:59:59", date(2027, 7, 15)),  # summer: UTC+2
        ("2027-07-15T22:00:00", date(2027, 7, 16)),
    ],
)
def test_today_in_paris_turns_at_local_midnight(instant: str, paris_day: date) -> None:
    assert clock.today_in(PARIS, at(instant)) == paris_day
    clock.set(at(instant))
    assert clock.today_in(PARIS) == paris_day


def test_the_same_instant_is_a_different_date_in_tokyo_paris_and_new_york() -> None:
    instant = at("2027-03-01T23:30:00")
    assert clock.today_in("Asia/Tokyo", instant) == date(2027, 3, 2)
    assert clock.today_in(PARIS, instant) == date(2027, 3, 2)
    assert clock.today_in("America/New_York", instant) == date(2027, 3, 1)
    assert clock.today_in("UTC", instant) == date(2027, 3, 1)
    assert clock.local_now("Asia/Tokyo", instant).hour == 8


@pytest.mark.parametrize(
    ("day", "start", "end", "hours"),
    [
        (date(2027, 3, 1), "2027-02-28T23:00:00", "2027-03-01T23:00:00", 24),
        (date(2027, 3, 28), "2027-03-27T23:00:00", "2027-03-28T22:00:00", 23),  # clocks go forward
        (date(2027, 10, 31), "2027-10-30T22:00:00", "2027-10-31T23:00:00", 25),  # clocks go back
    ],
)
def test_a_local_day_runs_from_local_midnight_to_the_next_as_utc_instants(
    day: date, start: str, end: str, hours: int
) -> None:
    assert clock.day_start(day, PARIS) == at(start)
    assert clock.day_end(day, PARIS) == at(end)
    assert clock.day_end(day, PARIS) - clock.day_start(day, PARIS) == timedelta(hours=hours)
    assert clock.day_start(day, PARIS).tzinfo is UTC


def test_a_wall_time_keeps_its_local_hour_across_dst_and_skipped_times_move_forward() -> None:
    assert clock.at_local(date(2027, 3, 27), time(9), PARIS) == at("2027-03-27T08:00:00")
    assert clock.at_local(date(2027, 3, 28), time(9), PARIS) == at("2027-03-28T07:00:00")
    assert clock.at_local(date(2027, 3, 28), time(2, 30), PARIS) == at("2027-03-28T01:30:00")  # 03:30 CEST
    assert clock.at_local(date(2027, 10, 31), time(2, 30), PARIS) == at("2027-10-31T00:30:00")  # first 02:30


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "europe/paris", "../etc/passwd", "/etc/localtime", "localtime"])
def test_only_iana_zone_names_are_zones(name: str) -> None:
    with pytest.raises(clock.UnknownTimezone):
        clock.zone(name)


@pytest.mark.parametrize("name", [PARIS, "America/New_York", "Asia/Tokyo", "UTC"])
def test_iana_zone_names_are_zones(name: str) -> None:
    assert str(clock.zone(name)) == name


def test_settings_default_to_paris_and_read_inventory_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/x")
    monkeypatch.setenv("INVENTORY_SECRET_KEY", "k" * 40)
    monkeypatch.delenv("INVENTORY_TIMEZONE", raising=False)
    assert Settings.from_env().timezone == PARIS
    monkeypatch.setenv("INVENTORY_TIMEZONE", "America/New_York")
    assert Settings.from_env().timezone == "America/New_York"


def test_an_unknown_inventory_timezone_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/x")
    monkeypatch.setenv("INVENTORY_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("INVENTORY_TIMEZONE", "Paris")
    with pytest.raises(SettingsError, match="INVENTORY_TIMEZONE"):
        Settings.from_env()
