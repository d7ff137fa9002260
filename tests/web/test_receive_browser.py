"""/ui/receive and /ui/labels in a real Chromium, in English and French: a delivery scanned box by box, by keyboard."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from playwright.async_api import Page, Route, expect

from inventory import db
from inventory.domain.gs1 import format_element_string
from tests.support import factories as f
from tests.support.browser import Tab, assert_accessible, in_language, race_actors, use_sign_in
from tests.support.clinic import Clinic, build

pytestmark = pytest.mark.race
WIDTHS = (360, 390, 1024)
HUMAN_MS = 110  # between a person's keys; a scanner's come a few ms apart
WORDS = {
    "en": {"one": "1 box of 10 = 10 ampoules", "two": "2 boxes of 10 = 20 ampoules", "done": "Delivery received"},
    "fr": {
        "one": "1 boîte de 10 = 10 ampoules",
        "two": "2 boîtes de 10 = 20 ampoules",
        "done": "Livraison réceptionnée",
    },
}


async def burst(page: Page, code: str) -> None:
    """Type a code as a keyboard-wedge scanner does: every character at once, then Enter."""
    await page.keyboard.type(code)
    await page.keyboard.press("Enter")


async def scan_box(page: Page, code: str) -> None:
    """A box scanned once the page is ready for it (the scan box has the focus again after each add)."""
    await expect(page.locator("#barcode")).to_be_focused()
    await burst(page, code)


async def tab_to(page: Page, selector: str, *, limit: int = 30) -> None:
    """Press Tab until `selector` has the focus (a keyboard user's way there)."""
    target = page.locator(selector)
    for _ in range(limit):
        if await target.evaluate("(node) => node === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


async def at_widths(tab: Tab, name: str) -> None:
    """The page fits 360, 390 and 1024 px without scrolling sideways (a screenshot of each when asked)."""
    page = tab.page
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 800})
        scroll = await page.evaluate("() => document.documentElement.scrollWidth")
        wide = await page.evaluate(
            "(w) => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w)"
            ".slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + e.getBoundingClientRect().right)",
            width,
        )
        assert scroll <= width, f"{name} scrolls sideways at {width} px ({scroll} px wide): {wide}"
        await tab.shot(f"{name}-{width}")
    await page.set_viewport_size({"width": 1024, "height": 768})


async def receipt_rows(receipt_id: int) -> list[tuple[str, int]]:
    """The lots and single units a receipt booked, committed."""
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT l.lot_number, rl.quantity FROM receipt_line rl JOIN lot l ON l.id = rl.lot"
            " WHERE rl.receipt = $1 ORDER BY l.lot_number",
            receipt_id,
        )
    return [(r["lot_number"], r["quantity"]) for r in rows]


def box(clinic: Clinic, lot_number: str, expiry: date) -> str:
    return format_element_string(gtin=clinic.box_gtin, expiry=expiry, lot_number=lot_number)


def content_of(path: Path | str) -> bytes:
    """A downloaded file's bytes."""
    return Path(path).read_bytes()


