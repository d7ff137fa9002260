"""Reorder and expiry arithmetic: the documented condition, suggested quantities and first-expiry-first-out waste."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.domain.reorder import (
    Demand,
    LotStock,
    PlannedUse,
    ReorderInputs,
    Rule,
    evaluate,
    fefo_consumption,
    round_up_to_box,
    unused_in_time,
)

TODAY = date(2026, 3, 10)


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def inputs(
    *,
    point: int = 5,
    par: int = 20,
    lead: int = 7,
    box: int = 1,
    lots: list[tuple[int, int]] | None = None,
    used: int = 0,
    planned: list[tuple[int, int]] | None = None,
) -> ReorderInputs:
    return ReorderInputs(
        today=TODAY,
        rule=Rule(point, par, lead),
        box_size=box,
        lots=tuple(LotStock(day(d), q) for d, q in (lots or [])),
        used_last_28_days=used,
        planned=tuple(PlannedUse(day(d), q) for d, q in (planned or [])),
    )


# ------------------------------------------------------------------ an independent oracle


@dataclass(frozen=True)
class Case:
    """One drawn situation: a rule, a box size, lots and demand, in days relative to TODAY."""

    point: int
    par: int
    lead: int
    box: int
    lots: list[tuple[int, int]]
    used: int
    planned: list[tuple[int, int]]

    def inputs(self, extra_lots: list[tuple[int, int]] | None = None) -> ReorderInputs:
        return inputs(
            point=self.point,
            par=self.par,
            lead=self.lead,
            box=self.box,
            lots=self.lots + (extra_lots or []),
            used=self.used,
            planned=self.planned,
        )


def simulate_waste(lots: list[tuple[int, int]], used: int, planned: list[tuple[int, int]], lead: int) -> Fraction:
    """Day by day: each day's demand is taken from the earliest-expiring lots still good; at the end of a lot's
    expiry day whatever is left of it is wasted. Only expiries before the delivery day count."""
    expiries = sorted((d, Fraction(q)) for d, q in lots if d >= 0 and q > 0)
    left = [q for _, q in expiries]
    wasted = Fraction(0)
    for today in range(lead):
        need = Fraction(used, 28) + sum(q for d, q in planned if d == today)
        for i, (expiry, _) in enumerate(expiries):
            if need <= 0:
                break
            if expiry >= today:
                take = min(left[i], need)
                left[i] -= take
                need -= take
        for i, (expiry, _) in enumerate(expiries):
            if expiry == today:
                wasted += left[i]
                left[i] = Fraction(0)
    return wasted


def oracle(case: Case) -> tuple[bool, int, Fraction]:
    """The documented condition and suggestion, computed with fractions and a day-by-day simulation."""
    usable = sum(q for d, q in case.lots if d >= 0 and q > 0)
    window = [(d, q) for d, q in case.planned if 0 <= d < case.lead]
    forecast = Fraction(case.used * case.lead, 28) + sum(q for _, q in window)
    waste = simulate_waste(case.lots, case.used, window, case.lead)
    projected = usable - waste - forecast
    need = case.par - projected
    suggested = 0 if need <= 0 else math.ceil(need / case.box) * case.box
    return projected <= case.point, suggested, waste


lots_strategy = st.lists(st.tuples(st.integers(-5, 60), st.integers(-3, 40)), max_size=6)
planned_strategy = st.lists(st.tuples(st.integers(-3, 40), st.integers(1, 6)), max_size=5)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    point = draw(st.integers(0, 50))
    return Case(
        point=point,
        par=draw(st.integers(point, 120)),
        lead=draw(st.integers(0, 30)),
        box=draw(st.integers(1, 12)),
        lots=draw(lots_strategy),
        used=draw(st.integers(0, 300)),
        planned=draw(planned_strategy),
    )


@settings(max_examples=400, deadline=None)
@given(cases())
def test_suggested_quantity_is_never_negative_and_always_whole_boxes(case: Case) -> None:
    figures = evaluate(case.inputs())
    assert figures.suggested_quantity >= 0
    assert figures.suggested_quantity % case.box == 0


@settings(max_examples=400, deadline=None)
@given(cases())
def test_alert_iff_usable_less_expiring_unused_less_forecast_is_at_or_below_reorder_point(case: Case) -> None:
    figures = evaluate(case.inputs())
    alert, suggested, waste = oracle(case)
    assert figures.alert == alert
    assert figures.suggested_quantity == suggested
    assert Fraction(figures.expiring_unused_x28, 28) == waste


@settings(max_examples=300, deadline=None)
@given(cases())
def test_suggested_quantity_tops_up_to_par_with_less_than_one_box_to_spare(case: Case) -> None:
    figures = evaluate(case.inputs())
    projected = Fraction(figures.projected_x28, 28)
    assert projected + figures.suggested_quantity >= case.par
    if figures.suggested_quantity:
        assert projected + figures.suggested_quantity - case.box < case.par


@settings(max_examples=300, deadline=None)
@given(cases(), st.integers(1, 50))
def test_more_long_dated_stock_never_raises_the_order_nor_opens_an_alert(case: Case, extra: int) -> None:
    before = evaluate(case.inputs())
    after = evaluate(case.inputs([(400, extra)]))
    assert after.suggested_quantity <= before.suggested_quantity
    assert not (after.alert and not before.alert)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_expiring_unused_never_exceeds_what_expires_within_the_lead_time(case: Case) -> None:
    figures = evaluate(case.inputs())
    assert 0 <= figures.expiring_unused_x28 <= 28 * figures.expiring_within_lead_time
    assert figures.expiring_within_lead_time <= figures.usable_on_hand


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 30)), max_size=5))
def test_without_lead_time_the_alert_is_usable_stock_at_or_below_the_point(
    point: int, extra_par: int, lots: list[tuple[int, int]]
) -> None:
    figures = evaluate(inputs(point=point, par=point + extra_par, lead=0, lots=lots, used=90))
    usable = sum(q for _, q in lots if q > 0)
    assert figures.usable_on_hand == usable
    assert figures.alert == (usable <= point)


# ------------------------------------------------------------------ worked examples


def test_stock_above_the_point_with_no_demand_raises_no_alert() -> None:
    figures = evaluate(inputs(point=5, par=20, lots=[(100, 6)]))
    assert not figures.alert
    assert figures.suggested_quantity == 14


def test_stock_at_the_point_alerts_and_tops_up_to_par() -> None:
    figures = evaluate(inputs(point=5, par=20, lots=[(100, 5)]))
    assert figures.alert
    assert figures.suggested_quantity == 15


def test_suggested_quantity_rounds_up_to_whole_boxes() -> None:
    figures = evaluate(inputs(point=5, par=20, box=10, lots=[(100, 7)]))
    assert figures.alert is False
    assert evaluate(inputs(point=8, par=20, box=10, lots=[(100, 7)])).suggested_quantity == 20


def test_expired_and_non_positive_lots_are_not_usable() -> None:
    figures = evaluate(inputs(point=5, lots=[(-1, 50), (30, -4), (30, 3)]))
    assert figures.usable_on_hand == 3
    assert figures.alert


def test_lot_expiring_within_lead_time_with_no_demand_does_not_count() -> None:
    figures = evaluate(inputs(point=5, par=20, lead=7, lots=[(3, 10), (100, 4)]))
    assert figures.usable_on_hand == 14
    assert figures.expiring_within_lead_time == 10
    assert figures.expiring_unused_x28 == 28 * 10
    assert figures.alert
    assert figures.suggested_quantity == 16


def test_lot_expiring_on_delivery_day_still_counts() -> None:
    figures = evaluate(inputs(point=5, lead=7, lots=[(7, 10)]))
    assert figures.expiring_within_lead_time == 0
    assert not figures.alert


def test_short_dated_lot_used_up_before_expiry_is_not_counted_as_waste() -> None:
    # 56 used in 28 days: 2 a day; the lot expiring on day 4 is usable on days 0..4 (10 units): all of it used.
    figures = evaluate(inputs(point=5, par=30, lead=10, lots=[(4, 10), (200, 30)], used=56))
    assert figures.expiring_within_lead_time == 10
    assert figures.expiring_unused_x28 == 0
    assert figures.forecast_trend_x28 == 56 * 10  # 20 units
    assert figures.projected_x28 == 28 * (40 - 20)
    assert not figures.alert


def test_booked_course_inside_lead_time_alerts_before_the_trend_would() -> None:
    trend_only = evaluate(inputs(point=5, par=20, lead=7, lots=[(200, 12)], used=28))  # 7 by trend: 12-7=5... at 5
    assert trend_only.alert
    calm = evaluate(inputs(point=5, par=20, lead=7, lots=[(200, 13)], used=28))
    assert not calm.alert
    booked = evaluate(inputs(point=5, par=20, lead=7, lots=[(200, 13)], used=28, planned=[(3, 2)]))
    assert booked.alert
    assert booked.forecast_courses == 2
    assert booked.suggested_quantity == 20 - (13 - 7 - 2)
    later = evaluate(inputs(point=5, par=20, lead=7, lots=[(200, 13)], used=28, planned=[(7, 2), (-1, 2)]))
    assert later.forecast_courses == 0
    assert not later.alert


def test_details_show_the_arithmetic_for_people() -> None:
    details = evaluate(inputs(point=5, par=20, lead=7, box=6, lots=[(3, 4), (200, 10)], used=10)).as_details()
    assert details["usable_on_hand"] == 14
    assert details["expiring_within_lead_time"] == 4
    assert details["forecast_trend"] == 2.5
    assert details["average_daily_use"] == 0.36
    assert details["expiring_unused"] == 2.57  # 4 - 10*4/28
    assert details["projected_at_arrival"] == round(14 - (4 - 40 / 28) - 2.5, 2)
    assert details["suggested_quantity"] % 6 == 0
    assert details["evaluated_on"] == TODAY.isoformat()


@pytest.mark.parametrize(
    ("need_x28", "box", "expected"),
    [(0, 10, 0), (-28, 10, 0), (1, 10, 10), (28 * 10, 10, 10), (28 * 10 + 1, 10, 20), (28 * 3, 1, 3), (5, 0, 1)],
)
def test_round_up_to_box(need_x28: int, box: int, expected: int) -> None:
    assert round_up_to_box(need_x28, box) == expected


def test_fefo_consumes_earliest_expiry_first() -> None:
    demand = Demand(today=TODAY, used_last_28_days=28)  # one a day
    used = fefo_consumption([LotStock(day(9), 5, ref=2), LotStock(day(2), 5, ref=1)], demand, day(30))
    assert [(c.ref, c.used_x28 // 28) for c in used] == [(1, 3), (2, 5)]
    assert demand.cumulative_x28(day(2)) == 3 * 28
    assert demand.cumulative_x28(day(-1)) == 0


def test_unused_in_time_reports_what_will_be_left_to_expire() -> None:
    lots = [LotStock(day(5), 10, ref=7), LotStock(day(40), 3, ref=8), LotStock(day(-2), 9, ref=9)]
    result = unused_in_time(lots, today=TODAY, used_last_28_days=28, planned=[PlannedUse(day(1), 2)])
    by_ref = {r.ref: r for r in result}
    assert set(by_ref) == {7, 8}
    assert by_ref[7].expected_use == 8.0  # 6 days at one a day plus a session of 2
    assert by_ref[7].surplus == 2
    assert by_ref[8].surplus == 0
