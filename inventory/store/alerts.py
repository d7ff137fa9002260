"""Reorder alerts and their inputs: the SQL behind `services.alerting`, `alert_refresh` and `reorder_alerts`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from asyncpg import Record

from inventory.db import Connection

# ------------------------------------------------------------------ evaluation (inside stock-changing transactions)

# Row locks (not advisory locks) serialise evaluations: they cost no shared lock-table slots however many
# pairs a refresh locks. Pairs without a rule can only have their alert resolved, which is race-free.
_LOCK = """
SELECT 1 FROM stock_rule
WHERE (product, location) IN (SELECT * FROM unnest($1::int[], $2::int[]))
ORDER BY product, location
FOR NO KEY UPDATE
"""


# $3 = the instant of evaluation; each pair's `today` is the local date at its location then, and day bounds are
# local midnights (`day::timestamp AT TIME ZONE zone`) as UTC instants. Booked demand is gathered once for all the
# pairs (one pass over the planned sessions of their locations), not once per pair; the arithmetic keeps each
# rule's window.
# The lead time is the supplier's where one sells the product (the soonest: the one from-alerts orders from;
# the domain's `lead_time_for` picks it from the arrays, in the same order), else the rule's.
def lead_time_sql(product: str, rule_lead: str) -> str:
    """SQL for the lead time of a product in the reorder arithmetic: its soonest supplier's, else the rule's."""
    soonest = f"SELECT min(sp.lead_time_days) FROM supplier_product sp WHERE sp.product = {product}"
    return f"coalesce(({soonest}), {rule_lead})"


_GATHER = """
WITH pairs AS (
    SELECT p.product, p.location, r.id AS rule_id, r.reorder_point, r.par_level,
           r.lead_time_days AS rule_lead_time_days, coalesce(sup.soonest, r.lead_time_days) AS lead_time_days,
           sup.supplier_ids, sup.supplier_names, sup.supplier_leads,
           o.timezone, ($3::timestamptz AT TIME ZONE o.timezone)::date AS today
    FROM unnest($1::int[], $2::int[]) AS p(product, location)
    JOIN location o ON o.id = p.location
    LEFT JOIN stock_rule r ON r.product = p.product AND r.location = p.location
    LEFT JOIN LATERAL (
        SELECT min(sp.lead_time_days) AS soonest,
               array_agg(sp.supplier ORDER BY sp.lead_time_days, sp.supplier) AS supplier_ids,
               array_agg(s.name ORDER BY sp.lead_time_days, sp.supplier) AS supplier_names,
               array_agg(sp.lead_time_days ORDER BY sp.lead_time_days, sp.supplier) AS supplier_leads
        FROM supplier_product sp JOIN supplier s ON s.id = sp.supplier
        WHERE r.id IS NOT NULL AND sp.product = p.product
    ) sup ON true
), places AS (
    SELECT location, timezone, today, max(lead_time_days) AS longest
    FROM pairs WHERE rule_id IS NOT NULL GROUP BY location, timezone, today
), booked AS (
    SELECT x.product, x.location, array_agg(x.day ORDER BY x.day) AS days,
           array_agg(x.quantity ORDER BY x.day) AS quantities
    FROM (
        SELECT cp.product, t.location, (t.scheduled_for AT TIME ZONE z.timezone)::date AS day,
               sum(cp.quantity) AS quantity
        FROM places z
        JOIN treatment_session t ON t.location = z.location
        JOIN course_product cp ON cp.course = t.course
        WHERE t.status = 'planned'
          AND cp.product = ANY(SELECT DISTINCT product FROM pairs WHERE rule_id IS NOT NULL)
          AND t.scheduled_for >= (z.today::timestamp AT TIME ZONE z.timezone)
          AND t.scheduled_for < ((z.today + z.longest)::timestamp AT TIME ZONE z.timezone)
        GROUP BY 1, 2, 3
    ) x
    GROUP BY 1, 2
)
SELECT p.product, p.location, p.today, p.reorder_point, p.par_level, p.lead_time_days, p.rule_lead_time_days,
       p.supplier_ids, p.supplier_names, p.supplier_leads,
       a.id AS alert_id, a.details AS alert_details,
       coalesce(box.units, 1) * box.size AS box_size,
       stock.expiries, stock.quantities, coalesce(trend.used, 0) AS used,
       b.days, b.quantities AS booked_quantities, coalesce(ordered.on_order, 0) * box.size AS on_order
