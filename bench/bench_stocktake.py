"""Stocktake benchmark: a 5,000-count stocktake at one location over HTTP (counts/s, approve time), beside the
same count transactions in raw asyncpg in the same run.

Run: `python -m bench.bench_stocktake` (needs a PostgreSQL: BENCH_DATABASE_URL / DATABASE_URL, else 127.0.0.1:5432).
`BENCH_COUNTS` (default 5000), `BENCH_COUNTERS` (people counting at once, default 8), `BENCH_LOTS` (default 50),
`BENCH_WORKERS` (service workers, default 2). The load generator (httpx) shares the 2-core machine with the
service and the database, so absolute figures are lower bounds; the ratio to the raw baseline is the figure.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
import httpx

from bench.bench_scan import gtin
from bench.common import percentile, scratch_database, served
from inventory import clock, db
from inventory.domain.gs1 import format_element_string
from inventory.domain.models import Actor
from inventory.services import auth, catalog, receiving

COUNTS = int(os.environ.get("BENCH_COUNTS", "5000"))
COUNTERS = int(os.environ.get("BENCH_COUNTERS", "8"))
LOTS = int(os.environ.get("BENCH_LOTS", "50"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
PASSWORD = secrets.token_urlsafe(16)


async def seed() -> tuple[list[str], list[int], int, int]:
    """LOTS lots of LOTS products, stocked at two locations; returns (codes, lot ids, raw location, HTTP location)."""
    await db.start_pool(min_size=1, max_size=4)
    user = await auth.create_user(actor=None, email="bench@clinic.test", role="manager", password=PASSWORD)
    actor = Actor(id=user.id, role="manager", email=user.email)
    brand = await catalog.create_brand(actor=actor, name="Bench brand")
    raw_room = await catalog.create_location(actor=actor, name="Raw room")
    http_room = await catalog.create_location(actor=actor, name="HTTP room")
    expiry = clock.today() + timedelta(days=365)
    codes, lot_ids = [], []
    for n in range(LOTS):
        product = await catalog.create_product(
            actor=actor,
            brand_id=brand["id"],
            name=f"Ampoule {n}",
            gtin=gtin(n + 1),
            packs=[],
            ingredients=["Hyaluronic acid"],
            storage="room",
        )
        # Every 10th lot has one ampoule more in the books than on the shelf: approval has adjustments to write.
        for room in (raw_room, http_room):
            receipt = await receiving.receive(
                actor=actor,
                location_id=room["id"],
                supplier=None,
                reference=None,
                lines=[
                    receiving.LineIn(
                        quantity=COUNTS // LOTS + (n % 10 == 0),
                        product_id=product["id"],
                        lot_number=f"S{n:03d}",
                        expiry_date=expiry,
                    )
                ],
            )
        lot_ids.append(receipt["lines"][0]["lot"]["id"])
        codes.append(format_element_string(gtin=gtin(n + 1), expiry=expiry, lot_number=f"S{n:03d}"))
    await db.close_pool()
    return codes, lot_ids, raw_room["id"], http_room["id"]


async def drive(total: int, one: Callable[[int], Awaitable[None]]) -> tuple[float, float, float]:
    """Run `total` calls of one(i) from COUNTERS loops; returns (per second, p50 ms, p99 ms)."""
    latencies: list[float] = []
    queue = iter(range(total))

    async def loop() -> None:
        for i in queue:
            started = time.perf_counter()
            await one(i)
            latencies.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*[loop() for _ in range(COUNTERS)])
    elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, percentile(latencies, 50), percentile(latencies, 99)


async def raw_count(conn: asyncpg.Connection, stocktake_id: int, location_id: int, lot_id: int, user_id: int) -> None:
    """A count's essential statements, hand-written, in one transaction: the baseline (no barcode parsing)."""
    async with conn.transaction():
        await conn.fetchval("SELECT status FROM stocktake WHERE id = $1 FOR SHARE", stocktake_id)
        count_id = await conn.fetchval(
            "INSERT INTO stocktake_count (stocktake, lot, product, quantity, on_hand_at_count, counted_by, counted_at)"
            " SELECT $1, l.id, l.product, 1, coalesce((SELECT on_hand FROM stock_level WHERE lot = l.id"
            " AND location = $3), 0), $4, now() FROM lot l WHERE l.id = $2 RETURNING id",
            stocktake_id,
            lot_id,
            location_id,
            user_id,
        )
        await conn.execute(
            "INSERT INTO audit_event (actor, action, entity, entity_id, details, created_at)"
            " VALUES ($1, 'stocktake.count', 'stocktake', $2, jsonb_build_object('count_id', $3::int), now())",
            user_id,
            stocktake_id,
            count_id,
        )


