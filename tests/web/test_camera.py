"""Camera scanning at the chair: Chromium's fake camera shows a GS1 DataMatrix, the self-hosted zxing-wasm reads it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import shutil
from pathlib import Path

import httpx
import pytest
import zxingcpp
from litestar import Litestar
from PIL import Image
from playwright.async_api import async_playwright, expect

from inventory.domain.gs1 import format_element_string, format_hri
from inventory.web.pages import CHAIR_CONTENT_SECURITY_POLICY
from inventory.web.routes.assets import STATIC
from tests.support.browser import CHROMIUM_ARGS, Tab, open_chair, race_actors, scan_requests, usages_of
from tests.support.clinic import Clinic, build
from tests.support.video import arrange, symbol, write_y4m

pytestmark = pytest.mark.race

VENDOR = STATIC / "vendor" / "zxing-wasm"
WASM_PATH = "/ui/vendor/zxing-wasm/reader/zxing_reader.wasm"


def test_vendored_decoder_matches_the_checksums_recorded_when_it_was_vendored() -> None:
    lines = (VENDOR / "VERSION.txt").read_text().splitlines()
    assert lines[0].startswith("zxing-wasm 3.1.6 ")
    recorded = {
        name: digest for digest, name in (line.split("  ", 1) for line in lines if re.match(r"^[0-9a-f]{64}  ", line))
    }
    assert set(recorded) == {"LICENSE", "share.js", "reader/index.js", "reader/zxing_reader.wasm"}
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    # The decoder's own script reads the wasm's expected SHA-256 from the same build.
    assert recorded["reader/zxing_reader.wasm"] in (VENDOR / "reader" / "index.js").read_text()


def test_camera_module_never_parses_data_as_html_and_loads_only_from_this_service() -> None:
    script = (STATIC / "camera.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage"):
        assert sink not in script, sink
    assert re.findall(r"https?://", script) == []
    assert re.findall(r'"(/ui/[^"]+)"', script) == [
        "/ui/vendor/zxing-wasm/reader/index.js",
        WASM_PATH,
    ]


async def test_the_decoder_is_served_by_the_service_with_the_chair_csp(app: Litestar) -> None:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        for path, kind in [
            ("/ui/camera.js", "text/javascript"),
            ("/ui/vendor/zxing-wasm/reader/index.js", "text/javascript"),
            ("/ui/vendor/zxing-wasm/share.js", "text/javascript"),
            (WASM_PATH, "application/wasm"),
        ]:
            response = await http.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith(kind), path
        wasm = await http.get(WASM_PATH)
        assert wasm.headers["content-security-policy"] == CHAIR_CONTENT_SECURITY_POLICY
        assert wasm.content == (VENDOR / "reader" / "zxing_reader.wasm").read_bytes()


async def scan_with_camera(
    server: str, clinic: Clinic, video: Path, *, scans: int, init_script: str | None = None
) -> list[str]:
    """The barcodes the chair sent while a Chromium whose camera plays `video` had the camera on.

    The camera stays on until `scans` scans have been answered, and a while longer with the codes still in view.
    """
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium); the /ui browser tests need it")
    fake_camera = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS + fake_camera)
        try:
            context = await browser.new_context(viewport={"width": 1024, "height": 768})
            context.set_default_timeout(8000)
            if init_script:
                await context.add_init_script(init_script)
            page = await context.new_page()
            tab = Tab(page, server)
            requested: list[str] = []
            context.on("request", lambda request: requested.append(request.url))
            sent = scan_requests(page)

            await tab.sign_in("staff", "/ui/scan")
            await open_chair(tab, clinic, clinic.session["id"])
            await expect(page.locator("#camera-panel")).to_be_hidden()
            await page.click("#camera-toggle")
            await expect(page.locator("#camera-panel")).to_be_visible()
            await expect(page.locator(".scan-result:not(.pending)")).to_have_count(scans)
            # The codes stay in view for many more frames (one every 200 ms): none is sent again.
            await asyncio.sleep(1.2)
            await page.click("#camera-close")
            await expect(page.locator("#camera-panel")).to_be_hidden()
            assert await page.evaluate("() => document.querySelector('#camera-video').srcObject === null")
            await expect(page.locator(".scan-result")).to_have_count(scans)
            barcodes = [(request.post_data_json or {})["barcode"] for request in sent]
            await context.close()
        finally:
            await browser.close()
    assert tab.problems == []  # no uncaught error, no CSP violation
    # The self-hosted decoder did the reading, unless the browser has a BarcodeDetector that reads DataMatrix.
    assert (WASM_PATH in {url.removeprefix(server) for url in requested}) == (init_script is None)
    assert [url for url in requested if not url.startswith(server + "/")] == []  # nothing from another host
    return barcodes


async def test_staff_scans_a_gs1_datamatrix_with_the_camera_and_the_lot_is_recorded_once_on_that_client(
    base_url: str,
    race_pool: None,
    tmp_path: Path,
) -> None:
    clinic = await build(await race_actors(), on_hand=10)
    lot_number = clinic.lot["lot_number"]
    serial = f"SN{secrets.token_hex(3).upper()}"
    fields = {"gtin": clinic.gtin, "expiry": clinic.lot["expiry_date"], "lot_number": lot_number, "serial": serial}
    picture = symbol(format_hri(**fields), zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    barcodes = await scan_with_camera(base_url, clinic, write_y4m(tmp_path / "ampoule.y4m", picture), scans=1)

    # What a wedge scanner with AIM prefixes types: "]d2", then 01…17…10<lot>, GS (ASCII 29), 21<serial>.
    expected = "]d2" + format_element_string(**fields)
    assert f"10{lot_number}\x1d21{serial}" in expected
    assert barcodes == [expected]
    rows = await usages_of(clinic.session["id"])
    assert [(r["lot"], r["client"], r["barcode"]) for r in rows] == [(clinic.lot["id"], clinic.client["id"], expected)]


async def test_the_camera_sends_gs1_128_gs1_qr_and_digital_link_codes_with_their_symbology_identifiers(
    base_url: str,
    race_pool: None,
    tmp_path: Path,
) -> None:
    clinic = await build(await race_actors(), on_hand=10)
    gtin, expiry, lot_number = clinic.gtin, clinic.lot["expiry_date"], clinic.lot["lot_number"]
    qr_serial, link_serial = (f"{p}{secrets.token_hex(3).upper()}" for p in ("Q", "D"))
    link = f"https://id.gs1.org/01/{gtin}/10/{lot_number}/21/{link_serial}?17={expiry:%y%m%d}"
    codes = zxingcpp.BarcodeFormat
    plain = {"gtin": gtin, "expiry": expiry, "lot_number": lot_number}
    serialised = {**plain, "serial": qr_serial}
    picture = arrange(
        [symbol(format_hri(**plain), codes.Code128, gs1=True, module_px=2, height_px=80)],
        [
            symbol(format_hri(**serialised), codes.QRCode, gs1=True, module_px=4),
            symbol(link, codes.QRCode, module_px=4),
        ],
    )
    barcodes = await scan_with_camera(base_url, clinic, write_y4m(tmp_path / "box.y4m", picture), scans=3)

    gs1_128 = "]C1" + format_element_string(**plain)
    gs1_qr = "]Q3" + format_element_string(**serialised)
    assert sorted(barcodes) == sorted([gs1_128, gs1_qr, "]Q1" + link])  # each once, in any order
    # The Digital Link URI goes to the service as a wedge scanner types it; whether the service reads it is its
    # own business (today it refuses it), so only the two element strings must have become uses of the lot.
    rows = await usages_of(clinic.session["id"])
    recorded = [(r["lot"], r["barcode"]) for r in rows if r["barcode"] != "]Q1" + link]
    assert sorted(recorded) == sorted([(clinic.lot["id"], gs1_128), (clinic.lot["id"], gs1_qr)])


async def test_a_browser_without_a_camera_says_so_and_closes_the_panel(tab: Tab) -> None:
    clinic = await build(await race_actors(), on_hand=1)
    page = tab.page
    await tab.sign_in("staff", "/ui/scan")
    await open_chair(tab, clinic, clinic.session["id"])
    await page.click("#camera-toggle")
    await expect(page.locator("#page-error")).to_contain_text(re.compile(r"camera", re.IGNORECASE))
    await expect(page.locator("#camera-panel")).to_be_hidden()
    assert await usages_of(clinic.session["id"]) == []


# A BarcodeDetector as Chrome on Android has one: it reads DataMatrix and gives rawValue without an identifier.
FAKE_DETECTOR = """
globalThis.BarcodeDetector = class {
  static async getSupportedFormats() { return ["aztec", "code_128", "data_matrix", "ean_13", "qr_code"]; }
  constructor(options) { globalThis.detectorFormats = options.formats; }
  async detect(image) {
    if (!(image instanceof ImageData) || image.width !== 640) throw new Error("not a camera frame");
    return [{ format: "data_matrix", rawValue: RAW_VALUE }];
  }
};
"""


async def test_a_native_barcode_detector_is_used_where_it_reads_datamatrix_and_its_text_is_sent_as_it_gives_it(
    base_url: str,
    race_pool: None,
    tmp_path: Path,
) -> None:
    clinic = await build(await race_actors(), on_hand=10)
    raw = format_element_string(
        gtin=clinic.gtin, expiry=clinic.lot["expiry_date"], lot_number=clinic.lot["lot_number"], serial="N1"
    )
    script = FAKE_DETECTOR.replace("RAW_VALUE", json.dumps(raw))
    blank = write_y4m(tmp_path / "blank.y4m", Image.new("L", (1, 1), 255))
    barcodes = await scan_with_camera(base_url, clinic, blank, scans=1, init_script=script)

    assert barcodes == [raw]
    rows = await usages_of(clinic.session["id"])
    assert [(r["lot"], r["barcode"]) for r in rows] == [(clinic.lot["id"], raw)]
