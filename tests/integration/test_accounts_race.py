"""Two admins demoting each other at the same moment: the row locks leave exactly one of them an admin."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from inventory import db
from inventory.domain.errors import InventoryError
from inventory.domain.models import Actor
from inventory.services import auth
from inventory.store import users

pytestmark = pytest.mark.race


async def test_admins_demoting_each_other_at_once_leave_one_admin(race_pool: None) -> None:
    password_hash = await auth.hash_password("ampoule fridge seventeen")
    async with db.transaction() as conn:
        made = [
            await users.create(
                conn,
                email=f"mutual-{secrets.token_hex(4)}@clinic.test",
                full_name="",
                password_hash=password_hash,
                role="admin",
            )
            for _ in range(2)
        ]
    first, second = (Actor(id=u.id, role="admin", email=u.email) for u in made)

    async def demote(actor: Actor, target: Actor) -> str:
        try:
            await auth.update_user(actor=actor, user_id=target.id, role="staff", active=None)
            return "ok"
        except InventoryError as error:
            return error.code

    outcomes = await asyncio.gather(demote(first, second), demote(second, first))
    assert sorted(outcomes) == ["forbidden", "ok"]
    async with db.connection() as conn:
        roles = {
            r["id"]: r["role"]
            for r in await conn.fetch("SELECT id, role FROM app_user WHERE id = ANY($1)", [first.id, second.id])
        }
    assert sorted(roles.values()) == ["admin", "staff"]
