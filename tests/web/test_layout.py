"""The layout every page shares, in a real Chromium: sign-in, the menu, the language switch, keyboard, axe."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.support.browser import Tab, assert_accessible, in_language, use_sign_in

pytestmark = pytest.mark.race


async def test_sign_in_and_the_menu_are_accessible_in_both_languages(tab: Tab) -> None:
    page = tab.page
    for locale, heading in (("en", "Sign in"), ("fr", "Se connecter")):
        await in_language(tab, locale)
        await page.goto(tab.base_url + "/ui/")
        await expect(page.locator("html")).to_have_attribute("lang", locale)
        await expect(page.locator("h1")).to_have_text(heading)
        await assert_accessible(page, f"sign-in {locale}")
        await tab.shot(f"sign-in-{locale}")


async def test_by_keyboard_alone_sign_in_switch_to_french_and_reach_the_chair(tab: Tab) -> None:
    page = tab.page
    await in_language(tab, "en")
    await page.goto(tab.base_url + "/ui/")
    await expect(page.locator("#email")).to_be_focused()
    await page.keyboard.type("manager@clinic.test")
    await page.keyboard.press("Tab")
    await page.keyboard.type("correct horse battery staple")
    await page.keyboard.press("Enter")
    await expect(page.locator("#menu")).to_be_visible()
    await assert_accessible(page, "menu en")
    await tab.shot("menu-en")
    # The first Tab reaches the skip link, which moves the focus to the content.
    await page.keyboard.press("Tab")
    await expect(page.locator(".skip-link")).to_be_focused()
    await page.locator("form.language button").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.locator("h1")).to_have_text("Que faites-vous ?")
    await assert_accessible(page, "menu fr")
    await tab.shot("menu-fr")
    await page.locator('.tile[href="/ui/scan"]').focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/ui/scan$"))
    await expect(page.locator("html")).to_have_attribute("lang", "fr")


async def test_staff_cannot_open_a_managers_page_and_is_told_why(tab: Tab, page_cookies: dict[str, str]) -> None:
    await use_sign_in(tab, page_cookies["staff"])
    await in_language(tab, "fr")
    response = await tab.page.goto(tab.base_url + "/ui/audit")
    assert response is not None
    if response.status == 404:
        pytest.skip("the audit page is not there yet")
    assert response.status == 403
    await expect(tab.page.locator("h1")).to_have_text("Vous ne pouvez pas ouvrir cette page.")
    await assert_accessible(tab.page, "403 fr")
