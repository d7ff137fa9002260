"""Reorder and expiry arithmetic: pure functions of stock, rules, use history and booked sessions.

Definitions (T = today, L = the lead time in days; a delivery ordered today arrives on day T + L):

- **Lead time**: the supplier's (`supplier_product.lead_time_days`) where a supplier sells the product, else the
  stock rule's. When several suppliers sell it, the one "from alerts" orders from: the shortest lead time, then
  the lowest supplier id (`domain.purchasing.choose_offer`). The figures say which it was (`lead_time_source`).

- **Usable on hand**: the on-hand of lots that are active (not recalled, not quarantined) and not expired
  today (``expiry_date >= T``), counting only positive levels (a negative level is a recorded discrepancy,
  not stock on the shelf).
- **Daily use (trend)**: non-voided usage at the location in the 28 days before today, ``[T-28, T)``,
  divided by 28. **Forecast from trend** = daily use x L.
- **Forecast from courses**: the expected quantity of every *planned* course session at the location
  scheduled on days ``[T, T + L)``.
- **Forecast demand** = forecast from courses + forecast from trend (deliberately both: the trend is what
  walk-in work consumes, courses are booked on top; the sum errs on the side of not running out).
- **Expiring within lead time**: on-hand of usable lots whose ``expiry_date < T + L`` (they will not last
  until the delivery arrives).
- **Expiring unused**: the part of that stock which forecast demand will *not* consume before it expires,
  using first-expiry-first-out: lots are consumed in expiry order, and a lot expiring on day ``e`` (usable
  through ``e``) can absorb at most the cumulative demand of days ``[T, e]`` not already absorbed by
  earlier-expiring lots. This is "stock that will expire before it can be used within the lead time";
  when there is no demand it equals *expiring within lead time*. (Subtracting all of *expiring within lead
  time* would count the demand those lots do cover twice.)
- **On order**: units of sent (or partially received) purchase orders for the product at the location not yet
  received (a line's quantity - received, never below zero); they are expected to arrive within the lead time.
- **Projected at arrival** = usable - expiring unused - forecast demand + on order: what will be left on day
  T + L. So a sent order lowers the suggestion, and a second order from the same alert orders nothing new.
- **Alert** iff projected at arrival <= reorder point. With L = 0 and no demand this is exactly the
  contract's "usable stock at or below the reorder point"; the alert resolves when the projection rises
  above the point.
- **Suggested quantity** = par level - projected at arrival (that is par + forecast - usable stock left
  after waste), never below zero, rounded *up* to whole boxes (box size = the largest pack of the product,
  1 when it has none). It is 0 only when the projection already sits at the par level.

All fractional quantities come from the 28-day average; they are carried exactly as integers counted in
28ths of a unit (the ``*_x28`` fields), so the alert condition has no rounding at all. Figures for people
are rounded to two decimals by ``ReorderFigures.as_details``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from inventory.domain.purchasing import choose_offer
from inventory.domain.quantities import Quantity, plain

TREND_DAYS = 28
LEAD_FROM_SUPPLIER = "supplier"
LEAD_FROM_RULE = "rule"


@dataclass(frozen=True)
class Rule:
    """Reorder parameters of one product at one location."""

    reorder_point: int
    par_level: int
    lead_time_days: int


@dataclass(frozen=True)
class SupplierLead:
    """A supplier's lead time for one product."""

    supplier_id: int
    supplier_name: str
    lead_time_days: int


@dataclass(frozen=True)
class LeadTime:
    """The lead time the arithmetic uses and where it comes from (a supplier, or the stock rule)."""

    days: int
    source: str = LEAD_FROM_RULE
    supplier_id: int | None = None
    supplier_name: str | None = None


def lead_time_for(rule_days: int, suppliers: Iterable[SupplierLead]) -> LeadTime:
    """The lead time of the supplier "from alerts" would order from (see `choose_offer`), else the rule's."""
    chosen = choose_offer(suppliers)
    if chosen is None:
        return LeadTime(days=rule_days)
    return LeadTime(chosen.lead_time_days, LEAD_FROM_SUPPLIER, chosen.supplier_id, chosen.supplier_name)


@dataclass(frozen=True)
class LotStock:
    """On-hand of a product at a location expiring on one date (one lot, or lots of that date summed).

    `ref` is the caller's reference (a lot id), carried through to the results.
    """

    expiry: date
    quantity: int
    ref: int = 0


@dataclass(frozen=True)
class PlannedUse:
    """Units planned course sessions are expected to use on one day."""

    day: date
    quantity: int


@dataclass(frozen=True)
class Demand:
    """Expected demand from today on: a trend rate plus booked sessions on given days."""

    today: date
    used_last_28_days: int
    planned: tuple[PlannedUse, ...] = ()

    def cumulative_x28(self, through: date) -> int:
        """Demand of days [today, through], in 28ths of a unit (0 before today)."""
        days = (through - self.today).days + 1
        if days <= 0:
            return 0
        booked = sum(p.quantity for p in self.planned if self.today <= p.day <= through)
        return self.used_last_28_days * days + TREND_DAYS * booked


