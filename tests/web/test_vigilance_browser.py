"""Vigilance in a real Chromium, in English and French: staff record a reaction at the chair (both lots of the
session linked); three clients' reactions on one lot make a signal a manager quarantines, after which the chair
refuses that lot; a follow-up changes the outcome shown. axe-clean, nothing scrolls sideways on a phone."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from inventory import clock, db
from inventory.services import clinical, scanning, vigilance
from tests.support import factories as f
from tests.support.browser import Tab, in_language, look_at, race_actors, use_sign_in
from tests.support.clinic import build

pytestmark = pytest.mark.race

QUARANTINED = {"en": "Quarantined", "fr": "En quarantaine"}
RECOVERED = {"en": "Recovered", "fr": "Rétabli"}
LINKED = {"en": "2 lots linked", "fr": "2 lots liés"}


async def scalar(sql: str, *args: object) -> object:
    async with db.connection() as conn:
        return await conn.fetchval(sql, *args)


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_a_reaction_at_the_chair_a_signal_quarantined_and_a_follow_up(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=10)
    second = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number=f.unique("B").replace(" ", ""),
        expiry=f.in_days(300),
        quantity=4,
    )
    session_id = clinic.session["id"]
    await scanning.record_use(actor=actors["staff"], session_id=session_id, barcode=clinic.code())
    await scanning.record_use(
        actor=actors["staff"],
        session_id=session_id,
        barcode=clinic.code(second["lot"]["lot_number"], expiry=f.in_days(300)),
    )
    page = tab.page
    await use_sign_in(tab, page_cookies["staff"])
    await in_language(tab, locale)

    # At the chair: the session's actions hold the link; the form records it with the lots of the session.
    await page.goto(tab.base_url + f"/ui/scan?session={session_id}")
    await expect(page.locator("#chair")).to_be_visible()
    await page.locator("#record-reaction").click()
    await page.wait_for_url(f"**/ui/sessions/{session_id}/reaction")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await expect(page.locator(".lots-used li")).to_have_count(2)
    await look_at(tab, f"vigilance-record-{locale}")
    await page.locator('#reaction-form button[type="submit"]').click()  # nothing chosen: refused, in place
    await expect(page.locator("#kind-error")).to_be_visible()
    await expect(page.locator("#kind")).to_be_focused()
    await look_at(tab, f"vigilance-record-refused-{locale}")
    await page.select_option("#kind", "nodule")
    await page.locator('input[name="severity"][value="moderate"]').check()
    await page.select_option("#outcome", "recovering")
    await page.fill("#description", "Joue gauche, ferme au toucher")
    await page.locator('#reaction-form button[type="submit"]').click()
    await page.wait_for_url(f"**/ui/sessions/{session_id}/reactions/*")
    shown = page.locator("#reaction")
    await expect(shown.locator("h3")).to_have_text(LINKED[locale])
    for lot in (clinic.lot, second["lot"]):
        await expect(shown.locator(f'li[data-lot="{lot["id"]}"]')).to_contain_text(lot["lot_number"])
    reaction_id = int(page.url.rsplit("/", 1)[1])
    assert await scalar("SELECT count(DISTINCT lot) FROM reaction_lot WHERE reaction = $1", reaction_id) == 2
    await look_at(tab, f"vigilance-recorded-{locale}")

    # Two more clients react to the first lot: three distinct clients, a lot signal.
    for _ in range(2):
        other = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Client"))
        made = await clinical.create_session(
            actor=actors["staff"], client_id=other["id"], location_id=clinic.location_id
        )
        await scanning.record_use(actor=actors["staff"], session_id=made["id"], barcode=clinic.code())
        await vigilance.record_reaction(
            actor=actors["staff"], session_id=made["id"], kind="nodule", severity="mild", onset_at=clock.now()
        )
    later = await clinical.create_session(
        actor=actors["staff"], client_id=clinic.client["id"], location_id=clinic.location_id
    )

    # Staff never reach the vigilance page (the 403 page) and have no menu entry for it.
    refused = await page.goto(tab.base_url + "/ui/vigilance")
    assert refused is not None and refused.status == 403
    await tab.shot(f"vigilance-staff-refused-{locale}")
    await expect(page.locator('nav a[href="/ui/vigilance"]')).to_have_count(0)

    # A manager sees the signal and quarantines its lot: a reason, the confirmation, then the lot is quarantined.
    await use_sign_in(tab, page_cookies["manager"])
    await page.goto(tab.base_url + "/ui/")
    await page.locator('nav a[href="/ui/vigilance"]').click()
    await page.wait_for_url("**/ui/vigilance")
    signal = page.locator(f'article[data-signal="lot-{clinic.lot["id"]}"]')
    await expect(signal.locator('[data-count="clients"]')).to_have_text("3")
    await expect(signal.locator('[data-count="uses"]')).to_have_text("3")
    await look_at(tab, f"vigilance-desk-{locale}")
    await signal.locator('input[name="reason"]').fill("Trois nodules en deux semaines")
    await signal.locator('button[type="submit"]').click()  # not confirmed: refused, nothing held
    signal = page.locator(f'article[data-signal="lot-{clinic.lot["id"]}"]')
    await expect(signal.locator(".field-error")).to_be_visible()
    assert await scalar("SELECT status FROM lot WHERE id = $1", clinic.lot["id"]) == "active"
    await signal.locator('input[name="confirm"]').check()
    await signal.locator('button[type="submit"]').click()
    await expect(page.locator("#flash")).to_contain_text(clinic.lot["lot_number"])
    signal = page.locator(f'article[data-signal="lot-{clinic.lot["id"]}"]')
    await expect(signal.locator("[data-status]")).to_have_text(QUARANTINED[locale])
    await expect(signal.locator("form.quarantine")).to_have_count(0)
    assert await scalar("SELECT status FROM lot WHERE id = $1", clinic.lot["id"]) == "quarantined"

    # A follow-up changes the outcome shown.
    item = page.locator(f'article[data-reaction="{reaction_id}"]')
    await item.locator("summary").click()
    await item.locator("textarea").fill("Revue à J+7 : résorbé")
    await item.locator("select").select_option("recovered")
    await item.locator('details button[type="submit"]').click()
    item = page.locator(f'article[data-reaction="{reaction_id}"]')
    await expect(item.locator("[data-outcome]")).to_have_text(RECOVERED[locale])
    await expect(item.locator(".follow-ups li")).to_contain_text("Revue à J+7 : résorbé")
    await look_at(tab, f"vigilance-followed-{locale}")

    # Back at the chair, a scan of the quarantined lot is refused.
    await use_sign_in(tab, page_cookies["staff"])
    await page.goto(tab.base_url + f"/ui/scan?session={later['id']}")
    await expect(page.locator("#chair")).to_be_visible()
    await page.fill("#scan-input", clinic.code())
    await page.press("#scan-input", "Enter")
    latest = page.locator(".scan-result.latest")
    await expect(latest).to_have_attribute("data-outcome", "refused")
    await expect(latest).to_have_attribute("role", "alert")
    assert await scalar("SELECT count(*) FROM usage WHERE session = $1", later["id"]) == 0
    await look_at(tab, f"vigilance-chair-refused-{locale}")

    # From the client's page too: the history's session leads to the same form.
    await page.goto(tab.base_url + f"/ui/clients/{clinic.client['id']}")
    await look_at(tab, f"vigilance-client-{locale}")
    await page.locator(f'#history-card a.reaction-link[href="/ui/sessions/{session_id}/reaction"]').click()
    await page.wait_for_url(f"**/ui/sessions/{session_id}/reaction")
    await expect(page.locator(".lots-used li")).to_have_count(2)
