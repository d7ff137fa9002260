"""A reorder alert's arithmetic in plain words, in the page's language.

The figures are the ones `domain.reorder.evaluate` kept on the alert (`ReorderFigures.as_details`), read back
through `services.reorder_alerts`; nothing is recomputed here, only put into a sentence:
usable on hand - stock that will expire before it can be used - expected use over the lead time
= what is left when an order placed today arrives; at or below the reorder point, order up to the par level.
The lead time is the stock rule's unless the alert says it is a supplier's; then the supplier is named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inventory.web.i18n import format_number, gettext, ngettext

MINUS = "\u2212"  # the minus sign (U+2212): a hyphen before a figure reads as a dash


def signed(value: float | int) -> str:
    """A figure in the page's locale, negative ones with a minus sign."""
    text = format_number(value)
    return MINUS + text[1:] if text.startswith("-") else text


def _comparison(projected: float, point: int) -> str:
    if projected < point:
        return gettext("below the reorder point %(point)s") % {"point": signed(point)}
    if projected == point:
        return gettext("at the reorder point %(point)s") % {"point": signed(point)}
    return gettext("above the reorder point %(point)s") % {"point": signed(point)}


def _order(quantity: int, par: int, box: int) -> str:
    if box > 1:
        return gettext("order %(quantity)s (whole boxes of %(box)s) to reach the par level %(par)s") % {
            "quantity": signed(quantity),
            "box": signed(box),
            "par": signed(par),
        }
    return gettext("order %(quantity)s to reach the par level %(par)s") % {
        "quantity": signed(quantity),
        "par": signed(par),
    }


def why(alert: Mapping[str, Any]) -> str:
    """The sentence for one alert as `reorder_alerts.list_reorder` returns it (older alerts may lack figures)."""
    on_hand = int(alert["usable_on_hand"])
    point, par = int(alert["reorder_point"]), int(alert["par_level"])
    order = _order(int(alert["suggested_quantity"]), par, int(alert.get("box_size") or 1))
    terms = [gettext("Usable on hand %(on_hand)s") % {"on_hand": signed(on_hand)}]
    days = alert.get("lead_time_days")
    projected = alert.get("projected_at_arrival")
    if days is None or projected is None:  # an alert stored before its figures were kept
        return gettext("%(terms)s, %(comparison)s: %(order)s.") % {
            "terms": terms[0],
            "comparison": _comparison(on_hand, point),
            "order": order,
        }
    expiring = float(alert.get("expiring_unused") or 0)
    if expiring > 0:
        terms.append(gettext("%(quantity)s that will expire before it can be used") % {"quantity": signed(expiring)})
    demand = float(alert.get("forecast_demand") or 0)
    use = ngettext(
        "expected use %(demand)s over %(days)s day", "expected use %(demand)s over %(days)s days", int(days)
    ) % {"demand": signed(demand), "days": signed(int(days))}
    notes = []
    supplier = alert.get("lead_time_supplier")
    if alert.get("lead_time_source") == "supplier" and supplier:
        notes.append(gettext("the lead time of supplier %(supplier)s") % {"supplier": supplier["name"]})
    if demand > 0:
        notes.append(
            gettext("%(booked)s booked for course sessions + %(trend)s at the pace of the last 28 days")
            % {
                "booked": signed(int(alert.get("forecast_courses") or 0)),
                "trend": signed(alert.get("forecast_trend") or 0),
            }
        )
    if notes:
        use = f"{use} ({'; '.join(notes)})"
    terms.append(use)
    return gettext("%(terms)s = %(projected)s when an order placed today arrives, %(comparison)s: %(order)s.") % {
        "terms": f" {MINUS} ".join(terms),
        "projected": signed(float(projected)),
        "comparison": _comparison(float(projected), point),
        "order": order,
    }
