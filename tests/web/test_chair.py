"""The chair in a real Chromium: scanner bursts wherever the focus is, scans that survive sign-out and network cuts."""

from __future__ import annotations

import itertools
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from playwright.async_api import Browser, Page, expect

from inventory import clock, db
from inventory.config import Settings
from inventory.domain.gs1 import format_element_string
from inventory.domain.models import Actor
from inventory.services import auth, clinical, scanning
from tests.conftest import PASSWORD
from tests.support import factories as f
from tests.support.browser import UUID, Tab, open_chair, race_actors, scan_requests, usages_of
from tests.support.clinic import Clinic, build

pytestmark = pytest.mark.race

_seeds = itertools.count(700_003, 11)
PENDING_IN_INDEXEDDB = """() => new Promise((ok) => {
  const opened = indexedDB.open("meso-inventory");
  opened.onsuccess = () => {
    const counted = opened.result.transaction("pending-scans").objectStore("pending-scans").count();
    counted.onsuccess = () => ok(counted.result);
  };
})"""


async def burst(page: Page, code: str) -> None:
    """Type a code as a keyboard-wedge scanner does: every character at once, then Enter."""
    await page.keyboard.type(code)
    await page.keyboard.press("Enter")


async def another_lot(actors: dict[str, Actor], clinic: Clinic, *, ingredients: list[str]) -> dict[str, Any]:
    """A second product with its own lot at the clinic's location; returns the lot with its GTIN."""
    gtin = f.make_gtin(next(_seeds))
    product = await f.product(actors["manager"], gtin=gtin, ingredients=ingredients)
    line = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=product["id"],
        lot_number=f.unique("K").replace(" ", ""),
        expiry=f.in_days(300),
        quantity=5,
    )
    return {**line["lot"], "gtin": gtin}


def code_of(lot: dict[str, Any], serial: str | None = None) -> str:
    """The GS1 element string of a lot, with the GS separator before a serial."""
    return format_element_string(
        gtin=lot["gtin"], expiry=lot["expiry_date"], lot_number=lot["lot_number"], serial=serial
    )


async def at_the_chair(tab: Tab, **clinic: Any) -> Clinic:
    """A new clinic (see `build`), and staff signed in at the chair on its session."""
    built = await build(await race_actors(), **clinic)
    await tab.sign_in("staff", "/ui/scan")
    await open_chair(tab, built, built.session["id"])
    return built


async def token_of(page: Page) -> str:
    """The bearer token the page holds."""
    token: str = await page.evaluate("() => sessionStorage.getItem('meso.token')")
    return token


# ------------------------------------------------------------------ safety: a burst is always a scan


async def test_a_scanner_burst_into_the_override_box_is_a_scan_and_never_becomes_the_reason(tab: Tab) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=5, allergies=["vitamin c"], ingredients=["Hyaluronic acid", "Vitamin C"])
    other = await another_lot(actors, clinic, ingredients=["Hyaluronic acid"])
    page = tab.page
    await tab.sign_in("staff", "/ui/scan")
    await open_chair(tab, clinic, clinic.session["id"])

    await burst(page, clinic.code())
    refused = page.locator(".scan-result.latest")
    await expect(refused).to_have_attribute("data-outcome", "refused")
    await expect(refused).to_have_attribute("role", "alert")
    await expect(refused.locator(".detail")).to_contain_text("allergic to Vitamin C")

    await page.click("#override-reason")
    await page.keyboard.type("Pat", delay=150)  # a person starts typing the reason
    code = code_of(other, serial="SN1")
    assert "\x1d" in code
    await burst(page, code)

    latest = page.locator(".scan-result.latest")
    await expect(latest).to_have_attribute("data-outcome", "recorded")
    await expect(latest).to_have_attribute("role", "status")
    await expect(latest.locator(".lot")).to_have_text(other["lot_number"])
    await expect(page.locator("#override-reason")).to_have_value("Pat")
    await expect(page.locator("#uses tr")).to_have_count(1)
    rows = await usages_of(clinic.session["id"])
    assert [(r["lot"], r["override_reason"], r["barcode"]) for r in rows] == [(other["id"], None, code)]


