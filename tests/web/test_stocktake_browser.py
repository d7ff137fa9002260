"""A stocktake in a real Chromium: two staff phones count the same lot blind, a manager reviews and approves."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from inventory import db
from inventory.store.stock import on_hand
from tests.support.browser import Tab, assert_accessible, in_language, race_actors, use_sign_in
from tests.support.clinic import build
from tests.web.test_receive_browser import at_widths, burst

pytestmark = pytest.mark.race
WORDS = {
    "en": {
        "started": "Count started at",
        "counted": "You have counted",
        "approved": "Stocktake approved: 1",
        "expected": "Expected",
        "on_hand": "on hand",
    },
    "fr": {
        "started": "Inventaire commencé à",
        "counted": "Vous avez compté",
        "approved": "Inventaire validé",
        "expected": "Attendu",
        "on_hand": "en stock",
    },
}


async def phone(browser: Browser, base_url: str, cookie: str, locale: str) -> Tab:
    """A 390 px phone signed in with `cookie`, browsing in `locale`."""
    context = await browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    context.set_default_timeout(8000)
    opened = Tab(await context.new_page(), base_url)
    await use_sign_in(opened, cookie)
    await in_language(opened, locale)
    return opened


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_two_phones_count_the_same_lot_and_the_approved_stock_is_the_count(
    tab: Tab, browser: Browser, base_url: str, page_cookies: dict[str, str], locale: str
) -> None:
    words, page = WORDS[locale], tab.page
    actors = await race_actors()
    clinic = await build(actors, on_hand=9)
    await use_sign_in(tab, page_cookies["manager"])
    await in_language(tab, locale)
    await page.goto(tab.base_url + "/ui/stocktake")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await assert_accessible(page, f"stocktake {locale}")
    await at_widths(tab, f"stocktake-{locale}")
    await page.select_option("#location_id", str(clinic.location_id))
    await page.click("#start")
    await page.wait_for_url(re.compile(r"/ui/stocktake/\d+$"))
    stocktake_id = int(page.url.rsplit("/", 1)[1])
    await expect(page.locator("#flash")).to_contain_text(words["started"])

    phones = [
        await phone(browser, base_url, page_cookies["staff"], locale),
        await phone(browser, base_url, page_cookies["staff2"], locale),
    ]
    try:
        for counter in phones:
            await counter.page.goto(base_url + "/ui/stocktake")
            await counter.page.click(f'li[data-stocktake="{stocktake_id}"] a[href$="/count"]')
            await expect(counter.page.locator("#barcode")).to_be_focused()
        first, second = phones
        await assert_accessible(first.page, f"stocktake count {locale}")
        await at_widths(first, f"stocktake-count-{locale}")
        await first.page.set_viewport_size({"width": 390, "height": 844})
        # Both at once: a box's worth typed as a quantity on one phone, single scans on the other.
        await first.page.fill("#quantity", "4")
        await first.page.locator("#barcode").focus()
        await burst(first.page, clinic.code())
        await burst(second.page, clinic.code())
        for counter in phones:
            await expect(counter.page.locator("#flash")).to_contain_text(words["counted"])
        await expect(second.page.locator("#barcode")).to_be_focused()  # ready for the next scan
        await burst(second.page, clinic.code())
        await expect(second.page.locator("#flash")).to_contain_text(f"{words['counted']} 2 ")
        for counter in phones:  # blind: no expected figure, no on-hand on a counter's page
            text = await counter.page.locator("main").inner_text()
            assert words["expected"] not in text and words["on_hand"] not in text, text
            assert await counter.page.locator(".expected, .variance").count() == 0
        await at_widths(second, f"stocktake-counted-{locale}")
        for counter in phones:
            assert counter.problems == []
    finally:
        for counter in phones:
            await counter.page.context.close()

    # The manager: expected 9, counted 4 + 1 + 1 = 6, variance -3; approve after the question.
    await page.goto(tab.base_url + f"/ui/stocktake/{stocktake_id}")
    line = page.locator(f'#counted tr[data-lot="{clinic.lot["id"]}"]')
    await expect(line.locator(".expected")).to_have_text("9")
    await expect(line.locator(".counted")).to_contain_text("6")
    await expect(line.locator(".variance")).to_have_text("-3")
    await assert_accessible(page, f"stocktake review {locale}")
    await at_widths(tab, f"stocktake-review-{locale}")
    await page.click("#approve")
    await expect(page.locator("#confirm-approve")).to_be_visible()
    await assert_accessible(page, f"stocktake approve {locale}")
    await at_widths(tab, f"stocktake-approve-{locale}")
    await page.click("#confirm-approve")
    await expect(page.locator("#flash")).to_contain_text(words["approved"])
    await expect(page.locator("#stocktake-status")).to_have_attribute("data-status", "approved")
    async with db.connection() as conn:
        assert await on_hand(conn, clinic.lot["id"], clinic.location_id) == 6
