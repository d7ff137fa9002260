"""Returning a recalled lot to its supplier from the lot page in a real Chromium, in English and French."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from inventory import db
from inventory.services import purchasing, recall_cases
from tests.support import factories as f
from tests.support.browser import Tab, assert_accessible, in_language, race_actors, use_sign_in
from tests.support.clinic import Clinic, build

pytestmark = pytest.mark.race

WORDS = {
    "en": {
        "title": "Return to supplier",
        "only": "Only 4 on hand here.",
        "done": "Returned 4 of lot {lot} to the supplier (RET-",
        "kind": "Returned to supplier",
        "reason": "Recalled",
    },
    "fr": {
        "title": "Retour au fournisseur",
        "only": "Seulement 4 en stock ici.",
        "done": "4 du lot {lot} retourné(s) au fournisseur (RET-",
        "kind": "Retourné au fournisseur",
        "reason": "Rappelé",
    },
}


async def _recalled(supplier_name: str) -> tuple[Clinic, int]:
    actors = await race_actors()
    clinic = await build(actors, on_hand=4)
    await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="Notice 9")
    supplier = await purchasing.create_supplier(actor=actors["manager"], name=supplier_name, email=None)
    return clinic, supplier.id


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_a_manager_returns_a_recalled_lot_and_the_ledger_and_list_show_it(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    words = WORDS[locale]
    name = f.unique("Supplier")
    clinic, supplier_id = await _recalled(name)
    lot_id = clinic.lot["id"]
    await use_sign_in(tab, page_cookies["manager"])
    await in_language(tab, locale)
    page = tab.page
    await page.goto(f"{tab.base_url}/ui/stock/lots/{lot_id}?location_id={clinic.location_id}")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await expect(page.locator("#return-title")).to_have_text(words["title"])
    quantity = page.locator("#return-form-quantity")
    await expect(quantity).to_have_value("4")  # a recalled lot: everything here, for the reason "recalled"
    await expect(page.locator("#return-form-reason")).to_have_value("recalled")
    await assert_accessible(page, f"lot return {locale}")

    await quantity.fill("9")  # more than on hand: refused, the message next to the field, the value kept
    await page.locator("#return-form button[type=submit]").click()
    await expect(page.locator("#return-form-quantity-error")).to_have_text(words["only"])
    await expect(page.locator("#return-form-quantity")).to_have_value("9")
    await expect(page.locator("#return-form-quantity")).to_be_focused()
    await assert_accessible(page, f"lot return refused {locale}")

    await page.locator("#return-form-quantity").fill("4")
    await page.locator("#return-form-supplier_id").select_option(str(supplier_id))
    await page.locator("#return-form button[type=submit]").click()
    await expect(page.locator("#flash")).to_contain_text(words["done"].format(lot=clinic.lot["lot_number"]))
    row = page.locator("tr[data-kind=return]")
    await expect(row).to_contain_text(words["kind"])
    await expect(page.locator("table.returns tbody tr")).to_contain_text(name)
    await expect(page.locator("table.returns tbody tr")).to_contain_text(words["reason"])
    await assert_accessible(page, f"lot returned {locale}")
    await page.set_viewport_size({"width": 360, "height": 900})
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 360
    await tab.shot(f"stock-lot-returned-360-{locale}")
    async with db.connection() as conn:
        moved = await conn.fetch("SELECT quantity, kind FROM stock_movement WHERE lot = $1 ORDER BY id", lot_id)
    assert [(m["quantity"], m["kind"]) for m in moved][-1] == (-4, "return")
    async with page.expect_download() as download:
        await page.locator("table.returns tbody a").click()
    assert (await download.value).suggested_filename.startswith("return-")


async def test_the_return_form_fits_a_phone_and_a_tablet_in_both_languages(
    tab: Tab, page_cookies: dict[str, str]
) -> None:
    clinic, _ = await _recalled(f.unique("Supplier"))
    await use_sign_in(tab, page_cookies["manager"])
    page = tab.page
    for locale in ("en", "fr"):
        await in_language(tab, locale)
        for width in (360, 390, 1024):
            await page.set_viewport_size({"width": width, "height": 900})
            await page.goto(f"{tab.base_url}/ui/stock/lots/{clinic.lot['id']}?location_id={clinic.location_id}")
            await page.locator("#return").scroll_into_view_if_needed()
            assert await page.evaluate("() => document.documentElement.scrollWidth") <= width, (locale, width)
            await tab.shot(f"stock-lot-return-{width}-{locale}")
    await assert_accessible(page, "lot return 1024 fr")
