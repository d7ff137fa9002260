"""/ui/suppliers and /ui/orders over HTTP: suppliers set up, drafts from alerts, edited, sent, downloaded, cancelled."""

from __future__ import annotations

import re

import asyncpg
import pytest

from inventory.domain.models import Actor
from inventory.services import purchasing
from tests.support import factories as f
from tests.support.clinic import Clinic, build, with_rule
from tests.support.pages import Pages, field_error

FR = {"Accept-Language": "fr"}


@pytest.fixture
def manager(pages: Pages, page_cookies: dict[str, str]) -> Pages:
    return pages.sign_in_as(page_cookies["manager"])


async def short_clinic(actors: dict[str, Actor]) -> Clinic:
    """3 on hand, reorder point 5, par 20: an open alert suggesting 17 (whole boxes of 10 in the rule: 20)."""
    clinic = await build(actors, on_hand=3)
    return await with_rule(actors, clinic, reorder_point=5, par_level=20)


async def supplier_selling(manager: Pages, clinic: Clinic, *, pack_units: int = 6) -> int:
    """A supplier made on the page, selling the clinic's product in packs of `pack_units`; its id."""
    name = f.unique("Supplier")
    made = await manager.post("/ui/suppliers", {"name": name, "email": "orders@supplier.test"})
    assert made.status_code == 303, made.text
    supplier_id = int(made.headers["location"].rsplit("/", 1)[1])
    setting = {
        "product_id": str(clinic.product["id"]),
        "pack_units": str(pack_units),
        "lead_time_days": "3",
        "reference": "REF-9",
        "pack_gtin": "",
    }
    saved = await manager.post(f"/ui/suppliers/{supplier_id}/products", setting)
    assert saved.status_code == 303, saved.text
    return supplier_id


async def test_staff_cannot_open_the_purchasing_pages(pages: Pages, page_cookies: dict[str, str]) -> None:
    staff = pages.sign_in_as(page_cookies["staff"])
    for path in ("/ui/suppliers", "/ui/orders"):
        assert (await staff.get(path)).status_code == 403


async def test_a_supplier_and_its_product_settings_with_messages_next_to_bad_fields(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=1)
    empty = await manager.post("/ui/suppliers", {"name": " ", "email": "not-an-address"})
    assert empty.status_code == 422
    assert field_error(empty.text, "name") == "This field is required."
    assert field_error(empty.text, "email") == "Enter an e-mail address, such as orders@example.com."
    supplier_id = await supplier_selling(manager, clinic)
    page = await manager.get("/ui/suppliers")
    assert page.status_code == 200 and f'href="/ui/suppliers/{supplier_id}"' in page.text
    name = next(s.name for s in await purchasing.list_suppliers() if s.id == supplier_id)
    taken = await manager.post("/ui/suppliers", {"name": name.lower()})
    assert taken.status_code == 409 and field_error(taken.text, "name") == "This already exists."

    shown = await manager.get(f"/ui/suppliers/{supplier_id}")
    assert f'id="product-{clinic.product["id"]}"' in shown.text and "REF-9" in shown.text
    bad = await manager.post(
        f"/ui/suppliers/{supplier_id}/products",
        {"product_id": str(clinic.product["id"]), "pack_units": "0", "lead_time_days": "400", "pack_gtin": "123"},
    )
    assert bad.status_code == 422
    assert field_error(bad.text, "pack_units") == "Enter a number of at least 1."
    assert field_error(bad.text, "lead_time_days") == "Enter a number of at most 365."
    wrong_gtin = await manager.post(
        f"/ui/suppliers/{supplier_id}/products",
        {"product_id": str(clinic.product["id"]), "pack_units": "12", "lead_time_days": "2", "pack_gtin": "123"},
    )
    assert wrong_gtin.status_code == 422
    assert field_error(wrong_gtin.text, "pack_gtin") == "This GTIN is not valid (wrong length or check digit)."
    row = await conn.fetchrow(
        "SELECT pack_units, lead_time_days FROM supplier_product WHERE supplier = $1", supplier_id
    )
    assert (row["pack_units"], row["lead_time_days"]) == (6, 3)  # nothing written by the refused posts
    french = await manager.post(
        f"/ui/suppliers/{supplier_id}/products", {"product_id": "", "pack_units": "x"}, headers=FR
    )
    assert field_error(french.text, "product_id") == "Ce champ est obligatoire."
    assert '<html lang="fr">' in french.text


