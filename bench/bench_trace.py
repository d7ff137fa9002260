"""Trace and recall benchmark: 1 million usages over 100,000 lots; look-up p50/p95 and recall duration.

Run: `python -m bench.bench_trace [--usages N --lots N --requests N]` (needs a PostgreSQL: BENCH_DATABASE_URL /
DATABASE_URL, else 127.0.0.1:5432). The data set is built with set-based SQL (generate_series) in a throw-away
database; the look-up goes over HTTP through the ASGI app (httpx ASGITransport, real bearer token, auth
middleware, audit write) and is printed beside the same trace SQL run directly with asyncpg in the same run.
Targets: look-up of a lot used 200 times under 50 ms at p95; its recall under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import statistics
import time
from typing import Any

import asyncpg
import httpx

from bench.common import percentile, scratch_database
from inventory import db
from inventory.app import create_app
from inventory.config import Settings
from inventory.domain.lots import lot_key, similar_key
from inventory.services import auth
from inventory.store import trace as trace_sql

PASSWORD = secrets.token_urlsafe(16)
TARGETS = 6  # lots used exactly USES_PER_TARGET times: the first is traced, the others recalled
USES_PER_TARGET = 200
BRANDS, PRODUCTS, LOCATIONS = 50, 1000, 10
LOTS_PER_RECEIPT = 100


def _build_statements(lots: int, usages: int, clients: int, sessions: int, staff_id: int) -> list[tuple[str, str]]:
    """(label, SQL) in order; ids are offsets from each table's first id so a fresh database is not assumed."""
    other_lots = lots - TARGETS
    target_uses = TARGETS * USES_PER_TARGET
    spread = usages // target_uses
    return [
        (
            "brands",
            f"INSERT INTO brand (name, created_at) SELECT 'Brand ' || g, now() FROM generate_series(1, {BRANDS}) g",
        ),
        (
            "products",
            "INSERT INTO product (brand, name, ingredients, storage, active, created_at)"
            f" SELECT (SELECT min(id) FROM brand) + (g % {BRANDS}), 'Ampoule ' || g, ARRAY['Hyaluronic acid'],"
            f" 'room', true, now() FROM generate_series(1, {PRODUCTS}) g",
        ),
        (
            "gtins",
            "INSERT INTO product_gtin (product, gtin, units) SELECT id, lpad((37600000000000 + id)::text, 14, '0'), 1"
            " FROM product",
        ),
        (
            "locations",
            "INSERT INTO location (name, created_at)"
            f" SELECT 'Room ' || g, now() FROM generate_series(1, {LOCATIONS}) g",
        ),
        # lot g of product g % PRODUCTS, numbered LT0000123 (similar key LT123)
        (
            "lots",
            "INSERT INTO lot (product, lot_number, lot_key, similar_key, expiry_date, status, not_received, created_at)"
            f" SELECT (SELECT min(id) FROM product) + (g % {PRODUCTS}), 'LT' || lpad(g::text, 7, '0'),"
            " 'LT' || lpad(g::text, 7, '0'), 'LT' || g, current_date + 100 + (g % 600), 'active', false, now()"
            f" FROM generate_series(1, {lots}) g ORDER BY g",
        ),
        (
            "receipts",
            "INSERT INTO receipt (location, supplier, reference, received_by, received_at)"
            f" SELECT (SELECT min(id) FROM location) + (g % {LOCATIONS}), 'Supplier ' || (g % 7), 'DN-' || g,"
            f" {staff_id}, now() - interval '800 days' + g * interval '10 minutes'"
            f" FROM generate_series(0, {(lots - 1) // LOTS_PER_RECEIPT}) g ORDER BY g",
        ),
        (
            "receipt lines",
            "INSERT INTO receipt_line (receipt, lot, quantity, gtin)"
            f" SELECT (SELECT min(id) FROM receipt) + (l.id - f.first) / {LOTS_PER_RECEIPT}, l.id,"
            f" CASE WHEN l.id - f.first >= {other_lots} THEN 300 ELSE 30 END, NULL"
            " FROM lot l, (SELECT min(id) AS first FROM lot) f ORDER BY l.id",
        ),
        (
            "clients",
            "INSERT INTO client (full_name, email, phone, allergies, created_at)"
            " SELECT 'Client ' || g, 'client' || g || '@example.com', '+33 6 ' || lpad(g::text, 8, '0'), '{}', now()"
            f" FROM generate_series(1, {clients}) g",
        ),
        (
            "sessions",
            "INSERT INTO treatment_session (client, location, status, scheduled_for, created_by, created_at, closed_at)"
            f" SELECT (SELECT min(id) FROM client) + (g % {clients}),"
            f" (SELECT min(id) FROM location) + (g % {LOCATIONS}),"
            f" 'closed', now() - (g % 730) * interval '1 day', {staff_id}, now(), now()"
            f" FROM generate_series(0, {sessions - 1}) g ORDER BY g",
        ),
        # every k-th usage (up to TARGETS x 200) goes to the last TARGETS lots, so a target's uses lie spread
        # over the whole table as real ones would; the rest spread over the other lots; every 97th is voided;
        # each usage is at its lot's receiving location
        (
            "usages",
            "INSERT INTO usage (session, client, lot, product, location, quantity, barcode, used_by, used_at,"
            " warnings, voided_at, voided_by, void_reason)"
            " SELECT s.id, s.client, l.id, l.product, r.location, 1, 'bench', "
            f" {staff_id}, x.at, '[]'::jsonb, CASE WHEN x.g % 97 = 0 THEN x.at + interval '1 hour' END,"
            f" CASE WHEN x.g % 97 = 0 THEN {staff_id} END, CASE WHEN x.g % 97 = 0 THEN 'bench void' END"
            " FROM (SELECT g, now() - (g % 730) * interval '1 day' - (g % 86400) * interval '1 second' AS at,"
            f"   CASE WHEN g % {spread} = 0 AND g / {spread} < {target_uses}"
            f"   THEN {other_lots} + g / {spread} / {USES_PER_TARGET} ELSE g % {other_lots} END AS lot_n,"
            f"   g % {sessions} AS session_n"
            f"   FROM generate_series(0, {usages - 1}) g) x"
            " JOIN lot l ON l.id = (SELECT min(id) FROM lot) + x.lot_n"
            " JOIN receipt_line rl ON rl.lot = l.id JOIN receipt r ON r.id = rl.receipt"
            " JOIN treatment_session s ON s.id = (SELECT min(id) FROM treatment_session) + x.session_n"
            " ORDER BY x.g",
        ),
        (
            "ledger: receipts",
            'INSERT INTO stock_movement (lot, location, quantity, kind, "user", created_at, receipt_line)'
            " SELECT rl.lot, r.location, rl.quantity, 'receive', r.received_by, r.received_at, rl.id"
            " FROM receipt_line rl JOIN receipt r ON r.id = rl.receipt ORDER BY rl.id",
        ),
        (
            "ledger: uses",
            'INSERT INTO stock_movement (lot, location, quantity, kind, "user", created_at, usage)'
            " SELECT lot, location, -quantity, 'use', used_by, used_at, id FROM usage ORDER BY id",
        ),
        (
            "ledger: voids",
            'INSERT INTO stock_movement (lot, location, quantity, kind, reason, "user", created_at, usage)'
            " SELECT lot, location, quantity, 'void', void_reason, voided_by, voided_at, id FROM usage"
            " WHERE voided_at IS NOT NULL ORDER BY id",
        ),
        (
            "stock levels",
            "INSERT INTO stock_level (lot, location, on_hand, updated_at)"
            " SELECT lot, location, sum(quantity), now() FROM stock_movement GROUP BY lot, location",
        ),
    ]


