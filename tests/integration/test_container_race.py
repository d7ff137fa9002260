"""Scans racing for the last doses of one opened vial, committing from several connections at once."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from inventory import db
from inventory.domain.errors import Conflict
from inventory.domain.models import Actor
from inventory.services import scanning
from tests.integration.test_concurrency import race_actors
from tests.support.vials import VialClinic, another_session, build_vials

pytestmark = pytest.mark.race


async def _scan(actor: Actor, session_id: int, clinic: VialClinic, quantity: int | Decimal) -> str:
    try:
        await scanning.record_use(
            actor=actor, session_id=session_id, barcode=clinic.code(), quantity=quantity, repeat=True
        )
        return "ok"
    except Conflict as error:
        return error.code


async def _container_and_ledger(lot_id: int) -> list[Any]:
    async with db.connection() as conn:
        return list(
            await conn.fetch(
                "SELECT c.id, c.status, c.remaining,"
                " p.container_quantity + coalesce((SELECT sum(m.quantity) FROM stock_movement m"
                " WHERE m.container = c.id), 0) AS ledger,"
                " (SELECT coalesce(sum(u.quantity), 0) FROM usage u WHERE u.container = c.id) AS used"
                " FROM container c JOIN product p ON p.id = c.product WHERE c.lot = $1 ORDER BY c.id",
                lot_id,
            )
        )


async def test_two_scans_for_the_last_ten_units_are_both_kept_only_if_they_fit(race_pool: None) -> None:
    actors = await race_actors()
    clinic = await build_vials(actors, unit="U", container_quantity=100, in_use_hours=24, vials=1)
    sessions = [clinic.session, *[await another_session(actors, clinic) for _ in range(3)]]
    staff = actors["staff"]
    assert await _scan(staff, sessions[0]["id"], clinic, 90) == "ok"  # 10 U left in the vial

    # 6 + 6 do not fit in 10: exactly one is recorded, the other refused with nothing written.
    outcomes = await asyncio.gather(*[_scan(staff, s["id"], clinic, 6) for s in sessions[1:3]])
    assert sorted(outcomes) == ["container_insufficient", "ok"]
    [vial] = await _container_and_ledger(clinic.lot["id"])
    assert vial["remaining"] == 4 and vial["ledger"] == 4 and vial["used"] == 96

    # 2 + 2 fit in 4: both are recorded and the vial is used up, never below zero.
    outcomes = await asyncio.gather(*[_scan(staff, s["id"], clinic, 2) for s in (sessions[1], sessions[3])])
    assert outcomes == ["ok", "ok"]
    [vial] = await _container_and_ledger(clinic.lot["id"])
    assert (vial["status"], vial["remaining"], vial["ledger"], vial["used"]) == ("empty", 0, 0, 100)


async def test_many_sessions_drawing_at_once_keep_the_vial_and_the_ledger_equal(race_pool: None) -> None:
    actors = await race_actors()
    clinic = await build_vials(actors, unit="ml", container_quantity=1, in_use_hours=24, vials=2)
    sessions = [clinic.session, *[await another_session(actors, clinic) for _ in range(5)]]
    # Six doses of 0.3 ml race for one 1 ml vial (the first opens it): three fit (0.1 ml is left), three are
    # refused as more than the vial holds. None opens a second vial and none is lost between the two books.
    outcomes = await asyncio.gather(*[_scan(actors["staff"], s["id"], clinic, Decimal("0.3")) for s in sessions])
    assert outcomes.count("ok") == 3 and outcomes.count("container_insufficient") == 3
    [vial] = await _container_and_ledger(clinic.lot["id"])
    assert (vial["remaining"], vial["ledger"], vial["used"]) == (Decimal("0.1"), Decimal("0.1"), Decimal("0.9"))
    async with db.connection() as conn:
        on_hand = await conn.fetchval("SELECT on_hand FROM stock_level WHERE lot = $1", clinic.lot["id"])
    assert on_hand == Decimal("1.1")
