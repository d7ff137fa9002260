"""Which job periods are due: each location's local midnight and digest hour, from the instant alone."""

from __future__ import annotations

from datetime import UTC, date, datetime

from inventory.domain.schedule import DIGEST, PURGE, REFRESH, SERVICE_SCOPE, Period, due

PARIS = "Europe/Paris"


def _due(instant: datetime, zones: dict[int, str], *, digest: bool = True, hour: int = 7) -> set[Period]:
    return set(due(instant, zones, default_zone=PARIS, digest_hour=hour, digest=digest))


def test_local_midnight_starts_the_new_day_of_each_location_in_its_own_zone() -> None:
    # 23:30 UTC on 1 December is 00:30 on the 2nd in Paris (UTC+1) and still 18:30 on the 1st in New York.
    instant = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    periods = _due(instant, {1: PARIS, 2: "America/New_York"}, digest=False)
    assert periods == {Period(REFRESH, 1, date(2026, 12, 2)), Period(REFRESH, 2, date(2026, 12, 1))}


def test_digest_is_due_from_the_digest_hour_in_local_time_and_only_with_a_webhook() -> None:
    before = datetime(2026, 12, 2, 5, 59, tzinfo=UTC)  # 06:59 in Paris
    at = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # 07:00 in Paris
    assert Period(DIGEST, 1, date(2026, 12, 2)) not in _due(before, {1: PARIS})
    assert Period(DIGEST, 1, date(2026, 12, 2)) in _due(at, {1: PARIS})
    assert not any(p.job == DIGEST for p in _due(at, {1: PARIS}, digest=False))
    assert Period(DIGEST, 1, date(2026, 12, 2)) in _due(before, {1: PARIS}, hour=6)


def test_summer_time_moves_the_local_hour_not_the_rule() -> None:
    # In July Paris is UTC+2: 05:00 UTC is 07:00 local.
    assert Period(DIGEST, 1, date(2027, 7, 1)) in _due(datetime(2027, 7, 1, 5, 0, tzinfo=UTC), {1: PARIS})


def test_purge_is_one_service_wide_period_a_day_after_three_in_the_default_zone() -> None:
    night = datetime(2026, 12, 2, 1, 59, tzinfo=UTC)  # 02:59 in Paris
    later = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 03:00
    assert not any(p.job == PURGE for p in _due(night, {}))
    assert _due(later, {}) == {Period(PURGE, SERVICE_SCOPE, date(2026, 12, 2))}


def test_periods_come_sorted_so_every_process_claims_in_the_same_order() -> None:
    instant = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    periods = due(instant, {3: PARIS, 1: PARIS, 2: PARIS}, default_zone=PARIS, digest_hour=7, digest=True)
    assert periods == sorted(periods)
    assert len(periods) == 7
