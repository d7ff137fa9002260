"""Purchasing rules without a database: grouping needs into drafts, packs, states, lateness, on order."""

from __future__ import annotations

from datetime import date

import pytest

from inventory.domain import purchasing as p
from inventory.domain.errors import Conflict
from inventory.domain.reorder import LeadTime, LotStock, ReorderInputs, Rule, evaluate

TODAY = date(2027, 3, 1)


def test_quantities_round_up_to_whole_packs() -> None:
    assert p.packs_for(17, 6) == 3
    assert p.packs_for(18, 6) == 3
    assert p.packs_for(19, 6) == 4
    assert p.packs_for(1, 1) == 1
    assert p.packs_for(0, 6) == 0


def test_one_draft_per_supplier_and_location() -> None:
    needs = [p.Need(1, 10, 17), p.Need(2, 10, 5), p.Need(1, 20, 3), p.Need(3, 10, 4)]
    offers = [p.Offer(100, 1, 6, 3), p.Offer(100, 2, 1, 3), p.Offer(200, 3, 10, 2)]
    plan = p.plan_orders(needs, offers)
    assert [(o.supplier_id, o.location_id) for o in plan.orders] == [(100, 10), (100, 20), (200, 10)]
    assert plan.orders[0].lines == (p.PlannedLine(1, 18, 3), p.PlannedLine(2, 5, 5))
    assert plan.orders[1].lines == (p.PlannedLine(1, 6, 1),)
    assert plan.orders[2].lines == (p.PlannedLine(3, 10, 1),)
    assert plan.unassigned == ()


def test_a_product_no_supplier_sells_is_reported_not_dropped() -> None:
    plan = p.plan_orders([p.Need(1, 10, 7), p.Need(2, 10, 3)], [p.Offer(100, 2, 1, 0)])
    assert plan.unassigned == (p.Unassigned(1, 10, 7),)
    assert [line.product_id for line in plan.orders[0].lines] == [2]


def test_what_is_already_drafted_is_not_ordered_again() -> None:
    offers = [p.Offer(100, 1, 6, 0)]
    assert p.plan_orders([p.Need(1, 10, 18)], offers, {(1, 10): 18}).orders == ()
    assert p.plan_orders([p.Need(1, 10, 18)], offers, {(1, 10): 30}).orders == ()
    plan = p.plan_orders([p.Need(1, 10, 20)], offers, {(1, 10): 18})
    assert plan.orders[0].lines == (p.PlannedLine(1, 6, 1),)  # 2 more units: one more pack


def test_the_soonest_supplier_wins_then_the_lowest_id() -> None:
    offers = [p.Offer(300, 1, 1, 5), p.Offer(200, 1, 1, 2), p.Offer(100, 1, 1, 2)]
    assert p.choose_offer(offers) == p.Offer(100, 1, 1, 2)
    assert p.choose_offer([]) is None


def test_status_after_a_receipt() -> None:
    assert p.status_after_receipt([p.LineState(10, 4)]) == "partially_received"
    assert p.status_after_receipt([p.LineState(10, 10), p.LineState(5, 6)]) == "received"
    assert p.status_after_receipt([p.LineState(10, 10), p.LineState(0, 3)]) == "received"  # an extra product
    assert p.status_after_receipt([p.LineState(10, 12), p.LineState(5, 0)]) == "partially_received"


def test_outstanding_never_goes_below_zero() -> None:
    assert p.outstanding(p.LineState(10, 4)) == 6
    assert p.outstanding(p.LineState(10, 14)) == 0


def test_an_order_is_late_only_while_it_is_owed() -> None:
    yesterday = date(2027, 2, 28)
    assert p.is_late("sent", yesterday, TODAY)
    assert p.is_late("partially_received", yesterday, TODAY)
    assert not p.is_late("sent", TODAY, TODAY)
    assert not p.is_late("received", yesterday, TODAY)
    assert not p.is_late("cancelled", yesterday, TODAY)
    assert not p.is_late("draft", None, TODAY)


@pytest.mark.parametrize(
    ("check", "allowed"),
    [
        (p.check_editable, {"draft"}),
        (p.check_sendable, {"draft"}),
        (p.check_cancellable, {"draft", "sent", "partially_received"}),
        (p.check_receivable, {"sent", "partially_received", "received"}),
    ],
)
def test_transitions(check: object, allowed: set[str]) -> None:
    assert callable(check)
    for status in p.STATUSES:
        if status in allowed:
            check(7, status)
        else:
            with pytest.raises(Conflict) as refused:
                check(7, status)
            assert refused.value.code == "invalid_transition"


