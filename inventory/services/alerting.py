"""Reorder alerts kept right inside every stock-changing transaction, and the same arithmetic for a read.

`reevaluate` costs three round trips whatever the number of pairs: lock the pairs' stock rules (so two
concurrent changes of one product at one location evaluate one after the other, the second seeing the
first's commit), gather every input in one set-based query, then open, update or resolve the alerts (and
audit those transitions) in one statement. Pairs whose outcome did not change are not written at all.
The arithmetic is `inventory.domain.reorder.evaluate`; the statements are in `inventory.store.alerts`.
`figures_now` runs the same gathering and arithmetic without locking or writing, for views as of now.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from inventory import db
from inventory.db import Connection
from inventory.domain.quantities import Quantity, plain
from inventory.domain.reorder import SupplierLead, evaluate_in_unit, lead_time_for
from inventory.store import alerts as store


def figures_of(row: Any, today: date) -> tuple[bool, dict[str, Any]]:
    """Whether to alert, and the figures, from one gathered row (which must have a rule), in the product's unit."""
    expiries: Sequence[date] = row["expiries"] or ()
    quantities: Sequence[Quantity] = row["quantities"] or ()
    days: Sequence[date] = row["days"] or ()
    booked: Sequence[Quantity] = row["booked_quantities"] or ()
    rule_lead = int(row["rule_lead_time_days"])
    suppliers = [
        SupplierLead(i, n, d)
        for i, n, d in zip(
            row["supplier_ids"] or (), row["supplier_names"] or (), row["supplier_leads"] or (), strict=True
        )
    ]
    return evaluate_in_unit(
        today=today,
        rule=(plain(row["reorder_point"]), plain(row["par_level"]), rule_lead),
        lead_time=lead_time_for(rule_lead, suppliers),
        box_size=plain(row["box_size"]),
        lots=tuple(zip(expiries, quantities, strict=True)),
        used_last_28_days=plain(row["used"]),
        planned=tuple(zip(days, booked, strict=True)),
        on_order=plain(row["on_order"]),
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
    now = db.now()  # the transaction's instant: alert times and "today" at each location agree with its rows
    products = [product for product, _ in unique]
    locations = [location for _, location in unique]
    if not rules_locked:
        await store.lock_rules(conn, products, locations)
    rows = await store.gather(conn, products=products, locations=locations, at=now)
    changes: list[dict[str, Any]] = []
    for row in rows:
        if row["reorder_point"] is None:
            if row["alert_id"] is not None:  # the rule went away: nothing to reorder against
                changes.append(
                    {"product": row["product"], "location": row["location"], "alert": False, "details": None}
                )
            continue
        alert, details = figures_of(row, row["today"])  # each location's own local date
        if alert:
            if row["alert_id"] is not None and row["alert_details"] == details:
                continue
        elif row["alert_id"] is None:
            continue
        changes.append({"product": row["product"], "location": row["location"], "alert": alert, "details": details})
    if not changes:
        return 0, 0
    return await store.write_changes(conn, changes, now)


async def figures_now(
    conn: Connection, pairs: Iterable[tuple[int, int]], at: datetime
) -> dict[tuple[int, int], tuple[bool, dict[str, Any] | None]]:
    """Per pair at instant `at`: whether it alerts and its figures (None without a rule); reads only, locks nothing."""
    unique = sorted(set(pairs))
    if not unique:
        return {}
    rows = await store.gather(
        conn, products=[product for product, _ in unique], locations=[location for _, location in unique], at=at
    )
    live: dict[tuple[int, int], tuple[bool, dict[str, Any] | None]] = {}
    for row in rows:
        if row["reorder_point"] is None:
            live[(row["product"], row["location"])] = (False, None)
            continue
        live[(row["product"], row["location"])] = figures_of(row, row["today"])
    return live
