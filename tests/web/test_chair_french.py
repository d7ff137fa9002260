"""The chair in French, in a real Chromium: result cards, the allergy override, the repeat question, scans waiting
offline, dates and layout, as a French clinic's staff see them; axe on the chair in both languages."""

from __future__ import annotations

import itertools
import re
from datetime import date
from typing import Any

import pytest
from babel import Locale
from babel.dates import format_date
from playwright.async_api import Browser, Page, expect

from inventory.domain.gs1 import format_element_string
from inventory.web.i18n import script_catalog
from inventory.web.i18n.catalog_check import translations
from inventory.web.routes.assets import STATIC
from tests.support import factories as f
from tests.support.browser import (
    Tab,
    assert_accessible,
    in_language,
    open_chair,
    race_actors,
    usages_of,
    use_sign_in,
)
from tests.support.clinic import Clinic, build

pytestmark = pytest.mark.race

FRENCH = Locale.parse("fr_FR")
_seeds = itertools.count(830_001, 13)
# Every t("…") of a script, as the extractor must see it (a literal first argument, outside template literals).
T_CALL = re.compile(r'\bt\(\s*"((?:[^"\\]|\\.)*)"')


def french_date(value: date | str) -> str:
    """A date as the French pages write it (Babel's medium format, the same as the templates): 1 mars 2027."""
    return format_date(date.fromisoformat(str(value)), format="medium", locale=FRENCH)


async def open_scan_page(tab: Tab, cookie: str, locale: str) -> Page:
    """/ui/scan signed in by cookie, in `locale`, the station ready (it holds its bearer token)."""
    await use_sign_in(tab, cookie)
    await in_language(tab, locale)
    page = tab.page
    await page.goto(tab.base_url + "/ui/scan")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await page.wait_for_function("() => sessionStorage.getItem('meso.token') !== null")
    return page


async def french_chair(tab: Tab, cookie: str, **clinic: Any) -> Clinic:
    """A new clinic (see `build`) and staff at its chair, in French."""
    built = await build(await race_actors(), **clinic)
    await open_scan_page(tab, cookie, "fr")
    await open_chair(tab, built, built.session["id"])
    return built


async def scan(page: Page, code: str) -> None:
    """Type a code into the scan box and send it."""
    await page.fill("#scan-input", code)
    await page.press("#scan-input", "Enter")


@pytest.mark.parametrize("script", ["scan.js", "common.js", "camera.js"])
def test_every_message_of_the_chairs_scripts_reaches_the_page_in_french(script: str) -> None:
    source = (STATIC / script).read_text()
    messages = set(T_CALL.findall(source))
    assert messages, script
    embedded = script_catalog("fr")
    french = translations("fr")
    assert sorted(messages - set(embedded)) == []  # the extractor saw each one (none hidden in a template literal)
    assert sorted(m for m in messages if (None, m) not in french) == []  # scripts have no message contexts


async def test_a_scan_is_recorded_in_french_with_its_product_lot_and_french_dates_and_a_repeat_asks_again(
    tab: Tab, page_cookies: dict[str, str]
) -> None:
    clinic = await build(await race_actors(), on_hand=5)
    page = await open_scan_page(tab, page_cookies["staff"], "fr")
    await expect(page.locator("#setup h1")).to_have_text("Quel fauteuil ?")
    await expect(page.locator("#location option").first).to_have_text("Choisissez un site…")
    await page.select_option("#location", str(clinic.location_id))
    pick = page.locator(f'#agenda button[data-session="{clinic.session["id"]}"]')
    await expect(pick).to_contain_text(re.compile(r"\d\d:\d\d"))  # the time on the location's clock
    await expect(pick.locator(".badge")).to_have_text("ouverte")
    await expect(page.locator("#agenda-title")).to_contain_text("Aujourd’hui à ")
    await open_chair(tab, clinic, clinic.session["id"])
    await expect(page.locator("#session-meta")).to_contain_text(f"Séance n° {clinic.session['id']}")
    await expect(page.locator("#session-meta")).to_contain_text("ouverte le ")

    await scan(page, clinic.code())
    card = page.locator(".scan-result.latest")
    await expect(card).to_have_attribute("data-outcome", "recorded")
    await expect(card.locator("h2")).to_have_text("Enregistré")
    await expect(card.locator(".product")).to_contain_text(clinic.product["name"])
    await expect(card.locator(".lot")).to_have_text(clinic.lot["lot_number"])
    expiry = french_date(clinic.lot["expiry_date"])
    await expect(card.locator(".expiry")).to_have_text(expiry)
    await expect(card.locator(".facts")).to_contain_text("Stock restant")
    await expect(card.locator(".technical summary")).to_have_text("Détails techniques")
    row = page.locator("#uses tr").first
    await expect(row.locator('td[data-label="Péremption"]')).to_have_text(expiry)
    await expect(row.locator("button")).to_have_text("Annuler")
    await tab.shot("chair-fr-recorded")

    await scan(page, clinic.code())  # the same code again within ten seconds
    asked = page.locator(".scan-result.latest")
    await expect(asked).to_have_attribute("data-outcome", "refused")
    await expect(asked.locator("h2")).to_have_text("Pas encore enregistré : le même code à nouveau")
    await expect(asked.locator(".question")).to_contain_text("Deuxième ampoule ?")
    await expect(page.locator("#repeat-yes")).to_have_text("Oui, enregistrer une deuxième ampoule")
    await expect(page.locator("#repeat-no")).to_have_text("Non, c’était une double lecture")
    await expect(page.locator("#repeat-yes")).to_be_focused()
    # A no-break space holds the question mark to its word: a narrow card never starts a line with "?".
    assert (await asked.locator(".question").text_content() or "").endswith("Deuxième ampoule\u00a0?")
    await tab.shot("chair-fr-repeat")
    await page.keyboard.press("Enter")
    await expect(page.locator(".scan-result.latest")).to_have_attribute("data-outcome", "recorded")
    await expect(page.locator("#uses tr")).to_have_count(2)
    assert len(await usages_of(clinic.session["id"])) == 2


