"""Fault injection: the app's database backends are terminated while scans pour in; no 500, no lost or double scan."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter

import asyncpg
import httpx
import pytest
from litestar import Litestar

from inventory import db
from inventory.config import Settings
from inventory.domain.models import Actor
from inventory.services import auth
from tests.conftest import PASSWORD, Databases
from tests.support.clinic import build

pytestmark = pytest.mark.race

SCANS = 240
WORKERS = 12
KILLS = 5


async def _race_actors() -> dict[str, Actor]:
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT id, email, role FROM app_user WHERE email LIKE '%@clinic.test'")
    by_email = {r["email"]: Actor(id=r["id"], role=r["role"], email=r["email"]) for r in rows}
    return {name: by_email[f"{name}@clinic.test"] for name in ("staff", "staff2", "manager", "admin")}


async def test_terminated_backends_give_503_or_success_never_500_and_every_acknowledged_scan_once(
    race_pool: None, app: Litestar, settings: Settings, databases: Databases
) -> None:
    actors = await _race_actors()
    clinic = await build(actors, on_hand=SCANS + 10)
    token = (await auth.issue_token(settings=settings, email="staff@clinic.test", password=PASSWORD)).access_token
    headers = {"Authorization": f"Bearer {token}"}
    statuses: Counter[int] = Counter()
    acknowledged: dict[str, int] = {}
    keys = iter(f"fault-{secrets.token_hex(6)}-{n}" for n in range(SCANS))
    url = f"/api/sessions/{clinic.session['id']}/scans"
    body = {"barcode": clinic.code(), "quantity": 1, "repeat": True}  # the same code many times on purpose
    done = asyncio.Event()

    async def scanner(http: httpx.AsyncClient) -> None:
        for key in keys:
            for _ in range(50):  # the chair's retry: same key, same body, after Retry-After (shortened here)
                response = await http.post(url, json=body, headers={**headers, "Idempotency-Key": key})
                statuses[response.status_code] += 1
                if response.status_code == 503:
                    assert response.headers["retry-after"].isdigit()
                    assert response.json()["code"] in {"busy", "unavailable"}
                    await asyncio.sleep(0.02)
                    continue
                break
            assert response.status_code == 201, response.text
            acknowledged[key] = response.json()["usage_id"]

    async def killer() -> int:
        killed = 0
        admin = await asyncpg.connect(databases.race)
        try:
            for _ in range(KILLS):
                await asyncio.sleep(0.15)
                killed += int(
                    await admin.fetchval(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        " AND backend_type = 'client backend'"
                    )
                )
                if done.is_set():
                    break
        finally:
            await admin.close()
        return killed

    started = time.perf_counter()
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        kill = asyncio.create_task(killer())
        await asyncio.gather(*[scanner(http) for _ in range(WORKERS)])
        done.set()
        killed = await kill
    elapsed = time.perf_counter() - started

    print(f"\nfault run: {SCANS} scans in {elapsed:.1f} s, {killed} backends terminated, statuses {dict(statuses)}")
    assert killed >= KILLS, "the fault was not injected"
    assert statuses[500] == 0
    assert set(statuses) <= {201, 503}, statuses
    assert len(acknowledged) == SCANS
    async with db.connection() as conn:
        usages = await conn.fetch("SELECT id FROM usage WHERE session = $1 AND voided_at IS NULL", clinic.session["id"])
        on_hand = await conn.fetchval("SELECT on_hand FROM stock_level WHERE lot = $1", clinic.lot["id"])
        ledger = await conn.fetchval("SELECT sum(quantity) FROM stock_movement WHERE lot = $1", clinic.lot["id"])
    assert sorted(r["id"] for r in usages) == sorted(acknowledged.values())  # each acknowledged scan exactly once
    assert on_hand == ledger == 10
