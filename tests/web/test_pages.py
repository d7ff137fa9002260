"""The /ui pages in a real Chromium, against the app served by uvicorn in this event loop on the race database."""

from __future__ import annotations

import asyncio
import re
import secrets
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from playwright.async_api import Route, expect

from inventory import db
from inventory.services import catalog, clinical, scanning
from inventory.web import routes as web_routes
from tests.support import factories as f
from tests.support.browser import SCREENSHOTS, UUID, Tab, open_chair, race_actors, scan_requests, usages_of
from tests.support.clinic import build

pytestmark = pytest.mark.race

STATIC = Path(web_routes.__file__).parent / "static"


# ------------------------------------------------------------------ pages without a browser


async def test_ui_pages_are_served_without_a_token_under_a_strict_csp(app: Litestar) -> None:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        for path, kind in [
            ("/ui/", "text/html"),
            ("/ui", "text/html"),
            ("/ui/scan", "text/html"),
            ("/ui/alerts", "text/html"),
            ("/ui/recall", "text/html"),
            ("/ui/app.js", "text/javascript"),
            ("/ui/scan.js", "text/javascript"),
            ("/ui/common.js", "text/javascript"),
            ("/ui/sw.js", "text/javascript"),
            ("/ui/app.css", "text/css"),
        ]:
            response = await http.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith(kind)
            csp = response.headers["content-security-policy"]
            assert "default-src 'self'" in csp
            assert "script-src 'self'" in csp
            assert "style-src 'self'" in csp
            # The chair may compile its self-hosted WebAssembly decoder; no page may eval JavaScript or inline code.
            assert "unsafe" not in csp.replace("'wasm-unsafe-eval'", "")
            assert ("'wasm-unsafe-eval'" in csp) == (path == "/ui/scan")
            assert response.headers["x-content-type-options"] == "nosniff"
        assert (await http.get("/ui/nothing-here")).status_code == 404
        assert (await http.get("/ui/scan.html")).status_code == 404  # pages only under their own names
        assert (await http.get("/ui/vendor/nothing.js")).status_code == 404
        assert (await http.get("/api/alerts/reorder")).status_code == 401


def test_pages_have_no_inline_script_or_style_and_the_script_never_parses_data_as_html() -> None:
    for page in STATIC.glob("*.html"):
        html = page.read_text()
        assert "<style" not in html, page.name
        assert not re.search(r"\sstyle=", html), page.name
        assert not re.search(r"\son[a-z]+=", html), page.name
        scripts = re.findall(r"<script\b[^>]*>", html)
        entry = "scan.js" if page.name == "scan.html" else "app.js"
        assert scripts == [f'<script type="module" src="/ui/{entry}">'], page.name
    for module in STATIC.glob("*.js"):
        script = module.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage"):
            assert sink not in script, (module.name, sink)


# ------------------------------------------------------------------ the chair


async def test_staff_signs_in_picks_the_session_scans_and_sees_the_lot_recorded_on_that_client(tab: Tab) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=10)
    # A name with markup: it must show as text, never become elements.
    name = '<b>Ana</b> "O\'Neil" <img src=x>'
    client = await clinical.create_client(actor=actors["staff"], full_name=name, allergies=[])
    session = await clinical.create_session(
        actor=actors["staff"], client_id=client["id"], location_id=clinic.location_id
    )
    page = tab.page

    await tab.sign_in("staff", "/ui/scan")
    stored = await page.evaluate("() => [sessionStorage.getItem('meso.token') !== null, localStorage.length]")
    assert stored == [True, 0]
    await expect(page.locator("header .who")).to_have_text("staff@clinic.test · staff")
    await page.select_option("#location", str(clinic.location_id))
    await expect(page.locator(f'button[data-session="{session["id"]}"]')).to_contain_text(name)
    await tab.shot("scan-setup")
    await open_chair(tab, clinic, session["id"])
    await expect(page.locator("#session-client")).to_have_text(name)
    assert await page.locator("#session-client b, #session-client img, button.pick img").count() == 0
    await expect(page.locator("#scan-input")).to_be_focused()

    code = clinic.code(serial=f"SN{session['id']}")  # lot, then GS (ASCII 29), then the serial
    assert "\x1d" in code
    await page.fill("#scan-input", code)
    await page.press("#scan-input", "Enter")

    card = page.locator(".scan-result.latest")
    await expect(card).to_have_class(re.compile(r"\brecorded\b"))
    await expect(card.locator(".lot")).to_have_text(clinic.lot["lot_number"])
    await expect(card.locator(".facts")).to_contain_text("On hand after")
    await expect(card.locator(".facts dd").nth(3)).to_have_text("9")
    await expect(page.locator("#uses tr")).to_have_count(1)
    await expect(page.locator("#scan-input")).to_be_focused()
    await expect(page.locator("#scan-input")).to_have_value("")
    await tab.shot("scan-recorded")
    if SCREENSHOTS:  # a tablet held upright
        await page.set_viewport_size({"width": 768, "height": 1024})
        await tab.shot("scan-portrait")

    rows = await usages_of(session["id"])
    assert len(rows) == 1
    assert rows[0]["lot"] == clinic.lot["id"]
    assert rows[0]["client"] == client["id"]
    assert rows[0]["barcode"] == code  # exactly what was typed, separators included


