"""Scan benchmark: HTTP scans/s and p50/p99 at 1, 8 and 32 clients, beside the same transaction in raw asyncpg.

Run: `python -m bench.bench_scan` (needs a PostgreSQL: BENCH_DATABASE_URL / DATABASE_URL, else 127.0.0.1:5432).
The load generator runs on the same 2-core machine as the service and the database, so absolute figures are
lower bounds; the ratio to the raw-asyncpg baseline measured in the same run is the figure to compare.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
import httpx

from bench.common import percentile, scratch_database, served
from inventory import clock, db
from inventory.domain.gs1 import format_element_string
from inventory.domain.labelcode import mod10_check_digit
from inventory.domain.models import Actor
from inventory.services import auth, catalog, clinical, receiving

LEVELS = tuple(int(n) for n in os.environ.get("BENCH_LEVELS", "1,8,32").split(","))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
SECONDS = 4.0
PASSWORD = secrets.token_urlsafe(16)


def gtin(n: int) -> str:
    """A valid GTIN-14."""
    body = f"0376000{n:06d}"
    return body + str(mod10_check_digit(body))


async def seed(lanes: int) -> list[tuple[int, str, int, int]]:
    """One product, lot and session per lane; returns (session_id, barcode, lot_id, location_id)."""
    await db.start_pool(min_size=1, max_size=4)
    user = await auth.create_user(actor=None, email="bench@clinic.test", role="manager", password=PASSWORD)
    actor = Actor(id=user.id, role="manager", email=user.email)
    brand = await catalog.create_brand(actor=actor, name="Bench brand")
    location = await catalog.create_location(actor=actor, name="Bench room")
    expiry = clock.today() + timedelta(days=365)
    lanes_out = []
    for lane in range(lanes):
        product = await catalog.create_product(
            actor=actor,
            brand_id=brand["id"],
            name=f"Ampoule {lane}",
            gtin=gtin(lane + 1),
            packs=[],
            ingredients=["Hyaluronic acid"],
            storage="room",
        )
        await catalog.set_rule(
            actor=actor,
            location_id=location["id"],
            product_id=product["id"],
            reorder_point=5,
            par_level=20,
            lead_time_days=7,
        )
        receipt = await receiving.receive(
            actor=actor,
            location_id=location["id"],
            supplier=None,
            reference=None,
            lines=[
                receiving.LineIn(
                    quantity=100_000, product_id=product["id"], lot_number=f"B{lane:03d}", expiry_date=expiry
                )
            ],
        )
        # One client per chair, as in a clinic: each lane is a different person's session.
        client = await clinical.create_client(actor=actor, full_name=f"Bench client {lane}", allergies=["Peanut"])
        session = await clinical.create_session(actor=actor, client_id=client["id"], location_id=location["id"])
        code = format_element_string(gtin=gtin(lane + 1), expiry=expiry, lot_number=f"B{lane:03d}")
        lanes_out.append((session["id"], code, receipt["lines"][0]["lot"]["id"], location["id"]))
    await db.close_pool()
    return lanes_out


async def drive(concurrency: int, one: Callable[[int], Awaitable[None]]) -> tuple[float, float, float]:
    """Run `one(lane)` in `concurrency` loops for SECONDS; returns (per second, p50 ms, p99 ms)."""
    latencies: list[float] = []
    stop = time.perf_counter() + SECONDS

    async def loop(lane: int) -> None:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            await one(lane)
            latencies.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*[loop(lane) for lane in range(concurrency)])
    elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, percentile(latencies, 50), percentile(latencies, 99)


RAW_SCAN = [
    (
        "SELECT s.id, s.status, s.location, s.client, c.allergies FROM treatment_session s JOIN client c"
        " ON c.id = s.client WHERE s.id = $1 FOR SHARE OF s",
        "session",
    ),
    ("SELECT g.product, g.units FROM product_gtin g WHERE g.gtin = $1", "gtin"),
    ("SELECT l.id, l.expiry_date, l.status FROM lot l WHERE l.id = $1 FOR SHARE", "lot"),
    ("SELECT on_hand FROM stock_level WHERE lot = $1 AND location = $2 FOR UPDATE", "level"),
]


async def raw_scan(
    conn: asyncpg.Connection, session_id: int, code_gtin: str, lot_id: int, location_id: int, user_id: int
) -> None:
    """The scan's essential statements, hand-written, in one transaction: the baseline."""
    async with conn.transaction():
        session = await conn.fetchrow(RAW_SCAN[0][0], session_id)
        product = await conn.fetchrow(RAW_SCAN[1][0], code_gtin)
        await conn.fetchrow(RAW_SCAN[2][0], lot_id)
        await conn.fetchval(RAW_SCAN[3][0], lot_id, location_id)
        usage_id = await conn.fetchval(
            "INSERT INTO usage (session, client, lot, product, location, quantity, barcode, used_by, used_at,"
            " warnings) VALUES ($1, $2, $3, $4, $5, 1, 'raw', $6, now(), '[]') RETURNING id",
            session_id,
            session["client"],
            lot_id,
            product["product"],
            location_id,
            user_id,
        )
        await conn.execute(
            "WITH level AS (UPDATE stock_level SET on_hand = on_hand - 1 WHERE lot = $1 AND location = $2"
            ' RETURNING on_hand) INSERT INTO stock_movement (lot, location, quantity, kind, "user", created_at,'
            " usage) SELECT $1, $2, -1, 'use', $3, now(), $4 FROM level",
            lot_id,
            location_id,
            user_id,
            usage_id,
        )
        await conn.execute(
            "INSERT INTO audit_event (actor, action, entity, entity_id, details, created_at)"
            " VALUES ($1, 'usage.record', 'usage', $2, '{}', now())",
            user_id,
            usage_id,
        )