async def test_a_burst_while_the_void_reason_box_has_focus_is_a_scan_and_voids_nothing(tab: Tab) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=5)
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    page = tab.page
    await tab.sign_in("staff", "/ui/scan")
    await open_chair(tab, clinic, clinic.session["id"])
    await page.click("#uses button:has-text('Void')")
    await expect(page.locator("#ask-reason")).to_be_focused()
    await page.keyboard.type("Drop", delay=150)

    await burst(page, clinic.code(serial="SN2"))
    await expect(page.locator("#ask")).to_be_hidden()
    await expect(page.locator(".scan-result.latest")).to_have_attribute("data-outcome", "recorded")
    await expect(page.locator("#uses tr")).to_have_count(2)
    rows = await usages_of(clinic.session["id"])
    assert len(rows) == 2
    assert [r["voided_at"] for r in rows] == [None, None]


async def test_a_burst_while_the_client_search_has_focus_leaves_the_search_alone_and_records_nothing(
    tab: Tab,
) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=5)
    page = tab.page
    await tab.sign_in("staff", "/ui/scan")
    await page.select_option("#location", str(clinic.location_id))
    await page.click("#client-q")
    await page.keyboard.type("Zo", delay=150)

    await burst(page, clinic.code())
    await expect(page.locator("#client-q")).to_have_value("Zo")
    await expect(page.locator("#page-error")).to_contain_text("no session is open")
    await expect(page.locator("#client-results button")).to_have_count(0)  # the Enter did not search
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM usage WHERE lot = $1", clinic.lot["id"]) == 0


async def test_an_override_needs_a_reason_in_words_and_a_tick_and_its_reason_shows_in_the_uses(tab: Tab) -> None:
    clinic = await at_the_chair(tab, on_hand=5, allergies=["vitamin c"], ingredients=["Vitamin C"])
    page = tab.page
    await page.fill("#scan-input", clinic.code())
    await page.press("#scan-input", "Enter")
    await expect(page.locator(".scan-result.latest")).to_have_attribute("data-outcome", "refused")
    record = page.locator("form.override button[type=submit]")
    error = page.locator("#override-error")

    await page.fill("#override-reason", clinic.code())  # pasted, not a burst: still refused as a code
    await record.click()
    await expect(error).to_contain_text("looks like a scanned code")
    await page.fill("#override-reason", "ok")
    await record.click()
    await expect(error).to_contain_text("at least")
    reason = "Patch test negative; the doctor agreed"
    await page.fill("#override-reason", reason)
    await record.click()
    await expect(error).to_contain_text("Tick the confirmation")
    assert await usages_of(clinic.session["id"]) == []

    await page.check("#override-confirm")
    await record.click()
    latest = page.locator(".scan-result.latest")
    await expect(latest).to_have_attribute("data-outcome", "warning")
    await expect(latest.locator(".warnings")).to_contain_text(reason)
    await expect(page.locator("#uses tr").first).to_contain_text(f"Allergy override: {reason}")
    rows = await usages_of(clinic.session["id"])
    assert [(r["lot"], r["override_reason"]) for r in rows] == [(clinic.lot["id"], reason)]
    await tab.shot("chair-override")


# ------------------------------------------------------------------ safety: no scan is ever lost