@dataclass(frozen=True)
class Consumption:
    """How much of one lot first-expiry-first-out demand uses before the lot expires."""

    expiry: date
    quantity: int
    used_x28: int
    ref: int = 0

    @property
    def unused_x28(self) -> int:
        """Units left to expire, in 28ths."""
        return TREND_DAYS * self.quantity - self.used_x28


def fefo_consumption(lots: Iterable[LotStock], demand: Demand, horizon: date) -> list[Consumption]:
    """Consume lots expiring before `horizon` in expiry order; returns what each lot gets used for.

    A lot expiring on day e absorbs at most the cumulative demand through e that earlier lots did not.
    Lots expiring on or after the horizon are not part of the result. Lots of equal expiry keep their order.
    """
    ordered = sorted((lot for lot in lots if lot.quantity > 0 and lot.expiry < horizon), key=lambda x: x.expiry)
    planned = sorted((p for p in demand.planned if p.quantity > 0 and p.day >= demand.today), key=lambda p: p.day)
    days = [p.day for p in planned]
    prefix = [0]
    for p in planned:
        prefix.append(prefix[-1] + p.quantity)
    consumed = 0
    result: list[Consumption] = []
    for lot in ordered:
        span = (lot.expiry - demand.today).days + 1
        capacity = 0
        if span > 0:
            capacity = demand.used_last_28_days * span + TREND_DAYS * prefix[bisect.bisect_right(days, lot.expiry)]
        used = min(TREND_DAYS * lot.quantity, max(0, capacity - consumed))
        consumed += used
        result.append(Consumption(expiry=lot.expiry, quantity=lot.quantity, used_x28=used, ref=lot.ref))
    return result


@dataclass(frozen=True)
class ReorderInputs:
    """Everything the reorder decision of one product at one location depends on."""

    today: date
    rule: Rule
    box_size: int
    lots: tuple[LotStock, ...]
    used_last_28_days: int
    planned: tuple[PlannedUse, ...] = ()
    on_order: int = 0
    lead_time: LeadTime | None = None  # None: the rule's


@dataclass(frozen=True)
class ReorderFigures:
    """The reorder arithmetic of one product at one location, kept so the dashboard can show why."""

    today: date
    rule: Rule
    box_size: int
    usable_on_hand: int
    expiring_within_lead_time: int
    expiring_unused_x28: int
    forecast_courses: int
    forecast_trend_x28: int
    used_last_28_days: int
    projected_x28: int
    suggested_quantity: int
    alert: bool
    on_order: int = 0
    lead_time: LeadTime | None = None

    @property
    def lead(self) -> LeadTime:
        """The lead time used (the rule's when none was given)."""
        return self.lead_time or LeadTime(days=self.rule.lead_time_days)

    @property
    def forecast_demand_x28(self) -> int:
        """Forecast demand over the lead time, in 28ths."""
        return TREND_DAYS * self.forecast_courses + self.forecast_trend_x28

    def as_details(self) -> dict[str, Any]:
        """The figures as JSON-ready numbers (fractions rounded to two decimals)."""
        return {
            "usable_on_hand": self.usable_on_hand,
            "expiring_within_lead_time": self.expiring_within_lead_time,
            "expiring_unused": _units(self.expiring_unused_x28),
            "forecast_courses": self.forecast_courses,
            "forecast_trend": _units(self.forecast_trend_x28),
            "forecast_demand": _units(self.forecast_demand_x28),
            "average_daily_use": _units(self.used_last_28_days),
            "used_last_28_days": self.used_last_28_days,
            "on_order": self.on_order,
            "projected_at_arrival": _units(self.projected_x28),
            "reorder_point": self.rule.reorder_point,
            "par_level": self.rule.par_level,
            "lead_time_days": self.lead.days,
            "lead_time_source": self.lead.source,
            "lead_time_supplier": None
            if self.lead.supplier_id is None
            else {"id": self.lead.supplier_id, "name": self.lead.supplier_name},
            "rule_lead_time_days": self.rule.lead_time_days,
            "box_size": self.box_size,
            "suggested_quantity": self.suggested_quantity,
            "evaluated_on": self.today.isoformat(),
        }


def _units(x28: int) -> float:
    return round(x28 / TREND_DAYS, 2)