async def main() -> None:
    """Seed, then count raw and over HTTP, then approve over HTTP."""
    async with scratch_database("bench_stocktake") as url:
        codes, lot_ids, raw_room, http_room = await seed()
        # The baseline releases connections as the app does (no reset round trip): the ratio compares like with like.
        pool = await asyncpg.create_pool(url, min_size=COUNTERS, max_size=COUNTERS, reset=db.keep_session)
        user_id = await pool.fetchval("SELECT id FROM app_user WHERE email = 'bench@clinic.test'")
        raw_stocktake = await pool.fetchval(
            "INSERT INTO stocktake (location, status, started_by, started_at) VALUES ($1, 'open', $2, now())"
            " RETURNING id",
            raw_room,
            user_id,
        )

        async def one_raw(i: int) -> None:
            async with pool.acquire() as conn:
                await raw_count(conn, raw_stocktake, raw_room, lot_ids[i % LOTS], user_id)

        raw = await drive(COUNTS, one_raw)
        await pool.close()

        with served(url, workers=WORKERS) as base:
            limits = httpx.Limits(max_connections=COUNTERS, max_keepalive_connections=COUNTERS)
            async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
                for _ in range(100):
                    try:
                        if (await http.get("/ready")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.2)
                token = (
                    await http.post("/api/auth/token", json={"email": "bench@clinic.test", "password": PASSWORD})
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                started = await http.post("/api/stocktakes", json={"location_id": http_room}, headers=headers)
                stocktake_id = started.json()["id"]

                async def one_http(i: int) -> None:
                    response = await http.post(
                        f"/api/stocktakes/{stocktake_id}/counts",
                        json={"barcode": codes[i % LOTS], "quantity": 1},
                        headers=headers,
                    )
                    if response.status_code != 201:
                        raise RuntimeError(response.text)

                counted = await drive(COUNTS, one_http)
                began = time.perf_counter()
                review = await http.get(f"/api/stocktakes/{stocktake_id}", headers=headers)
                review_ms = (time.perf_counter() - began) * 1000
                began = time.perf_counter()
                approved = await http.post(f"/api/stocktakes/{stocktake_id}/approve", headers=headers)
                approve_ms = (time.perf_counter() - began) * 1000
                if approved.status_code != 200:
                    raise RuntimeError(approved.text)
                adjusted = len(approved.json()["adjustments"])
                lines = len(review.json()["lines"])

    print(f"stocktake benchmark: {COUNTS} counts of {LOTS} lots at one location by {COUNTERS} counters at once;")
    print(f"{WORKERS} service worker(s), load from httpx; same run, same machine")
    print("HTTP includes auth, GS1 parsing and resolution, audit; raw = the count's essential SQL (no parsing)")
    print(f"{'':>6} | {'counts/s':>9} {'p50 ms':>7} {'p99 ms':>7}")
    print(f"{'raw':>6} | {raw[0]:>9.0f} {raw[1]:>7.2f} {raw[2]:>7.2f}")
    print(
        f"{'HTTP':>6} | {counted[0]:>9.0f} {counted[1]:>7.2f} {counted[2]:>7.2f}   ({counted[0] / raw[0]:.0%} of raw)"
    )
    print(
        f"review of {lines} lots: {review_ms:.0f} ms;"
        f" approve ({adjusted} adjust rows, one transaction): {approve_ms:.0f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