async def test_a_scan_after_the_sign_in_ended_waits_on_the_device_and_is_recorded_once_after_signing_in(
    tab: Tab,
) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=5)
    page = tab.page
    sent = scan_requests(page)
    await tab.sign_in("staff", "/ui/scan")
    await open_chair(tab, clinic, clinic.session["id"])
    async with httpx.AsyncClient(base_url=tab.base_url) as http:
        revoked = await http.post("/api/auth/logout", headers={"Authorization": f"Bearer {await token_of(page)}"})
    assert revoked.status_code in (200, 204)

    await burst(page, clinic.code())
    card = page.locator(".scan-result.latest")
    await expect(card).to_have_attribute("data-outcome", "pending")
    await expect(page.locator("#signin-dialog")).to_be_visible()
    await expect(page.locator("#signin-dialog [name=email]")).to_have_value("staff@clinic.test")
    await expect(page.locator("#sync")).to_contain_text("1 scan is waiting")
    await tab.shot("chair-signed-out")
    assert await usages_of(clinic.session["id"]) == []

    await page.fill("#signin-dialog [name=password]", PASSWORD)
    await page.press("#signin-dialog [name=password]", "Enter")
    await expect(page.locator("#signin-dialog")).to_be_hidden()
    latest = page.locator(".scan-result.latest")
    await expect(latest).to_have_attribute("data-outcome", "recorded")
    await expect(latest).to_contain_text("Sent after the connection came back")
    await expect(page.locator("#sync")).to_be_hidden()
    await expect(page).to_have_url(re.compile(rf"/ui/scan\?session={clinic.session['id']}$"))
    rows = await usages_of(clinic.session["id"])
    assert [r["lot"] for r in rows] == [clinic.lot["id"]]
    keys = {request.headers["idempotency-key"] for request in sent}
    assert len(keys) == 1
    assert UUID.match(keys.pop())


async def test_three_scans_offline_survive_a_reload_and_are_each_recorded_once_when_the_network_is_back(
    tab: Tab,
) -> None:
    clinic = await at_the_chair(tab, on_hand=10)
    page = tab.page
    # The station's own files are kept by its service worker, so the page reloads with the network down.
    await page.wait_for_function(
        "async () => (await navigator.serviceWorker.ready) && !!(await caches.match('/ui/scan.js'))"
    )

    codes = [clinic.code(serial=f"OFF{i}") for i in range(3)]
    await page.context.set_offline(True)
    for code in codes:
        await page.fill("#scan-input", code)
        await page.press("#scan-input", "Enter")
    await expect(page.locator('.scan-result[data-outcome="pending"]')).to_have_count(3)
    await expect(page.locator("#sync")).to_contain_text("3 scans are waiting on this device")

    await page.reload()
    await expect(page.locator("#chair")).to_be_visible()
    await expect(page.locator('.scan-result[data-outcome="pending"]')).to_have_count(3)
    await tab.shot("chair-offline")
    # Chromium's emulated offline can still let a request out through the service worker and lose its answer:
    # the page then keeps the scan pending, and its Idempotency-Key makes the resend a replay: each once, below.

    await page.context.set_offline(False)
    await expect(page.locator('.scan-result[data-outcome="recorded"]')).to_have_count(3, timeout=15_000)
    await expect(page.locator('.scan-result[data-outcome="pending"]')).to_have_count(0)
    await expect(page.locator("#uses tr")).to_have_count(3)
    rows = await usages_of(clinic.session["id"])
    assert sorted(r["barcode"] for r in rows) == sorted(codes)
    assert await page.evaluate(PENDING_IN_INDEXEDDB) == 0


# ------------------------------------------------------------------ phones


