"""/ui/receive against a purchase order over HTTP: filled in from the order, booked with it, the rest on order."""

from __future__ import annotations

import re

import asyncpg
import pytest

from inventory.domain.models import Actor
from inventory.services import purchasing
from tests.support import factories as f
from tests.support.clinic import Clinic, build, with_rule
from tests.support.pages import Pages, field_error
from tests.web.test_receive_page import Draft, box

FR = {"Accept-Language": "fr"}


def cells(page: str, css: str) -> list[str]:
    """The texts of the table cells of class `css` (e.g. "num due"), in order."""
    return re.findall(rf'<td class="{css}"[^>]*>\s*([^<]+?)\s*<', page)


async def sent_order(actors: dict[str, Actor], clinic: Clinic, quantity: int) -> int:
    """A sent order of `quantity` units of the clinic's product at its location, from a supplier selling by 1."""
    await with_rule(actors, clinic, reorder_point=5, par_level=20)
    supplier = await purchasing.create_supplier(actor=actors["manager"], name=f.unique("Supplier"), email=None)
    await purchasing.set_supplier_product(
        actor=actors["manager"],
        supplier_id=supplier.id,
        product_id=clinic.product["id"],
        pack_gtin=None,
        pack_units=1,
        lead_time_days=0,
        reference=None,
    )
    (view,) = (await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)).orders
    order_id = view.order.id
    await purchasing.set_line(
        actor=actors["manager"], order_id=order_id, product_id=clinic.product["id"], quantity=quantity
    )
    await purchasing.send(actor=actors["manager"], order_id=order_id)
    return order_id


@pytest.fixture
def staff(pages: Pages, page_cookies: dict[str, str]) -> Pages:
    return pages.sign_in_as(page_cookies["staff"])


async def open_against(staff: Pages, clinic: Clinic, order_id: int, headers: dict[str, str] | None = None) -> Draft:
    draft = Draft(staff, clinic.location_id, headers)
    response = await staff.get(f"/ui/receive?order={order_id}", headers=headers or {})
    assert response.status_code == 200, response.text
    draft._read(response.text)
    return draft


async def test_the_empty_draft_offers_the_sent_orders_and_one_chosen_fills_the_delivery_in(
    staff: Pages, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=3)
    order_id = await sent_order(actors, clinic, 30)
    empty = await staff.get("/ui/receive")
    assert f'<option value="{order_id}">Order {order_id}' in empty.text
    draft = await open_against(staff, clinic, order_id)
    page = draft.page
    assert f'name="purchase_order_id" value="{order_id}"' in page
    assert f'<option value="{clinic.location_id}" selected>' in page
    assert f'value="Order {order_id}"' in page  # the reference
    # The typed line is filled in with what is still to come: the product and its 30 units.
    assert f'<option value="{clinic.product["id"]}" selected>' in page
    assert 'id="quantity" name="quantity" class="short" inputmode="numeric" value="30"' in page
    assert cells(page, "num due") == ["30"]


async def test_a_partial_delivery_leaves_the_order_partially_received_with_the_rest_on_order(
    staff: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=3)
    order_id = await sent_order(actors, clinic, 30)
    draft = await open_against(staff, clinic, order_id)
    # The page's hidden purchase_order_id travels with every post, as a browser sends it.
    await draft.scan(box(clinic, "PO-1", f.in_days(300)), scan_quantity="2", purchase_order_id=str(order_id))
    assert cells(draft.page, "num in-delivery") == ["20"] and "10 short" in draft.page
    booked = await draft.post("receive", purchase_order_id=str(order_id), supplier="S", reference=f"Order {order_id}")
    assert booked.status_code == 303, draft.page
    shown = await staff.get(booked.headers["location"])
    assert f"Delivery received against order {order_id}, which is now partially received." in shown.text
    order = (await purchasing.get_order(order_id)).order
    assert order.status == "partially_received"
    assert [(line.quantity, line.received) for line in order.lines] == [(30, 20)]
    receipt = await conn.fetchval("SELECT purchase_order FROM receipt ORDER BY id DESC LIMIT 1")
    assert receipt == order_id

    # The rest: 15 more arrive, 5 over; the order is received and shows the over-delivery.
    rest = await open_against(staff, clinic, order_id)
    assert 'value="10"' in rest.page and cells(rest.page, "num due") == ["10"]
    await rest.post(
        "type",
        purchase_order_id=str(order_id),
        product_id=str(clinic.product["id"]),
        lot_number="PO-2",
        expiry_date=f.in_days(300).isoformat(),
        quantity="15",
    )
    assert "5 over" in rest.page
    booked = await rest.post("receive", purchase_order_id=str(order_id))
    assert booked.status_code == 303
    order = (await purchasing.get_order(order_id)).order
    assert order.status == "received" and [(li.quantity, li.received) for li in order.lines] == [(30, 35)]


async def test_an_order_for_another_location_is_refused_next_to_the_order_and_nothing_is_written(
    staff: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=3)
    elsewhere = await build(actors, on_hand=1)
    order_id = await sent_order(actors, clinic, 10)
    draft = Draft(staff, elsewhere.location_id, FR)
    await draft.open()
    await draft.scan(box(clinic, "PO-X", f.in_days(300)))
    receipts = await conn.fetchval("SELECT count(*) FROM receipt")
    refused = await draft.post("receive", purchase_order_id=str(order_id))
    assert refused.status_code == 409
    assert field_error(draft.page, "purchase_order_id") == (
        "Cette commande est pour un autre site\u00a0: choisissez le site auquel elle est destinée."
    )
    assert await conn.fetchval("SELECT count(*) FROM receipt") == receipts
    assert (await purchasing.get_order(order_id)).order.status == "sent"
