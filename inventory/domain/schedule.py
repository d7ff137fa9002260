"""Which scheduled jobs are due: a pure function of one instant (the service's clock) and each location's zone.

A *period* is one run of one job for one scope on one local day. The scheduler claims each period once in
PostgreSQL (`scheduled_run`, unique per job, scope and day), so however many processes ask at once and however
often, a period runs once. What day it is, and whether an hour has passed, is decided here from the Python
clock, never from the database's clock.

- `alerts.refresh`: per location, as soon as its local day has begun (after local midnight).
- `alerts.digest`: per location, from `digest_hour` local time on (only when a webhook is configured).
- `purge`: once a day for the whole service, from `PURGE_HOUR` in the service's default zone.

A process that was down when a period began runs it when it comes back, the same local day; a day it
missed entirely is not run late (tomorrow's run covers it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

REFRESH = "alerts.refresh"
DIGEST = "alerts.digest"
PURGE = "purge"
JOBS = (REFRESH, DIGEST, PURGE)
SERVICE_SCOPE = 0  # the scope of jobs that belong to no location
PURGE_HOUR = 3  # local time in the default zone: the quietest hour of a clinic


@dataclass(frozen=True, order=True)
class Period:
    """One run of `job` for `scope` (a location id, or SERVICE_SCOPE) on local day `day`."""

    job: str
    scope: int
    day: date


def local_time(instant: datetime, zone: str) -> datetime:
    """The aware instant as wall-clock time in IANA zone `zone`."""
    return instant.astimezone(ZoneInfo(zone))


def due(
    instant: datetime,
    zones: Mapping[int, str],
    *,
    default_zone: str,
    digest_hour: int,
    digest: bool,
) -> list[Period]:
    """Every period that has begun at `instant` for the locations in `zones` (id -> IANA zone), sorted."""
    periods: list[Period] = []
    for location_id, zone in zones.items():
        local = local_time(instant, zone)
        periods.append(Period(REFRESH, location_id, local.date()))
        if digest and local.hour >= digest_hour:
            periods.append(Period(DIGEST, location_id, local.date()))
    service = local_time(instant, default_zone)
    if service.hour >= PURGE_HOUR:
        periods.append(Period(PURGE, SERVICE_SCOPE, service.date()))
    return sorted(periods)
