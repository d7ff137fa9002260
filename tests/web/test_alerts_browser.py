"""The alerts page in a real Chromium: a manager reviews a reorder alert, reads why, acknowledges and undoes it."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Locator, Page, expect

from inventory import db
from inventory.services import catalog
from inventory.web.reorder_why import MINUS as M
from tests.support.browser import Tab, assert_accessible, in_language, race_actors, use_sign_in
from tests.support.clinic import Clinic, build

pytestmark = pytest.mark.race

WORDS = {
    "en": {
        "why": f"Usable on hand 3 {M} expected use 0 over 7 days = 3 when an order placed today arrives, below the"
        " reorder point 5: order 10 (whole boxes of 10) to reach the par level 12.",
        "acknowledge": "Acknowledge",
        "acknowledged": "Acknowledged",
        "undo": "Undo",
        "flash": "Acknowledged: ",
        "undone": "Acknowledgement undone",
        "expiring": "12 days left",
    },
    "fr": {
        "why": f"Stock utilisable 3 {M} consommation prévue 0 sur 7 jours = 3 à l’arrivée d’une commande passée"
        " aujourd’hui, sous le point de commande 5 : commander 10 (boîtes entières de 10) pour revenir au niveau"
        " cible 12.",
        "acknowledge": "Prendre en compte",
        "acknowledged": "Prise en compte",
        "undo": "Annuler",
        "flash": "Pris en compte : ",
        "undone": "Prise en compte annulée",
        "expiring": "encore 12 jours",
    },
}


# What sticks out past the screen's right edge, to name the culprit when the page scrolls sideways.
STICKING_OUT = """width => [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > width + 1)
  .slice(0, 5).map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""


async def below_its_reorder_point() -> tuple[Clinic, int]:
    """A clinic (committed) with 3 usable, reorder point 5, par 12, 7 days' lead time; and its open alert."""
    actors = await race_actors()
    clinic = await build(actors, on_hand=3, expiry_days=12)
    await catalog.set_rule(
        actor=actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        reorder_point=5,
        par_level=12,
        lead_time_days=7,
    )
    async with db.connection() as conn:
        alert_id = await conn.fetchval(
            "SELECT id FROM reorder_alert WHERE product = $1 AND location = $2 AND status = 'open'",
            clinic.product["id"],
            clinic.location_id,
        )
    assert isinstance(alert_id, int)
    return clinic, alert_id


async def tab_to(page: Page, target: Locator, *, most: int = 40) -> None:
    """Press Tab until `target` has the focus (it must be reachable by keyboard)."""
    for _ in range(most):
        if await target.evaluate("element => element === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError("never reached by Tab")


async def at_widths(tab: Tab, name: str) -> None:
    """Screenshots at a phone's and a tablet's width; nothing scrolls sideways on the narrowest phone."""
    page = tab.page
    for width in (360, 390, 1024):
        await page.set_viewport_size({"width": width, "height": 800})
        scroll = await page.evaluate("() => document.documentElement.scrollWidth")
        assert scroll <= width, (name, width, scroll, await page.evaluate(STICKING_OUT, width))
        await tab.shot(f"{name}-{width}")


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_manager_reviews_the_reorder_alert_reads_why_acknowledges_it_by_keyboard_and_undoes_it(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    words = WORDS[locale]
    clinic, alert_id = await below_its_reorder_point()
    page = tab.page
    await use_sign_in(tab, page_cookies["manager"])
    await in_language(tab, locale)
    await page.goto(tab.base_url + "/ui/alerts")
    await expect(page.locator("html")).to_have_attribute("lang", locale)

    # Narrow the page to the product by typing its GTIN (a product's name may be part of another's), by keyboard.
    await page.locator("#product").focus()
    await page.keyboard.type(clinic.gtin)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(rf"/ui/alerts\?.*product={clinic.gtin}"))
    alert = page.locator(f'tbody[data-alert="{alert_id}"]')
    await expect(page.locator("table.reorder tbody")).to_have_count(1)
    await expect(alert.locator("p.why")).to_contain_text(words["why"])
    await expect(page.locator("#expiring tr", has_text=clinic.lot["lot_number"])).to_contain_text(words["expiring"])
    await expect(page.locator('a[href="/ui/stock#flagged"]').first).to_be_visible()
    await assert_accessible(page, f"alerts {locale}")
    await at_widths(tab, f"alerts-{locale}")

    # Acknowledge: Tab from the filters to the alert's button, then Enter.
    acknowledge = alert.get_by_role("button", name=re.compile(f"^{words['acknowledge']}"))
    await page.locator("#product").focus()
    await tab_to(page, acknowledge)
    await page.keyboard.press("Enter")
    await expect(page.locator("#flash")).to_contain_text(words["flash"])
    await expect(alert.locator(".badge")).to_have_text(words["acknowledged"])
    await expect(alert).to_contain_text("manager@clinic.test")
    undo = alert.get_by_role("button", name=re.compile(f"^{words['undo']}"))
    await expect(undo).to_be_focused()  # the keyboard is still on this alert
    async with db.connection() as conn:
        row = await conn.fetchrow("SELECT acknowledged_at, acknowledged_by FROM reorder_alert WHERE id = $1", alert_id)
    assert row["acknowledged_at"] is not None
    await assert_accessible(page, f"alerts acknowledged {locale}")
    await at_widths(tab, f"alerts-acknowledged-{locale}")

    await page.keyboard.press("Enter")
    await expect(page.locator("#flash")).to_contain_text(words["undone"])
    await expect(acknowledge).to_be_focused()
    async with db.connection() as conn:
        row = await conn.fetchrow("SELECT acknowledged_at, acknowledged_by FROM reorder_alert WHERE id = $1", alert_id)
        actions = await conn.fetch(
            "SELECT action FROM audit_event WHERE entity = 'reorder_alert' AND entity_id = $1"
            " AND actor IS NOT NULL ORDER BY id",
            alert_id,
        )
    assert (row["acknowledged_at"], row["acknowledged_by"]) == (None, None)
    assert [a["action"] for a in actions] == ["reorder_alert.acknowledge", "reorder_alert.unacknowledge"]
