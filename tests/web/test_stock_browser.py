"""The stock page in a real Chromium, as a manager reconciles the shelf and as staff reads it, in English and French."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from inventory import db
from tests.support.browser import Tab, assert_accessible, in_language, race_actors, use_sign_in
from tests.support.shelf import Shelf, build_shelf

pytestmark = pytest.mark.race

WORDS = {
    "en": {
        "title": "To reconcile",
        "expired": "Expired, but units are still on the shelf",
        "never": "Never received: a scan recorded this lot here",
        "below": "On hand is below zero",
        "disposed": "Disposed of 3 of lot {lot} (expired); 0 left here.",
        "counted": "Lot {lot} counted: on hand was -1, it is now 2.",
        "disposal": "Disposed of",
        "at_least": "Enter a number of at least 0.",
    },
    "fr": {
        "title": "À régulariser",
        "expired": "Périmé, mais des unités sont encore en rayon",
        "never": "Jamais réceptionné : un scan a enregistré ce lot ici",
        "below": "Stock négatif",
        "disposed": "3 du lot {lot} mis au rebut (périmé) ; il en reste 0 ici.",
        "counted": "Lot {lot} compté : le stock était de -1, il est maintenant de 2.",
        "disposal": "Mis au rebut",
        "at_least": "Saisissez un nombre d’au moins 0.",
    },
}


async def at_the_shelf(tab: Tab, page_cookies: dict[str, str], role: str, locale: str) -> Shelf:
    """A new shelf with lots to reconcile, and `role` signed in on its stock page in `locale`."""
    shelf = await build_shelf(await race_actors())
    await use_sign_in(tab, page_cookies[role])
    await in_language(tab, locale)
    await tab.page.goto(f"{tab.base_url}/ui/stock?location_id={shelf.location_id}")
    await expect(tab.page.locator("html")).to_have_attribute("lang", locale)
    return shelf


async def movements(lot_id: int) -> list[tuple[int, str, str | None]]:
    """The lot's committed ledger rows: quantity, kind, reason."""
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT quantity, kind, reason FROM stock_movement WHERE lot = $1 ORDER BY id", lot_id)
    return [(r["quantity"], r["kind"], r["reason"]) for r in rows]


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_a_manager_disposes_of_an_expired_lot_by_keyboard_and_the_ledger_has_the_disposal(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    words = WORDS[locale]
    shelf = await at_the_shelf(tab, page_cookies, "manager", locale)
    page = tab.page
    lot = shelf.expired
    card = page.locator(f"#flagged-lot-{lot['id']}")
    await expect(page.locator("#flagged-title")).to_contain_text(words["title"])
    await expect(card.locator(".reasons")).to_contain_text(words["expired"])
    await expect(card.locator(".on-hand")).to_have_text("3")
    await assert_accessible(page, f"stock {locale}")
    await tab.shot(f"stock-manager-{locale}")

    # By keyboard: open "Dispose of units", the quantity (all 3) and the reason (expired) are filled in.
    await card.locator("details.action-dispose > summary").focus()
    await page.keyboard.press("Enter")
    await expect(card.locator("details.action-dispose")).to_have_attribute("open", "")
    await page.keyboard.press("Tab")
    quantity = page.locator(f"#dispose-{lot['id']}-quantity")
    await expect(quantity).to_be_focused()
    await expect(quantity).to_have_value("3")
    await page.keyboard.press("Tab")
    await expect(page.locator(f"#dispose-{lot['id']}-reason")).to_be_focused()
    await expect(page.locator(f"#dispose-{lot['id']}-reason")).to_have_value("expired")
    await page.keyboard.press("Tab")
    await expect(page.locator(f"#dispose-{lot['id']}-note")).to_be_focused()
    await assert_accessible(page, f"stock disposal open {locale}")
    await tab.shot(f"stock-dispose-open-{locale}")
    await page.keyboard.press("Tab")
    await expect(card.locator("details.action-dispose button[type=submit]")).to_be_focused()
    await page.keyboard.press("Enter")

    await expect(page.locator("#flash")).to_have_text(words["disposed"].format(lot=lot["lot_number"]))
    await expect(page.locator(f"#flagged-lot-{lot['id']}")).to_have_count(0)
    await expect(page.locator(f'#lots tr[data-lot="{lot["id"]}"]')).to_have_count(0)
    assert (await movements(lot["id"]))[-1] == (-3, "dispose", "expired")
    await tab.shot(f"stock-disposed-{locale}")

    await page.goto(f"{tab.base_url}/ui/stock/lots/{lot['id']}?location_id={shelf.location_id}")
    newest = page.locator("table.ledger tbody tr").first
    await expect(newest).to_have_attribute("data-kind", "dispose")
    await expect(newest).to_contain_text(words["disposal"])
    await expect(newest).to_contain_text("manager@clinic.test")
    await expect(page.locator("table.ledger tbody tr")).to_have_count(2)  # the receipt, then the disposal
    await assert_accessible(page, f"lot {locale}")
    await tab.shot(f"stock-lot-{locale}")


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_a_manager_reconciles_a_negative_stock_by_counting_the_shelf(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    words = WORDS[locale]
    shelf = await at_the_shelf(tab, page_cookies, "manager", locale)
    page = tab.page
    lot = shelf.never_received
    card = page.locator(f"#flagged-lot-{lot['id']}")
    await expect(card.locator(".reasons")).to_contain_text(words["never"])
    await expect(card.locator(".reasons")).to_contain_text(words["below"])
    await expect(card.locator(".on-hand")).to_have_text("-1")
    # The only way to reconcile what is not on the records is a count: no transfer, no disposal of -1.
    await expect(card.locator("details.action")).to_have_count(1)

    await card.locator("details.action-count > summary").click()
    counted = page.locator(f"#count-{lot['id']}-counted")
    await counted.fill("-2")
    await counted.press("Enter")
    await expect(page.locator(f"#count-{lot['id']}-counted-error")).to_have_text(words["at_least"])
    await expect(page.locator(f"#count-{lot['id']}-counted")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, f"stock count refused {locale}")
    await tab.shot(f"stock-count-refused-{locale}")
    assert [kind for _, kind, _ in await movements(lot["id"])] == ["use"]

    await page.locator(f"#count-{lot['id']}-counted").fill("2")
    await page.locator(f"#count-{lot['id']}-counted").press("Enter")
    await expect(page.locator("#flash")).to_have_text(words["counted"].format(lot=lot["lot_number"]))
    await expect(page.locator(f'#lots tr[data-lot="{lot["id"]}"] .on-hand')).to_have_text("2")
    await expect(page.locator(f"#flagged-lot-{lot['id']}")).to_have_count(0)
    assert (await movements(lot["id"]))[-1][:2] == (3, "adjust")


async def test_staff_see_the_stock_but_no_action_and_a_post_is_refused(tab: Tab, page_cookies: dict[str, str]) -> None:
    shelf = await at_the_shelf(tab, page_cookies, "staff", "fr")
    page = tab.page
    await expect(page.locator("#flagged .flagged-lot")).to_have_count(3)
    await expect(page.locator("#flagged form")).to_have_count(0)
    await expect(page.locator("#flagged details")).to_have_count(0)
    await assert_accessible(page, "stock staff fr")
    await tab.shot("stock-staff-fr")
    token = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    response = await page.request.post(
        f"{tab.base_url}/ui/stock/dispose",
        form={
            "csrf_token": token or "",
            "lot_id": str(shelf.expired["id"]),
            "location_id": str(shelf.location_id),
            "quantity": "1",
            "reason": "expired",
        },
        max_redirects=0,
    )
    assert response.status == 403
    assert [kind for _, kind, _ in await movements(shelf.expired["id"])] == ["receive"]


async def test_the_pages_fit_a_phone_and_a_tablet_in_both_languages(tab: Tab, page_cookies: dict[str, str]) -> None:
    shelf = await at_the_shelf(tab, page_cookies, "manager", "en")
    page = tab.page
    for locale in ("en", "fr"):
        await in_language(tab, locale)
        for width in (360, 390, 1024):
            await page.set_viewport_size({"width": width, "height": 800})
            await page.goto(f"{tab.base_url}/ui/stock?location_id={shelf.location_id}")
            # Every action form open: the widest the page gets.
            for summary in await page.locator("#flagged details > summary").all():
                await summary.click()
            assert await page.evaluate("() => document.documentElement.scrollWidth") <= width, (locale, width)
            await tab.shot(f"stock-{width}-{locale}")
            await page.goto(f"{tab.base_url}/ui/stock/lots/{shelf.never_received['id']}")
            assert await page.evaluate("() => document.documentElement.scrollWidth") <= width, (locale, width)
            await tab.shot(f"stock-lot-{width}-{locale}")
    await assert_accessible(page, "lot 1024 fr")
    await expect(page.locator("h1")).to_have_text(re.compile(shelf.clinic.product["name"]))
