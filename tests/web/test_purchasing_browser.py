"""Suppliers, orders and receiving against an order in a real Chromium, in English and French, axe-checked."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from inventory.services import catalog, purchasing
from tests.support import factories as f
from tests.support.browser import Tab, assert_accessible, in_language, race_actors, use_sign_in
from tests.support.clinic import build
from tests.web.test_receive_browser import at_widths, box, burst, content_of

pytestmark = pytest.mark.race
WORDS = {
    "en": {
        "supplier_made": "Now set the products it sells.",
        "gtin_bad": "This GTIN is not valid (wrong length or check digit).",
        "made": "Draft made or added to: order",
        "sent": "Sent",
        "partial": "Partially received",
        "received_against": "which is now partially received",
        "nothing": "Nothing new to order",
    },
    "fr": {
        "supplier_made": "Indiquez maintenant les produits qu’il vend.",
        "gtin_bad": "Ce GTIN n’est pas valable (longueur ou clé de contrôle fausse).",
        "made": "Brouillon créé ou complété\u00a0: commande",
        "sent": "Envoyée",
        "partial": "Reçue en partie",
        "received_against": "désormais reçue en partie",
        "nothing": "Rien de nouveau à commander",
    },
}


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_supplier_set_up_orders_from_alerts_edited_sent_downloaded_and_received_in_part(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    words, page = WORDS[locale], tab.page
    actors = await race_actors()
    clinic = await build(actors, on_hand=3)
    await catalog.set_rule(
        actor=actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        reorder_point=5,
        par_level=20,
        lead_time_days=0,
    )
    await use_sign_in(tab, page_cookies["manager"])
    await in_language(tab, locale)

    # A supplier, then the product it sells (a bad pack GTIN first: the message is next to the field).
    await page.goto(tab.base_url + "/ui/suppliers")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await assert_accessible(page, f"suppliers {locale}")
    await at_widths(tab, f"suppliers-{locale}")
    await page.fill("#name", f.unique(f"Distrib {locale}"))
    await page.fill("#email", "orders@distrib.test")
    await page.press("#email", "Enter")
    await expect(page.locator("#flash")).to_contain_text(words["supplier_made"])
    await expect(page.locator("#product_id")).to_be_focused()
    await page.select_option("#product_id", str(clinic.product["id"]))
    await page.fill("#pack_gtin", "12345")
    await page.fill("#pack_units", "10")
    await page.fill("#lead_time_days", "2")
    await page.fill("#reference", "REF-42")
    await page.click("form[action$='/products'] button[type=submit]")
    await expect(page.locator("#pack_gtin-error")).to_have_text(words["gtin_bad"])
    await expect(page.locator("#pack_gtin")).to_be_focused()
    await expect(page.locator("#pack_gtin")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, f"supplier refused {locale}")
    await page.fill("#pack_gtin", "")
    await page.click("form[action$='/products'] button[type=submit]")
    row = page.locator(f"#product-{clinic.product['id']}")
    await expect(row).to_contain_text("REF-42")
    await assert_accessible(page, f"supplier {locale}")
    await at_widths(tab, f"supplier-{locale}")

    # Orders from the alerts: one draft, shown with what it holds.
    await page.goto(tab.base_url + "/ui/orders")
    await page.select_option("#from-location", str(clinic.location_id))
    await page.click("#from-alerts")
    await page.wait_for_url(re.compile(r"/ui/orders/\d+$"))
    order_id = int(page.url.rsplit("/", 1)[1])
    await expect(page.locator("#flash")).to_contain_text(words["made"])
    quantity = page.locator(f"#quantity-{clinic.product['id']}")
    await expect(quantity).to_have_value("20")
    await assert_accessible(page, f"draft order {locale}")
    await at_widths(tab, f"order-draft-{locale}")
    await quantity.fill("30")
    await page.click("#save-lines")
    await expect(quantity).to_have_value("30")
    await page.click("#send")
    await expect(page.locator("#order-status")).to_have_text(words["sent"])
    async with page.expect_download() as downloading:
        await page.click("#pdf")
    download = await downloading.value
    assert download.suggested_filename == f"purchase-order-{order_id}.pdf"
    assert content_of(await download.path()).startswith(b"%PDF")
    async with page.expect_download() as downloading:
        await page.click("#csv")
    assert "REF-42" in content_of(await (await downloading.value).path()).decode("utf-8-sig")
    await assert_accessible(page, f"sent order {locale}")
    await at_widths(tab, f"order-sent-{locale}")

    # A second run orders nothing new, and says so.
    await page.goto(tab.base_url + f"/ui/orders?location={clinic.location_id}")
    await page.select_option("#from-location", str(clinic.location_id))
    await page.click("#from-alerts")
    await expect(page.locator("#flash")).to_contain_text(words["nothing"])
    await assert_accessible(page, f"orders {locale}")
    await at_widths(tab, f"orders-{locale}")

    # Receive one box of 10 of the 30 against the order: partially received, 20 still to come.
    await page.goto(tab.base_url + f"/ui/orders/{order_id}")
    await page.click("#receive")
    await page.wait_for_url(re.compile(rf"/ui/receive\?order={order_id}$"))
    await expect(page.locator("#against-order .due")).to_have_text("30")
    await expect(page.locator("#barcode")).to_be_focused()
    await burst(page, box(clinic, f.unique(f"PO{locale}").replace(" ", ""), f.in_days(300)))
    await expect(page.locator("#against-order .in-delivery")).to_have_text("10")
    await expect(page.locator("#quantity")).to_have_value("20")  # the typed line: what is still to come now
    await assert_accessible(page, f"receive against an order {locale}")
    await at_widths(tab, f"receive-order-{locale}")
    await page.click("button[value=receive]")
    await page.wait_for_url(re.compile(r"/ui/receive/\d+$"))
    await expect(page.locator("#flash")).to_contain_text(words["received_against"])
    view = await purchasing.get_order(order_id)
    assert view.order.status == "partially_received"
    assert [(li.quantity, li.received) for li in view.order.lines] == [(30, 10)]
    await page.goto(tab.base_url + f"/ui/orders/{order_id}")
    await expect(page.locator("#order-status")).to_have_text(words["partial"])
    await expect(page.locator(".due")).to_have_text("20")
    await page.click("#cancel")
    await expect(page.locator("#confirm-cancel")).to_be_visible()
    await assert_accessible(page, f"cancel order {locale}")
    await at_widths(tab, f"order-cancel-{locale}")
