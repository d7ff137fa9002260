"""The chair with a multi-use vial and a protocol, in a real Chromium (EN and FR): the opened container's state in
the result, the protocol checklist ticking as items are scanned, a vial past its use-by replaced in one click."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from inventory import clock
from inventory.services import clinical, protocols
from tests.support import factories as f
from tests.support.browser import Tab, assert_accessible, in_language, race_actors, usages_of
from tests.support.vials import VialClinic, build_vials

pytestmark = pytest.mark.race

SHOTS = Path("/tmp/shots/containers")
SHOTS.mkdir(parents=True, exist_ok=True)


async def _vial_session_with_protocol() -> tuple[VialClinic, dict[str, Any], dict[str, Any]]:
    actors = await race_actors()
    clinic = await build_vials(actors, unit="ml", container_quantity=1, in_use_hours=6, vials=2)
    other = await f.product(actors["manager"], gtin=f.make_gtin(next(_seeds)), name=f.unique("Serum"))
    protocol = await protocols.create_protocol(
        actor=actors["manager"],
        name=f.unique("Glow"),
        items=[(clinic.product["id"], Decimal("0.8")), (other["id"], 1)],
    )
    session = await clinical.create_session(
        actor=actors["staff"],
        client_id=clinic.client["id"],
        location_id=clinic.location_id,
        protocol_id=protocol["id"],
    )
    return clinic, session, other


_seeds = iter(range(880_001, 890_000, 17))


async def _open(tab: Tab, clinic: VialClinic, session_id: int) -> Page:
    page = tab.page
    await tab.sign_in("staff", "/ui/scan")
    await page.select_option("#location", str(clinic.location_id))
    await page.click(f'button[data-session="{session_id}"]')
    await expect(page.locator("#chair")).to_be_visible()
    return page


async def _shots(page: Page, name: str) -> None:
    for width in (390, 1024):
        await page.set_viewport_size({"width": width, "height": 900})
        widths = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (name, width, widths)
        await page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        (
            "en",
            {
                "remaining": "0.7 ml",
                "checklist": "Protocol checklist",
                "amount": "0.3 of 0.8 ml",
                "renew": "Dispose of it and open a new container",
                "left": "Left in it",
                "left_sentence": "The open container has 0.2 ml left;",
            },
        ),
        (
            "fr-FR",
            {
                "remaining": "0,7 ml",
                "checklist": "Liste du protocole",
                "amount": "0,3 sur 0,8 ml",
                "renew": "L’éliminer et ouvrir un nouveau contenant",
                "left": "Reste dedans",
                "left_sentence": "Contenant ouvert : 0,2 ml restant ;",
            },
        ),
    ],
)
async def test_the_chair_shows_the_opened_vial_and_ticks_the_protocol_checklist(
    browser: Browser, base_url: str, race_pool: None, locale: str, words: dict[str, str]
) -> None:
    context = await browser.new_context(viewport={"width": 1024, "height": 900})
    context.set_default_timeout(8000)
    tab = Tab(await context.new_page(), base_url)
    try:
        await in_language(tab, locale)
        clinic, session, other = await _vial_session_with_protocol()
        page = await _open(tab, clinic, session["id"])
        checklist = page.locator("#checklist li")
        await expect(page.locator("#protocol h2")).to_have_text(words["checklist"])
        await expect(checklist).to_have_count(2)
        await expect(page.locator("#checklist li.done")).to_have_count(0)

        await page.fill("#scan-quantity", "0,3" if locale != "en" else "0.3")
        await page.fill("#scan-input", clinic.code())
        await page.press("#scan-input", "Enter")
        card = page.locator(".scan-result.latest")
        await expect(card).to_have_attribute("data-outcome", "recorded")
        await expect(card.locator(".facts.container .remaining")).to_have_text(words["remaining"])
        await expect(card.locator(".facts.container")).to_contain_text(words["left"])
        await expect(checklist.first).to_contain_text(words["amount"])
        await assert_accessible(page, f"chair with a vial ({locale})")
        await _shots(page, f"chair-vial-{locale}")

        await page.fill("#scan-quantity", "0.5")
        await page.fill("#scan-input", clinic.code())
        await page.press("#scan-input", "Enter")
        repeat = page.locator("#repeat-yes")
        await repeat.click()
        await expect(page.locator(f'#checklist li.done[data-product="{clinic.product["id"]}"]')).to_have_count(1)
        await expect(page.locator(f'#checklist li.todo[data-product="{other["id"]}"]')).to_have_count(1)

        # Past the vial's six hours in use: refused, then one click disposes of it and opens a new one.
        clock.shift(timedelta(hours=7))
        await page.fill("#scan-quantity", "0.2")
        await page.fill("#scan-input", clinic.code())
        await page.press("#scan-input", "Enter")
        refused = page.locator(".scan-result.latest")
        await expect(refused).to_have_attribute("data-outcome", "refused")
        await expect(page.locator("#open-new")).to_have_text(words["renew"])
        await expect(refused.locator(".container-left")).to_contain_text(words["left_sentence"])
        await assert_accessible(page, f"chair with an expired vial ({locale})")
        await _shots(page, f"chair-vial-expired-{locale}")
        await page.click("#open-new")
        renewed = page.locator(".scan-result.latest")
        await expect(renewed).to_have_attribute("data-outcome", "recorded")
        await expect(renewed.locator(".facts.container .remaining")).to_have_text(
            "0.8 ml" if locale == "en" else "0,8 ml"
        )
        uses = await usages_of(session["id"])
        assert len(uses) == 3
        await _shots(page, f"chair-vial-renewed-{locale}")
    finally:
        clock.reset()
        await context.close()
    assert tab.problems == []
