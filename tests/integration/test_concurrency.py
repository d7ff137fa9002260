"""Races on real PostgreSQL: many connections committing at once on the race database."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest

from inventory import db
from inventory.app import create_app
from inventory.config import Settings
from inventory.domain.errors import Conflict
from inventory.domain.models import Actor
from inventory.services import stock
from tests.support.clinic import Clinic, build

pytestmark = pytest.mark.race


async def race_actors() -> dict[str, Actor]:
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT id, email, role FROM app_user WHERE email LIKE '%@clinic.test'")
    by_email = {r["email"]: Actor(id=r["id"], role=r["role"], email=r["email"]) for r in rows}
    return {name: by_email[f"{name}@clinic.test"] for name in ("staff", "staff2", "manager", "admin")}


async def ledger_matches_levels(lot_id: int) -> list[Any]:
    """Rows where a level differs from its ledger sum (empty when consistent)."""
    async with db.connection() as conn:
        return list(
            await conn.fetch(
                "SELECT s.location, s.on_hand, coalesce(sum(m.quantity), 0) AS ledger FROM stock_level s"
                " LEFT JOIN stock_movement m ON m.lot = s.lot AND m.location = s.location WHERE s.lot = $1"
                " GROUP BY s.location, s.on_hand HAVING s.on_hand <> coalesce(sum(m.quantity), 0)",
                lot_id,
            )
        )


async def test_concurrent_transfers_and_adjustments_keep_on_hand_equal_to_the_ledger(race_pool: None) -> None:
    actors = await race_actors()
    clinic: Clinic = await build(actors, on_hand=15)
    manager = actors["manager"]
    from tests.support import factories as f

    other = await f.location(manager)
    lot_id = clinic.lot["id"]

    async def transfer(n: int) -> str:
        try:
            await stock.transfer(
                actor=manager,
                lot_id=lot_id,
                from_location_id=clinic.location_id,
                to_location_id=other["id"],
                quantity=2,
                reason=f"t{n}",
            )
            return "ok"
        except Conflict as error:
            return error.code

    async def transfer_back(n: int) -> str:
        try:
            await stock.transfer(
                actor=manager,
                lot_id=lot_id,
                from_location_id=other["id"],
                to_location_id=clinic.location_id,
                quantity=1,
                reason=f"b{n}",
            )
            return "ok"
        except Conflict as error:
            return error.code

    async def adjust(n: int) -> str:
        try:
            await stock.adjust(
                actor=manager,
                lot_id=lot_id,
                location_id=clinic.location_id,
                counted=None,
                delta=-1,
                reason=f"broken {n}",
            )
            return "ok"
        except Conflict as error:
            return error.code

    jobs = [transfer(n) for n in range(8)] + [transfer_back(n) for n in range(4)] + [adjust(n) for n in range(8)]
    outcomes = await asyncio.gather(*jobs)
    assert set(outcomes) <= {"ok", "insufficient_stock"}
    assert await ledger_matches_levels(lot_id) == []
    async with db.connection() as conn:
        levels = await conn.fetch("SELECT on_hand FROM stock_level WHERE lot = $1", lot_id)
        total = await conn.fetchval("SELECT sum(quantity) FROM stock_movement WHERE lot = $1", lot_id)
    assert all(level["on_hand"] >= 0 for level in levels)
    adjusted = sum(1 for outcome in outcomes[12:] if outcome == "ok")
    assert total == 15 - adjusted


async def scan_client(settings: Settings) -> httpx.AsyncClient:
    app = create_app(settings, manage_pool=False)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_fifty_concurrent_scans_of_the_last_ten_ampoules_record_fifty_uses(
    race_pool: None, settings: Settings, tokens: dict[str, str]
) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=10)
    headers = {"Authorization": f"Bearer {tokens['staff']}"}
    # Fifty uses of one barcode on one session within seconds: each confirms the repeat, as the chair would.
    async with await scan_client(settings) as http:
        responses = await asyncio.gather(
            *[
                http.post(
                    f"/api/sessions/{clinic.session['id']}/scans",
                    json={"barcode": clinic.code(), "repeat": True},
                    headers=headers,
                )
                for _ in range(50)
            ]
        )
    assert [r.status_code for r in responses] == [201] * 50, [r.text for r in responses if r.status_code != 201]
    async with db.connection() as conn:
        uses = await conn.fetchval("SELECT count(*) FROM usage WHERE lot = $1", clinic.lot["id"])
        on_hand = await conn.fetchval("SELECT on_hand FROM stock_level WHERE lot = $1", clinic.lot["id"])
    assert uses == 50
    assert on_hand == -40
    assert await ledger_matches_levels(clinic.lot["id"]) == []
    discrepancies = sum(1 for r in responses if "stock_discrepancy" in [w["code"] for w in r.json()["warnings"]])
    assert discrepancies == 40


async def test_same_idempotency_key_sent_twenty_times_at_once_records_one_use(
    race_pool: None, settings: Settings, tokens: dict[str, str]
) -> None:
    actors = await race_actors()
    clinic = await build(actors, on_hand=10)
    headers = {"Authorization": f"Bearer {tokens['staff']}", "Idempotency-Key": secrets.token_hex(8)}
    async with await scan_client(settings) as http:
        responses = await asyncio.gather(
            *[
                http.post(
                    f"/api/sessions/{clinic.session['id']}/scans", json={"barcode": clinic.code()}, headers=headers
                )
                for _ in range(20)
            ]
        )
    statuses = {r.status_code for r in responses}
    assert statuses <= {201, 409}, [r.text for r in responses]
    created = [r.json() for r in responses if r.status_code == 201]
    assert created and all(body == created[0] for body in created)
    assert all(r.json()["code"] == "idempotency_key_in_flight" for r in responses if r.status_code == 409)
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM usage WHERE session = $1", clinic.session["id"]) == 1
        assert await conn.fetchval("SELECT on_hand FROM stock_level WHERE lot = $1", clinic.lot["id"]) == 9


async def test_parallel_password_guesses_cannot_pass_the_limit_together(race_pool: None, settings: Settings) -> None:
    from inventory.domain.errors import TooManyRequests, Unauthorized
    from inventory.services import auth

    email = f"guess-{secrets.token_hex(4)}@clinic.test"
    await auth.create_user(actor=None, email=email, role="staff", password="the right password")

    async def guess(n: int) -> str:
        try:
            await auth.issue_token(settings=settings, email=email, password=f"wrong guess {n}")
        except Unauthorized:
            return "wrong"
        except TooManyRequests:
            return "limited"
        return "signed in"

    outcomes = await asyncio.gather(*[guess(n) for n in range(12)])
    assert outcomes.count("wrong") == settings.login_max_failures
    assert outcomes.count("limited") == 12 - settings.login_max_failures


async def test_two_identical_scans_at_the_same_instant_record_one_use_and_one_repeat_scan(
    race_pool: None, settings: Settings, tokens: dict[str, str]
) -> None:
    actors = await race_actors()
    headers = {"Authorization": f"Bearer {tokens['staff']}"}
    clinics = [await build(actors, on_hand=10) for _ in range(5)]
    async with await scan_client(settings) as http:
        for clinic in clinics:
            url = f"/api/sessions/{clinic.session['id']}/scans"
            pair = await asyncio.gather(
                http.post(url, json={"barcode": clinic.code()}, headers=headers),
                http.post(url, json={"barcode": clinic.code()}, headers=headers),
            )
            statuses = sorted(r.status_code for r in pair)
            assert statuses == [201, 409], [r.text for r in pair]
            created = next(r.json() for r in pair if r.status_code == 201)
            refused = next(r.json() for r in pair if r.status_code == 409)
            assert refused["code"] == "repeat_scan"
            assert refused["usage_id"] == created["usage_id"]
            async with db.connection() as conn:
                assert await conn.fetchval("SELECT count(*) FROM usage WHERE session = $1", clinic.session["id"]) == 1
                assert await conn.fetchval("SELECT on_hand FROM stock_level WHERE lot = $1", clinic.lot["id"]) == 9