async def test_enter_twice_records_once_and_a_lost_answer_is_retried_with_the_same_key(tab: Tab) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=10)
    page = tab.page
    sent = scan_requests(page)
    await tab.sign_in("staff", "/ui/scan")
    await open_chair(tab, clinic, clinic.session["id"])

    await page.fill("#scan-input", clinic.code())
    await page.press("#scan-input", "Enter")
    await page.press("#scan-input", "Enter")
    await expect(page.locator(".scan-result.latest")).to_have_class(re.compile(r"\brecorded\b"))
    await expect(page.locator("#uses tr")).to_have_count(1)
    assert len(await usages_of(clinic.session["id"])) == 1
    assert len(sent) == 1
    first_key = sent[0].headers["idempotency-key"]
    assert UUID.match(first_key)

    # The next scan's answer is lost after the service recorded it: the page retries with the same key,
    # the service replays its answer, and the use is recorded once.
    lost: list[str] = []

    async def lose_first_answer(route: Route) -> None:
        if not lost:
            lost.append(route.request.headers["idempotency-key"])
            await route.fetch()
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await page.route("**/api/sessions/*/scans", lose_first_answer)
    # Another ampoule (its own serial): the same text again within 10 s would be a repeat_scan.
    await page.fill("#scan-input", clinic.code(serial="AMP2"))
    await page.press("#scan-input", "Enter")
    await expect(page.locator(".scan-result.latest")).to_have_class(re.compile(r"\brecorded\b"))
    await expect(page.locator("#uses tr")).to_have_count(2)
    keys = [request.headers["idempotency-key"] for request in sent[1:]]
    assert len(keys) == 2
    assert keys[0] == keys[1] == lost[0]
    assert keys[0] != first_key
    assert len(await usages_of(clinic.session["id"])) == 2


async def test_allergy_conflict_is_refused_in_red_and_an_override_records_the_use_with_the_reason(tab: Tab) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=5, allergies=["vitamin c"], ingredients=["Hyaluronic acid", "Vitamin C"])
    page = tab.page
    sent = scan_requests(page)
    await tab.sign_in("staff", "/ui/scan")
    await open_chair(tab, clinic, clinic.session["id"])
    await expect(page.locator("#session-allergies")).to_contain_text("vitamin c")

    await page.fill("#scan-input", clinic.code())
    await page.press("#scan-input", "Enter")
    card = page.locator(".scan-result.latest")
    await expect(card).to_have_class(re.compile(r"\brefused\b"))
    await expect(card.locator(".code")).to_contain_text("allergy_conflict")
    await expect(card.locator(".detail")).to_contain_text("allergic to")
    await tab.shot("scan-refused")
    assert await usages_of(clinic.session["id"]) == []

    reason = "Patch test negative on 2 May; doctor agreed"
    await page.fill("#override-reason", reason)
    await page.check("#override-confirm")
    await page.click("text=Record anyway")
    card = page.locator(".scan-result.latest")
    await expect(card).to_have_class(re.compile(r"\bwarning\b"))
    await expect(card.locator(".warnings")).to_contain_text("overridden")
    await expect(card.locator(".lot")).to_have_text(clinic.lot["lot_number"])
    await tab.shot("scan-override")

    rows = await usages_of(clinic.session["id"])
    assert len(rows) == 1
    assert rows[0]["override_reason"] == reason
    assert rows[0]["lot"] == clinic.lot["id"]
    keys = [request.headers["idempotency-key"] for request in sent]
    assert len(keys) == 2
    assert keys[0] != keys[1]


