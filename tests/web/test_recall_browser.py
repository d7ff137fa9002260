"""The recall desk in a real Chromium, in English and French: a manager runs a recall from the trace to the close."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from inventory import db
from inventory.services import clinical, scanning
from tests.support import factories as f
from tests.support.browser import Tab, in_language, look_at, race_actors, use_sign_in
from tests.support.clinic import build

pytestmark = pytest.mark.race

CLOSED = {"en": "Closed", "fr": "Clos"}
CONTACTED = {"en": "Contacted", "fr": "Contacté"}


async def scalar(sql: str, *args: object) -> object:
    async with db.connection() as conn:
        return await conn.fetchval(sql, *args)


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_a_manager_runs_a_recall_from_trace_to_close(tab: Tab, page_cookies: dict[str, str], locale: str) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=8)
    lea = await clinical.create_client(
        actor=actors["manager"],
        full_name=f.unique("Léa Dupré"),
        email="lea@example.fr",
        phone="+33 6 11 22 33 44",
        allergies=[],
    )
    session = await clinical.create_session(actor=actors["staff"], client_id=lea["id"], location_id=clinic.location_id)
    await scanning.record_use(actor=actors["staff"], session_id=session["id"], barcode=clinic.code())
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code(serial="S2"))
    other = clinic.client
    lot_id, lot_number = clinic.lot["id"], clinic.lot["lot_number"]
    page = tab.page
    await use_sign_in(tab, page_cookies["manager"])
    await in_language(tab, locale)

    # The desk: type the lot number (any case, stray spaces) and press Enter.
    await page.goto(tab.base_url + "/ui/recall")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await look_at(tab, f"recall-desk-{locale}")
    await page.locator("#trace-lot").focus()
    await page.keyboard.type(f" {lot_number.lower()} ")
    await page.keyboard.press("Enter")
    card = page.locator(f'article[data-lot="{lot_id}"]')
    await expect(card.locator(f'tr[data-client="{lea["id"]}"]')).to_contain_text(lea["full_name"])
    await expect(card.locator(f'tr[data-client="{other["id"]}"]')).to_contain_text("staff@clinic.test")
    await expect(card.locator(".shelves li")).to_contain_text("6")
    await look_at(tab, f"recall-trace-{locale}")

    # Quarantine it everywhere: a reason, then Enter.
    await card.locator('input[name="reason"]').focus()
    await page.keyboard.type("Supplier phone call: particles")
    await page.keyboard.press("Enter")
    await expect(page.locator("#flash")).to_contain_text(lot_number)
    await expect(card.locator(".badge.status-quarantined")).to_be_visible()
    assert await scalar("SELECT status FROM lot WHERE id = $1", lot_id) == "quarantined"

    # Open a case on it (the lot is ticked already), by keyboard.
    await expect(page.locator(f'#recall-form input[value="{lot_id}"]')).to_be_checked()
    await page.locator("#recall-source").fill("ANSM")
    await page.locator("#recall-reason").focus()
    await page.keyboard.type("Particles in ampoules, FSN-7")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/ui/recall/\d+$"))
    recall_id = int(page.url.rsplit("/", 1)[1])
    assert await scalar("SELECT status FROM lot WHERE id = $1", lot_id) == "recalled"
    await look_at(tab, f"recall-case-{locale}")

    # One client contacted with a note, the other unreachable.
    lea_card = page.locator(f'article[data-client="{lea["id"]}"]')
    await expect(lea_card.locator("h3")).to_have_text(lea["full_name"])
    await expect(lea_card.locator('a[href="mailto:lea@example.fr"]')).to_be_visible()
    await lea_card.locator("select").select_option("contacted")
    await lea_card.locator("textarea").focus()
    await page.keyboard.type("Appelée : RDV de contrôle lundi")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(lea_card.locator("[data-status]")).to_have_text(CONTACTED[locale])
    await expect(lea_card.locator(".note-text")).to_have_text("Appelée : RDV de contrôle lundi")
    other_card = page.locator(f'article[data-client="{other["id"]}"]')
    await other_card.locator("select").select_option("unreachable")
    await other_card.locator('button[type="submit"]').click()
    await expect(other_card.locator("[data-status]")).to_have_attribute("data-status", "unreachable")

    # Dispose of the six units still on the shelf.
    shelf = page.locator(f'.shelf[data-lot="{lot_id}"][data-location="{clinic.location_id}"]')
    await expect(shelf.locator('input[name="quantity"]')).to_have_value("6")
    await shelf.locator('input[name="reason"]').fill("Recall FSN-7")
    await shelf.locator('button[type="submit"]').click()
    await expect(page.locator("#shelves-empty")).to_be_visible()
    assert await scalar("SELECT on_hand FROM stock_level WHERE lot = $1", lot_id) == 0

    # The client list: UTF-8 with a BOM, Léa's name intact.
    async with page.expect_download() as download_info:
        await page.click("#csv")
    download = await download_info.value
    assert download.suggested_filename == f"recall-{recall_id}-clients.csv"
    content = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert content.startswith("\ufeff".encode())
    text = content.decode("utf-8-sig")
    assert lea["full_name"] in text and "contacted" in text and "unreachable" in text

    # The trace now shows the open case, and its link leads back to it.
    await page.goto(tab.base_url + f"/ui/recall?lot={lot_number}")
    await page.locator(f'article[data-lot="{lot_id}"] .case-link a').click()
    await page.wait_for_url(re.compile(rf"/ui/recall/{recall_id}$"))

    # Close with a note, and read the report.
    await page.locator("#close-note").fill("Tous les clients joignables ont été prévenus.")
    await page.locator('#close-form button[type="submit"]').click()
    report = page.locator("#report")
    await expect(report).to_be_visible()
    await expect(page.locator("#case-status")).to_have_text(CLOSED[locale])
    await expect(report.locator('[data-count="clients_contacted"]')).to_have_text("1")
    await expect(report.locator('[data-count="clients_unreachable"]')).to_have_text("1")
    await expect(report.locator('[data-count="units_disposed"]')).to_have_text("6")
    await expect(report).to_contain_text("Tous les clients joignables ont été prévenus.")
    await expect(page.locator("#close-form")).to_have_count(0)
    await look_at(tab, f"recall-report-{locale}")

    # The case is listed under the closed ones.
    await page.locator(".back a").click()
    await expect(page.locator(f'#closed-cases tr[data-case="{recall_id}"]')).to_be_visible()
    await expect(page.locator(f'#open-cases tr[data-case="{recall_id}"]')).to_have_count(0)
    await look_at(tab, f"recall-cases-{locale}")
