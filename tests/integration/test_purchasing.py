"""Purchasing at service level: drafts from alerts, on order in the reorder arithmetic, receiving against orders."""

from __future__ import annotations

import pytest

from inventory.domain.errors import Conflict, NotFound
from inventory.domain.models import Actor
from inventory.services import purchasing, receiving, reorder_alerts
from tests.support import factories as f
from tests.support.clinic import Clinic, build, with_rule


async def _clinic_with_supplier(actors: dict[str, Actor], *, pack_units: int = 6) -> tuple[Clinic, int]:
    clinic = await build(actors, on_hand=3)
    await with_rule(actors, clinic, reorder_point=5, par_level=20, lead_time_days=0)
    supplier = await purchasing.create_supplier(actor=actors["manager"], name=f.unique("Supplier"), email=None)
    await purchasing.set_supplier_product(
        actor=actors["manager"],
        supplier_id=supplier.id,
        product_id=clinic.product["id"],
        pack_gtin=None,
        pack_units=pack_units,
        lead_time_days=2,
        reference=None,
    )
    return clinic, supplier.id


async def _receive(actors: dict[str, Actor], clinic: Clinic, order_id: int, quantity: int) -> None:
    await receiving.receive(
        actor=actors["staff"],
        location_id=clinic.location_id,
        supplier=None,
        reference=None,
        lines=[
            receiving.LineIn(
                quantity=quantity,
                product_id=clinic.product["id"],
                lot_number=f.unique("PO").replace(" ", ""),
                expiry_date=f.in_days(300),
            )
        ],
        purchase_order_id=order_id,
    )


async def _on_order(clinic: Clinic) -> tuple[str, int, int]:
    (alert,) = await reorder_alerts.list_reorder(
        status="open", location_id=clinic.location_id, product_id=clinic.product["id"]
    )
    return alert["status"], alert["on_order"], alert["suggested_quantity"]


async def test_packs_round_up_and_a_second_run_adds_nothing(actors: dict[str, Actor]) -> None:
    clinic, supplier_id = await _clinic_with_supplier(actors, pack_units=7)
    first = await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)
    (view,) = first.orders
    assert view.order.supplier_id == supplier_id
    assert [(li.quantity, li.received) for li in view.order.lines] == [(21, 0)]  # 20 suggested: 3 packs of 7
    second = await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)
    assert second.orders == [] and second.unassigned == []


async def test_sent_quantities_are_on_order_until_received_or_cancelled(actors: dict[str, Actor]) -> None:
    clinic, _ = await _clinic_with_supplier(actors)
    (view,) = (await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)).orders
    order_id = view.order.id
    await purchasing.set_line(actor=actors["manager"], order_id=order_id, product_id=clinic.product["id"], quantity=1)
    assert await _on_order(clinic) == ("open", 0, 20)  # a draft is not on order yet
    await purchasing.send(actor=actors["manager"], order_id=order_id)
    assert await _on_order(clinic) == ("open", 1, 20)  # 3 + 1 projected: 17 short, whole boxes of 10
    again = await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)
    (new,) = again.orders  # the rest of the need, on a new draft: the first one was sent
    assert new.order.id != order_id and [li.quantity for li in new.order.lines] == [24]
    await purchasing.cancel(actor=actors["manager"], order_id=new.order.id)
    await _receive(actors, clinic, order_id, 1)
    assert (await purchasing.get_order(order_id)).order.status == "received"
    assert await _on_order(clinic) == ("open", 0, 20)  # 4 on hand now: 16 short, whole boxes of 10


async def test_a_partial_receipt_keeps_the_rest_on_order(actors: dict[str, Actor]) -> None:
    clinic, _ = await _clinic_with_supplier(actors)
    await with_rule(actors, clinic, reorder_point=30, par_level=40, lead_time_days=0)
    (view,) = (await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)).orders
    assert [li.quantity for li in view.order.lines] == [42]  # 40 suggested: 7 packs of 6
    product_id = clinic.product["id"]
    await purchasing.set_line(actor=actors["manager"], order_id=view.order.id, product_id=product_id, quantity=12)
    await purchasing.send(actor=actors["manager"], order_id=view.order.id)
    assert await _on_order(clinic) == ("open", 12, 30)  # 3 + 12 projected: 25 short of par, whole boxes
    await _receive(actors, clinic, view.order.id, 6)
    got = (await purchasing.get_order(view.order.id)).order
    assert got.status == "partially_received"
    assert [(li.quantity, li.received) for li in got.lines] == [(12, 6)]
    assert await _on_order(clinic) == ("open", 6, 30)  # 9 on hand + 6 still owed
    await purchasing.cancel(actor=actors["manager"], order_id=view.order.id)
    assert await _on_order(clinic) == ("open", 0, 40)  # 9 on hand, par 40: 31, whole boxes of 10


@pytest.mark.parametrize("status", ["draft", "cancelled"])
async def test_receiving_against_a_draft_or_cancelled_order_is_refused(actors: dict[str, Actor], status: str) -> None:
    clinic, _ = await _clinic_with_supplier(actors)
    (view,) = (await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)).orders
    if status == "cancelled":
        await purchasing.cancel(actor=actors["manager"], order_id=view.order.id)
    with pytest.raises(Conflict) as refused:
        await _receive(actors, clinic, view.order.id, 1)
    assert refused.value.code == "invalid_transition"


async def test_unknown_orders_and_suppliers(actors: dict[str, Actor]) -> None:
    clinic, _ = await _clinic_with_supplier(actors)
    for call in (
        purchasing.get_order(999_999),
        purchasing.send(actor=actors["manager"], order_id=999_999),
        purchasing.cancel(actor=actors["manager"], order_id=999_999),
        purchasing.set_line(actor=actors["manager"], order_id=999_999, product_id=clinic.product["id"], quantity=1),
        purchasing.set_supplier_product(
            actor=actors["manager"],
            supplier_id=999_999,
            product_id=clinic.product["id"],
            pack_gtin=None,
            pack_units=1,
            lead_time_days=0,
            reference=None,
        ),
    ):
        with pytest.raises(NotFound):
            await call
