"""Driving the /ui pages in Debian's Chromium: a tab that collects script errors, and the chair's helpers."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Page, Request, expect

from inventory import db
from inventory.domain.models import Actor
from tests.conftest import PASSWORD
from tests.support.clinic import Clinic

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# Set UI_SCREENSHOT_DIR to keep a screenshot of each page (for looking at the layout).
SCREENSHOTS = os.environ.get("UI_SCREENSHOT_DIR")


class Tab:
    """A page in a fresh browser context, collecting script errors and CSP violations."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.problems: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("console", self._console)

    def _console(self, entry: Any) -> None:
        # Refused API calls (409, 403) and calls cut off on purpose are logged by Chromium as failed resources.
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
        await self.page.wait_for_url(re.compile(re.escape(self.base_url + path.split("?")[0])))

    async def shot(self, name: str) -> None:
        """Keep a screenshot when UI_SCREENSHOT_DIR is set."""
        if SCREENSHOTS:
            await self.page.screenshot(path=str(Path(SCREENSHOTS) / f"ui-{name}.png"), full_page=True)


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


async def assert_accessible(page: Page, what: str) -> None:
    """axe-core (bundled by axe-playwright-python, nothing fetched) finds no serious or critical violation."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert bad == [], f"{what}: {bad}"


async def use_sign_in(tab: Tab, cookie: str) -> None:
    """Sign the tab's browser in with a page sign-in cookie made beforehand (no sign-in form)."""
    from inventory.web.pages import SESSION_COOKIE

    await tab.page.context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": tab.base_url}])


async def in_language(tab: Tab, locale: str) -> None:
    """Browse in `locale` from now on (the browser's Accept-Language, the way a French tablet would)."""
    await tab.page.context.set_extra_http_headers({"Accept-Language": locale})


# The widths every page is looked at: a small phone, a common phone, a tablet.
WIDTHS = (360, 390, 1024)
# What sticks out past the right edge, for the failure message.
WIDER_THAN = """(width) => [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > width + 1)
  .slice(0, 8).map((e) => `${e.tagName.toLowerCase()}.${e.className}#${e.id}`)"""


async def look_at(tab: Tab, name: str, *, axe: bool = True) -> None:
    """axe-core on the page, then a screenshot per width; nothing scrolls sideways below the tablet's width."""
    page = tab.page
    if axe:
        await assert_accessible(page, name)
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 800})
        if width < 1024:
            scroll_width = await page.evaluate("() => document.documentElement.scrollWidth")
            wide = await page.evaluate(WIDER_THAN, width)
            assert scroll_width <= width, f"{name} scrolls sideways at {width}px ({scroll_width}px): {wide}"
        await tab.shot(f"{name}-{width}")
    await page.set_viewport_size({"width": 1024, "height": 768})