def codes_on(pdf: bytes) -> set[str]:
    """Every barcode on the PDF's first page, read as a 300 dpi print would be."""
    image = pdfium.PdfDocument(pdf)[0].render(scale=300 / 72).to_pil()
    return {found.text for found in zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.HRI)}


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_receive_a_delivery_by_scanning_box_codes_and_print_its_labels(
    tab: Tab, page_cookies: dict[str, str], locale: str
) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=3)
    await f.location(actors["manager"])  # a clinic with several rooms: the page asks which one first
    async with db.connection() as conn:
        location = await conn.fetchval("SELECT name FROM location WHERE id = $1", clinic.location_id)
    words, page = WORDS[locale], tab.page
    expiry = f.in_days(250)
    first, second = f"{locale.upper()}-B1", f"{locale.upper()}-B2"
    await use_sign_in(tab, page_cookies["staff"])
    await in_language(tab, locale)

    # By keyboard alone: the location first (type-ahead), supplier, reference, then box after box.
    await page.goto(tab.base_url + "/ui/receive")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await expect(page.locator("#location_id")).to_be_focused()
    await assert_accessible(page, f"receive {locale}")
    await at_widths(tab, f"receive-empty-{locale}")
    await page.keyboard.type(location, delay=HUMAN_MS)  # a person types; a scanner bursts
    await expect(page.locator("#location_id")).to_have_value(str(clinic.location_id))
    await page.keyboard.press("Tab")
    await page.keyboard.type("Léa Distribution", delay=HUMAN_MS)
    await page.keyboard.press("Tab")
    await page.keyboard.type("BL-2041", delay=HUMAN_MS)
    await tab_to(page, "#barcode")
    await burst(page, box(clinic, first, expiry))
    await expect(page.locator("#line-0 .amount")).to_have_text(words["one"])
    await expect(page.locator("#scan-result")).to_have_attribute("data-outcome", "recorded")
    await expect(page.locator("#scan-result")).to_contain_text(words["one"])
    await expect(page.locator("#barcode")).to_be_focused()  # ready for the next box
    await expect(page.locator("#barcode")).to_have_value("")
    await scan_box(page, box(clinic, second, expiry))
    await expect(page.locator("#line-1 .amount")).to_have_text(words["one"])
    await scan_box(page, box(clinic, second, expiry))  # a second box of the same lot adds to its line
    await expect(page.locator("#line-1 .amount")).to_have_text(words["two"])
    await expect(page.locator(".draft-line")).to_have_count(2)
    await expect(page.locator("#line-0")).to_contain_text(clinic.product["name"])
    await expect(page.locator("#supplier")).to_have_value("Léa Distribution")
    await assert_accessible(page, f"receive with lines {locale}")
    await at_widths(tab, f"receive-lines-{locale}")
    await tab_to(page, ".receive-button")
    await page.keyboard.press("Enter")

    await page.wait_for_url(re.compile(r"/ui/receive/\d+$"))
    receipt_id = int(page.url.rsplit("/", 1)[1])
    assert await receipt_rows(receipt_id) == [(first, 10), (second, 20)]
    await expect(page.locator("h1")).to_have_text(words["done"])
    await expect(page.locator("#flash")).to_be_visible()
    await expect(page.locator("#received tbody tr")).to_have_count(2)
    await expect(page.locator(".receipt-facts")).to_contain_text("Léa Distribution")
    await assert_accessible(page, f"received {locale}")
    await at_widths(tab, f"received-{locale}")

    # Labels for the received lots: two of each on an A4 sheet, downloaded by keyboard.
    lot_ids = [
        int(x) for x in await page.locator("#received tbody tr").evaluate_all("rows => rows.map(r => r.dataset.lot)")
    ]
    await tab_to(page, f"#copies-{lot_ids[0]}")
    await page.keyboard.press("Control+a")
    await page.keyboard.type("2", delay=HUMAN_MS)
    await tab_to(page, f"#copies-{lot_ids[1]}")
    await page.keyboard.press("Control+a")
    await page.keyboard.type("2", delay=HUMAN_MS)
    await tab_to(page, "#labels-form button[type=submit]")
    async with page.expect_download() as downloading:
        await page.keyboard.press("Enter")
    download = await downloading.value
    assert download.suggested_filename == "labels-3x8.pdf"
    pdf = content_of(await download.path())
    assert pdf.startswith(b"%PDF")
    found = codes_on(pdf)
    for lot_number in (first, second):
        assert f"(01){clinic.gtin}(17){expiry:%y%m%d}(10){lot_number}" in found

    # The labels page, with the received lots ticked.
    await page.goto(tab.base_url + "/ui/labels?" + "&".join(f"lot={x}" for x in lot_ids))
    await expect(page.locator(f"#lot-{lot_ids[0]}")).to_be_checked()
    await assert_accessible(page, f"labels {locale}")
    await at_widths(tab, f"labels-{locale}")


