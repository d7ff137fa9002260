"""Label API benchmark: labels/s per format over HTTP, and scan latency while label sheets are being rendered.

Run: `python -m bench.bench_label_api` (needs a PostgreSQL: BENCH_DATABASE_URL / DATABASE_URL, else
127.0.0.1:5432). One served worker, as in production per core; load generator on the same machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx

from bench.common import percentile, scratch_database, served
from inventory import clock, db
from inventory.domain.gs1 import format_element_string
from inventory.domain.labelcode import mod10_check_digit
from inventory.domain.models import Actor
from inventory.services import auth, catalog, clinical, receiving

SECONDS = 3.0
PASSWORD = secrets.token_urlsafe(16)
SHEET = 500  # labels per sheet request in the background load
GTIN_BODY = "0376000999001"
GTIN = GTIN_BODY + str(mod10_check_digit(GTIN_BODY))


async def seed() -> tuple[int, int, str]:
    """A GTIN product with one lot in stock and an open session; returns (lot id, session id, scan code)."""
    await db.start_pool(min_size=1, max_size=4)
    user = await auth.create_user(actor=None, email="bench@clinic.test", role="manager", password=PASSWORD)
    actor = Actor(id=user.id, role="manager", email=user.email)
    brand = await catalog.create_brand(actor=actor, name="Filorga")
    location = await catalog.create_location(actor=actor, name="Bench room")
    product = await catalog.create_product(
        actor=actor,
        brand_id=brand["id"],
        name="NCEF-Shot 5x3ml",
        gtin=GTIN,
        packs=[],
        ingredients=["Hyaluronic acid"],
        storage="fridge",
    )
    expiry = clock.today() + timedelta(days=365)
    receipt = await receiving.receive(
        actor=actor,
        location_id=location["id"],
        supplier=None,
        reference=None,
        lines=[receiving.LineIn(quantity=100_000, product_id=product["id"], lot_number="B2207", expiry_date=expiry)],
    )
    client = await clinical.create_client(actor=actor, full_name="Bench client")
    session = await clinical.create_session(actor=actor, client_id=client["id"], location_id=location["id"])
    await db.close_pool()
    code = format_element_string(gtin=GTIN, expiry=expiry, lot_number="B2207")
    return receipt["lines"][0]["lot"]["id"], session["id"], code


async def drive(concurrency: int, one: Callable[[], Awaitable[None]]) -> tuple[float, float, float]:
    """Run `one()` in `concurrency` loops for SECONDS; returns (per second, p50 ms, p99 ms)."""
    latencies: list[float] = []
    stop = time.perf_counter() + SECONDS

    async def loop() -> None:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            await one()
            latencies.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*[loop() for _ in range(concurrency)])
    return len(latencies) / (time.perf_counter() - began), percentile(latencies, 50), percentile(latencies, 99)


async def main() -> None:
    """Seed, serve, then measure."""
    async with scratch_database("bench_label_api") as url:
        lot_id, session_id, code = await seed()
        with served(url) as base:
            async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                for _ in range(100):
                    with contextlib.suppress(httpx.TransportError):
                        if (await http.get("/ready")).status_code == 200:
                            break
                    await asyncio.sleep(0.2)
                token = (
                    await http.post("/api/auth/token", json={"email": "bench@clinic.test", "password": PASSWORD})
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}

                def expect(response: httpx.Response, status: int) -> None:
                    if response.status_code != status:
                        raise RuntimeError(response.text)

                print(f"label API benchmark ({SECONDS:.0f} s per figure, 1 worker)")
                print(f"{'format':>6} {'clients':>7} | {'labels/s':>8} {'p50 ms':>7} {'p99 ms':>7}")
                for fmt in ("png", "svg", "pdf", "zpl"):
                    for clients in (1, 4):

                        async def one_label(fmt: str = fmt) -> None:
                            response = await http.get(f"/api/lots/{lot_id}/label?format={fmt}", headers=headers)
                            expect(response, 200)

                        rate, p50, p99 = await drive(clients, one_label)
                        print(f"{fmt:>6} {clients:>7} | {rate:8.0f} {p50:7.1f} {p99:7.1f}")

                sheet_body = {"items": [{"lot_id": lot_id, "copies": SHEET}], "layout": "3x8"}
                started = time.perf_counter()
                expect(await http.post("/api/labels/sheet", json=sheet_body, headers=headers), 200)
                print(f"one {SHEET}-label sheet: {(time.perf_counter() - started) * 1000:.0f} ms")
                big = {"items": [{"lot_id": lot_id, "copies": 500}] * 4, "layout": "5x13"}
                started = time.perf_counter()
                expect(await http.post("/api/labels/sheet", json=big, headers=headers), 200)
                print(f"one 2000-label sheet: {(time.perf_counter() - started) * 1000:.0f} ms")

                async def one_scan() -> None:
                    response = await http.post(
                        f"/api/sessions/{session_id}/scans", json={"barcode": code, "repeat": True}, headers=headers
                    )
                    expect(response, 201)

                quiet = await drive(2, one_scan)
                stop = asyncio.Event()
                sheets = 0

                async def sheet_load() -> None:
                    nonlocal sheets
                    while not stop.is_set():
                        expect(await http.post("/api/labels/sheet", json=sheet_body, headers=headers), 200)
                        sheets += 1

                background = [asyncio.create_task(sheet_load()) for _ in range(3)]
                await asyncio.sleep(0.2)
                busy = await drive(2, one_scan)
                stop.set()
                await asyncio.gather(*background)
                print(f"{'scans (2 clients)':>32} | {'scans/s':>8} {'p50 ms':>7} {'p99 ms':>7}")
                print(f"{'alone':>32} | {quiet[0]:8.0f} {quiet[1]:7.1f} {quiet[2]:7.1f}")
                print(
                    f"{f'with 3 clients posting {SHEET}-label sheets':>32} | {busy[0]:8.0f} {busy[1]:7.1f} "
                    f"{busy[2]:7.1f}   ({sheets} sheets rendered meanwhile)"
                )


if __name__ == "__main__":
    asyncio.run(main())