async def test_a_session_started_from_a_client_search_refuses_a_plain_gtin_with_two_lots_and_lists_them(
    tab: Tab,
) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=4)
    second = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number=f"B{secrets.token_hex(3).upper()}",
        expiry=f.in_days(300),
        quantity=2,
    )
    name = f"Zoé Léger {secrets.token_hex(3)}"
    client = await clinical.create_client(actor=actors["staff"], full_name=name, allergies=["latex"])
    page = tab.page
    await tab.sign_in("staff", "/ui/scan")
    await page.select_option("#location", str(clinic.location_id))
    await page.fill("#client-q", name[:12])
    await page.press("#client-q", "Enter")
    await page.locator("#client-results button", has_text=name).click()
    await expect(page.locator("#chair")).to_be_visible()
    await expect(page.locator("#session-client")).to_have_text(name)
    await expect(page.locator("#session-allergies")).to_have_text("Allergies: latex")
    async with db.connection() as conn:
        sessions = await conn.fetch(
            "SELECT id, location, status FROM treatment_session WHERE client = $1", client["id"]
        )
    assert [(s["location"], s["status"]) for s in sessions] == [(clinic.location_id, "open")]

    await page.fill("#scan-input", clinic.gtin)
    await page.press("#scan-input", "Enter")
    card = page.locator(".scan-result.latest")
    await expect(card).to_have_class(re.compile(r"\brefused\b"))
    await expect(card.locator(".code")).to_contain_text("lot_ambiguous")
    candidates = card.locator("table.candidates tbody tr")
    await expect(candidates).to_have_count(2)
    await expect(card.locator("table.candidates")).to_contain_text(clinic.lot["lot_number"])
    await expect(card.locator("table.candidates")).to_contain_text(second["lot"]["lot_number"])
    assert await usages_of(sessions[0]["id"]) == []


async def test_a_use_is_voided_with_a_reason_and_a_closed_session_leaves_the_chair(tab: Tab) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=5)
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    page = tab.page
    await tab.sign_in("staff", "/ui/scan")
    await open_chair(tab, clinic, clinic.session["id"])
    await expect(page.locator("#uses tr")).to_have_count(1)

    await page.click("#uses button:has-text('Void')")
    await expect(page.locator("#ask")).to_be_visible()
    await page.fill("#ask-reason", "Ampoule dropped")
    await page.press("#ask-reason", "Enter")
    await expect(page.locator("#uses tr.voided")).to_contain_text("Voided: Ampoule dropped")
    rows = await usages_of(clinic.session["id"])
    assert rows[0]["voided_at"] is not None

    await page.click("#close-session")
    await page.click("#ask-ok")
    await expect(page.locator("#setup")).to_be_visible()
    await expect(page.locator(f'button[data-session="{clinic.session["id"]}"]')).to_have_count(0)
    async with db.connection() as conn:
        status = await conn.fetchval("SELECT status FROM treatment_session WHERE id = $1", clinic.session["id"])
    assert status == "closed"


# ------------------------------------------------------------------ alerts


async def test_staff_opening_alerts_is_told_it_needs_the_manager_role_and_sign_out_revokes_the_token(
    tab: Tab,
) -> None:
    page = tab.page
    await tab.sign_in("staff", "/ui/alerts", shot="signin")
    await expect(page.locator("#page-error")).to_contain_text("This needs the manager role")
    await expect(page.locator("#content")).to_be_hidden()
    await tab.shot("alerts-staff")

    await page.click("a.brand")
    await expect(page.locator("#menu")).to_be_visible()
    await expect(page.locator('.tile[href="/ui/alerts"]')).to_contain_text("Needs the manager role")
    await tab.shot("menu")
    token = await page.evaluate("() => sessionStorage.getItem('meso.token')")
    assert token
    async with httpx.AsyncClient(base_url=tab.base_url) as http:
        headers = {"Authorization": f"Bearer {token}"}
        assert (await http.get("/api/locations", headers=headers)).status_code == 200
        await page.click("header button.signout")
        await expect(page.locator("#signin")).to_be_visible()
        assert await page.evaluate("() => sessionStorage.length") == 0
        assert (await http.get("/api/locations", headers=headers)).status_code == 401