WRK_SCRIPT = """
local lanes = %s
local token = "%s"
local step = %d
local counter = 0
local threads = 0
setup = function(thread)
    thread:set("first", threads)
    threads = threads + 1
end
init = function(args)
    counter = 0
end
request = function()
    -- Each wrk thread cycles through its own lanes (every step-th one, from its own first), and there are
    -- twice as many lanes as connections: two chairs never scan the same lot at the same moment.
    local own = math.floor(#lanes / step)
    local lane = lanes[first + step * (counter %% own) + 1]
    counter = counter + 1
    return wrk.format("POST", "/api/sessions/" .. lane[1] .. "/scans",
        {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, lane[2])
end
"""


def _wrk_ms(text: str) -> float:
    value, unit = re.match(r"([0-9.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def drive_wrk(
    base: str, token: str, lanes: list[tuple[int, str, int, int]], concurrency: int
) -> tuple[float, float, float]:
    """Load the served app with wrk (a C load generator: it leaves the CPU to the service)."""
    threads = min(2, concurrency)
    # Each lane scans its barcode again and again, so every scan confirms the repeat (else 409 repeat_scan).
    entries = ", ".join(
        f"{{{session_id}, {json.dumps(json.dumps({'barcode': code, 'repeat': True}))}}}"
        for session_id, code, _, _ in lanes
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % ("{" + entries + "}", token, threads))
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(concurrency),
                "-d",
                f"{SECONDS:.0f}s",
                "--latency",
                "-s",
                script.name,
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    out = result.stdout
    if "Non-2xx" in out:
        raise RuntimeError(out)
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _wrk_ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _wrk_ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    return rate, p50, p99


async def main() -> None:
    """Seed, then measure raw asyncpg and HTTP at each concurrency level."""
    lanes_count = 2 * max(LEVELS)
    async with scratch_database("bench_scan") as url:
        lanes = await seed(lanes_count)
        # The baseline releases connections as the app does (no reset round trip): the ratio compares like with like.
        pool = await asyncpg.create_pool(url, min_size=lanes_count, max_size=lanes_count, reset=db.keep_session)
        user_id = await pool.fetchval("SELECT id FROM app_user WHERE email = 'bench@clinic.test'")
        raw: dict[int, tuple[float, float, float]] = {}
        for level in LEVELS:

            async def one_raw(lane: int) -> None:
                session_id, code, lot_id, location_id = lanes[lane]
                async with pool.acquire() as conn:
                    await raw_scan(conn, session_id, code[2:16], lot_id, location_id, user_id)

            raw[level] = await drive(level, one_raw)
        await pool.close()

        http_figures: dict[int, tuple[float, float, float]] = {}
        with served(url, workers=WORKERS) as base:
            limits = httpx.Limits(max_connections=lanes_count, max_keepalive_connections=lanes_count)
            async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
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
                use_wrk = shutil.which("wrk") is not None
                for level in LEVELS:
                    if use_wrk:
                        http_figures[level] = await asyncio.to_thread(drive_wrk, base, token, lanes, level)
                        continue

                    async def one_http(lane: int) -> None:
                        session_id, code, _, _ = lanes[lane]
                        response = await http.post(
                            f"/api/sessions/{session_id}/scans",
                            json={"barcode": code, "repeat": True},
                            headers=headers,
                        )
                        if response.status_code != 201:
                            raise RuntimeError(response.text)

                    http_figures[level] = await drive(level, one_http)

    generator = "wrk" if shutil.which("wrk") else "httpx (install wrk for a lighter load generator)"
    print(f"scan benchmark: {WORKERS} service worker(s), load from {generator}; same run, same machine")
    print("HTTP includes auth, barcode parsing, rules, FEFO, alerts, audit; raw = the essential SQL only")
    print(
        f"{'clients':>7} | {'raw asyncpg/s':>13} {'p50 ms':>7} {'p99 ms':>7} | {'HTTP scans/s':>12} "
        f"{'p50 ms':>7} {'p99 ms':>7} | {'HTTP/raw':>8}"
    )
    for level in LEVELS:
        r, h = raw[level], http_figures[level]
        print(
            f"{level:>7} | {r[0]:>13.0f} {r[1]:>7.2f} {r[2]:>7.2f} | {h[0]:>12.0f} {h[1]:>7.2f} {h[2]:>7.2f} |"
            f" {h[0] / r[0]:>8.0%}"
        )


if __name__ == "__main__":
    asyncio.run(main())
