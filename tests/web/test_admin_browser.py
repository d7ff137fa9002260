"""Users and the audit log in a real Chromium, in English and French: deactivating a signed-in user, creating one by
keyboard alone, filtering the log; axe, screenshots and no sideways scrolling on a phone."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from inventory.services import auth
from tests.conftest import PASSWORD
from tests.support.browser import Tab, assert_accessible, in_language, race_actors, use_sign_in

pytestmark = pytest.mark.race

WORDS = {
    "en": {
        "deactivate": "Deactivate",
        "deactivated": "Deactivated",
        "sign_in": "Sign in",
        "too_common": "This password is among the most common ones; choose another.",
        "created": "can now sign in with the initial password.",
        "manager": "Manager",
        "changed_user": "Changed a user",
        "promoted": "Role: Staff → Manager",
    },
    "fr": {
        "deactivate": "Désactiver",
        "deactivated": "Désactivé",
        "sign_in": "Se connecter",
        "too_common": "Ce mot de passe fait partie des plus courants ; choisissez-en un autre.",
        "created": "peut maintenant se connecter avec le mot de passe initial.",
        "manager": "Responsable",
        "changed_user": "Modification d’un utilisateur",
        "promoted": "Rôle\u00a0: Praticien → Responsable",
    },
}


async def _new_staff(locale: str) -> str:
    """A staff member of their own (the shared staff sign-in must stay valid for the other tests)."""
    actors = await race_actors()
    email = f"leaving-{locale}-{secrets.token_hex(3)}@clinic.test"
    await auth.create_user(actor=actors["admin"], email=email, role="staff", password=PASSWORD, full_name="Léa Départ")
    return email


async def _sign_in_by_form(page: Page, base_url: str, email: str) -> None:
    await page.goto(base_url + "/ui/")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.press("#password", "Enter")
    await expect(page.locator("#menu")).to_be_visible()


async def _bearer_token(page: Page) -> str:
    """The bearer token the page's scripts get for this sign-in (as the chair does)."""
    token: str = await page.evaluate(
        """async () => {
            const csrf = document.querySelector('meta[name="csrf-token"]').content;
            const answer = await fetch('/ui/api-token', {method: 'POST', headers: {'X-CSRF-Token': csrf}});
            return (await answer.json()).access_token;
        }"""
    )
    return token


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_deactivate_a_user_whose_next_request_fails(
    tab: Tab, browser: Browser, base_url: str, page_cookies: dict[str, str], locale: str
) -> None:
    words = WORDS[locale]
    email = await _new_staff(locale)
    # The staff member, on another device, signed in through the form, on the home page.
    context = await browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        staff = Tab(await context.new_page(), base_url)
        await in_language(staff, locale)
        await _sign_in_by_form(staff.page, base_url, email)
        token = await _bearer_token(staff.page)
        bearer = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base_url) as api:
            assert (await api.get("/api/stock", headers=bearer)).status_code == 200

        # The admin deactivates them.
        await use_sign_in(tab, page_cookies["admin"])
        await in_language(tab, locale)
        await tab.page.goto(base_url + "/ui/users")
        row = tab.page.locator(f'tr[data-email="{email}"]')
        await row.get_by_role("button", name=f"{words['deactivate']} {email}").click()
        await expect(tab.page.locator("#flash")).to_contain_text(email)
        await expect(row.locator(".status-deactivated")).to_have_text(words["deactivated"])
        await tab.shot(f"users-deactivated-{locale}")

        # Their next page load is the sign-in form, and their bearer token is refused.
        await staff.page.locator('.tile[href="/ui/scan"]').click()
        await staff.page.wait_for_url(re.compile(r"/ui/\?next=%2Fui%2Fscan$"))
        await expect(staff.page.locator("h1")).to_have_text(words["sign_in"])
        await expect(staff.page.locator("#email")).to_be_visible()
        async with httpx.AsyncClient(base_url=base_url) as api:
            assert (await api.get("/api/stock", headers=bearer)).status_code == 401
        # Nor can they sign in again.
        await staff.page.fill("#email", email)
        await staff.page.fill("#password", PASSWORD)
        await staff.page.press("#password", "Enter")
        await expect(staff.page.locator("#signin-error")).to_be_visible()
        assert staff.problems == []
    finally:
        await context.close()


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_create_a_user_by_keyboard_alone_and_read_the_password_rule_next_to_the_field(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    words = WORDS[locale]
    page = tab.page
    email = f"nadia-{locale}-{secrets.token_hex(3)}@clinic.test"
    await use_sign_in(tab, page_cookies["admin"])
    await in_language(tab, locale)
    await page.goto(tab.base_url + "/ui/users")
    # Skip link, then into the new-user form.
    await page.keyboard.press("Tab")
    await expect(page.locator(".skip-link")).to_be_focused()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    await expect(page.locator("#email")).to_be_focused()
    await page.keyboard.type(email)
    await page.keyboard.press("Tab")
    await page.keyboard.type("Nadia Brun")
    await page.keyboard.press("Tab")
    await expect(page.locator("#role")).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await expect(page.locator("#role")).to_have_value("manager")
    await page.keyboard.press("Tab")
    await page.keyboard.type("password123")
    await page.keyboard.press("Enter")

    # Refused: the rule is next to the field, which has the focus again; what was typed is kept.
    await expect(page.locator("#password-error")).to_have_text(words["too_common"])
    await expect(page.locator("#password")).to_be_focused()
    await expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#email")).to_have_value(email)
    await expect(page.locator("#role")).to_have_value("manager")
    await assert_accessible(page, f"users refused {locale}")
    await tab.shot(f"users-password-refused-{locale}")

    await page.keyboard.type("a heron waits by the canal")
    await page.keyboard.press("Enter")
    await expect(page.locator("#flash")).to_have_text(f"{email} {words['created']}")
    row = page.locator(f'tr[data-email="{email}"]')
    await expect(row).to_contain_text("Nadia Brun")
    await expect(row.locator('select[name="role"] option[value="manager"]')).to_have_text(words["manager"])
    await expect(row.locator('select[name="role"]')).to_have_value("manager")


async def _look_at(tab: Tab, name: str) -> None:
    """At each width: nothing wider than the screen, a screenshot; axe on the phone and the tablet."""
    page = tab.page
    for width in (360, 390, 1024):
        await page.set_viewport_size({"width": width, "height": 800})
        widths = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"{name} scrolls sideways at {width}px: {widths}"
        if width != 390:
            await assert_accessible(page, f"{name} at {width}px")
        await tab.shot(f"{name}-{width}")


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_the_users_and_audit_pages_fit_a_phone_and_pass_axe_and_a_manager_finds_who_changed_a_user(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    words = WORDS[locale]
    email = await _new_staff(f"look-{locale}")
    actors = await race_actors()
    changed = await auth.create_user(
        actor=actors["admin"],
        email=f"promoted-{locale}-{secrets.token_hex(3)}@clinic.test",
        role="staff",
        password=PASSWORD,
    )
    await auth.update_user(actor=actors["admin"], user_id=changed.id, role="manager", active=None)
    page = tab.page
    await in_language(tab, locale)

    await use_sign_in(tab, page_cookies["admin"])
    await page.goto(tab.base_url + "/ui/users")
    await expect(page.locator(f'tr[data-email="{email}"]')).to_be_visible()
    await _look_at(tab, f"users-{locale}")

    await page.context.clear_cookies()
    await use_sign_in(tab, page_cookies["manager"])
    await page.set_viewport_size({"width": 1024, "height": 800})
    await page.goto(tab.base_url + "/ui/audit")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await page.locator("#action").select_option(label=words["changed_user"])
    await page.locator("#audit-filters button[type=submit]").click()
    await page.wait_for_url(re.compile(r"action=user\.update"))
    rows = page.locator("tr[data-event]")
    await expect(rows.first).to_be_visible()
    assert set(await page.locator("tr[data-event]").evaluate_all("rows => rows.map(r => r.dataset.action)")) == {
        "user.update"
    }
    await expect(rows.first).to_contain_text(words["promoted"])
    await expect(rows.first).to_contain_text(f"{changed.id}")
    await expect(rows.first).to_contain_text("admin@clinic.test")
    await _look_at(tab, f"audit-{locale}")
