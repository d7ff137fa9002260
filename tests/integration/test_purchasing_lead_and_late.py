"""Purchasing at service level: the supplier's lead time in the reorder arithmetic, late orders, the digest.

The lead time rule: the supplier's where one sells the product, the soonest one when several do (the supplier
"from alerts" orders from), else the stock rule's. A sent order is expected on its location's local date when sent
plus that lead time, and is late once the location's today is past it while something is still owed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from inventory import clock
from inventory.domain.models import Actor
from inventory.services import digest, purchasing, receiving, reorder_alerts
from tests.support import factories as f
from tests.support.clinic import Clinic, build, with_rule

AUCKLAND = "Pacific/Auckland"


async def _supplier(actors: dict[str, Actor], clinic: Clinic, lead: int, name: str | None = None) -> int:
    supplier = await purchasing.create_supplier(actor=actors["manager"], name=name or f.unique("Supplier"), email=None)
    await purchasing.set_supplier_product(
        actor=actors["manager"],
        supplier_id=supplier.id,
        product_id=clinic.product["id"],
        pack_gtin=None,
        pack_units=1,
        lead_time_days=lead,
        reference=None,
    )
    return supplier.id


async def _alert(clinic: Clinic) -> dict[str, Any]:
    (alert,) = await reorder_alerts.list_reorder(
        status="all", location_id=clinic.location_id, product_id=clinic.product["id"]
    )
    return alert


# ------------------------------------------------------------------ the lead time


async def test_the_alert_uses_the_soonest_suppliers_lead_time_and_says_whose(actors: dict[str, Actor]) -> None:
    # 10 on the shelf expiring in 3 days, no use: they last only if a delivery comes before they expire.
    clinic = await build(actors, on_hand=10, expiry_days=3)
    await with_rule(actors, clinic, reorder_point=5, par_level=20, lead_time_days=0)
    assert await reorder_alerts.list_reorder(status="open", location_id=clinic.location_id) == []
    slow = await _supplier(actors, clinic, lead=5, name=f.unique("Slow"))
    alert = await _alert(clinic)  # setting the supplier re-evaluated the alert: the 10 expire before day 5
    assert alert["status"] == "open"
    assert (alert["lead_time_days"], alert["lead_time_source"], alert["rule_lead_time_days"]) == (5, "supplier", 0)
    assert alert["lead_time_supplier"]["id"] == slow
    assert alert["expiring_unused"] == 10
    fast = await _supplier(actors, clinic, lead=2)
    alert = await _alert(clinic)  # the soonest supplier's 2 days: the 10 last until the delivery
    assert (alert["status"], alert["lead_time_days"], alert["lead_time_supplier"]["id"]) == ("resolved", 2, fast)


async def test_of_two_suppliers_with_the_same_lead_time_the_lower_id_is_used_as_from_alerts_orders(
    actors: dict[str, Actor],
) -> None:
    clinic = await build(actors, on_hand=3)
    await with_rule(actors, clinic, reorder_point=5, par_level=20, lead_time_days=9)
    first = await _supplier(actors, clinic, lead=4)
    await _supplier(actors, clinic, lead=4)
    alert = await _alert(clinic)
    assert (alert["lead_time_days"], alert["lead_time_supplier"]["id"]) == (4, first)
    (view,) = (await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)).orders
    assert view.order.supplier_id == first


async def test_without_a_supplier_the_rules_lead_time_is_used(actors: dict[str, Actor]) -> None:
    clinic = await build(actors, on_hand=3)
    await with_rule(actors, clinic, reorder_point=5, par_level=20, lead_time_days=6)
    alert = await _alert(clinic)
    assert (alert["lead_time_days"], alert["lead_time_source"], alert["lead_time_supplier"]) == (6, "rule", None)


# ------------------------------------------------------------------ late orders


async def _sent(actors: dict[str, Actor], clinic: Clinic, lead: int) -> int:
    await _supplier(actors, clinic, lead=lead)
    (view,) = (await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)).orders
    await purchasing.send(actor=actors["manager"], order_id=view.order.id)
    return view.order.id


async def _late_ids(clinic: Clinic, late: bool) -> list[int]:
    return [v.order.id for v in await purchasing.list_orders(location_id=clinic.location_id, late=late)]


async def test_an_order_is_expected_on_the_locations_local_send_date_plus_the_lead_time(
    actors: dict[str, Actor],
) -> None:
    clock.set(datetime(2027, 3, 1, 20, 0, tzinfo=UTC))  # 09:00 on 2 March in Auckland, still 1 March in UTC
    clinic = await build(actors, on_hand=3, timezone=AUCKLAND)
    await with_rule(actors, clinic, reorder_point=5, par_level=20)
    order_id = await _sent(actors, clinic, lead=3)
    view = await purchasing.get_order(order_id)
    assert view.order.expected_on == datetime(2027, 3, 5).date()
    assert view.late is False


async def test_a_sent_order_is_late_once_the_locations_today_passes_its_expected_date(
    actors: dict[str, Actor],
) -> None:
    clock.set(datetime(2027, 3, 1, 20, 0, tzinfo=UTC))  # 2 March in Auckland
    clinic = await build(actors, on_hand=3, timezone=AUCKLAND)
    await with_rule(actors, clinic, reorder_point=5, par_level=20)
    order_id = await _sent(actors, clinic, lead=2)  # expected on 4 March, Auckland
    clock.set(datetime(2027, 3, 3, 10, 59, tzinfo=UTC))  # 23:59 on 3 March in Auckland
    assert (await purchasing.get_order(order_id)).late is False
    clock.set(datetime(2027, 3, 4, 10, 59, tzinfo=UTC))  # 23:59 on 4 March: due today, not late yet
    assert (await purchasing.get_order(order_id)).late is False
    assert await _late_ids(clinic, True) == []
    clock.set(datetime(2027, 3, 4, 11, 0, tzinfo=UTC))  # midnight of 5 March in Auckland (still 4 March in UTC)
    assert (await purchasing.get_order(order_id)).late is True
    assert await _late_ids(clinic, True) == [order_id]
    assert order_id not in await _late_ids(clinic, False)


async def test_a_late_order_stops_being_late_when_fully_received_or_cancelled(actors: dict[str, Actor]) -> None:
    clinic = await build(actors, on_hand=3)
    await with_rule(actors, clinic, reorder_point=5, par_level=20)
    received_id = await _sent(actors, clinic, lead=1)
    clock.shift(timedelta(days=2))
    assert (await purchasing.get_order(received_id)).late is True
    (line,) = (await purchasing.get_order(received_id)).order.lines
    lot = receiving.LineIn(
        quantity=line.quantity - 1, product_id=clinic.product["id"], lot_number="LATE1", expiry_date=f.in_days(300)
    )
    await receiving.receive(
        actor=actors["staff"],
        location_id=clinic.location_id,
        supplier=None,
        reference=None,
        lines=[lot],
        purchase_order_id=received_id,
    )
    partly = await purchasing.get_order(received_id)
    assert (partly.order.status, partly.late) == ("partially_received", True)  # one unit still owed
    rest = receiving.LineIn(quantity=1, product_id=clinic.product["id"], lot_number="LATE1", expiry_date=f.in_days(300))
    await receiving.receive(
        actor=actors["staff"],
        location_id=clinic.location_id,
        supplier=None,
        reference=None,
        lines=[rest],
        purchase_order_id=received_id,
    )
    done = await purchasing.get_order(received_id)
    assert (done.order.status, done.late) == ("received", False)
    assert await _late_ids(clinic, True) == []


async def test_the_daily_digest_lists_late_orders(actors: dict[str, Actor]) -> None:
    clinic = await build(actors, on_hand=3)
    await with_rule(actors, clinic, reorder_point=5, par_level=20)
    order_id = await _sent(actors, clinic, lead=1)
    today = clock.today_in(f.PARIS)
    assert await digest.location_digest(clinic.location_id, today) is None  # the order covers the need; not late
    clock.shift(timedelta(days=3))
    later = clock.today_in(f.PARIS)
    found = await digest.location_digest(clinic.location_id, later)
    assert found is not None
    payload = found["payload"]
    (late,) = payload["late_purchase_orders"]
    assert late["purchase_order_id"] == order_id
    assert late["expected_on"] == (today + timedelta(days=1)).isoformat()
    assert late["days_late"] == 2
    assert late["outstanding"] == 20  # the alert suggested 20, in packs of 1
    assert payload["summary"]["late_purchase_orders"] == 1
    assert f"LATE purchase order {order_id}" in digest.format_digests([found])


async def test_a_digest_with_only_a_late_order_is_still_sent(actors: dict[str, Actor]) -> None:
    clinic = await build(actors, on_hand=3)
    await with_rule(actors, clinic, reorder_point=5, par_level=20)
    order_id = await _sent(actors, clinic, lead=1)
    await with_rule(actors, clinic, reorder_point=0, par_level=1)  # no alert any more
    clock.shift(timedelta(days=3))
    found = await digest.location_digest(clinic.location_id, clock.today_in(f.PARIS))
    assert found is not None
    assert found["payload"]["reorder"] == [] and found["payload"]["expiring"] == []
    assert [o["purchase_order_id"] for o in found["payload"]["late_purchase_orders"]] == [order_id]
