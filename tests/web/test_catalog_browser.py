"""The catalog pages in a real Chromium, as a manager uses them: by keyboard, in English and French, on a phone."""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.async_api import Page, expect

from inventory import db
from inventory.services import catalog
from tests.support import factories as f
from tests.support.browser import Tab, assert_accessible, in_language, race_actors, use_sign_in
from tests.support.clinic import build

pytestmark = pytest.mark.race
_seeds = itertools.count(910_001, 17)
CHECK_DIGIT = {
    "en": "This GTIN is not valid (wrong length or check digit).",
    "fr": "Ce GTIN n’est pas valable (longueur ou clé de contrôle fausse).",
}
SAVED = {"en": "Stock rule saved.", "fr": "Règle de stock enregistrée."}


async def tab_to(page: Page, selector: str, *, presses: int = 120) -> None:
    """Press Tab until `selector` has the focus, as a keyboard user moves through the page."""
    target = page.locator(selector)
    for _ in range(presses):
        if await target.evaluate("element => element === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


async def no_sideways_scroll(page: Page, what: str) -> None:
    """Nothing is wider than the screen."""
    scroll, inner = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    wide = await page.evaluate(
        """() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))
        .slice(0, 12)"""
    )
    assert scroll <= inner, f"{what}: {scroll}px wide on a {inner}px screen: {wide}"


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_a_manager_adds_a_brand_and_a_product_with_a_pack_by_keyboard_then_sets_its_stock_rule(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    actors = await race_actors()
    location = await f.location(actors["manager"])
    page = tab.page
    await use_sign_in(tab, page_cookies["manager"])
    await in_language(tab, locale)
    brand_name, product_name = f.unique(f"Brand {locale}"), f.unique(f"Serum {locale}")
    unit, pack = f.make_gtin(next(_seeds))[1:], f.make_gtin(next(_seeds))[1:]
    wrong_pack = pack[:-1] + str((int(pack[-1]) + 3) % 10)

    # A brand: Tab to its name, type it, Enter.
    await page.goto(tab.base_url + "/ui/catalog/brands")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await tab_to(page, "#name")
    await page.keyboard.type(brand_name)
    await page.keyboard.press("Enter")
    await expect(page.locator("#flash")).to_contain_text(brand_name)
    row = page.locator("#brands tr", has_text=brand_name)
    brand_id = await row.get_attribute("data-brand")
    assert brand_id is not None

    # The brand's "Add a product" link, then the form field by field; the pack's check digit is wrong.
    await tab_to(page, f'a[href="/ui/catalog/products/new?brand={brand_id}"]')
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/ui/catalog/products/new"))
    await expect(page.locator("#brand_id")).to_have_value(brand_id)
    await tab_to(page, "#name")
    await page.keyboard.type(product_name)
    await page.keyboard.press("Tab")
    await page.keyboard.type("Hyaluronic acid, Vitamin C")
    await page.keyboard.press("Tab")  # the storage radios: the checked one has the focus
    await page.keyboard.press("ArrowDown")
    await expect(page.locator('input[name="storage"][value="fridge"]')).to_be_checked()
    await page.keyboard.press("Tab")
    await expect(page.locator("#gtin")).to_be_focused()
    await page.keyboard.type(unit)
    await page.keyboard.press("Tab")
    await expect(page.locator("#pack-0-gtin")).to_be_focused()
    await page.keyboard.type(wrong_pack)
    await page.keyboard.press("Tab")
    await page.keyboard.type("10")
    await page.keyboard.press("Enter")

    await expect(page.locator("#pack-0-gtin-error")).to_have_text(CHECK_DIGIT[locale])
    await expect(page.locator("#pack-0-gtin")).to_be_focused()
    await expect(page.locator("#pack-0-gtin")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#gtin-error")).to_have_count(0)
    await expect(page.locator("#name")).to_have_value(product_name)
    await expect(page.locator('input[name="storage"][value="fridge"]')).to_be_checked()
    await assert_accessible(page, f"product form refused {locale}")
    await tab.shot(f"catalog-product-refused-{locale}")
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM product WHERE name = $1", product_name) == 0

    # Fix the one field (it has the focus) and save.
    await page.keyboard.press("ControlOrMeta+a")
    await page.keyboard.type(pack)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/ui/catalog/products/\d+$"))
    await expect(page.locator("h1")).to_contain_text(product_name)
    await expect(page.locator("#unit-gtin")).to_have_text("0" + unit)
    await expect(page.locator("#packs")).to_contain_text("0" + pack)
    product_id = int(page.url.rsplit("/", 1)[1])
    product = await catalog.get_product(product_id)
    assert product["storage"] == "fridge"
    assert product["packs"] == [{"gtin": "0" + pack, "units": 10}]

    # Its stock rule at the location: Tab to the row's first field, three numbers, Enter.
    await page.goto(tab.base_url + f"/ui/catalog/rules?location={location['id']}")
    await tab_to(page, f"#rule-{product_id}-reorder_point", presses=400)
    await page.keyboard.type("2")
    await page.keyboard.press("Tab")
    await page.keyboard.type("8")
    await page.keyboard.press("Tab")
    await page.keyboard.type("5")
    await page.keyboard.press("Enter")
    await expect(page.locator("#flash")).to_have_text(SAVED[locale])
    await expect(page.locator(f"#rule-{product_id}-par_level")).to_have_value("8")
    rules = await catalog.list_rules(location_id=location["id"])
    assert [(r["product_id"], r["reorder_point"], r["par_level"], r["lead_time_days"]) for r in rules] == [
        (product_id, 2, 8, 5)
    ]


async def test_every_catalog_page_is_accessible_and_fits_a_phone_in_both_languages(
    tab: Tab, page_cookies: dict[str, str]
) -> None:
    actors = await race_actors()
    clinic = await build(actors)
    await catalog.set_rule(
        actor=actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        reorder_point=3,
        par_level=12,
        lead_time_days=7,
    )
    page = tab.page
    await use_sign_in(tab, page_cookies["manager"])
    paths = {
        "products": "/ui/catalog",
        "product": f"/ui/catalog/products/{clinic.product['id']}",
        "product-form": "/ui/catalog/products/new",
        "brands": "/ui/catalog/brands",
        "locations": "/ui/catalog/locations",
        "location": f"/ui/catalog/locations/{clinic.location_id}",
        "rules": f"/ui/catalog/rules?location={clinic.location_id}",
    }
    for locale in ("en", "fr"):
        await in_language(tab, locale)
        for name, path in paths.items():
            await page.set_viewport_size({"width": 1024, "height": 768})
            await page.goto(tab.base_url + path)
            await expect(page.locator("html")).to_have_attribute("lang", locale)
            await assert_accessible(page, f"{name} {locale}")
            await tab.shot(f"catalog-{name}-{locale}-1024")
            for width in (390, 360):
                await page.set_viewport_size({"width": width, "height": 800})
                await no_sideways_scroll(page, f"{name} {locale} at {width}")
                await tab.shot(f"catalog-{name}-{locale}-{width}")
    # A refused stock rule on a phone: the message stays beside its field, still within the screen.
    await page.goto(tab.base_url + paths["rules"])
    await page.fill(f"#rule-{clinic.product['id']}-reorder_point", "-4")
    await page.press(f"#rule-{clinic.product['id']}-reorder_point", "Enter")
    await expect(page.locator(f"#rule-{clinic.product['id']}-reorder_point-error")).to_be_visible()
    await no_sideways_scroll(page, "refused rule at 360")
    await assert_accessible(page, "refused rule fr")
    await tab.shot("catalog-rules-refused-fr-360")


CONTAINER = {
    "en": ("2.5", "2.5 ml per container", "multi-use, 24 h once opened", "Enter a number of at least 1."),
    "fr": ("2,5", "2,5 ml par contenant", "multi-usage, 24 h après ouverture", "Saisissez un nombre d’au moins 1."),
}

MARK = {"en": "Mark as an implant", "fr": "Marquer comme implant"}


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_a_manager_adds_a_multi_use_implant_in_ml_on_a_phone(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    actors = await race_actors()
    brand = await f.brand(actors["manager"])
    page = tab.page
    await use_sign_in(tab, page_cookies["manager"])
    await in_language(tab, locale)
    await page.set_viewport_size({"width": 360, "height": 800})
    typed, size, in_use, at_least_one = CONTAINER[locale]
    name = f.unique(f"Filler {locale}")

    # Counted one by one (the default), the container fields are hidden; millilitres show them.
    await page.goto(tab.base_url + f"/ui/catalog/products/new?brand={brand['id']}")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await expect(page.locator('input[name="unit"][value="each"]')).to_be_checked()
    await expect(page.locator("#container-fields")).to_be_hidden()
    await tab.shot(f"catalog-fields-form-each-{locale}-360")
    await page.fill("#name", name)
    await page.check('input[name="unit"][value="ml"]')
    await expect(page.locator("#container-fields")).to_be_visible()
    await page.fill("#container_quantity", typed)
    await page.fill("#in_use_hours", "0")
    await page.check("#implant")
    await assert_accessible(page, f"product form in ml {locale}")
    await no_sideways_scroll(page, f"product form in ml {locale} at 360")
    await tab.shot(f"catalog-fields-form-ml-{locale}-360")
    await page.set_viewport_size({"width": 1024, "height": 900})
    await tab.shot(f"catalog-fields-form-ml-{locale}-1024")
    await page.set_viewport_size({"width": 360, "height": 800})

    # Zero hours: the message is beside the hours, with the focus; what was typed stays.
    await page.press("#in_use_hours", "Enter")
    await expect(page.locator("#in_use_hours-error")).to_have_text(at_least_one)
    await expect(page.locator("#in_use_hours")).to_be_focused()
    await expect(page.locator("#container_quantity")).to_have_value(typed)
    await expect(page.locator("#implant")).to_be_checked()
    await expect(page.locator("#container-fields")).to_be_visible()
    await assert_accessible(page, f"product form refused hours {locale}")
    await no_sideways_scroll(page, f"refused hours {locale} at 360")
    await tab.shot(f"catalog-fields-refused-{locale}-360")
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM product WHERE name = $1", name) == 0

    await page.fill("#in_use_hours", "24")
    await page.press("#in_use_hours", "Enter")
    await page.wait_for_url(re.compile(r"/ui/catalog/products/\d+$"))
    await expect(page.locator("#container")).to_have_text(size)
    await expect(page.locator("#in-use")).to_have_text(in_use)
    await expect(page.locator("h1 .badge.implant")).to_be_visible()
    product = await catalog.get_product(int(page.url.rsplit("/", 1)[1]))
    assert (product["unit"], str(product["container_quantity"]), product["in_use_hours"], product["implant"]) == (
        "ml",
        "2.5",
        24,
        True,
    )
    await assert_accessible(page, f"implant product {locale}")
    await no_sideways_scroll(page, f"implant product {locale} at 360")
    await tab.shot(f"catalog-fields-product-{locale}-360")

    # The list: the container, its time once opened and the badge, within a phone's width and on a desk.
    await page.goto(tab.base_url + f"/ui/catalog?brand={brand['id']}")
    row = page.locator(f'tr[data-product="{product["id"]}"]')
    await expect(row.locator("td.container")).to_contain_text(size)
    await expect(row.locator("td.container")).to_contain_text(in_use)
    await expect(row.locator(".badge.implant")).to_be_visible()
    await assert_accessible(page, f"products with an implant {locale}")
    await no_sideways_scroll(page, f"products {locale} at 360")
    await tab.shot(f"catalog-fields-list-{locale}-360")
    await page.set_viewport_size({"width": 1024, "height": 768})
    await no_sideways_scroll(page, f"products {locale} at 1024")
    await tab.shot(f"catalog-fields-list-{locale}-1024")
    await page.goto(page.url.replace(f"/ui/catalog?brand={brand['id']}", f"/ui/catalog/products/{product['id']}"))
    await tab.shot(f"catalog-fields-product-{locale}-1024")

    # Back to one by one: the container fields hide again and are not sent.
    await page.goto(tab.base_url + f"/ui/catalog/products/new?brand={brand['id']}")
    await page.check('input[name="unit"][value="ml"]')
    await page.fill("#in_use_hours", "24")
    await page.check('input[name="unit"][value="each"]')
    await expect(page.locator("#container-fields")).to_be_hidden()
    await page.fill("#name", name + " single")
    await page.press("#name", "Enter")
    await page.wait_for_url(re.compile(r"/ui/catalog/products/\d+$"))
    single = await catalog.get_product(int(page.url.rsplit("/", 1)[1]))
    assert (single["unit"], single["container_quantity"], single["in_use_hours"]) == ("each", 1, None)

    # The single-use product turns out to be an implant: one button on its page marks it.
    await expect(page.locator("h1 .badge.implant")).to_have_count(0)
    await page.get_by_role("button", name=MARK[locale]).click()
    await expect(page.locator("#flash")).to_contain_text(name + " single")
    await expect(page.locator("h1 .badge.implant")).to_be_visible()
    assert (await catalog.get_product(single["id"]))["implant"] is True
    await assert_accessible(page, f"product marked as an implant {locale}")
    await no_sideways_scroll(page, f"product marked {locale} at 1024")
    await page.set_viewport_size({"width": 360, "height": 800})
    await no_sideways_scroll(page, f"product marked {locale} at 360")
    await tab.shot(f"catalog-fields-marked-{locale}-360")
