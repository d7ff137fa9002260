"""Alerts benchmark: 2,000 products x 20 locations (40,000 stock rules), 1 million usages, booked courses.

Run: `python -m bench.bench_alerts [--usages N --requests N]` (needs a PostgreSQL: BENCH_DATABASE_URL /
DATABASE_URL, else 127.0.0.1:5432). The data set is built with set-based SQL (generate_series) in a throw-away
database migrated with `inventory.migrate.forwards()`; stock levels are written directly (these endpoints never
read the ledger). Then it times, over HTTP through the ASGI app (httpx ASGITransport, real bearer token):
`GET /api/alerts/reorder` and `GET /api/alerts/expiry` (per location and for all 20, every view), each beside
the same SQL run straight on asyncpg and beside `SELECT count(*) FROM stock_level`; reads of a new day before
its refresh (stale pairs computed on read) and after it; the full `refresh_all`; and `alerting.reevaluate` on the
scan path.
Target: each endpoint under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from bench.common import percentile, scratch_database
from inventory import clock, db
from inventory.app import create_app
from inventory.config import Settings
from inventory.services import alert_refresh, alerting, auth, expiry_views
from inventory.store import alerts as alert_store
from inventory.store import expiry as expiry_store

PASSWORD = secrets.token_urlsafe(16)
BRANDS, PRODUCTS, LOCATIONS, LOTS_PER_PRODUCT = 50, 2000, 20, 4
CLIENTS, COURSES, HISTORY_DAYS = 20_000, 3000, 180
TARGET_MS = 100.0


def _build_statements(usages: int, staff_id: int) -> list[tuple[str, str]]:
    """(label, SQL) in order; $1 is today (UTC). A fresh database: ids start at 1."""
    sessions = max(usages // 3, 1)
    return [
        (
            "brands",
            f"INSERT INTO brand (name, created_at) SELECT 'Brand ' || g, now() FROM generate_series(1, {BRANDS}) g",
        ),
        (
            "products",
            "INSERT INTO product (brand, name, ingredients, storage, active, created_at)"
            f" SELECT 1 + g % {BRANDS}, 'Ampoule ' || lpad(g::text, 5, '0'), ARRAY['Hyaluronic acid'], 'room', true,"
            f" now() FROM generate_series(1, {PRODUCTS}) g ORDER BY g",
        ),
        (
            "gtins",
            "INSERT INTO product_gtin (product, gtin, units)"
            " SELECT id, lpad((3760000000000 + id)::text, 14, '0'), 1 FROM product"
            " UNION ALL SELECT id, lpad((3761000000000 + id)::text, 14, '0'), 10 FROM product WHERE id % 2 = 0"
            " UNION ALL SELECT id, lpad((3762000000000 + id)::text, 14, '0'), 5 FROM product WHERE id % 3 = 0",
        ),
        (
            "locations",
            "INSERT INTO location (name, created_at)"
            f" SELECT 'Room ' || g, now() FROM generate_series(1, {LOCATIONS}) g",
        ),
        (
            "stock rules",
            "INSERT INTO stock_rule (product, location, reorder_point, par_level, lead_time_days, updated_at)"
            " SELECT p.id, o.id, 4 + (p.id * 7 + o.id * 3) % 9,"
            " 4 + (p.id * 7 + o.id * 3) % 9 + 20 + (p.id + o.id) % 20,"
            " 2 + (p.id * 3 + o.id * 5) % 13, now() FROM product p CROSS JOIN location o ORDER BY p.id, o.id",
        ),
        # lot 0 of each product is short-dated (expired up to 20 days ago .. expiring in 60), 1..3 are current
        (
            "lots",
            "INSERT INTO lot (product, lot_number, lot_key, similar_key, expiry_date, status, not_received, created_at)"
            " SELECT p.id, 'L' || p.id || '-' || k, 'L' || p.id || '-' || k, 'L' || p.id || k,"
            " CASE WHEN k = 0 THEN $1::date - 20 + (p.id * 13) % 81"
            " ELSE $1::date + 90 + (p.id * 37 + k * 101) % 630 END,"
            " CASE WHEN p.id % 97 = 0 AND k = 1 THEN 'recalled' ELSE 'active' END, false, now()"
            f" FROM product p CROSS JOIN generate_series(0, {LOTS_PER_PRODUCT - 1}) k ORDER BY p.id, k",
        ),
        (
            "stock levels",
            "INSERT INTO stock_level (lot, location, on_hand, updated_at)"
            " SELECT l.id, o.id, CASE WHEN right(l.lot_number, 2) = '-0'"
            "   THEN CASE WHEN (l.id * 31 + o.id * 17) % 10 = 0 THEN 1 + (l.id + o.id) % 8 ELSE 0 END"
            "   ELSE (l.id * 7 + o.id * 13) % 15 END, now()"
            " FROM lot l CROSS JOIN location o ORDER BY l.id, o.id",
        ),
        (
            "clients",
            "INSERT INTO client (full_name, email, allergies, created_at)"
            " SELECT 'Client ' || g, 'client' || g || '@example.com', '{}', now()"
            f" FROM generate_series(1, {CLIENTS}) g",
        ),
        (
            "sessions",
            "INSERT INTO treatment_session (client, location, status, scheduled_for, created_by, created_at, closed_at)"
            f" SELECT 1 + g % {CLIENTS}, 1 + g % {LOCATIONS}, 'closed',"
            f" ($1::date::timestamp AT TIME ZONE 'UTC') - (g % {HISTORY_DAYS}) * interval '1 day'"
            " + interval '10 hours',"
            f" {staff_id}, now(), now() FROM generate_series(0, {sessions - 1}) g ORDER BY g",
        ),
        (
            "usages",
            "INSERT INTO usage (session, client, lot, product, location, quantity, barcode, used_by, used_at, warnings,"
            " voided_at, voided_by, void_reason)"
            " SELECT s.id, s.client, (x.p - 1) * 4 + 2 + x.g % 3, x.p, s.location, 1 + (x.g % 5 = 0)::int, 'bench',"
            f" {staff_id}, s.scheduled_for + (x.g % 3600) * interval '1 second', '[]'::jsonb,"
            f" CASE WHEN x.g % 37 = 0 THEN s.scheduled_for + interval '2 hours' END,"
            f" CASE WHEN x.g % 37 = 0 THEN {staff_id} END, CASE WHEN x.g % 37 = 0 THEN 'bench void' END"
            f" FROM (SELECT g, 1 + (g::bigint * 7919) % {PRODUCTS} AS p, 1 + g % {sessions} AS s"
            f"       FROM generate_series(0, {usages - 1}) g) x"
            " JOIN treatment_session s ON s.id = x.s ORDER BY x.g",
        ),
        (
            "courses",
            "INSERT INTO course (client, location, treatment, start_date, sessions, interval_days, created_by,"
            " created_at)"
            f" SELECT 1 + (g * 13) % {CLIENTS}, 1 + g % {LOCATIONS}, 'Mesotherapy', $1::date + 1 + g % 60, 4, 14,"
            f" {staff_id}, now() FROM generate_series(1, {COURSES}) g ORDER BY g",
        ),
        (
            "course products",
            "INSERT INTO course_product (course, product, quantity)"
            f" SELECT c.id, 1 + (c.id * 7 + k * 991) % {PRODUCTS}, 1 + (c.id + k) % 3"
            " FROM course c CROSS JOIN generate_series(0, 1) k WHERE k = 0 OR c.id % 2 = 0 ORDER BY c.id, k",
        ),
        (
            "planned sessions",
            "INSERT INTO treatment_session (client, location, course, sequence, status, treatment, scheduled_for,"
            " created_by, created_at)"
            " SELECT c.client, c.location, c.id, i + 1, 'planned', c.treatment,"
            " ((c.start_date + i * c.interval_days)::timestamp AT TIME ZONE 'UTC') + interval '9 hours',"
            f" {staff_id}, now() FROM course c CROSS JOIN generate_series(0, 3) i ORDER BY c.id, i",
        ),
    ]


async def build(url: str, *, usages: int) -> None:
    """Create the users and the data set, then bring every alert up to date once (as `inventory alerts refresh`)."""
    await db.start_pool(min_size=1, max_size=4)
    try:
        await auth.create_user(actor=None, email="manager@bench.test", role="manager", password=PASSWORD)
        staff = await auth.create_user(actor=None, email="staff@bench.test", role="staff", password=PASSWORD)
    finally:
        await db.close_pool()
    conn = await asyncpg.connect(url)
    try:
        for label, sql in _build_statements(usages, staff.id):
            started = time.perf_counter()
            status = await conn.execute(sql, clock.today()) if "$1" in sql else await conn.execute(sql)
            print(f"  {label:<17} {status.split()[-1]:>9} rows  {time.perf_counter() - started:6.1f} s", flush=True)
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        print(f"  {'vacuum analyze':<17} {'':>9}       {time.perf_counter() - started:6.1f} s", flush=True)
    finally:
        await conn.close()


async def timed(fn: Callable[[], Awaitable[Any]], runs: int, warm: int = 5) -> list[float]:
    """Milliseconds of each of `runs` calls after `warm` unmeasured ones."""
    for _ in range(warm):
        await fn()
    result: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        result.append((time.perf_counter() - started) * 1000)
    return result


def line(label: str, values: list[float], extra: str = "") -> str:
    """One printed row: p50, p95, max."""
    return (
        f"  {label:<46} p50 {percentile(values, 50):7.2f} ms  p95 {percentile(values, 95):7.2f} ms"
        f"  max {max(values):7.2f} ms  {extra}"
    )


async def measure(url: str, requests: int) -> list[tuple[str, float]]:
    """Every figure; returns (label, p95) of the endpoints for the verdict."""
    settings = Settings(database_url=url, secret_key=secrets.token_urlsafe(48))
    verdicts: list[tuple[str, float]] = []
    await db.start_pool(min_size=2, max_size=8)
    try:
        started = time.perf_counter()
        pairs = await alert_refresh.refresh_all()
        full_ms = (time.perf_counter() - started) * 1000
        token = (await auth.issue_token(settings=settings, email="manager@bench.test", password=PASSWORD)).access_token
        headers = {"Authorization": f"Bearer {token}"}
        raw = await asyncpg.connect(url)
        await db.init_connection(raw)
        app = create_app(settings, manage_pool=False)
        logging.getLogger("httpx").setLevel(logging.WARNING)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")  # type: ignore[arg-type]
        try:
            counts = await raw.fetchrow(
                "SELECT (SELECT count(*) FROM usage) AS usages, (SELECT count(*) FROM stock_rule) AS rules,"
                " (SELECT count(*) FROM stock_level) AS levels,"
                " (SELECT count(*) FROM reorder_alert WHERE status = 'open') AS open_alerts,"
                " (SELECT count(*) FROM treatment_session WHERE status = 'planned') AS planned"
            )
            print(
                f"\ndata: {counts['usages']:,} usages, {counts['rules']:,} stock rules, {counts['levels']:,} stock"
                f" levels, {counts['planned']:,} planned course sessions; {counts['open_alerts']:,} open alerts"
            )
            print(
                f"full refresh (`inventory alerts refresh`): {pairs:,} pairs in {full_ms:,.0f} ms"
                f" ({full_ms / pairs * 1000:.0f} us per pair)\n"
            )

            baseline = await timed(lambda: raw.fetchval("SELECT count(*) FROM stock_level"), requests)
            base_p50 = percentile(baseline, 50)
            print("baseline")
            print(line("SELECT count(*) FROM stock_level (raw)", baseline))

            async def get(path: str, params: dict[str, Any]) -> int:
                response = await http.get(path, params=params, headers=headers)
                assert response.status_code == 200, response.text
                return len(response.json()["items"])

            now = clock.now()

            async def expiry_sql(first: int | None, last: int, location: int | None) -> list[Any]:
                low, high = expiry_store.expiry_bounds(now, first, last)
                rows: list[Any] = await raw.fetch(
                    expiry_store.EXPIRY_SELECT, now, first, last, location, None, False, low, high
                )
                return rows

            endpoints: list[tuple[str, str, dict[str, Any], Callable[[], Awaitable[Any]]]] = [
                (
                    "reorder, one location",
                    "/api/alerts/reorder",
                    {"location_id": 7},
                    lambda: raw.fetch(
                        alert_store.ALERT_SELECT + " WHERE a.status = 'open' AND a.location = 7"
                        " ORDER BY a.location, lower(p.name), a.id"
                    ),
                ),
                (
                    "reorder, all 20 locations",
                    "/api/alerts/reorder",
                    {},
                    lambda: raw.fetch(
                        alert_store.ALERT_SELECT + " WHERE a.status = 'open' ORDER BY a.location, lower(p.name), a.id"
                    ),
                ),
                (
                    "expiry 30 d, one location",
                    "/api/alerts/expiry",
                    {"within_days": 30, "location_id": 7},
                    lambda: expiry_sql(None, 30, 7),
                ),
                (
                    "expiry 30 d, all locations",
                    "/api/alerts/expiry",
                    {"within_days": 30},
                    lambda: expiry_sql(None, 30, None),
                ),
                (
                    "expiry view=expired, all",
                    "/api/alerts/expiry",
                    {"view": "expired"},
                    lambda: expiry_sql(None, -1, None),
                ),
                (
                    "expiry view=unused_in_time, one location",
                    "/api/alerts/expiry",
                    {"within_days": 30, "view": "unused_in_time", "location_id": 7},
                    lambda: expiry_views.expiry(within_days=30, view="unused_in_time", location_id=7),
                ),
                (
                    "expiry view=unused_in_time, all",
                    "/api/alerts/expiry",
                    {"within_days": 30, "view": "unused_in_time"},
                    lambda: expiry_views.expiry(within_days=30, view="unused_in_time"),
                ),
            ]
            identity = {**headers, "Accept-Encoding": "identity"}
            plain = await timed(lambda: http.get("/api/alerts/reorder", headers=identity), requests)
            for label, path, params, direct in endpoints:
                items = await get(path, params)
                over_http = await timed(lambda p=path, q=params: get(p, q), requests)  # type: ignore[misc]
                without = await timed(direct, requests)
                ratio_direct = percentile(over_http, 50) / percentile(without, 50)
                print(f"{label}: {items:,} items")
                print(
                    line("HTTP (ASGI, auth, JSON)", over_http, f"{percentile(over_http, 50) / base_p50:5.1f}x baseline")
                )
                kind = "service, no HTTP" if "unused" in label else "raw SQL, no HTTP"
                print(line(kind, without, f"HTTP/{kind.split(',')[0]} {ratio_direct:4.1f}x"))
                verdicts.append((f"GET {path} {label}", percentile(over_http, 95)))
                if label == "reorder, all 20 locations":
                    print(line("HTTP without gzip (Accept-Encoding: identity)", plain))

            print("\na new day before and after its refresh (reads compute stale pairs as of now, write nothing):")
            for _ in range(3):
                clock.shift(timedelta(days=1))
                for scope, params in (("location 7", {"location_id": 7}), ("all locations", {})):
                    before = await timed(lambda q=params: get("/api/alerts/reorder", q), 5, warm=0)  # type: ignore[misc]
                    items = await get("/api/alerts/reorder", params)
                    started = time.perf_counter()
                    if params:
                        pairs = await alert_refresh.refresh_location(7)
                    else:
                        pairs = await alert_refresh.refresh_all()
                    refresh_ms = (time.perf_counter() - started) * 1000
                    after = await timed(lambda q=params: get("/api/alerts/reorder", q), 10, warm=0)  # type: ignore[misc]
                    print(
                        f"  {clock.today()} {scope:<13}: before the refresh p50 {percentile(before, 50):7.1f} ms"
                        f" ({items} listed); refresh {refresh_ms:7.1f} ms ({pairs:,} pairs);"
                        f" after it p50 {percentile(after, 50):.2f} ms"
                    )
            clock.reset()

            print("\nscan path: alerting.reevaluate inside the caller's transaction (rolled back):")
            hot = await raw.fetch(
                "SELECT product, location FROM stock_rule ORDER BY (product * 31 + location) % 997 LIMIT 200"
            )
            pool = db.get_engine().pool
            assert pool is not None
            async with pool.acquire() as conn:
                for size in (1, 20):
                    samples: list[float] = []
                    for i in range(0, 200 - size, max(1, size // 4)):
                        tx = conn.transaction()
                        await tx.start()
                        started = time.perf_counter()
                        await alerting.reevaluate(conn, [(r["product"], r["location"]) for r in hot[i : i + size]])
                        samples.append((time.perf_counter() - started) * 1000)
                        await tx.rollback()
                    update: list[float] = []
                    for r in hot[:100]:
                        tx = conn.transaction()
                        await tx.start()
                        started = time.perf_counter()
                        await conn.execute(
                            "UPDATE stock_level SET on_hand = on_hand - 1 WHERE lot = (SELECT min(id) FROM lot"
                            " WHERE product = $1) AND location = $2",
                            r["product"],
                            r["location"],
                        )
                        update.append((time.perf_counter() - started) * 1000)
                        await tx.rollback()
                    print(
                        line(
                            f"reevaluate {size} pair(s)",
                            samples,
                            f"{percentile(samples, 50) / percentile(update, 50):4.1f}x one stock_level UPDATE",
                        )
                    )
        finally:
            await http.aclose()
            await raw.close()
    finally:
        clock.reset()
        await db.close_pool()
    return verdicts


async def main() -> None:
    """Build, measure, report; the database is dropped afterwards."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--usages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    async with scratch_database("bench_alerts") as url:
        print(f"building {PRODUCTS:,} products x {LOCATIONS} locations, {args.usages:,} usages ...", flush=True)
        started = time.perf_counter()
        await build(url, usages=args.usages)
        print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
        verdicts = await measure(url, args.requests)
    print(f"\ntarget p95 < {TARGET_MS:.0f} ms:")
    for label, p95 in verdicts:
        print(f"  {'PASS' if p95 < TARGET_MS else 'FAIL'}  {label}  (p95 {p95:.1f} ms)")


if __name__ == "__main__":
    asyncio.run(main())