FROM pairs p
LEFT JOIN reorder_alert a ON a.product = p.product AND a.location = p.location AND a.status = 'open'
LEFT JOIN booked b ON b.product = p.product AND b.location = p.location AND p.rule_id IS NOT NULL
LEFT JOIN LATERAL (
    -- Packs and orders count containers; the arithmetic counts the product's unit (ml, U or each).
    SELECT max(g.units) AS units, (SELECT pr.container_quantity FROM product pr WHERE pr.id = p.product) AS size
    FROM product_gtin g WHERE g.product = p.product AND p.rule_id IS NOT NULL
) box ON true
LEFT JOIN LATERAL (
    SELECT array_agg(x.expiry_date ORDER BY x.expiry_date) AS expiries,
           array_agg(x.quantity ORDER BY x.expiry_date) AS quantities
    FROM (
        SELECT l.expiry_date, sum(s.on_hand) AS quantity
        FROM lot l JOIN stock_level s ON s.lot = l.id AND s.location = p.location
        WHERE p.rule_id IS NOT NULL AND l.product = p.product AND l.status = 'active'
          AND l.expiry_date >= p.today AND s.on_hand > 0
        GROUP BY l.expiry_date
    ) x
) stock ON true
LEFT JOIN LATERAL (
    SELECT sum(u.quantity) AS used FROM usage u
    WHERE p.rule_id IS NOT NULL AND u.product = p.product AND u.location = p.location
      AND u.used_at >= ((p.today - 28)::timestamp AT TIME ZONE p.timezone)
      AND u.used_at < (p.today::timestamp AT TIME ZONE p.timezone)
      AND u.voided_at IS NULL
) trend ON true
LEFT JOIN LATERAL (
    SELECT sum(greatest(ol.quantity - ol.received, 0))::int AS on_order
    FROM purchase_order o JOIN purchase_order_line ol ON ol.purchase_order = o.id
    WHERE p.rule_id IS NOT NULL AND o.location = p.location AND ol.product = p.product
      AND o.status IN ('sent', 'partially_received')
) ordered ON true
"""

_WRITE = """
WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(product int, location int, alert bool, details jsonb)
), resolved AS (
    UPDATE reorder_alert a
    SET status = 'resolved', resolved_at = $2, updated_at = $2, details = coalesce(i.details, a.details)
    FROM input i
    WHERE NOT i.alert AND a.product = i.product AND a.location = i.location AND a.status = 'open'
    RETURNING a.id, a.details
), opened AS (
    INSERT INTO reorder_alert (product, location, status, details, opened_at, updated_at)
    SELECT product, location, 'open', details, $2, $2 FROM input WHERE alert
    ON CONFLICT (product, location) WHERE status = 'open'
    DO UPDATE SET details = EXCLUDED.details, updated_at = EXCLUDED.updated_at
    WHERE reorder_alert.details IS DISTINCT FROM EXCLUDED.details
    RETURNING id, details, (xmax = 0) AS inserted
), logged AS (
    INSERT INTO audit_event (actor, action, entity, entity_id, details, created_at)
    SELECT NULL::int, 'reorder_alert.resolve', 'reorder_alert', id, details, $2 FROM resolved
    UNION ALL
    SELECT NULL::int, 'reorder_alert.open', 'reorder_alert', id, details, $2 FROM opened WHERE inserted
)
SELECT (SELECT count(*) FROM resolved) AS resolved, (SELECT count(*) FROM opened WHERE inserted) AS opened
"""


async def lock_rules(conn: Connection, products: list[int], locations: list[int]) -> None:
    """Lock the stock rules of the (product, location) pairs given as two parallel lists, in a fixed order."""
    await conn.execute(_LOCK, products, locations)


async def gather(conn: Connection, *, products: list[int], locations: list[int], at: datetime) -> list[Record]:
    """Every input of the reorder arithmetic at instant `at`, the open alert and `today` (local), of each pair."""
    rows: list[Record] = await conn.fetch(_GATHER, products, locations, at)
    return rows


async def write_changes(conn: Connection, changes: list[dict[str, Any]], now: datetime) -> tuple[int, int]:
    """Open, update or resolve alerts (product, location, alert, details) and audit them; returns (opened, resolved)."""
    result = await conn.fetchrow(_WRITE, changes, now)
    assert result is not None
    return int(result["opened"]), int(result["resolved"])


# ------------------------------------------------------------------ keeping alerts up to date

# The newest refresh event covering each location ($1, or all with $1 NULL): its own (entity_id = its id) and
# the newest one of all locations (entity_id 0). Refresh events are audit events of entity
# `reorder_alert_refresh`, so each look-up is one backward step on the (entity, entity_id, id DESC) index.
_WATERMARKS = """
WITH everywhere AS (
    SELECT details FROM audit_event WHERE entity = 'reorder_alert_refresh' AND entity_id = 0 ORDER BY id DESC LIMIT 1
)
SELECT o.id, o.timezone, (SELECT details FROM everywhere) AS everywhere, own.details AS own
FROM location o
LEFT JOIN LATERAL (
    SELECT details FROM audit_event WHERE entity = 'reorder_alert_refresh' AND entity_id = o.id
    ORDER BY id DESC LIMIT 1
) own ON true
WHERE $1::int IS NULL OR o.id = $1
ORDER BY o.id
"""

_ALL_PAIRS = """
SELECT product, location FROM stock_rule WHERE $1::int IS NULL OR location = $1
UNION SELECT product, location FROM reorder_alert WHERE status = 'open' AND ($1::int IS NULL OR location = $1)
"""

# Pairs at the locations $1 whose arithmetic the calendar may have changed between their local day $2 (last
# evaluated) and their local day $3 (today): open alerts (may resolve); use of days [$2, $3) entering the trend
# window; lots expiring in [$2, $3 + lead) (expired overnight, entering the lead-time window, or consumed
# differently now); planned course sessions in [$3, $3 + lead). Everything else can only lower demand, which
# changes nothing for a pair with no open alert and no lot expiring within its lead time. Day bounds are local
# midnights at each location.
_LEAD = lead_time_sql("r.product", "r.lead_time_days")
_CHANGED_PAIRS = f"""
WITH places AS (
    SELECT x.id, x.since, x.today, o.timezone,
           (SELECT coalesce(max({_LEAD}), 0) FROM stock_rule r WHERE r.location = x.id) AS longest
    FROM unnest($1::int[], $2::date[], $3::date[]) AS x(id, since, today) JOIN location o ON o.id = x.id
)
SELECT a.product, a.location FROM places o JOIN reorder_alert a ON a.location = o.id AND a.status = 'open'
UNION
SELECT r.product, r.location FROM places o
CROSS JOIN LATERAL (
    SELECT DISTINCT u.product FROM usage u
    WHERE u.location = o.id AND u.used_at >= (o.since::timestamp AT TIME ZONE o.timezone)
      AND u.used_at < (o.today::timestamp AT TIME ZONE o.timezone)
) u
JOIN stock_rule r ON r.product = u.product AND r.location = o.id
UNION
SELECT r.product, r.location FROM places o
JOIN stock_level s ON s.location = o.id AND s.on_hand > 0
JOIN lot l ON l.id = s.lot
JOIN stock_rule r ON r.product = l.product AND r.location = s.location
WHERE l.status = 'active' AND l.expiry_date >= o.since AND l.expiry_date < o.today + o.longest
  AND l.expiry_date < o.today + {_LEAD}
