"""A client's erasure in a real Chromium, in English and French: an admin reads what it does, is refused without a
reason or the tick (the message next to each field), then erases; the page shows the pseudonym and the date, an
implant use its UDI and card link. axe on each page; nothing scrolls sideways on a phone."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from inventory import db
from inventory.domain.erasure import PSEUDONYM_PREFIX
from inventory.services import clinical
from tests.support.browser import Tab, in_language, look_at, race_actors, use_sign_in
from tests.support.clinic import build
from tests.support.implants import implant_uses

pytestmark = pytest.mark.race

WORDS = {
    "en": {
        "erase": "Erase this client",
        "required": "This field is required.",
        "tick": "Tick the box to confirm: the erasure cannot be undone.",
        "erased": "Erased on ",
        "card": "Print implant card (PDF)",
        "done": "Client erased: from now on the records name them ",
    },
    "fr": {
        "erase": "Effacer ce client",
        "required": "Ce champ est obligatoire.",
        "tick": "Cochez la case pour confirmer : l’effacement est définitif.",
        "erased": "Effacé le ",
        "card": "Imprimer la carte d’implant (PDF)",
        "done": "Client effacé : les dossiers le nomment désormais ",
    },
}


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_an_admin_erases_a_client_after_reading_what_it_does(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    actors = await race_actors()
    clinic = await build(actors, allergies=["Lidocaine"])
    uses = await implant_uses(actors, clinic)
    client_id = clinic.client["id"]
    await clinical.change_allergies(actor=actors["staff"], client_id=client_id, add=["Latex"])
    words = WORDS[locale]
    page = tab.page
    await use_sign_in(tab, page_cookies["admin"])
    await in_language(tab, locale)

    await page.goto(tab.base_url + f"/ui/clients/{client_id}")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    implant_row = page.locator("#history-card tbody tr", has_text="SN0042")
    await expect(implant_row.locator(".udi")).to_contain_text(uses.implant["udi"])
    await expect(implant_row.locator("a.implant-card")).to_have_text(words["card"])
    await expect(page.locator("#history-card a.implant-card")).to_have_count(1)  # not the voided, not the plain
    card = page.locator("#erase-card")
    await expect(card.locator("h2")).to_have_text(words["erase"])
    await look_at(tab, f"client-erase-form-{locale}")

    await card.locator("button[type=submit]").click()  # neither a reason nor the tick
    await expect(page.locator("#reason-error")).to_have_text(words["required"])
    await expect(page.locator("#confirm-error")).to_have_text(words["tick"])
    await expect(page.locator("#reason")).to_be_focused()
    await expect(page.locator("#reason")).to_have_attribute("aria-invalid", "true")
    await look_at(tab, f"client-erase-refused-{locale}")

    await page.locator("#reason").fill("Asked by e-mail on 3 March")
    await page.locator("#confirm").check()
    await card.locator("button[type=submit]").click()
    await expect(page.locator("#flash")).to_contain_text(words["done"])
    name = page.locator("#client-name")
    await expect(name).to_contain_text(PSEUDONYM_PREFIX)
    await expect(page.locator("#erased-badge")).to_contain_text(words["erased"])
    await expect(page.locator("#erase-card")).to_have_count(0)
    await expect(page.locator("#start-session")).to_have_count(0)
    await expect(page.locator("#course-form")).to_have_count(0)
    await expect(page.locator("#allergy-card .allergy")).to_have_count(0)
    await expect(page.locator("#history-card tbody tr")).to_have_count(3)  # every use stays
    html = await page.content()
    for gone in (clinic.client["full_name"], "c@example.com", "12 34 56 78", "Latex", "Lidocaine"):
        assert gone not in html, gone
    async with db.connection() as conn:
        row = await conn.fetchrow("SELECT full_name, email, erased_at FROM client WHERE id = $1", client_id)
        erased_events = await conn.fetchval(
            "SELECT count(*) FROM audit_event WHERE action = 'client.erase' AND entity_id = $1", client_id
        )
    assert row is not None and row["email"] is None and row["erased_at"] is not None
    await expect(name).to_have_text(row["full_name"])
    assert erased_events == 1
    await look_at(tab, f"client-erased-{locale}")
