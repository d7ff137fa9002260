"""The units migration on a database holding data from before it: every product becomes each, 1, single use, and
every quantity survives exactly as the numeric it now is."""

from __future__ import annotations

import contextlib
import io
import secrets
from decimal import Decimal

import asyncpg
import pytest

from inventory import db
from tests.conftest import Databases, _with_database

pytestmark = pytest.mark.race

BEFORE_UNITS = "2026-12-01T14:31:00:000000"

_OLD_DATA = [
    "INSERT INTO app_user (email, full_name, password_hash, role, active, created_at)"
    " VALUES ('m@x.test', 'M', 'x', 'manager', true, now())",
    "INSERT INTO brand (name, created_at) VALUES ('Filorga', now())",
    "INSERT INTO product (brand, name, ingredients, storage, active, created_at)"
    " VALUES (1, 'NCTF 135', ARRAY['Hyaluronic acid'], 'room', true, now())",
    "INSERT INTO location (name, timezone, created_at) VALUES ('Room 1', 'Europe/Paris', now())",
    "INSERT INTO lot (product, lot_number, lot_key, similar_key, expiry_date, status, not_received, created_at)"
    " VALUES (1, 'L1', 'L1', 'L1', '2027-03-01', 'active', false, now())",
    "INSERT INTO stock_level (lot, location, on_hand, updated_at) VALUES (1, 1, 7, now())",
    "INSERT INTO stock_movement (lot, location, quantity, kind, created_at) VALUES (1, 1, 9, 'receive', now())",
    "INSERT INTO stock_movement (lot, location, quantity, kind, created_at) VALUES (1, 1, -2, 'dispose', now())",
    "INSERT INTO stock_rule (product, location, reorder_point, par_level, lead_time_days, updated_at)"
    " VALUES (1, 1, 3, 12, 2, now())",
]


async def _forwards(migration_id: str) -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    with contextlib.redirect_stdout(io.StringIO()):
        result = await run_forwards("inventory", migration_id=migration_id)
    assert result.success, result.message


async def test_existing_products_and_quantities_move_to_units_without_loss(databases: Databases) -> None:
    name = f"inventory_units_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(databases.admin)
    engine = db.get_engine()
    saved_pool, saved_config = engine.pool, engine.config
    url = _with_database(databases.admin, name)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        engine.pool = None  # Piccolo's migrations must run on the new database, not on the tests' pool
        db.configure(url)
        await _forwards(BEFORE_UNITS)
        old = await asyncpg.connect(url)
        try:
            for statement in _OLD_DATA:
                await old.execute(statement)
        finally:
            await old.close()
        await _forwards("all")
        new = await asyncpg.connect(url)
        try:
            product = await new.fetchrow("SELECT unit, container_quantity, in_use_hours FROM product WHERE id = 1")
            assert product is not None
            assert (product["unit"], product["container_quantity"], product["in_use_hours"]) == (
                "each",
                Decimal("1.00"),
                None,
            )
            assert await new.fetchval("SELECT on_hand FROM stock_level") == Decimal("7.00")
            assert await new.fetchval("SELECT sum(quantity) FROM stock_movement") == Decimal("7.00")
            rule = await new.fetchrow("SELECT reorder_point, par_level FROM stock_rule")
            assert rule is not None and (rule["reorder_point"], rule["par_level"]) == (Decimal(3), Decimal(12))
            kinds = await new.fetch(
                "SELECT column_name, data_type, numeric_scale FROM information_schema.columns"
                " WHERE table_name IN ('stock_level', 'stock_movement', 'usage', 'receipt_line')"
                " AND column_name IN ('on_hand', 'quantity')"
            )
            assert {(k["data_type"], k["numeric_scale"]) for k in kinds} == {("numeric", 2)}
        finally:
            await new.close()
    finally:
        engine.pool, engine.config = saved_pool, saved_config
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
