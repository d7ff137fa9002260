"""Purchasing writes at once, on the race database: two from-alerts runs, two receipts against one order."""

from __future__ import annotations

import asyncio

import pytest

from inventory import db
from inventory.domain.models import Actor
from inventory.services import purchasing, receiving
from tests.integration.test_concurrency import race_actors
from tests.support import factories as f
from tests.support.clinic import build, with_rule
from tests.support.db import wait_until_blocked_by

pytestmark = pytest.mark.race


async def test_two_from_alerts_runs_at_once_make_one_draft_of_the_need(race_pool: None) -> None:
    actors: dict[str, Actor] = await race_actors()
    clinic = await build(actors, on_hand=3)
    await with_rule(actors, clinic, reorder_point=5, par_level=20, lead_time_days=0)
    supplier = await purchasing.create_supplier(actor=actors["manager"], name=f.unique("Race supplier"), email=None)
    await purchasing.set_supplier_product(
        actor=actors["manager"],
        supplier_id=supplier.id,
        product_id=clinic.product["id"],
        pack_gtin=None,
        pack_units=5,
        lead_time_days=1,
        reference=None,
    )
    async with db.connection() as other:
        blocker = other.transaction()
        await blocker.start()
        await other.execute("SELECT pg_advisory_xact_lock(hashtext('purchase_order.from_alerts'))")
        runs = [
            asyncio.create_task(purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id))
            for _ in range(2)
        ]
        await wait_until_blocked_by(other)
        await blocker.commit()
    results = await asyncio.wait_for(asyncio.gather(*runs), timeout=10)
    assert sorted(len(r.orders) for r in results) == [0, 1]
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT o.id, ol.quantity FROM purchase_order o JOIN purchase_order_line ol ON ol.purchase_order = o.id"
            " WHERE o.location = $1",
            clinic.location_id,
        )
    assert [r["quantity"] for r in rows] == [20]


async def test_two_receipts_against_one_order_at_once_both_count(race_pool: None) -> None:
    actors: dict[str, Actor] = await race_actors()
    clinic = await build(actors, on_hand=3)
    await with_rule(actors, clinic, reorder_point=5, par_level=20, lead_time_days=0)
    supplier = await purchasing.create_supplier(actor=actors["manager"], name=f.unique("Race supplier"), email=None)
    await purchasing.set_supplier_product(
        actor=actors["manager"],
        supplier_id=supplier.id,
        product_id=clinic.product["id"],
        pack_gtin=None,
        pack_units=1,
        lead_time_days=1,
        reference=None,
    )
    (view,) = (await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)).orders
    order_id = view.order.id
    await purchasing.send(actor=actors["manager"], order_id=order_id)

    def receipt(lot: str, quantity: int) -> asyncio.Task[dict[str, object]]:
        line = receiving.LineIn(
            quantity=quantity, product_id=clinic.product["id"], lot_number=lot, expiry_date=f.in_days(300)
        )
        return asyncio.create_task(
            receiving.receive(
                actor=actors["staff"],
                location_id=clinic.location_id,
                supplier=None,
                reference=None,
                lines=[line],
                purchase_order_id=order_id,
            )
        )

    async with db.connection() as other:
        blocker = other.transaction()
        await blocker.start()
        await other.execute("SELECT 1 FROM purchase_order WHERE id = $1 FOR UPDATE", order_id)
        tasks = [receipt(f.unique("RA").replace(" ", ""), 8), receipt(f.unique("RB").replace(" ", ""), 12)]
        await wait_until_blocked_by(other)
        await blocker.commit()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    got = (await purchasing.get_order(order_id)).order
    assert [(li.quantity, li.received) for li in got.lines] == [(20, 20)]
    assert got.status == "received"