@pytest.mark.parametrize("width", [390, 360])
async def test_on_a_phone_nothing_scrolls_sideways_and_the_result_shows_next_to_the_input(
    browser: Browser, base_url: str, race_pool: None, width: int
) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=3)
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    await scanning.void_usage(
        actor=actors["staff"],
        usage_id=(await usages_of(clinic.session["id"]))[0]["id"],
        reason="Dropped on the floor before the injection, a new one was taken",
    )
    context = await browser.new_context(viewport={"width": width, "height": 844}, is_mobile=True, has_touch=True)
    context.set_default_timeout(8000)
    tab = Tab(await context.new_page(), base_url)
    page = tab.page
    try:
        await tab.sign_in("staff", "/ui/scan")
        await open_chair(tab, clinic, clinic.session["id"])
        await page.fill("#scan-input", clinic.code(serial="PHONE1"))
        await page.press("#scan-input", "Enter")
        await expect(page.locator(".scan-result.latest")).to_have_attribute("data-outcome", "recorded")
        await expect(page.locator("#uses tr")).to_have_count(2)
        widths = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], widths
        void_button = await page.locator("#uses button:has-text('Void')").bounding_box()
        assert void_button is not None and void_button["x"] + void_button["width"] <= width
        await tab.shot(f"chair-phone-{width}")

        # An on-screen keyboard leaves about half the screen: the next result still shows beside the input.
        await page.set_viewport_size({"width": width, "height": 420})
        await page.fill("#scan-input", clinic.code(serial="PHONE2"))
        await page.press("#scan-input", "Enter")
        await expect(page.locator("#uses tr")).to_have_count(3)
        for part in ("#scan-input", ".scan-result.latest h2", ".scan-result.latest .lot"):
            box = await page.locator(part).bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 420, (part, box)
        await tab.shot(f"chair-phone-{width}-keyboard")
    finally:
        await context.close()
    assert tab.problems == []


# ------------------------------------------------------------------ the station


async def test_the_same_code_twice_within_ten_seconds_asks_for_a_second_ampoule_and_one_key_records_it(
    tab: Tab,
) -> None:
    clinic = await at_the_chair(tab, on_hand=5)
    page = tab.page
    code = clinic.code()

    await burst(page, code)
    await expect(page.locator(".scan-result.latest")).to_have_attribute("data-outcome", "recorded")
    await burst(page, code)
    asked = page.locator(".scan-result.latest")
    await expect(asked).to_have_attribute("data-outcome", "refused")
    await expect(asked).to_contain_text("A second ampoule?")
    await expect(page.locator("#repeat-yes")).to_be_focused()
    assert len(await usages_of(clinic.session["id"])) == 1
    await tab.shot("chair-repeat")

    await page.keyboard.press("Enter")
    await expect(page.locator(".scan-result.latest")).to_have_attribute("data-outcome", "recorded")
    await expect(page.locator("#uses tr")).to_have_count(2)

    await burst(page, code)  # a double read this time
    await expect(page.locator("#repeat-no")).to_be_visible()
    await page.click("#repeat-no")
    await expect(page.locator(".scan-result.latest")).to_contain_text("Nothing more recorded")
    assert len(await usages_of(clinic.session["id"])) == 2


async def test_the_chair_lists_the_day_booked_session_first_and_opens_it_instead_of_a_new_one(tab: Tab) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=5)
    booked_client = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Booked"), allergies=[])
    course = await clinical.create_course(
        actor=actors["staff"],
        client_id=booked_client["id"],
        location_id=clinic.location_id,
        treatment="Vitamin cocktail",
        start_date=clock.today(),
        sessions=3,
        interval_days=21,
        products=[(clinic.product["id"], 1)],
    )
    booked = course["planned_sessions"][0]
    page = tab.page
    await tab.sign_in("staff", "/ui/scan")
    await page.select_option("#location", str(clinic.location_id))
    picks = page.locator("#agenda button.pick")
    await expect(picks.first).to_have_attribute("data-session", str(booked["id"]))
    await expect(picks.first).to_contain_text(booked_client["full_name"])
    await expect(picks.first).to_contain_text("booked")
    await expect(page.locator(f'#agenda button[data-session="{clinic.session["id"]}"]')).to_be_visible()
    later = course["planned_sessions"][1]["id"]
    await expect(page.locator(f'#agenda button[data-session="{later}"]')).to_have_count(0)
    await tab.shot("chair-agenda")

    await picks.first.click()
    await expect(page.locator("#session-client")).to_have_text(booked_client["full_name"])
    await burst(page, clinic.code())
    await expect(page.locator(".scan-result.latest")).to_have_attribute("data-outcome", "recorded")
    rows = await usages_of(booked["id"])
    assert [(r["lot"], r["client"]) for r in rows] == [(clinic.lot["id"], booked_client["id"])]
    async with db.connection() as conn:
        sessions = await conn.fetchval("SELECT count(*) FROM treatment_session WHERE client = $1", booked_client["id"])
    assert sessions == 3  # no ad-hoc session was made


