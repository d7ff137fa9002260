"""Reorder alerts kept right inside every stock-changing transaction.

`reevaluate` costs three round trips whatever the number of pairs: lock the pairs' stock rules (so two
concurrent changes of one product at one location evaluate one after the other, the second seeing the
first's commit), gather every input in one set-based query, then open, update or resolve the alerts (and
audit those transitions) in one statement. Pairs whose outcome did not change are not written at all.
The arithmetic is `inventory.domain.reorder.evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from inventory import clock
from inventory.db import Connection
from inventory.domain.reorder import LotStock, PlannedUse, ReorderInputs, Rule, evaluate

# Row locks (not advisory locks) serialise evaluations: they cost no shared lock-table slots however many
# pairs a refresh locks. Pairs without a rule can only have their alert resolved, which is race-free.
_LOCK = """
SELECT 1 FROM stock_rule
WHERE (product, location) IN (SELECT * FROM unnest($1::int[], $2::int[]))
ORDER BY product, location
FOR NO KEY UPDATE
"""

# $3 = today. Days are UTC days, like clock.today(). Booked demand is gathered once for all the pairs (one pass
# over the planned sessions of their locations), not once per pair; the arithmetic keeps each rule's window.
_GATHER = """
WITH pairs AS (
    SELECT p.product, p.location, r.id AS rule_id, r.reorder_point, r.par_level, r.lead_time_days
    FROM unnest($1::int[], $2::int[]) AS p(product, location)
    LEFT JOIN stock_rule r ON r.product = p.product AND r.location = p.location
), booked AS (
    SELECT x.product, x.location, array_agg(x.day ORDER BY x.day) AS days,
           array_agg(x.quantity ORDER BY x.day) AS quantities
    FROM (
        SELECT cp.product, t.location, (t.scheduled_for AT TIME ZONE 'UTC')::date AS day,
               sum(cp.quantity)::int AS quantity
        FROM treatment_session t JOIN course_product cp ON cp.course = t.course
        WHERE t.status = 'planned'
          AND t.location = ANY(SELECT DISTINCT location FROM pairs WHERE rule_id IS NOT NULL)
          AND cp.product = ANY(SELECT DISTINCT product FROM pairs WHERE rule_id IS NOT NULL)
          AND t.scheduled_for >= ($3::date::timestamp AT TIME ZONE 'UTC')
          AND t.scheduled_for < (($3::date + (SELECT coalesce(max(lead_time_days), 0) FROM pairs))::timestamp
                                 AT TIME ZONE 'UTC')
        GROUP BY 1, 2, 3
    ) x
    GROUP BY 1, 2
)
SELECT p.product, p.location, p.reorder_point, p.par_level, p.lead_time_days,
       a.id AS alert_id, a.details AS alert_details,
       coalesce(box.units, 1) AS box_size,
       stock.expiries, stock.quantities, coalesce(trend.used, 0) AS used,
       b.days, b.quantities AS booked_quantities
FROM pairs p
LEFT JOIN reorder_alert a ON a.product = p.product AND a.location = p.location AND a.status = 'open'
LEFT JOIN booked b ON b.product = p.product AND b.location = p.location AND p.rule_id IS NOT NULL
LEFT JOIN LATERAL (
    SELECT max(g.units) AS units FROM product_gtin g WHERE g.product = p.product AND p.rule_id IS NOT NULL
) box ON true
LEFT JOIN LATERAL (
    SELECT array_agg(x.expiry_date ORDER BY x.expiry_date) AS expiries,
           array_agg(x.quantity ORDER BY x.expiry_date) AS quantities
    FROM (
        SELECT l.expiry_date, sum(s.on_hand)::int AS quantity
        FROM lot l JOIN stock_level s ON s.lot = l.id AND s.location = p.location
        WHERE p.rule_id IS NOT NULL AND l.product = p.product AND l.status = 'active'
          AND l.expiry_date >= $3::date AND s.on_hand > 0
        GROUP BY l.expiry_date
    ) x
) stock ON true
LEFT JOIN LATERAL (
    SELECT sum(u.quantity)::int AS used FROM usage u
    WHERE p.rule_id IS NOT NULL AND u.product = p.product AND u.location = p.location
      AND u.used_at >= (($3::date - 28)::timestamp AT TIME ZONE 'UTC')
      AND u.used_at < ($3::date::timestamp AT TIME ZONE 'UTC')
      AND u.voided_at IS NULL
) trend ON true
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
    SELECT NULL::int, 'reorder_alert.resolve', 'reorder_alert', id, details, now() FROM resolved
    UNION ALL
    SELECT NULL::int, 'reorder_alert.open', 'reorder_alert', id, details, now() FROM opened WHERE inserted
)
SELECT (SELECT count(*) FROM resolved) AS resolved, (SELECT count(*) FROM opened WHERE inserted) AS opened
"""


def inputs_of(row: Any, today: date) -> ReorderInputs:
    """The pure arithmetic's inputs from one gathered row (which must have a rule)."""
    expiries: Sequence[date] = row["expiries"] or ()
    quantities: Sequence[int] = row["quantities"] or ()
    days: Sequence[date] = row["days"] or ()
    booked: Sequence[int] = row["booked_quantities"] or ()
    return ReorderInputs(
        today=today,
        rule=Rule(row["reorder_point"], row["par_level"], row["lead_time_days"]),
        box_size=int(row["box_size"]),
        lots=tuple(LotStock(e, q) for e, q in zip(expiries, quantities, strict=True)),
        used_last_28_days=int(row["used"]),
        planned=tuple(PlannedUse(d, q) for d, q in zip(days, booked, strict=True)),
    )


async def reevaluate(conn: Connection, pairs: Iterable[tuple[int, int]], *, rules_locked: bool = False) -> None:
    """Open, update or resolve the reorder alert of each (product, location) in the caller's transaction.

    `rules_locked`: the caller already locked the pairs' stock rules in an earlier statement of this
    transaction (the scan does, inside its write), which saves a round trip on the hot path.
    """
    await reevaluate_counted(conn, pairs, rules_locked=rules_locked)


async def reevaluate_counted(
    conn: Connection, pairs: Iterable[tuple[int, int]], *, rules_locked: bool = False
) -> tuple[int, int]:
    """`reevaluate`, returning how many alerts it (opened, resolved)."""
    unique = sorted(set(pairs))
    if not unique:
        return 0, 0
    today, now = clock.today(), clock.now()
    products = [product for product, _ in unique]
    locations = [location for _, location in unique]
    if not rules_locked:
        await conn.execute(_LOCK, products, locations)
    rows = await conn.fetch(_GATHER, products, locations, today)
    changes: list[dict[str, Any]] = []
    for row in rows:
        if row["reorder_point"] is None:
            if row["alert_id"] is not None:  # the rule went away: nothing to reorder against
                changes.append(
                    {"product": row["product"], "location": row["location"], "alert": False, "details": None}
                )
            continue
        figures = evaluate(inputs_of(row, today))
        details = figures.as_details()
        if figures.alert:
            if row["alert_id"] is not None and row["alert_details"] == details:
                continue
        elif row["alert_id"] is None:
            continue
        changes.append(
            {"product": row["product"], "location": row["location"], "alert": figures.alert, "details": details}
        )
    if not changes:
        return 0, 0
    result = await conn.fetchrow(_WRITE, changes, now)
    assert result is not None
    return int(result["opened"]), int(result["resolved"])
