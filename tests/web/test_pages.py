"""The /ui pages in a real Chromium, against the app served by uvicorn in this event loop on the race database."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from litestar import Litestar
from playwright.async_api import Route, expect

from inventory import db
from inventory.services import clinical, scanning
from inventory.web.routes.assets import STATIC
from inventory.web.templating import TEMPLATES
from tests.support import factories as f
from tests.support.browser import SCREENSHOTS, UUID, Tab, open_chair, race_actors, scan_requests, usages_of
from tests.support.clinic import build
from tests.support.pages import Pages

pytestmark = pytest.mark.race
# Our own modules, and JSON data blocks (never run): nothing inline, nothing from elsewhere.
ALLOWED_SCRIPT = re.compile(r'<script type="(module" src="/ui/[a-z_-]+\.js|application/json" id="[a-z-]+)">')


# ------------------------------------------------------------------ pages without a browser


def _page_paths(app: Litestar) -> list[str]:
    """Every page of /ui without a path parameter (each page family adds its own)."""
    return sorted(
        route.path
        for route in app.routes
        if route.path.startswith("/ui")
        and "{" not in route.path
        and "GET" in getattr(route, "methods", ())
        and not route.path.endswith(".js")
    )


async def test_every_page_is_served_signed_in_under_a_strict_csp(pages: Pages, page_cookies: dict[str, str]) -> None:
    pages.sign_in_as(page_cookies["admin"])
    paths = _page_paths(pages.http._transport.app)  # type: ignore[attr-defined]
    assert {"/ui", "/ui/scan"} <= set(paths)
    for path in paths:
        response = await pages.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert re.search(r'<html lang="(en|fr)">', response.text), path
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self'" in csp
        assert "style-src 'self'" in csp
        # The chair may compile its self-hosted WebAssembly decoder; no page may eval JavaScript or inline code.
        assert "unsafe" not in csp.replace("'wasm-unsafe-eval'", "")
        assert ("'wasm-unsafe-eval'" in csp) == (path == "/ui/scan")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        # Nothing from another host: no absolute URL in src or href.
        assert not re.search(r'(src|href|action)="(https?:)?//', response.text), path


async def test_page_assets_are_served_without_a_sign_in(client: httpx.AsyncClient) -> None:
    for path, kind in [
        ("/ui/scan.js", "text/javascript"),
        ("/ui/common.js", "text/javascript"),
        ("/ui/sw.js", "text/javascript"),
        ("/ui/app.css", "text/css"),
    ]:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith(kind)
        assert response.headers["x-content-type-options"] == "nosniff"
    assert (await client.get("/ui/nothing-here")).status_code == 404
    assert (await client.get("/ui/scan.html")).status_code == 404  # pages only under their own names
    assert (await client.get("/ui/vendor/nothing.js")).status_code == 404
    assert (await client.get("/ui/scan")).status_code == 303  # pages need a sign-in
    assert (await client.get("/api/alerts/reorder")).status_code == 401


def test_pages_have_no_inline_script_or_style_and_the_script_never_parses_data_as_html() -> None:
    for page in TEMPLATES.rglob("*.html"):
        html = page.read_text()
        assert "<style" not in html, page.name
        assert not re.search(r"\sstyle=", html), page.name
        assert not re.search(r"\son[a-z]+=", html), page.name
        for script in re.findall(r"<script\b[^>]*>", html):
            assert re.fullmatch(
                r'<script type="(module" src="/ui/[a-z_-]+\.js|application/json" id="[a-z-]+)">', script
            ), (
                page.name,
                script,
            )
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
    await page.wait_for_function("() => sessionStorage.getItem('meso.token') !== null")
    assert await page.evaluate("() => localStorage.length") == 0
    await expect(page.locator("header .who")).to_contain_text("Staff")
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
