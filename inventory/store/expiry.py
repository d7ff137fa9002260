"""Stock by expiry at each location's local date, and the demand that may use it up in time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from asyncpg import Record

from inventory.db import Connection
from inventory.store.alerts import UNIT_GTINS

# $1 = the instant; each row's `today` is the local date at its location then. Expiry from `today + $2` (NULL: no
# lower bound) to `today + $3` days. $7/$8 bound expiry_date for every zone at once (local dates lie within a day
# of the UTC date), so the expiry index still narrows the scan before the per-location comparison.
EXPIRY_SELECT = f"""
SELECT s.on_hand, s.location AS location_id, o.name AS location_name, o.timezone AS location_timezone,
       l.id AS lot_id, l.product AS product_id, l.lot_number, l.expiry_date, l.status, l.not_received,
       p.name AS product_name, b.id AS brand_id, b.name AS brand_name, g.gtin,
       t.today, (l.expiry_date - t.today) AS days_left
FROM lot l JOIN stock_level s ON s.lot = l.id AND s.on_hand > 0
JOIN product p ON p.id = l.product JOIN brand b ON b.id = p.brand JOIN location o ON o.id = s.location
CROSS JOIN LATERAL (SELECT ($1::timestamptz AT TIME ZONE o.timezone)::date AS today) t
LEFT JOIN ({UNIT_GTINS}) g ON g.product = p.id
WHERE l.expiry_date >= $7::date AND l.expiry_date <= $8::date
  AND ($2::int IS NULL OR l.expiry_date >= t.today + $2::int) AND l.expiry_date <= t.today + $3::int
  AND ($4::int IS NULL OR s.location = $4) AND ($5::int IS NULL OR l.product = $5)
  AND ($6::bool IS FALSE OR l.status = 'active')
ORDER BY l.expiry_date, lower(p.name), l.id, o.id
"""

# $3 = the instant; per pair, `today` is the local date at its location; booked use from `today` through
# `today + $4` days and the trailing 28 days' use, in local days.
_PAIR_DEMAND = """
WITH pairs AS (
    SELECT p.product, p.location, o.timezone, ($3::timestamptz AT TIME ZONE o.timezone)::date AS today
    FROM unnest($1::int[], $2::int[]) AS p(product, location) JOIN location o ON o.id = p.location
), places AS (
    SELECT DISTINCT location, timezone, today FROM pairs
), booked AS (
    SELECT x.product, x.location, array_agg(x.day ORDER BY x.day) AS days,
           array_agg(x.quantity ORDER BY x.day) AS quantities
    FROM (
        SELECT cp.product, t.location, (t.scheduled_for AT TIME ZONE z.timezone)::date AS day,
               sum(cp.quantity) AS quantity
        FROM places z
        JOIN treatment_session t ON t.location = z.location
        JOIN course_product cp ON cp.course = t.course
        WHERE t.status = 'planned' AND cp.product = ANY(SELECT DISTINCT product FROM pairs)
          AND t.scheduled_for >= (z.today::timestamp AT TIME ZONE z.timezone)
          AND t.scheduled_for < ((z.today + $4::int + 1)::timestamp AT TIME ZONE z.timezone)
        GROUP BY 1, 2, 3
    ) x
    GROUP BY 1, 2
)
SELECT p.product, p.location, p.today, coalesce(trend.used, 0) AS used, b.days, b.quantities
FROM pairs p
LEFT JOIN booked b ON b.product = p.product AND b.location = p.location
LEFT JOIN LATERAL (
    SELECT sum(u.quantity) AS used FROM usage u
    WHERE u.product = p.product AND u.location = p.location AND u.voided_at IS NULL
      AND u.used_at >= ((p.today - 28)::timestamp AT TIME ZONE p.timezone)
      AND u.used_at < (p.today::timestamp AT TIME ZONE p.timezone)
) trend ON true
"""


def expiry_bounds(at: datetime, first: int | None, last: int) -> tuple[date, date]:
    """Expiry dates that hold the range [today + first, today + last] of every zone's today at instant `at`."""
    utc_day = at.astimezone(UTC).date()
    # Local dates lie within one day of the UTC date (offsets run from -12 to +14 hours).
    low = date.min if first is None else utc_day + timedelta(days=first - 1)
    return low, utc_day + timedelta(days=last + 1)


async def expiring_stock(
    conn: Connection,
    *,
    at: datetime,
    first: int | None,
    last: int,
    location_id: int | None,
    product_id: int | None,
    active_only: bool,
) -> list[Record]:
    """Stock of lots expiring `first` (None: any time) to `last` days after each location's local date at `at`."""
    low, high = expiry_bounds(at, first, last)
    rows: list[Record] = await conn.fetch(
        EXPIRY_SELECT, at, first, last, location_id, product_id, active_only, low, high
    )
    return rows


async def pair_demand(
    conn: Connection, *, products: list[int], locations: list[int], at: datetime, within_days: int
) -> list[Record]:
    """Per pair: use over the trailing 28 local days and booked course use per local day through `within_days`."""
    rows: list[Record] = await conn.fetch(_PAIR_DEMAND, products, locations, at, within_days)
    return rows