async def test_an_allergy_is_refused_in_french_and_the_french_override_box_records_it_with_the_reason(
    tab: Tab, page_cookies: dict[str, str]
) -> None:
    clinic = await french_chair(
        tab, page_cookies["staff"], on_hand=5, allergies=["vitamin c"], ingredients=["Hyaluronic acid", "Vitamin C"]
    )
    page = tab.page
    await expect(page.locator("#session-allergies")).to_have_text("Allergies : vitamin c")
    await scan(page, clinic.code())
    card = page.locator(".scan-result.latest")
    await expect(card).to_have_attribute("data-outcome", "refused")
    await expect(card).to_have_attribute("role", "alert")
    await expect(card.locator("h2")).to_have_text("Non enregistré : allergie du client")
    await expect(card.locator(".product")).to_contain_text(
        f"lot {clinic.lot['lot_number']}, péremption {french_date(clinic.lot['expiry_date'])}"
    )
    await expect(card.locator(".detail")).to_contain_text("est allergique à : Vitamin C.")
    await expect(card.locator(".detail")).to_contain_text("donnez ci-dessous une raison clinique")

    box = page.get_by_label("Raison clinique (en toutes lettres)")
    await expect(box).to_have_attribute("name", "override_reason")
    record = card.get_by_role("button", name="Enregistrer quand même")
    await record.click()
    await expect(page.locator("#override-error")).to_have_text("Donnez la raison clinique.")
    reason = "Test épicutané négatif ; le médecin est d’accord"
    await box.fill(reason)
    await record.click()
    await expect(page.locator("#override-error")).to_have_text(
        "Cochez la confirmation pour enregistrer malgré l’allergie."
    )
    await expect(page.locator("label.confirm")).to_contain_text("Je confirme : enregistrer ")
    await tab.shot("chair-fr-allergy")
    assert await usages_of(clinic.session["id"]) == []

    await page.check("#override-confirm")
    await record.click()
    latest = page.locator(".scan-result.latest")
    await expect(latest).to_have_attribute("data-outcome", "warning")
    await expect(latest.locator("h2")).to_have_text("Enregistré : un point à traiter")
    await expect(latest.locator('.warnings li[data-code="allergy_overridden"]')).to_have_text(
        f"Utilisée malgré l’allergie, raison : « {reason} »."
    )
    await expect(page.locator("#uses tr").first).to_contain_text(f"Malgré l’allergie : {reason}")
    rows = await usages_of(clinic.session["id"])
    assert [(r["lot"], r["override_reason"]) for r in rows] == [(clinic.lot["id"], reason)]


