"""Receiving against a concurrent commit, on the race database: the set-based lot upsert's second read."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

import pytest

from inventory import clock, db
from inventory.domain.models import Actor
from inventory.services import receiving
from tests.integration.test_concurrency import ledger_matches_levels, race_actors
from tests.support.clinic import build
from tests.support.db import wait_until_blocked_by

pytestmark = pytest.mark.race


async def test_a_lot_committed_by_another_transaction_while_the_receipt_waited_is_received_into(
    race_pool: None,
) -> None:
    actors: dict[str, Actor] = await race_actors()
    clinic = await build(actors, on_hand=1)
    number = f"RACE{secrets.token_hex(3)}".upper()
    expiry = clock.today() + timedelta(days=100)
    async with db.connection() as other:
        blocker = other.transaction()
        await blocker.start()
        # The other transaction has the lot's unique-index entry, uncommitted: the receipt's upsert must wait.
        lot_id = await other.fetchval(
            "INSERT INTO lot (product, lot_number, lot_key, similar_key, expiry_date, status, not_received,"
            " created_at) VALUES ($1, $2, $2, $2, $3, 'active', true, now()) RETURNING id",
            clinic.product["id"],
            number,
            expiry,
        )
        receipt = asyncio.create_task(
            receiving.receive(
                actor=actors["staff"],
                location_id=clinic.location_id,
                supplier=None,
                reference=None,
                lines=[
                    receiving.LineIn(
                        quantity=2, product_id=clinic.product["id"], lot_number=number, expiry_date=expiry
                    ),
                    receiving.LineIn(
                        quantity=3, product_id=clinic.product["id"], lot_number="OTHER-" + number, expiry_date=expiry
                    ),
                ],
            )
        )
        await wait_until_blocked_by(other)
        assert not receipt.done()
        await blocker.commit()
    result = await asyncio.wait_for(receipt, timeout=10)
    first, second = result["lines"]
    assert (first["lot"]["id"], first["lot_created"], first["on_hand"]) == (lot_id, False, 2)
    assert first["lot"]["not_received"] is False
    assert (second["lot_created"], second["on_hand"]) == (True, 3)
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT not_received FROM lot WHERE id = $1", lot_id) is False
    assert await ledger_matches_levels(lot_id) == []