async def test_a_refusal_names_the_product_and_lot_in_plain_words_with_the_codes_behind_a_disclosure(
    tab: Tab,
) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=5)
    recalled = await another_lot(actors, clinic, ingredients=["Hyaluronic acid"])
    async with db.connection() as conn:
        product_name = await conn.fetchval(
            "SELECT p.name FROM product p JOIN lot l ON l.product = p.id WHERE l.id = $1", recalled["id"]
        )
    async with db.connection() as conn:
        await conn.execute("UPDATE lot SET status = 'recalled' WHERE id = $1", recalled["id"])
    page = tab.page
    await tab.sign_in("staff", "/ui/scan")
    await open_chair(tab, clinic, clinic.session["id"])
    await burst(page, code_of(recalled))
    card = page.locator(".scan-result.latest")
    await expect(card).to_have_attribute("data-outcome", "refused")
    await expect(card.locator("h2")).to_have_text("Not recorded: Recalled lot")
    await expect(card.locator(".product")).to_contain_text(f"lot {recalled['lot_number']}")
    await expect(card.locator(".product")).to_contain_text(product_name)
    await tab.shot("chair-refused")
    await expect(card.locator(".detail")).to_contain_text("tell a manager")
    await expect(card.locator(".technical .code")).to_be_hidden()
    await card.locator(".technical summary").click()
    await expect(card.locator(".technical .code")).to_contain_text("lot_recalled · HTTP 409")


async def test_a_token_past_half_its_life_is_renewed_for_the_same_sign_in_while_the_chair_is_used(
    tab: Tab, settings: Settings
) -> None:
    clinic = await at_the_chair(tab, on_hand=5)
    page = tab.page
    # The same user signed in five hours ago: the token has three of its eight hours left.
    signed_in = datetime.now(UTC) - timedelta(hours=5)
    jti = secrets.token_hex(16)
    staff = (await race_actors())["staff"]
    issued = auth.sign_token(settings, user_id=staff.id, role="staff", jti=jti, auth_time=signed_in, now=signed_in)
    old = issued.access_token
    await page.evaluate("(token) => sessionStorage.setItem('meso.token', token)", old)

    await burst(page, clinic.code())
    await expect(page.locator(".scan-result.latest")).to_have_attribute("data-outcome", "recorded")
    await page.wait_for_function("(old) => sessionStorage.getItem('meso.token') !== old", arg=old)
    renewed = jwt.decode(await token_of(page), options={"verify_signature": False})
    assert renewed["jti"] == jti  # the same sign-in: signing out still ends it
    assert renewed["iat"] > signed_in.timestamp() + 4 * 3600
    assert renewed["auth_time"] == int(signed_in.timestamp())


async def test_a_burst_stalled_by_a_busy_device_is_still_one_scan_and_a_person_typing_is_never_one(tab: Tab) -> None:
    clinic = await at_the_chair(tab, on_hand=5)
    page = tab.page
    code = clinic.code()
    await page.click("#session-client")  # the focus is on no field
    await page.keyboard.type(code[:12])
    await page.wait_for_timeout(200)  # the tablet stalls in the middle of the burst
    await page.keyboard.type(code[12:])
    await page.keyboard.press("Enter")
    await expect(page.locator(".scan-result.latest")).to_have_attribute("data-outcome", "recorded")
    rows = await usages_of(clinic.session["id"])
    assert [r["barcode"] for r in rows] == [code]

    # A person typing a code by hand into the box, key by key, is a typed scan (Enter submits the box).
    await page.click("#scan-input")
    await page.keyboard.type(clinic.code(serial="HAND1"), delay=120)
    await expect(page.locator("#scan-input")).to_have_value(clinic.code(serial="HAND1"))
    await page.keyboard.press("Enter")
    await expect(page.locator("#uses tr")).to_have_count(2)