async def build(url: str, *, lots: int, usages: int) -> tuple[int, list[int]]:
    """Create the users and the data set; returns (manager id, target lot ids)."""
    await db.start_pool(min_size=1, max_size=4)
    manager = await auth.create_user(actor=None, email="manager@bench.test", role="manager", password=PASSWORD)
    staff = await auth.create_user(actor=None, email="staff@bench.test", role="staff", password=PASSWORD)
    await db.close_pool()
    clients, sessions = max(usages // 10, 1), max(usages // 2, 1)
    conn = await asyncpg.connect(url)
    try:
        for label, sql in _build_statements(lots, usages, clients, sessions, staff.id):
            started = time.perf_counter()
            status = await conn.execute(sql)
            print(f"  {label:<17} {status.split()[-1]:>9} rows  {time.perf_counter() - started:6.1f} s", flush=True)
        # A look-alike and a namesake of the traced lot, as a real catalogue has.
        first = await conn.fetchval("SELECT min(id) FROM lot")
        targets = [first + lots - TARGETS + i for i in range(TARGETS)]
        traced = await conn.fetchrow("SELECT lot_number, product FROM lot WHERE id = $1", targets[0])
        look_alike = traced["lot_number"][:2] + "-" + traced["lot_number"][2:]
        other_product = await conn.fetchval("SELECT min(id) FROM product WHERE id <> $1", traced["product"])
        for number in (look_alike, traced["lot_number"]):
            product = traced["product"] if number == look_alike else other_product
            await conn.execute(
                "INSERT INTO lot (product, lot_number, lot_key, similar_key, expiry_date, status, not_received,"
                " created_at) VALUES ($1, $2, $3, $4, current_date + 200, 'active', false, now())",
                product,
                number,
                lot_key(number),
                similar_key(number),
            )
        started = time.perf_counter()
        await conn.execute("ANALYZE")
        print(f"  {'analyze':<17} {'':>9}       {time.perf_counter() - started:6.1f} s", flush=True)
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM usage) AS usages, (SELECT count(*) FROM lot) AS lots,"
            " (SELECT count(*) FROM usage WHERE lot = $1) AS traced_uses",
            targets[0],
        )
        print(
            f"  data set: {counts['usages']:,} usages, {counts['lots']:,} lots;"
            f" traced lot used {counts['traced_uses']} times"
        )
    finally:
        await conn.close()
    return int(manager.id), targets


