"""The stock page's opened containers and the alerts' past-use-by list in a real Chromium, in English and French."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.async_api import expect

from inventory import clock
from inventory.services import scanning, stocktake
from tests.support.browser import Tab, assert_accessible, in_language, race_actors, use_sign_in
from tests.support.vials import build_vials

pytestmark = pytest.mark.race

SHOTS = Path("/tmp/shots/units-gaps")
SHOTS.mkdir(parents=True, exist_ok=True)
WORDS = {
    "en": {
        "title": "Opened containers",
        "left": r"0\.7[\s\u00a0]ml of 1[\s\u00a0]ml",
        "past": "Past its use-by: dispose of what is left.",
    },
    "fr": {
        "title": "Contenants ouverts",
        "left": r"0,7[\s\u00a0]ml sur 1[\s\u00a0]ml",
        "past": "Date limite d’utilisation dépassée : éliminez ce qui reste.",
    },
}


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_the_stock_page_shows_the_open_vial_and_marks_it_past_its_use_by(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    words = WORDS[locale]
    actors = await race_actors()
    clinic = await build_vials(actors, unit="ml", container_quantity=1, in_use_hours=24, vials=2)
    used = await scanning.record_use(
        actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code(), quantity=Decimal("0.3")
    )
    container = f"#container-{used['container']['id']}"
    await use_sign_in(tab, page_cookies["manager"])
    await in_language(tab, locale)
    page = tab.page
    try:
        for width in (360, 390, 1024):
            await page.set_viewport_size({"width": width, "height": 800})
            await page.goto(f"{tab.base_url}/ui/stock?location_id={clinic.location_id}")
            await expect(page.locator("#opened-title")).to_contain_text(words["title"])
            remaining = page.locator(f"{container} .remaining")
            await expect(remaining).to_have_text(re.compile(words["left"]))
            await expect(page.locator(container)).not_to_have_class(re.compile("past-use-by"))
            assert await page.evaluate("() => document.documentElement.scrollWidth") <= width, (locale, width)
            await page.locator("#opened").screenshot(path=str(SHOTS / f"stock-opened-{locale}-{width}.png"))
        await assert_accessible(page, f"stock with an open vial ({locale})")

        clock.shift(timedelta(hours=25))
        for width in (360, 1024):
            await page.set_viewport_size({"width": width, "height": 800})
            await page.goto(f"{tab.base_url}/ui/stock?location_id={clinic.location_id}")
            await expect(page.locator(container)).to_have_class(re.compile("past-use-by"))
            await expect(page.locator(f"{container} .past-note")).to_have_text(words["past"])
            assert await page.evaluate("() => document.documentElement.scrollWidth") <= width, (locale, width)
            await page.locator("#opened").screenshot(path=str(SHOTS / f"stock-opened-past-{locale}-{width}.png"))
            await page.goto(f"{tab.base_url}/ui/alerts?location_id={clinic.location_id}")
            row = page.locator(f'#opened-past tr[data-container="{used["container"]["id"]}"]')
            await expect(row).to_contain_text(clinic.lot["lot_number"])
            assert await page.evaluate("() => document.documentElement.scrollWidth") <= width, (locale, width)
            await page.locator("#expiry").screenshot(path=str(SHOTS / f"alerts-opened-past-{locale}-{width}.png"))
        await assert_accessible(page, f"alerts with a vial past its use-by ({locale})")
        await page.goto(f"{tab.base_url}/ui/stock?location_id={clinic.location_id}")
        await assert_accessible(page, f"stock with a vial past its use-by ({locale})")
    finally:
        clock.reset()
    assert tab.problems == []


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_the_count_and_rule_forms_take_a_decimal_and_fit_a_phone(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    actors = await race_actors()
    clinic = await build_vials(actors, unit="ml", container_quantity=1, in_use_hours=24, vials=2)
    st = (await stocktake.start(actor=actors["manager"], location_id=clinic.location_id))["id"]
    await use_sign_in(tab, page_cookies["manager"])
    await in_language(tab, locale)
    page = tab.page
    typed = "1,7" if locale == "fr" else "1.7"
    shown = "1,7\u00a0ml" if locale == "fr" else "1.7\u00a0ml"
    for width in (360, 1024):
        await page.set_viewport_size({"width": width, "height": 800})
        await page.goto(f"{tab.base_url}/ui/stocktake/{st}/count")
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= width, (locale, width)
        await page.screenshot(path=str(SHOTS / f"stocktake-count-{locale}-{width}.png"), full_page=True)
        await page.goto(f"{tab.base_url}/ui/catalog/rules?location={clinic.location_id}")
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= width, (locale, width)
        await page.locator(f"#rule-{clinic.product['id']}").screenshot(path=str(SHOTS / f"rules-{locale}-{width}.png"))
    await page.goto(f"{tab.base_url}/ui/stocktake/{st}/count")
    await page.fill("#barcode", clinic.lot["lot_number"])
    await page.fill("#quantity", typed)
    await page.click("#add-count")
    await expect(page.locator("#flash")).to_contain_text(shown)
    await assert_accessible(page, f"stocktake count in ml ({locale})")
    assert (await stocktake.review(stocktake_id=st))["lines"][0]["counted"] == Decimal("1.7")
    await stocktake.cancel(actor=actors["manager"], stocktake_id=st)
    assert tab.problems == []