async def test_from_alerts_makes_one_draft_edited_sent_downloaded_and_a_second_run_makes_nothing(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await short_clinic(actors)
    await supplier_selling(manager, clinic, pack_units=6)
    made = await manager.post("/ui/orders/from-alerts", {"location_id": str(clinic.location_id)})
    assert made.status_code == 303
    order_id = int(made.headers["location"].rsplit("/", 1)[1])
    draft = await manager.get(made.headers["location"])
    assert "Draft made or added to: order" in draft.text  # the flash says what it made
    assert (
        f'name="quantity-{clinic.product["id"]}" class="short" inputmode="numeric" value="24"' in draft.text
    )  # 17 short, whole packs of 6 over boxes of 10

    negative = await manager.post(f"/ui/orders/{order_id}/lines", {f"quantity-{clinic.product['id']}": "-1"})
    assert negative.status_code == 422
    assert field_error(negative.text, f"quantity-{clinic.product['id']}") == "Enter a number of at least 0."
    saved = await manager.post(f"/ui/orders/{order_id}/lines", {f"quantity-{clinic.product['id']}": "30"})
    assert saved.status_code == 303
    assert await conn.fetchval("SELECT quantity FROM purchase_order_line WHERE purchase_order = $1", order_id) == 30

    sent = await manager.post(f"/ui/orders/{order_id}/send", {})
    assert sent.status_code == 303 and sent.headers["location"] == f"/ui/orders/{order_id}#documents"
    page = await manager.get(f"/ui/orders/{order_id}")
    assert 'data-status="sent"' in page.text and f'href="/ui/orders/{order_id}/pdf"' in page.text
    assert 'name="quantity-' not in page.text  # a sent order is no longer editable
    pdf = await manager.get(f"/ui/orders/{order_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    csv = await manager.get(f"/ui/orders/{order_id}/csv")
    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    assert "REF-9" in csv.text and ",30,0" in csv.text

    # 3 on hand + 30 on order is past the par level: a second run orders nothing and says so.
    again = await manager.post("/ui/orders/from-alerts", {"location_id": str(clinic.location_id)})
    assert again.headers["location"] == f"/ui/orders?location={clinic.location_id}"
    nothing = await manager.get(again.headers["location"])
    assert "Nothing new to order" in nothing.text
    assert await conn.fetchval("SELECT count(*) FROM purchase_order WHERE location = $1", clinic.location_id) == 1
    french = await manager.post("/ui/orders/from-alerts", {"location_id": str(clinic.location_id)}, headers=FR)
    assert "Rien de nouveau à commander" in (await manager.get(french.headers["location"], headers=FR)).text


async def test_orders_list_by_status_and_location_with_ordered_and_received_per_line(
    manager: Pages, actors: dict[str, Actor]
) -> None:
    clinic = await short_clinic(actors)
    await supplier_selling(manager, clinic)
    made = await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)
    (view,) = made.orders
    drafts = await manager.get("/ui/orders", params={"status": "draft", "location": str(clinic.location_id)})
    assert drafts.status_code == 200 and f'data-order="{view.order.id}"' in drafts.text
    sent = await manager.get("/ui/orders", params={"status": "sent", "location": str(clinic.location_id)})
    assert f'data-order="{view.order.id}"' not in sent.text and 'id="no-orders"' in sent.text
    bad = await manager.get("/ui/orders", params={"status": "lost"})
    assert bad.status_code == 422 and field_error(bad.text, "status") == "Choose one of the options."
    row = re.search(rf'data-product="{clinic.product["id"]}".*?</tr>', drafts.text, re.S)
    assert row is not None and 'class="ordered">24<' in row.group(0)
    assert re.search(r'class="num due"[^>]*>24<', row.group(0))  # nothing received yet: all 24 still to come


async def test_cancel_asks_first_without_javascript_then_cancels(manager: Pages, actors: dict[str, Actor]) -> None:
    clinic = await short_clinic(actors)
    await supplier_selling(manager, clinic)
    (view,) = (await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)).orders
    order_id = view.order.id
    question = await manager.get(f"/ui/orders/{order_id}/cancel")
    assert question.status_code == 200 and f'action="/ui/orders/{order_id}/cancel"' in question.text
    assert (await purchasing.get_order(order_id)).order.status == "draft"  # asking changed nothing
    done = await manager.post(f"/ui/orders/{order_id}/cancel", {})
    assert done.status_code == 303
    assert (await purchasing.get_order(order_id)).order.status == "cancelled"
    again = await manager.post(f"/ui/orders/{order_id}/send", {})
    page = await manager.get(again.headers["location"])
    assert "This cannot be done in the current state." in page.text
    assert (await manager.get("/ui/orders/999999")).status_code == 404