async def raw_trace(conn: asyncpg.Connection, key: str, similar: str) -> int:
    """The look-up's SQL, section by section, straight on asyncpg; returns the number of usages."""
    lots = await conn.fetch(trace_sql.TRACE_LOTS, key, similar, None, 101)
    ids = [row["id"] for row in lots]
    await conn.fetch(trace_sql.TRACE_RECEIVED, ids)
    await conn.fetch(trace_sql.TRACE_STOCK, ids)
    return len(await conn.fetch(trace_sql.TRACE_USAGES, ids))


async def measure(url: str, targets: list[int], requests: int) -> dict[str, Any]:
    """Trace p50/p95 over HTTP and in raw asyncpg, and the duration of recalls over HTTP."""
    settings = Settings(database_url=url, secret_key=secrets.token_urlsafe(48))
    await db.start_pool(min_size=2, max_size=8)
    try:
        token = (await auth.issue_token(settings=settings, email="manager@bench.test", password=PASSWORD)).access_token
        headers = {"Authorization": f"Bearer {token}"}
        raw = await asyncpg.connect(url)
        await db.init_connection(raw)
        number = await raw.fetchval("SELECT lot_number FROM lot WHERE id = $1", targets[0])
        app = create_app(settings, manage_pool=False)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the figures
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")  # type: ignore[arg-type]
        try:
            first = await http.get("/api/trace/lot", params={"lot_number": number}, headers=headers)
            first.raise_for_status()
            body = first.json()
            usages = sum(len(m["usages"]) for m in body["matches"])
            voided = sum(u["voided"] for m in body["matches"] for u in m["usages"])
            print(
                f"  trace {number!r}: {len(body['matches'])} matches, {len(body['similar'])} similar,"
                f" {usages} usages ({voided} voided), {len(first.content):,} bytes"
            )
            for _ in range(20):  # warm-up: prepared statements, caches
                await http.get("/api/trace/lot", params={"lot_number": number}, headers=headers)
                await raw_trace(raw, lot_key(number), similar_key(number))
            http_ms: list[float] = []
            raw_ms: list[float] = []
            for _ in range(requests):
                started = time.perf_counter()
                response = await http.get("/api/trace/lot", params={"lot_number": number}, headers=headers)
                http_ms.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
                started = time.perf_counter()
                await raw_trace(raw, lot_key(number), similar_key(number))
                raw_ms.append((time.perf_counter() - started) * 1000)
            recall_ms: list[float] = []
            affected: list[int] = []
            for lot_id in targets[1:]:
                started = time.perf_counter()
                response = await http.post(
                    "/api/recalls", json={"lot_ids": [lot_id], "reason": "bench recall"}, headers=headers
                )
                recall_ms.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 201, response.text
                affected.append(response.json()["report"]["clients_affected"])
        finally:
            await http.aclose()
            await raw.close()
    finally:
        await db.close_pool()
    return {"http": http_ms, "raw": raw_ms, "recall": recall_ms, "affected": affected}


def report(figures: dict[str, Any]) -> None:
    """Print the figures and the verdicts against the targets."""
    http, raw, recall = figures["http"], figures["raw"], figures["recall"]
    http_p50, http_p95 = percentile(http, 50), percentile(http, 95)
    raw_p50, raw_p95 = percentile(raw, 50), percentile(raw, 95)
    print()
    print(f"trace look-up, {len(http)} requests, lot used {USES_PER_TARGET} times:")
    print(f"  HTTP (ASGI, auth, audit)  p50 {http_p50:6.2f} ms   p95 {http_p95:6.2f} ms   max {max(http):6.2f} ms")
    print(f"  raw asyncpg, same SQL     p50 {raw_p50:6.2f} ms   p95 {raw_p95:6.2f} ms   max {max(raw):6.2f} ms")
    print(f"  ratio HTTP / raw          p50 {http_p50 / raw_p50:6.2f}x     p95 {http_p95 / raw_p95:6.2f}x")
    print(f"  target p95 < 50 ms: {'PASS' if http_p95 < 50 else 'FAIL'}")
    print(
        f"recall over HTTP of a lot used {USES_PER_TARGET} times ({len(recall)} lots, clients affected"
        f" {figures['affected']}):"
    )
    print(f"  median {statistics.median(recall):7.1f} ms   max {max(recall):7.1f} ms")
    print(f"  target < 1 s: {'PASS' if max(recall) < 1000 else 'FAIL'}")


async def main() -> None:
    """Build, measure, report; the database is dropped afterwards."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--usages", type=int, default=1_000_000)
    parser.add_argument("--lots", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    if args.lots <= TARGETS or args.usages < TARGETS * USES_PER_TARGET + args.lots:
        parser.error(f"need more than {TARGETS} lots and at least {TARGETS * USES_PER_TARGET} + lots usages")
    async with scratch_database("bench_trace") as url:
        print(f"building {args.usages:,} usages over {args.lots:,} lots ...", flush=True)
        started = time.perf_counter()
        _, targets = await build(url, lots=args.lots, usages=args.usages)
        print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
        report(await measure(url, targets, args.requests))


if __name__ == "__main__":
    asyncio.run(main())