async def test_a_burst_into_the_lot_number_is_a_scan_and_an_expired_box_waits_refused_until_removed(
    tab: Tab, page_cookies: dict[str, str]
) -> None:
    clinic = await build(await race_actors(), on_hand=3)
    page = tab.page
    await use_sign_in(tab, page_cookies["staff"])
    await in_language(tab, "en")
    await page.goto(tab.base_url + "/ui/receive")
    await page.select_option("#location_id", str(clinic.location_id))
    await page.click("#lot_number")
    await page.keyboard.type("AB", delay=150)  # a person starts typing a lot number
    await burst(page, box(clinic, "BURST-1", f.in_days(100)))
    await expect(page.locator("#line-0 .amount")).to_have_text("1 box of 10 = 10 ampoules")
    await expect(page.locator("#line-0")).to_contain_text("BURST-1")
    await expect(page.locator("#lot_number")).to_have_value("AB")  # what the person typed, and only that
    # An expired box is shown refused next to its line, and the delivery cannot be booked until it is removed.
    await scan_box(page, box(clinic, "OLD-1", f.in_days(-2)))
    await expect(page.locator("#line-1")).to_have_attribute("data-outcome", "refused")
    await expect(page.locator("#scan-result")).to_have_attribute("data-outcome", "refused")
    await expect(page.locator("#line-1-error")).to_contain_text("Lot OLD-1 expired on")
    await assert_accessible(page, "receive refused line en")
    await at_widths(tab, "receive-refused-en")
    await page.click(".receive-button")
    await expect(page.locator("#line-1-error")).to_be_visible()
    assert page.url.endswith("/ui/receive")
    await page.click("#line-1 button")
    await expect(page.locator(".draft-line")).to_have_count(1)
    await page.click(".receive-button")
    await page.wait_for_url(re.compile(r"/ui/receive/\d+$"))


async def test_boxes_scanned_while_the_page_is_still_adding_one_are_all_added(
    tab: Tab, page_cookies: dict[str, str]
) -> None:
    clinic = await build(await race_actors(), on_hand=3)
    page = tab.page
    await use_sign_in(tab, page_cookies["staff"])
    await in_language(tab, "en")
    await page.goto(tab.base_url + "/ui/receive")
    await page.select_option("#location_id", str(clinic.location_id))
    slow = {"left": 1}

    async def slow_first_add(route: Route) -> None:
        if route.request.method == "POST" and slow["left"]:
            slow["left"] -= 1
            await page.wait_for_timeout(600)  # a busy tablet or Wi-Fi: the next boxes are scanned meanwhile
        await route.continue_()

    await page.route("**/ui/receive", slow_first_add)
    await page.click("#barcode")
    expiry = f.in_days(120)
    for lot_number in ("Q-1", "Q-2", "Q-3"):
        await burst(page, box(clinic, lot_number, expiry))
    await expect(page.locator(".draft-line")).to_have_count(3)
    await expect(page.locator("#lines")).to_contain_text("Q-3")
    assert await page.evaluate("() => sessionStorage.length") == 0


async def test_labels_page_refuses_no_lot_in_french_and_prints_a_single_label(
    tab: Tab, page_cookies: dict[str, str]
) -> None:
    clinic = await build(await race_actors(), on_hand=3)
    page = tab.page
    await use_sign_in(tab, page_cookies["staff"])
    await in_language(tab, "fr")
    await page.goto(tab.base_url + "/ui/labels")
    await expect(page.locator("#q")).to_be_focused()
    await page.keyboard.type(clinic.lot["lot_number"], delay=HUMAN_MS)
    await page.keyboard.press("Enter")
    await expect(page.locator("#lots li")).to_have_count(1)
    await page.click("#print-form button[type=submit]")
    await expect(page.locator("#lots-error")).to_have_text("Cochez au moins un lot.")
    await assert_accessible(page, "labels refused fr")
    await tab.shot("labels-refused-fr")
    await page.check(f"#lot-{clinic.lot['id']}")
    await page.select_option("#template", "ampoule")
    await page.select_option("#format", "png")
    async with page.expect_download() as downloading:
        await page.click("#print-form button[type=submit]")
    download = await downloading.value
    assert download.suggested_filename == f"lot-{clinic.lot['id']}.png"
    assert content_of(await download.path()).startswith(b"\x89PNG")
