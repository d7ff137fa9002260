"""The clients pages in a real Chromium, in English and French: staff finds a client and reads their allergies and
lots received, registers one by keyboard alone; a manager sees the contacts. axe on each page; no sideways scroll."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from inventory import db
from inventory.services import clinical, scanning
from tests.support import factories as f
from tests.support.browser import Tab, assert_accessible, in_language, look_at, race_actors, use_sign_in
from tests.support.clinic import build

pytestmark = pytest.mark.race

MARKUP_NAME = '<b>Ana</b> "O\'Neil"'
WORDS = {
    "en": {"allergies": "Allergies", "history": "Lots received", "required": "This field is required."},
    "fr": {"allergies": "Allergies", "history": "Lots reçus", "required": "Ce champ est obligatoire."},
}


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_staff_finds_a_client_and_reads_allergies_and_lots_received_but_never_contacts(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    actors = await race_actors()
    clinic = await build(actors, allergies=["Latex", "Lidocaine"])
    name = f"{MARKUP_NAME} {f.unique('Quérard')}"
    client = await clinical.create_client(
        actor=actors["staff"],
        full_name=name,
        email="ana.oneil@example.com",
        phone="+33 6 98 76 54 32",
        allergies=["Latex", "Hyaluronidase"],
    )
    session = await clinical.create_session(
        actor=actors["staff"], client_id=client["id"], location_id=clinic.location_id
    )
    await scanning.record_use(actor=actors["staff"], session_id=session["id"], barcode=clinic.code())
    await clinical.create_course(
        actor=actors["staff"],
        client_id=client["id"],
        location_id=clinic.location_id,
        treatment="Mésothérapie visage",
        start_date=f.in_days(3),
        sessions=3,
        interval_days=21,
        products=[(clinic.product["id"], 1)],
    )
    page = tab.page
    await use_sign_in(tab, page_cookies["staff"])
    await in_language(tab, locale)

    await page.goto(tab.base_url + "/ui/clients")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await page.locator("#q").focus()
    await page.keyboard.type(name.rsplit(" ", 1)[1])  # the unique part of the name
    await page.keyboard.press("Enter")
    result = page.locator(f'.client-list a[href="/ui/clients/{client["id"]}"]')
    await expect(result).to_have_text(name)  # markup shows as text
    assert await page.locator(".client-list b").count() == 0
    await look_at(tab, f"clients-search-{locale}")

    await result.focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(rf"/ui/clients/{client['id']}$"))
    await expect(page.locator("#client-name")).to_have_text(name)
    assert await page.locator("#client-name b").count() == 0
    card = page.locator("#allergy-card")
    await expect(card.locator("h2")).to_have_text(WORDS[locale]["allergies"])
    await expect(card.locator(".allergy")).to_have_text(["Latex", "Hyaluronidase"])
    history = page.locator("#history-card")
    await expect(history.locator("h2")).to_have_text(WORDS[locale]["history"])
    await expect(history.locator("tbody tr")).to_have_count(1)
    await expect(history.locator("tbody tr")).to_contain_text(clinic.lot["lot_number"])
    await expect(history.locator("tbody tr")).to_contain_text(clinic.product["name"])
    await expect(page.locator(".course tbody tr")).to_have_count(3)
    await expect(page.locator(".course a[href^='/ui/scan?session=']")).to_have_count(3)
    await expect(page.locator("#contacts-hidden")).to_be_visible()
    html = await page.content()
    assert "ana.oneil" not in html and "98 76 54 32" not in html
    await look_at(tab, f"client-staff-{locale}")


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_staff_registers_a_client_with_allergies_by_keyboard_alone(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    page = tab.page
    await use_sign_in(tab, page_cookies["staff"])
    await in_language(tab, locale)
    await page.goto(tab.base_url + "/ui/clients")

    await page.keyboard.press("Tab")
    await expect(page.locator(".skip-link")).to_be_focused()
    await page.keyboard.press("Enter")  # to the content
    await page.keyboard.press("Tab")
    await expect(page.locator("#q")).to_be_focused()
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await expect(page.locator("#full_name")).to_be_focused()
    await page.keyboard.press("Enter")  # sent without a name: refused, the field at fault has the focus again
    await expect(page.locator("#full_name-error")).to_have_text(WORDS[locale]["required"])
    await expect(page.locator("#full_name")).to_be_focused()
    await expect(page.locator("#full_name")).to_have_attribute("aria-invalid", "true")
    await look_at(tab, f"clients-refused-{locale}")

    name = f.unique("Léa Keyboard")
    await page.keyboard.type(name)
    await page.keyboard.press("Tab")
    await expect(page.locator("#date_of_birth")).to_be_focused()
    await page.keyboard.type("03011990")  # Chromium's en-US date field: month, day, year
    await expect(page.locator("#date_of_birth")).to_have_value("1990-03-01")
    await page.keyboard.press("Tab")  # Chromium's calendar button of the date field
    await page.keyboard.press("Tab")
    await expect(page.locator("#allergies")).to_be_focused()
    await page.keyboard.type("Latex, Lidocaine")
    await page.keyboard.press("Tab")
    await expect(page.locator("#email")).to_be_focused()
    await page.keyboard.press("Enter")

    await page.wait_for_url(re.compile(r"/ui/clients/\d+$"))
    await expect(page.locator("#flash")).to_contain_text(name)
    await expect(page.locator("#client-name")).to_have_text(name)
    await expect(page.locator("#allergy-card .allergy")).to_have_text(["Latex", "Lidocaine"])
    client_id = int(page.url.rpartition("/")[2])
    async with db.connection() as conn:
        row = await conn.fetchrow("SELECT full_name, date_of_birth, allergies FROM client WHERE id = $1", client_id)
    assert row is not None
    assert (row["full_name"], row["date_of_birth"].isoformat(), list(row["allergies"])) == (
        name,
        "1990-03-01",
        ["Latex", "Lidocaine"],
    )
    await assert_accessible(page, f"new client {locale}")


async def test_a_manager_sees_the_contacts(tab: Tab, page_cookies: dict[str, str]) -> None:
    actors = await race_actors()
    clinic = await build(actors)  # c@example.com, +33 6 12 34 56 78
    page = tab.page
    await use_sign_in(tab, page_cookies["manager"])
    for locale in ("en", "fr"):
        await in_language(tab, locale)
        await page.goto(tab.base_url + f"/ui/clients/{clinic.client['id']}")
        await expect(page.locator("#client-email a")).to_have_text("c@example.com")
        await expect(page.locator("#client-phone a")).to_have_text("+33 6 12 34 56 78")
        await expect(page.locator("#contacts-hidden")).to_have_count(0)
        await look_at(tab, f"client-manager-{locale}")