UNION
SELECT r.product, r.location FROM places o
CROSS JOIN LATERAL (
    SELECT DISTINCT cp.product, t.scheduled_for FROM treatment_session t
    JOIN course_product cp ON cp.course = t.course
    WHERE t.location = o.id AND t.status = 'planned'
      AND t.scheduled_for >= (o.today::timestamp AT TIME ZONE o.timezone)
      AND t.scheduled_for < ((o.today + o.longest)::timestamp AT TIME ZONE o.timezone)
) t
JOIN stock_rule r ON r.product = t.product AND r.location = o.id
WHERE t.scheduled_for < ((o.today + {_LEAD})::timestamp AT TIME ZONE o.timezone)
"""


async def watermarks(conn: Connection, location_id: int | None) -> list[Record]:
    """Per location (one, or all with None): id, timezone and the newest refresh events covering it (or None)."""
    rows: list[Record] = await conn.fetch(_WATERMARKS, location_id)
    return rows


async def all_pairs(conn: Connection, location_id: int | None) -> list[tuple[int, int]]:
    """Every (product, location) with a stock rule or an open alert, at one location or everywhere."""
    return [(r["product"], r["location"]) for r in await conn.fetch(_ALL_PAIRS, location_id)]


async def changed_pairs(conn: Connection, places: list[tuple[int, date, date]]) -> list[tuple[int, int]]:
    """Pairs the calendar may have changed at each (location, since, today), in the location's local days."""
    ids = [place for place, _, _ in places]
    since = [day for _, day, _ in places]
    today = [day for _, _, day in places]
    return [(r["product"], r["location"]) for r in await conn.fetch(_CHANGED_PAIRS, ids, since, today)]


# ------------------------------------------------------------------ reorder alerts

# The single unit's GTIN of every product, joined once rather than looked up row by row.
UNIT_GTINS = "SELECT DISTINCT ON (product) product, gtin FROM product_gtin WHERE units = 1 ORDER BY product, id"

ALERT_SELECT = f"""
SELECT a.id, a.status, a.details, a.opened_at, a.updated_at, a.resolved_at, a.acknowledged_at,
       a.acknowledged_by, u.email AS acknowledged_by_email,
       p.id AS product_id, p.name AS product_name, b.id AS brand_id, b.name AS brand_name, g.gtin,
       o.id AS location_id, o.name AS location_name, o.timezone AS location_timezone
FROM reorder_alert a
JOIN product p ON p.id = a.product JOIN brand b ON b.id = p.brand JOIN location o ON o.id = a.location
LEFT JOIN app_user u ON u.id = a.acknowledged_by
LEFT JOIN ({UNIT_GTINS}) g ON g.product = p.id
"""