async def test_manager_sees_the_reorder_alert_with_its_arithmetic_and_acknowledges_it(tab: Tab) -> None:
    actors = await race_actors()
    manager = actors["manager"]
    clinic = await build(actors, on_hand=3, expiry_days=12)
    await catalog.set_rule(
        actor=manager,
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
    assert alert_id is not None
    page = tab.page
    await tab.sign_in("manager", "/ui/alerts")
    await page.select_option("#alert-location", str(clinic.location_id))
    row = page.locator(f'tr[data-alert="{alert_id}"]')
    await expect(row).to_contain_text(clinic.product["name"])
    cells = row.locator("td")
    await expect(cells.nth(2)).to_have_text("3")  # usable on hand
    await expect(cells.nth(3)).to_have_text("5")  # reorder point
    await expect(cells.nth(4)).to_have_text("12")  # par level
    expiring = page.locator("#expiry tr", has_text=clinic.lot["lot_number"])
    await expect(expiring).to_have_count(1)
    await expect(expiring).to_contain_text("12")
    await tab.shot("alerts-manager")

    await row.locator("button", has_text="Acknowledge").click()
    acknowledged_cell = page.locator(f'tr[data-alert="{alert_id}"] td.ack')
    await expect(acknowledged_cell.locator(".badge")).to_have_text("Acknowledged")
    await expect(acknowledged_cell).to_contain_text("by manager@clinic.test")
    async with db.connection() as conn:
        acknowledged = await conn.fetchrow(
            "SELECT acknowledged_at, acknowledged_by, status FROM reorder_alert WHERE id = $1", alert_id
        )
    assert acknowledged["acknowledged_at"] is not None
    assert acknowledged["acknowledged_by"] == manager.id
    assert acknowledged["status"] == "open"

    await page.select_option("#expiry-view", "expired")
    await expect(page.locator("#expiry tr", has_text=clinic.lot["lot_number"])).to_have_count(0)


# ------------------------------------------------------------------ recall


async def test_manager_finds_a_lot_recalls_it_marks_a_client_contacted_and_downloads_the_csv(tab: Tab) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=6)
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    lot_id, lot_number = clinic.lot["id"], clinic.lot["lot_number"]
    page = tab.page
    await tab.sign_in("manager", "/ui/recall")

    await page.fill("#lot-number", f"  {lot_number.lower()} ")
    await page.press("#lot-number", "Enter")
    card = page.locator(f'article[data-lot="{lot_id}"]')
    await expect(card).to_contain_text(clinic.client["full_name"])
    await expect(card.locator("ul.inline li")).to_have_text(re.compile(r": 5$"))  # left on the shelf
    await expect(card.locator("input.pick-lot")).to_be_checked()
    await tab.shot("recall-trace")

    await page.fill("#recall-reason", "Supplier notice: particles in ampoules")
    await page.click("#recall-form button[type=submit]")
    await expect(page.locator("#case")).to_be_visible()
    await expect(page.locator("#case-title")).to_contain_text("Recall #")
    client_row = page.locator(f'#case-clients tr[data-client="{clinic.client["id"]}"]')
    await expect(client_row).to_contain_text(clinic.client["full_name"])
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", lot_id) == "recalled"
        recall_id = await conn.fetchval("SELECT recall FROM recall_lot WHERE lot = $1", lot_id)
        reason = await conn.fetchval("SELECT reason FROM recall WHERE id = $1", recall_id)
    assert reason == "Supplier notice: particles in ampoules"

    await client_row.locator('button[data-status="contacted"]').click()
    await expect(client_row.locator(".badge")).to_have_text("contacted")
    async with db.connection() as conn:
        status = await conn.fetchval(
            "SELECT contact_status FROM recall_client WHERE recall = $1 AND client = $2", recall_id, clinic.client["id"]
        )
    assert status == "contacted"
    await tab.shot("recall-case")

    async with page.expect_download() as download_info:
        await page.click("#csv")
    download = await download_info.value
    assert download.suggested_filename == f"recall-{recall_id}-clients.csv"
    content = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8-sig")
    assert clinic.client["full_name"] in content
    assert lot_number in content