def round_up_to_box(quantity_x28: int, box_size: int) -> int:
    """Whole units covering a need (in 28ths), rounded up to whole boxes; 0 for no need."""
    box = max(1, box_size)
    if quantity_x28 <= 0:
        return 0
    boxes = -(-quantity_x28 // (TREND_DAYS * box))
    return boxes * box


def evaluate(inputs: ReorderInputs) -> ReorderFigures:
    """The reorder decision of one product at one location (see the module docstring)."""
    today, rule = inputs.today, inputs.rule
    lead_time = inputs.lead_time or LeadTime(days=rule.lead_time_days)
    lead = max(0, lead_time.days)
    arrival = today + timedelta(days=lead)
    usable_lots = [lot for lot in inputs.lots if lot.quantity > 0 and lot.expiry >= today]
    usable = sum(lot.quantity for lot in usable_lots)
    expiring = sum(lot.quantity for lot in usable_lots if lot.expiry < arrival)
    window = tuple(p for p in inputs.planned if today <= p.day < arrival and p.quantity > 0)
    used = max(0, inputs.used_last_28_days)
    demand = Demand(today=today, used_last_28_days=used, planned=window)
    unused = sum(c.unused_x28 for c in fefo_consumption(usable_lots, demand, arrival))
    courses = sum(p.quantity for p in window)
    trend = used * lead
    on_order = max(0, inputs.on_order)
    projected = TREND_DAYS * usable - unused - TREND_DAYS * courses - trend + TREND_DAYS * on_order
    return ReorderFigures(
        today=today,
        rule=rule,
        box_size=max(1, inputs.box_size),
        usable_on_hand=usable,
        expiring_within_lead_time=expiring,
        expiring_unused_x28=unused,
        forecast_courses=courses,
        forecast_trend_x28=trend,
        used_last_28_days=used,
        projected_x28=projected,
        suggested_quantity=round_up_to_box(TREND_DAYS * rule.par_level - projected, inputs.box_size),
        alert=projected <= TREND_DAYS * rule.reorder_point,
        on_order=on_order,
        lead_time=lead_time,
    )


@dataclass(frozen=True)
class UnusedLot:
    """A lot's expected use before its expiry and the units that will be left to expire."""

    expiry: date
    quantity: int
    expected_use_x28: int
    ref: int = 0

    @property
    def surplus(self) -> int:
        """Whole units that will not be used in time (on-hand beyond the expected use)."""
        return self.quantity - self.expected_use_x28 // TREND_DAYS

    @property
    def expected_use(self) -> float:
        """Expected use before expiry, in units, rounded to two decimals."""
        return _units(self.expected_use_x28)


def unused_in_time(
    lots: Sequence[LotStock], *, today: date, used_last_28_days: int, planned: Iterable[PlannedUse]
) -> list[UnusedLot]:
    """For usable lots, what trend and booked use will consume before each expires (results by expiry).

    Lots are consumed first-expiry-first-out with the same demand model as the reorder forecast, over the
    lots' own lifetimes (no lead-time limit). Lots already expired are ignored.
    """
    usable = [lot for lot in lots if lot.expiry >= today and lot.quantity > 0]
    if not usable:
        return []
    horizon = max(lot.expiry for lot in usable) + timedelta(days=1)
    demand = Demand(today=today, used_last_28_days=max(0, used_last_28_days), planned=tuple(planned))
    return [
        UnusedLot(expiry=c.expiry, quantity=c.quantity, expected_use_x28=c.used_x28, ref=c.ref)
        for c in fefo_consumption(usable, demand, horizon)
    ]


# ------------------------------------------------------------------ in the product's unit (ml, U: two decimals)

HUNDREDTHS = 100
# The figures of `as_details` that are quantities (the others are days, dates or flags).
_QUANTITY_FIGURES = (
    "usable_on_hand",
    "expiring_within_lead_time",
    "expiring_unused",
    "forecast_courses",
    "forecast_trend",
    "forecast_demand",
    "average_daily_use",
    "used_last_28_days",
    "on_order",
    "projected_at_arrival",
    "reorder_point",
    "par_level",
    "box_size",
    "suggested_quantity",
)


def evaluate_in_unit(
    *,
    today: date,
    rule: tuple[Quantity, Quantity, int],
    box_size: Quantity,
    lots: Sequence[tuple[date, Quantity]],
    used_last_28_days: Quantity,
    planned: Sequence[tuple[date, Quantity]] = (),
    on_order: Quantity = 0,
    lead_time: LeadTime | None = None,
) -> tuple[bool, dict[str, Any]]:
    """`evaluate` for quantities in the product's unit, decimals included: whether to alert, and the figures.

    Whole quantities run the integer arithmetic as they are. When any is a decimal (0.3 ml), every quantity is
    counted in hundredths so the same exact integer arithmetic applies, and the figures are converted back; the
    suggestion is still rounded up to whole boxes, a box being a pack's containers times what one holds.
    """
    values = [rule[0], rule[1], box_size, used_last_28_days, on_order, *(q for _, q in lots), *(q for _, q in planned)]
    scale = HUNDREDTHS if any(not isinstance(v, int) for v in values) else 1

    def n(value: Quantity) -> int:
        return int(Decimal(value) * scale)

    figures = evaluate(
        ReorderInputs(
            today=today,
            rule=Rule(n(rule[0]), n(rule[1]), rule[2]),
            box_size=n(box_size) or scale,
            lots=tuple(LotStock(e, n(q)) for e, q in lots),
            used_last_28_days=n(used_last_28_days),
            planned=tuple(PlannedUse(d, n(q)) for d, q in planned),
            on_order=n(on_order),
            lead_time=lead_time,
        )
    )
    details = figures.as_details()
    if scale != 1:
        for key in _QUANTITY_FIGURES:
            exact = Decimal(str(details[key])) / scale
            details[key] = plain(exact.quantize(Decimal("0.01"))) if key != "suggested_quantity" else plain(exact)
    return figures.alert, details