# Pairs that alert as of now but have no open alert yet (the nightly refresh or the next stock change opens
# it): listed among the alerts without an id, so the read shows what the refresh would write.
_PENDING_SELECT = f"""
SELECT NULL::int AS id, 'open'::text AS status, NULL::jsonb AS details, NULL::timestamptz AS opened_at,
       NULL::timestamptz AS updated_at, NULL::timestamptz AS resolved_at, NULL::timestamptz AS acknowledged_at,
       NULL::int AS acknowledged_by, NULL::text AS acknowledged_by_email,
       p.id AS product_id, p.name AS product_name, b.id AS brand_id, b.name AS brand_name, g.gtin,
       o.id AS location_id, o.name AS location_name, o.timezone AS location_timezone
FROM unnest($6::int[], $7::int[]) AS x(product, location)
JOIN product p ON p.id = x.product JOIN brand b ON b.id = p.brand JOIN location o ON o.id = x.location
LEFT JOIN ({UNIT_GTINS}) g ON g.product = p.id
"""


async def list_alerts(
    conn: Connection,
    *,
    status: str,
    location_id: int | None,
    product_id: int | None,
    limit: int | None,
    offset: int,
    pending: list[tuple[int, int]] | None = None,
    resolved_now: list[int] | None = None,
) -> list[Record]:
    """Alerts with product, location and acknowledger; open ones by location and product, others newest first.

    `pending` (product, location) pairs are listed as open alerts without an id; open alerts in `resolved_now`
    count as resolved: what a refresh would write now, read without writing it.
    """
    filters = " AND ($2::int IS NULL OR a.location = $2) AND ($3::int IS NULL OR a.product = $3)"
    if not pending and not resolved_now:  # every alert in scope is current: the plain, indexed query
        order = "a.location, lower(p.name), a.id" if status == "open" else "a.updated_at DESC, a.id DESC"
        rows: list[Record] = await conn.fetch(
            f"{ALERT_SELECT} WHERE ($1::text = 'all' OR a.status = $1){filters} ORDER BY {order} LIMIT $4 OFFSET $5",
            status,
            location_id,
            product_id,
            limit,
            offset,
        )
        return rows
    order = "location_id, lower(product_name), id" if status == "open" else "updated_at DESC NULLS FIRST, id DESC"
    now_status = "(CASE WHEN a.id = ANY($8::int[]) THEN 'resolved' ELSE a.status END)"
    rows = await conn.fetch(
        f"SELECT * FROM ({ALERT_SELECT} WHERE ($1::text = 'all' OR {now_status} = $1){filters}"
        f" UNION ALL {_PENDING_SELECT} WHERE $1::text <> 'resolved') q"
        f" ORDER BY {order} LIMIT $4 OFFSET $5",
        status,
        location_id,
        product_id,
        limit,
        offset,
        [product for product, _ in pending or ()],
        [location for _, location in pending or ()],
        list(resolved_now or ()),
    )
    return rows


async def open_alerts(conn: Connection, pairs: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """The id of the open alert of each of these (product, location) pairs that has one."""
    rows = await conn.fetch(
        "SELECT a.id, a.product, a.location FROM reorder_alert a"
        " JOIN unnest($1::int[], $2::int[]) AS x(product, location)"
        " ON a.product = x.product AND a.location = x.location"
        " WHERE a.status = 'open'",
        [product for product, _ in pairs],
        [location for _, location in pairs],
    )
    return {(r["product"], r["location"]): int(r["id"]) for r in rows}


async def get_alert(conn: Connection, alert_id: int) -> Record | None:
    """One alert with product, location and acknowledger."""
    row: Record | None = await conn.fetchrow(ALERT_SELECT + " WHERE a.id = $1", alert_id)
    return row


async def lock_alert(conn: Connection, alert_id: int) -> Record | None:
    """An alert's id, status, acknowledged_at and acknowledged_by, locked for the rest of the transaction."""
    row: Record | None = await conn.fetchrow(
        "SELECT id, status, acknowledged_at, acknowledged_by FROM reorder_alert WHERE id = $1 FOR UPDATE", alert_id
    )
    return row


async def acknowledge(conn: Connection, *, alert_id: int, at: datetime, user_id: int) -> None:
    """Record who acknowledged an alert and when."""
    await conn.execute(
        "UPDATE reorder_alert SET acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1",
        alert_id,
        at,
        user_id,
    )


async def unacknowledge(conn: Connection, *, alert_id: int) -> None:
    """Clear who acknowledged an alert and when."""
    await conn.execute(
        "UPDATE reorder_alert SET acknowledged_at = NULL, acknowledged_by = NULL WHERE id = $1", alert_id
    )