async def test_offline_a_scan_waits_on_the_device_under_a_french_banner_and_is_sent_when_the_network_is_back(
    tab: Tab, page_cookies: dict[str, str]
) -> None:
    clinic = await french_chair(tab, page_cookies["staff"], on_hand=5)
    page = tab.page
    await page.wait_for_function(
        "async () => (await navigator.serviceWorker.ready) && !!(await caches.match('/ui/scan'))"
    )
    kept = await page.evaluate("async () => (await (await caches.match('/ui/scan')).text())")
    assert '<html lang="fr">' in kept  # the station the worker keeps is the French one this browser was served

    await page.context.set_offline(True)
    await scan(page, clinic.code())
    card = page.locator(".scan-result.latest")
    await expect(card).to_have_attribute("data-outcome", "pending")
    await expect(card.locator("h2")).to_have_text("Pas encore envoyé : gardé sur cet appareil")
    await expect(card.locator(".detail")).to_have_text("Il partira tout seul quand le service répondra à nouveau.")
    banner = page.locator("#sync")
    await expect(banner).to_contain_text("Pas de réponse du service (réseau ou service en panne).")
    await expect(banner).to_contain_text("1 scan attend sur cet appareil. Il partira tout seul au retour du service.")
    await tab.shot("chair-fr-offline")

    await page.context.set_offline(False)
    latest = page.locator(".scan-result.latest")
    await expect(latest).to_have_attribute("data-outcome", "recorded", timeout=15_000)
    await expect(latest).to_contain_text("Envoyé après le retour de la connexion.")
    await expect(banner).to_be_hidden()
    assert [r["lot"] for r in await usages_of(clinic.session["id"])] == [clinic.lot["id"]]


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_the_chair_has_no_serious_accessibility_problem_in_either_language(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    clinic = await build(await race_actors(), on_hand=5, allergies=["latex"], ingredients=["Latex"])
    page = await open_scan_page(tab, page_cookies["staff"], locale)
    await page.select_option("#location", str(clinic.location_id))
    await expect(page.locator(f'#agenda button[data-session="{clinic.session["id"]}"]')).to_be_visible()
    await assert_accessible(page, f"chair setup {locale}")
    await open_chair(tab, clinic, clinic.session["id"])
    await scan(page, clinic.code())  # refused: the card with the override box, the busiest the chair shows
    await expect(page.locator("form.override")).to_be_visible()
    await assert_accessible(page, f"chair with a refusal {locale}")
    await tab.shot(f"chair-{locale}-1024")


@pytest.mark.parametrize("width", [360, 390])
async def test_on_a_phone_in_french_nothing_scrolls_sideways_and_the_longer_words_fit(
    browser: Browser, base_url: str, race_pool: None, page_cookies: dict[str, str], width: int
) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=1, allergies=["vitamin c"], ingredients=["Vitamin C"])
    gtin = f.make_gtin(next(_seeds))
    await f.product(actors["manager"], gtin=gtin, ingredients=["Hyaluronic acid"])  # no allergy to it
    never_received = format_element_string(gtin=gtin, expiry=f.in_days(300), lot_number="JAMAISRECU1")
    context = await browser.new_context(viewport={"width": width, "height": 844}, is_mobile=True, has_touch=True)
    context.set_default_timeout(8000)
    tab = Tab(await context.new_page(), base_url)
    try:
        page = await open_scan_page(tab, page_cookies["staff"], "fr")
        await page.select_option("#location", str(clinic.location_id))
        await tab.shot(f"chair-fr-setup-{width}")
        await open_chair(tab, clinic, clinic.session["id"])

        # A lot never received (the barcode's own): recorded, with the stock gone below zero, in French.
        await scan(page, never_received)
        card = page.locator(".scan-result.latest")
        await expect(card).to_have_attribute("data-outcome", "warning")
        await expect(card.locator('li[data-code="lot_not_received"]')).to_contain_text(
            "Le lot JAMAISRECU1 n’a jamais été réceptionné ici."
        )
        await expect(card.locator('li[data-code="stock_discrepancy"]')).to_contain_text(
            "Le stock enregistré ici ne couvrait pas cette utilisation"
        )
        await expect(card.locator("h2")).to_be_in_viewport()
        await tab.shot(f"chair-fr-warning-{width}")

        await scan(page, clinic.code())  # the allergy: the longest card, with its override box
        refused = page.locator(".scan-result.latest")
        await expect(refused).to_have_attribute("data-outcome", "refused")
        await expect(page.locator("#uses tr")).to_have_count(1)
        widths = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= width, widths
        for part in ("#scan-input", ".scan-result.latest h2", "form.override button[type=submit]", "label.confirm"):
            box = await page.locator(part).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (part, box)
        await expect(refused.locator("h2")).to_be_in_viewport()
        await tab.shot(f"chair-fr-allergy-{width}")
    finally:
        await context.close()
    assert tab.problems == []
