"""The /ui pages in a real Chromium, against the app served by uvicorn in this event loop on the race database."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar
from playwright.async_api import Browser, Page, Request, Route, async_playwright, expect

from inventory import db
from inventory.app import create_app
from inventory.config import Settings
from inventory.domain.models import Actor
from inventory.services import catalog, clinical, scanning
from inventory.web import routes as web_routes
from tests.conftest import PASSWORD
from tests.support import factories as f
from tests.support.clinic import Clinic, build

pytestmark = pytest.mark.race

STATIC = Path(web_routes.__file__).parent / "static"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# Set UI_SCREENSHOT_DIR to keep a screenshot of each page (for looking at the layout).
SCREENSHOTS = os.environ.get("UI_SCREENSHOT_DIR")


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium driven by pip's playwright; skipped without it, except under CI where that fails."""
    executable = shutil.which("chromium")
    if executable is None:
        message = "chromium is not installed (apt-get install chromium); the /ui browser tests need it"
        if "CI" in os.environ:
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
async def base_url(settings: Settings) -> AsyncIterator[str]:
    """The app under uvicorn on a free port, in the tests' event loop (so it uses the swapped engine pool)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, manage_pool=False),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(250):
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    if not server.started:
        server.should_exit = True
        await task
        pytest.fail("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class Tab:
    """A page in a fresh browser context, collecting script errors and CSP violations."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.problems: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("console", self._console)

    def _console(self, entry: Any) -> None:
        # Refused API calls (409, 403) are logged by Chromium as failed resources; those are expected.
        if entry.type == "error" and not entry.text.startswith("Failed to load resource"):
            self.problems.append(entry.text)

    async def sign_in(self, role: str, path: str, *, shot: str | None = None) -> None:
        """Open a page signed out, get sent to sign-in, and come back to the page signed in."""
        await self.page.goto(self.base_url + path)
        await self.page.wait_for_url(re.compile(r"/ui/\?next="))
        await expect(self.page.locator("#email")).to_be_focused()
        if shot:
            await self.shot(shot)
        await self.page.fill("#email", f"{role}@clinic.test")
        await self.page.fill("#password", PASSWORD)
        await self.page.press("#password", "Enter")
        await self.page.wait_for_url(self.base_url + path)

    async def shot(self, name: str) -> None:
        """Keep a screenshot when UI_SCREENSHOT_DIR is set."""
        if SCREENSHOTS:
            await self.page.screenshot(path=str(Path(SCREENSHOTS) / f"ui-{name}.png"), full_page=True)


@pytest.fixture
async def tab(browser: Browser, base_url: str, race_pool: None) -> AsyncIterator[Tab]:
    """A tablet-sized page; at the end, no uncaught script error and no CSP violation may have happened."""
    context = await browser.new_context(viewport={"width": 1024, "height": 768}, accept_downloads=True)
    context.set_default_timeout(8000)
    page = await context.new_page()
    opened = Tab(page, base_url)
    try:
        yield opened
    finally:
        await context.close()
    assert opened.problems == []


async def race_actors() -> dict[str, Actor]:
    """The seeded users in the race database."""
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT id, email, role FROM app_user WHERE email LIKE '%@clinic.test'")
    by_email = {r["email"]: Actor(id=r["id"], role=r["role"], email=r["email"]) for r in rows}
    return {name: by_email[f"{name}@clinic.test"] for name in ("staff", "staff2", "manager", "admin")}


async def usages_of(session_id: int) -> list[dict[str, Any]]:
    """The usage rows of a session, committed."""
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT id, lot, client, barcode, override_reason, voided_at FROM usage WHERE session = $1 ORDER BY id",
            session_id,
        )
    return [dict(r) for r in rows]


async def open_chair(tab: Tab, clinic: Clinic, session_id: int) -> None:
    """At /ui/scan: choose the clinic's location and the session."""
    page = tab.page
    await page.select_option("#location", str(clinic.location_id))
    await page.click(f'button[data-session="{session_id}"]')
    await expect(page.locator("#chair")).to_be_visible()


def scan_requests(page: Page) -> list[Request]:
    """Every scan POST the page sends, as it sends it."""
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if request.url.endswith("/scans") else None)
    return sent


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
            ("/ui/app.css", "text/css"),
        ]:
            response = await http.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith(kind)
            csp = response.headers["content-security-policy"]
            assert "default-src 'self'" in csp
            assert "script-src 'self'" in csp
            assert "style-src 'self'" in csp
            assert "unsafe" not in csp
            assert response.headers["x-content-type-options"] == "nosniff"
        assert (await http.get("/ui/nothing-here")).status_code == 404
        assert (await http.get("/api/alerts/reorder")).status_code == 401


def test_pages_have_no_inline_script_or_style_and_the_script_never_parses_data_as_html() -> None:
    for page in STATIC.glob("*.html"):
        html = page.read_text()
        assert "<style" not in html, page.name
        assert not re.search(r"\sstyle=", html), page.name
        assert not re.search(r"\son[a-z]+=", html), page.name
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts == ['<script type="module" src="/ui/app.js">'], page.name
    script = (STATIC / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage"):
        assert sink not in script, sink


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
    await expect(card).to_have_class(re.compile(r"\bok\b"))
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
    await expect(page.locator(".scan-result.latest")).to_have_class(re.compile(r"\bok\b"))
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
    await expect(page.locator(".scan-result.latest")).to_have_class(re.compile(r"\bok\b"))
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
    await page.click("text=Record anyway")
    card = page.locator(".scan-result.latest")
    await expect(card).to_have_class(re.compile(r"\bwarn\b"))
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
