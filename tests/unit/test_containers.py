"""Units, decimal quantities and opened containers, rule by rule, on plain objects."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from inventory.domain import quantities
from inventory.domain.containers import (
    IN_USE_EXPIRED,
    REMAINDER_DISCARDED,
    OpenContainer,
    gives_back,
    plan_draw,
    use_by,
)
from inventory.domain.errors import Conflict, Unprocessable
from inventory.domain.reorder import evaluate_in_unit
from inventory.domain.scan_decision import ContainerState, LockedLot, LotFound, ScanReading, ScanSession, decide_scan

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
VIAL = LockedLot(
    id=9,
    lot_number="TOX-1",
    expiry_date=TODAY + timedelta(days=100),
    status="active",
    product_id=4,
    product_name="Toxin 100 U",
    brand_name="Lab",
    unit="U",
    container_quantity=100,
    in_use_hours=24,
)
NEW_USE_BY = NOW + timedelta(hours=24)


def container(remaining: int | Decimal = 50, *, use_by_at: datetime = NEW_USE_BY) -> OpenContainer:
    return OpenContainer(id=3, opened_at=NOW - timedelta(hours=1), use_by=use_by_at, remaining=remaining)


# ------------------------------------------------------------------ quantities


def test_a_tenth_and_two_tenths_of_a_ml_make_three_tenths_exactly() -> None:
    total = quantities.plain(Decimal("0.1") + Decimal("0.2"))
    assert total == Decimal("0.3") and str(total) == "0.3"
    assert quantities.plain(Decimal("0.5") + Decimal("0.5")) == 1
    assert isinstance(quantities.plain(Decimal("1.00")), int)


def test_the_database_text_of_a_quantity_comes_back_as_int_when_whole_and_decimal_otherwise() -> None:
    assert quantities.decode("9.00") == 9 and isinstance(quantities.decode("9.00"), int)
    assert quantities.decode("0.30") == Decimal("0.3")
    assert quantities.encode(Decimal("0.3")) == "0.3"
    with pytest.raises(TypeError):
        quantities.encode(0.3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        quantities.plain(0.3)  # type: ignore[arg-type]


def test_each_is_counted_whole_and_ml_and_units_to_two_places() -> None:
    assert quantities.check(2, "each") == 2
    with pytest.raises(Unprocessable) as whole:
        quantities.check(Decimal("0.5"), "each")
    assert whole.value.code == "quantity_not_whole"
    assert quantities.check(Decimal("0.25"), "ml") == Decimal("0.25")
    assert quantities.check(Decimal("12.50"), "U") == Decimal("12.5")
    with pytest.raises(Unprocessable) as fine:
        quantities.check(Decimal("0.125"), "ml")
    assert fine.value.code == "quantity_precision"


def test_whole_containers_times_what_each_holds() -> None:
    assert quantities.containers(5, Decimal("2.5")) == Decimal("12.5")
    assert quantities.containers(3, 1) == 3
    assert quantities.containers_for(Decimal("2.6"), Decimal("2.5")) == 2
    assert quantities.containers_for(5, Decimal("2.5")) == 2
    assert quantities.containers_for(0, 1) == 0


def test_packaging_rules() -> None:
    assert quantities.check_packaging("each", None, None) == ("each", 1, None)
    assert quantities.check_packaging("U", Decimal("100"), 24) == ("U", 100, 24)
    for unit, size, hours, code in [
        ("each", Decimal(2), None, "container_quantity_invalid"),
        ("each", None, 24, "in_use_hours_invalid"),
        ("ml", Decimal("0.001"), None, "container_quantity_invalid"),
        ("ml", Decimal(0), None, "container_quantity_invalid"),
    ]:
        with pytest.raises(Unprocessable) as refused:
            quantities.check_packaging(unit, size, hours)
        assert refused.value.code == code


# ------------------------------------------------------------------ containers


def test_use_by_is_the_earlier_of_in_use_hours_and_the_lot_expiry() -> None:
    lot_end = NOW + timedelta(hours=5)
    assert use_by(opened_at=NOW, in_use_hours=24, lot_end=lot_end) == lot_end
    assert use_by(opened_at=NOW, in_use_hours=4, lot_end=lot_end) == NOW + timedelta(hours=4)


def test_no_open_container_opens_a_full_one() -> None:
    draw = plan_draw(
        container=None, capacity=100, quantity=20, now=NOW, new_use_by=NEW_USE_BY, open_new=False, unit="U"
    )
    assert draw.opens and draw.container is None and draw.remaining_after == 80 and draw.disposal is None


def test_a_dose_is_drawn_from_the_open_container() -> None:
    draw = plan_draw(
        container=container(Decimal("0.7")),
        capacity=1,
        quantity=Decimal("0.2"),
        now=NOW,
        new_use_by=NEW_USE_BY,
        open_new=False,
        unit="ml",
    )
    assert not draw.opens and draw.container == container(Decimal("0.7")) and draw.remaining_after == Decimal("0.5")


def test_a_container_past_its_use_by_is_refused_unless_a_new_one_is_opened() -> None:
    old = container(30, use_by_at=NOW)  # use-by is exclusive: at that instant it is past
    with pytest.raises(Conflict) as refused:
        plan_draw(container=old, capacity=100, quantity=10, now=NOW, new_use_by=NEW_USE_BY, open_new=False, unit="U")
    assert refused.value.code == "container_expired"
    assert refused.value.extra["container"]["id"] == 3 and refused.value.extra["container"]["remaining"] == 30
    draw = plan_draw(container=old, capacity=100, quantity=10, now=NOW, new_use_by=NEW_USE_BY, open_new=True, unit="U")
    assert draw.opens and draw.remaining_after == 90
    assert draw.disposal is not None and draw.disposal.container == old and draw.disposal.reason == IN_USE_EXPIRED


def test_more_than_the_open_container_holds_is_refused_unless_a_new_one_is_opened() -> None:
    low = container(5)
    with pytest.raises(Conflict) as refused:
        plan_draw(container=low, capacity=100, quantity=10, now=NOW, new_use_by=NEW_USE_BY, open_new=False, unit="U")
    assert refused.value.code == "container_insufficient"
    assert refused.value.extra["remaining"] == 5 and refused.value.extra["requested"] == 10
    draw = plan_draw(container=low, capacity=100, quantity=10, now=NOW, new_use_by=NEW_USE_BY, open_new=True, unit="U")
    assert draw.disposal is not None and draw.disposal.reason == REMAINDER_DISCARDED and draw.remaining_after == 90


def test_more_than_a_full_container_is_refused_even_with_open_new() -> None:
    with pytest.raises(Conflict) as refused:
        plan_draw(container=None, capacity=100, quantity=101, now=NOW, new_use_by=NEW_USE_BY, open_new=True, unit="U")
    assert refused.value.code == "container_insufficient" and refused.value.extra["capacity"] == 100


def test_open_new_leaves_a_usable_container_that_holds_enough_alone() -> None:
    draw = plan_draw(
        container=container(50), capacity=100, quantity=10, now=NOW, new_use_by=NEW_USE_BY, open_new=True, unit="U"
    )
    assert not draw.opens and draw.remaining_after == 40


def test_a_voided_dose_goes_back_only_to_an_open_usable_container() -> None:
    assert gives_back(status="open", use_by=NEW_USE_BY, now=NOW)
    assert not gives_back(status="open", use_by=NOW, now=NOW)
    assert not gives_back(status="empty", use_by=NEW_USE_BY, now=NOW)
    assert not gives_back(status="disposed", use_by=NEW_USE_BY, now=NOW)


# ------------------------------------------------------------------ in the scan decision


def decide(quantity: int | Decimal, state: ContainerState | None, lot: LockedLot = VIAL) -> object:
    return decide_scan(
        session=ScanSession(status="open"),
        lot=lot,
        found=LotFound.KNOWN,
        reading=ScanReading(gtin="03760010000019"),
        today=TODAY,
        now=NOW,
        quantity=quantity,
        container=state,
    )


def test_the_scan_decision_opens_a_container_with_a_warning() -> None:
    decision = decide_scan(
        session=ScanSession(status="open"),
        lot=VIAL,
        found=LotFound.KNOWN,
        reading=ScanReading(),
        today=TODAY,
        now=NOW,
        quantity=Decimal("12.5"),
        container=ContainerState(open=None, new_use_by=NEW_USE_BY),
    )
    assert [w.code for w in decision.warnings] == ["container_opened"]
    assert decision.draw is not None and decision.draw.remaining_after == Decimal("87.5")
    assert decision.quantity == Decimal("12.5")


def test_the_scan_decision_raises_container_refusals_naming_the_product_and_lot() -> None:
    with pytest.raises(Conflict) as refused:
        decide(10, ContainerState(open=container(30, use_by_at=NOW - timedelta(minutes=1)), new_use_by=NEW_USE_BY))
    assert refused.value.code == "container_expired"
    assert refused.value.extra["lot"]["id"] == 9 and refused.value.extra["product"]["id"] == 4


def test_a_recalled_lot_is_refused_before_its_container_is_looked_at() -> None:
    with pytest.raises(Conflict) as refused:
        decide(
            10,
            ContainerState(open=container(30, use_by_at=NOW), new_use_by=NEW_USE_BY),
            replace(VIAL, status="recalled"),
        )
    assert refused.value.code == "lot_recalled"


def test_a_fractional_dose_of_a_single_unit_product_is_refused() -> None:
    with pytest.raises(Unprocessable) as refused:
        decide(Decimal("0.5"), None, replace(VIAL, unit="each", container_quantity=1, in_use_hours=None))
    assert refused.value.code == "quantity_not_whole"


def test_a_single_use_product_has_no_container_plan() -> None:
    decision = decide_scan(
        session=ScanSession(status="open"),
        lot=replace(VIAL, in_use_hours=None),
        found=LotFound.KNOWN,
        reading=ScanReading(),
        today=TODAY,
        now=NOW,
        quantity=Decimal("0.3"),
    )
    assert decision.draw is None and decision.warnings == ()


# ------------------------------------------------------------------ reorder in the product's unit


def test_reorder_suggestion_in_ml_rounds_up_to_whole_vials() -> None:
    alert, details = evaluate_in_unit(
        today=TODAY,
        rule=(Decimal("1.5"), 5, 0),
        box_size=Decimal("2.5"),
        lots=[(TODAY + timedelta(days=90), Decimal("1.2"))],
        used_last_28_days=0,
    )
    # 5 - 1.2 = 3.8 ml short: two vials of 2.5 ml.
    assert alert and details["suggested_quantity"] == 5 and details["usable_on_hand"] == Decimal("1.2")


def test_reorder_in_whole_units_is_unchanged() -> None:
    alert, details = evaluate_in_unit(
        today=TODAY, rule=(2, 10, 0), box_size=10, lots=[(TODAY + timedelta(days=90), 2)], used_last_28_days=0
    )
    assert alert and details["suggested_quantity"] == 10 and details["usable_on_hand"] == 2