def _inputs(on_order: int) -> ReorderInputs:
    return ReorderInputs(
        today=TODAY,
        rule=Rule(reorder_point=5, par_level=20, lead_time_days=0),
        box_size=1,
        lots=(LotStock(date(2028, 1, 1), 3),),
        used_last_28_days=0,
        on_order=on_order,
    )


def test_on_order_adds_to_the_projection_and_lowers_the_suggestion() -> None:
    nothing = evaluate(_inputs(0))
    assert (nothing.alert, nothing.suggested_quantity, nothing.on_order) == (True, 17, 0)
    assert nothing.as_details()["on_order"] == 0
    some = evaluate(_inputs(10))
    assert (some.alert, some.suggested_quantity) == (False, 7)
    assert some.as_details()["projected_at_arrival"] == 13
    assert some.as_details()["on_order"] == 10
    enough = evaluate(_inputs(17))
    assert enough.suggested_quantity == 0


def test_on_order_is_never_negative() -> None:
    assert evaluate(_inputs(-5)).as_details() == evaluate(_inputs(0)).as_details()


# ------------------------------------------------------------------ the lead time of the arithmetic


def test_the_lead_time_is_the_soonest_suppliers_then_the_lowest_id_else_the_rules() -> None:
    from inventory.domain.reorder import SupplierLead, lead_time_for

    assert lead_time_for(7, []) == LeadTime(days=7, source="rule")
    suppliers = [SupplierLead(9, "Slow", 10), SupplierLead(4, "Later id", 2), SupplierLead(3, "Lower id", 2)]
    assert lead_time_for(7, suppliers) == LeadTime(days=2, source="supplier", supplier_id=3, supplier_name="Lower id")
    assert lead_time_for(0, [SupplierLead(9, "Slow", 10)]).days == 10  # longer than the rule's: still the supplier's


def test_the_lead_time_supplier_is_the_one_from_alerts_orders_from() -> None:
    from inventory.domain.reorder import SupplierLead, lead_time_for

    offers = [p.Offer(5, 1, 6, 4), p.Offer(2, 1, 10, 4), p.Offer(8, 1, 1, 1)]
    plan = p.plan_orders([p.Need(1, 1, 10)], offers)
    chosen = lead_time_for(0, [SupplierLead(o.supplier_id, "", o.lead_time_days) for o in offers])
    assert [o.supplier_id for o in plan.orders] == [chosen.supplier_id] == [8]


def test_the_arithmetic_uses_the_suppliers_lead_time_and_says_so() -> None:
    base = ReorderInputs(
        today=TODAY,
        rule=Rule(reorder_point=2, par_level=10, lead_time_days=1),
        box_size=1,
        lots=(LotStock(date(2028, 1, 1), 6),),
        used_last_28_days=28,  # one a day
    )
    by_rule = evaluate(base)
    assert (by_rule.forecast_trend_x28 // 28, by_rule.alert) == (1, False)
    details = by_rule.as_details()
    assert (details["lead_time_days"], details["lead_time_source"], details["lead_time_supplier"]) == (1, "rule", None)
    by_supplier = evaluate(
        ReorderInputs(**{**base.__dict__, "lead_time": LeadTime(5, "supplier", supplier_id=3, supplier_name="Acme")})
    )
    assert (by_supplier.forecast_trend_x28 // 28, by_supplier.alert) == (5, True)  # 6 - 5 = 1 <= 2
    details = by_supplier.as_details()
    assert details["lead_time_days"] == 5
    assert details["lead_time_source"] == "supplier"
    assert details["lead_time_supplier"] == {"id": 3, "name": "Acme"}
    assert details["rule_lead_time_days"] == 1


def test_over_delivered_is_what_came_beyond_the_line() -> None:
    assert p.over_delivered(p.LineState(quantity=10, received=4)) == 0
    assert p.over_delivered(p.LineState(quantity=10, received=10)) == 0
    assert p.over_delivered(p.LineState(quantity=10, received=13)) == 3
    assert p.over_delivered(p.LineState(quantity=0, received=2)) == 2  # a product the order did not name
