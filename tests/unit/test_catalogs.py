"""The catalogs hold every message of the pages, in French, with the same placeholders as the English."""

from __future__ import annotations

from inventory.web import i18n
from inventory.web.i18n import catalog_check


def test_every_message_of_the_pages_has_its_french() -> None:
    gaps = catalog_check.gaps("fr")
    assert gaps == [], "run `python -m inventory.web.i18n.catalog_check fr` for .po stubs"


def test_the_extraction_sees_templates_code_and_scripts() -> None:
    where = {place.split(":")[0].split("/")[0] for place in catalog_check.messages().values()}
    assert {"templates", "static", "pages.py"} <= where


def test_negotiation_prefers_the_users_choice_then_the_browsers_order() -> None:
    assert i18n.negotiate("de-DE, fr;q=0.8, en;q=0.5") == "fr"
    assert i18n.negotiate("fr;q=0.4, en-GB;q=0.9") == "en"
    assert i18n.negotiate("fr", "en") == "en"
    assert i18n.negotiate("xx, *;q=0.1") == "en"
    assert i18n.negotiate("fr;q=abc") == "en"


def test_no_two_catalogs_translate_one_message_two_ways() -> None:
    # The catalogs merge into one: a second translation would silently replace the first on every page.
    # Words that differ by what they qualify carry a context (pgettext, NP_) instead.
    assert catalog_check.conflicts("fr") == []
