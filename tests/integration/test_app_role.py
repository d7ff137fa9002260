"""The service as the application role: everything serving needs works, rewriting the record does not.

`inventory migrate` (as the owner) granted this session's application role; here the engine's pool signs in as
that role on a database of this module's own (cloned from the migrated template, grants included), and the
real app and services commit through it: sign-in, receipts, scans, voids, recalls, alert refresh, purge and the
scheduled jobs. Then the same role tries to rewrite who received what, and PostgreSQL refuses.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from inventory import clock, db, jobs, migrate
from inventory.app import create_app
from inventory.config import Settings
from inventory.domain.models import Actor
from inventory.domain.schedule import PURGE, REFRESH, SERVICE_SCOPE, Period
from inventory.services import alert_refresh, clinical, erasure, maintenance
from tests.conftest import PASSWORD, SECRET, Databases
from tests.support import factories as f
from tests.support.clinic import build

pytestmark = pytest.mark.race

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
async def app_db(databases: Databases, pool: None) -> AsyncIterator[tuple[str, str]]:
    """(owner URL, app-role URL) of a fresh migrated database; the engine's pool signs in as the app role."""
    name = f"inventory_role_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(databases.admin)
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{databases.jobs_template}"')
    owner = urlunsplit(urlsplit(databases.admin)._replace(path=f"/{name}"))
    app_url = databases.as_app(owner)
    engine = db.get_engine()
    saved_pool, saved_config = engine.pool, engine.config
    engine.config = {"dsn": app_url}
    engine.pool = await asyncpg.create_pool(app_url, min_size=1, max_size=10, **db.pool_options())
    try:
        yield owner, app_url
    finally:
        await engine.pool.close()
        engine.pool, engine.config = saved_pool, saved_config
        clock.reset()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _actors() -> dict[str, Actor]:
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT id, email, role FROM app_user WHERE email LIKE '%@clinic.test'")
    by_email = {r["email"]: Actor(id=r["id"], role=r["role"], email=r["email"]) for r in rows}
    return {name: by_email[f"{name}@clinic.test"] for name in ("staff", "staff2", "manager", "admin")}


async def _sign_in(http: httpx.AsyncClient, role: str) -> dict[str, str]:
    response = await http.post("/api/auth/token", json={"email": f"{role}@clinic.test", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_the_app_role_is_plain_and_owns_nothing(app_db: tuple[str, str], databases: Databases) -> None:
    async with db.connection() as conn:
        who = await conn.fetchrow(
            "SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles"
            " WHERE rolname = current_user"
        )
        owned = await conn.fetchval(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        can_create = await conn.fetchval("SELECT has_schema_privilege('public', 'CREATE')")
    assert who["name"] == databases.app_role
    assert not (who["rolsuper"] or who["rolcreaterole"] or who["rolcreatedb"] or who["rolbypassrls"])
    assert owned == 0
    assert not can_create


async def test_every_table_is_classified_and_the_append_only_ones_grant_no_rewrite(app_db: tuple[str, str]) -> None:
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT tablename, has_table_privilege(tablename, 'SELECT') AS s, has_table_privilege(tablename, 'INSERT')"
            " AS i, has_table_privilege(tablename, 'UPDATE') AS u, has_table_privilege(tablename, 'DELETE') AS d,"
            " has_table_privilege(tablename, 'TRUNCATE') AS t, has_table_privilege(tablename, 'TRIGGER') AS tr,"
            " has_table_privilege(tablename, 'REFERENCES') AS r FROM pg_tables WHERE schemaname = 'public'"
        )
        void_columns = await conn.fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'usage'::regclass AND attnum > 0 AND NOT attisdropped"
            " AND has_column_privilege('usage', attname, 'UPDATE') ORDER BY attname"
        )
    grants = {r["tablename"]: r for r in rows}
    for table, got in grants.items():
        assert got["s"], table
        assert not (got["t"] or got["tr"] or got["r"]), table
        if table in migrate.READ_ONLY:
            assert not (got["i"] or got["u"] or got["d"]), table
            continue
        assert got["i"], table
        if table.startswith(migrate.JOB_QUEUE_PREFIX):
            assert got["u"] and got["d"], table
            continue
        assert got["u"] == (table in migrate.UPDATES), table
        assert got["d"] == (table in migrate.DELETES), table
    for table in migrate.APPEND_ONLY:
        assert not (grants[table]["u"] or grants[table]["d"] or grants[table]["t"]), table
    assert [r["attname"] for r in void_columns] == ["void_reason", "voided_at", "voided_by"]


async def test_serving_works_as_the_app_role(app_db: tuple[str, str], databases: Databases) -> None:
    """Sign-in, receipt, scans (idempotent), void, recall with contact, alert refresh, purge: all commit."""
    actors = await _actors()
    clinic = await build(actors, on_hand=2)
    await alert_refresh.refresh_all()  # no rule yet: nothing to open
    app = create_app(Settings(database_url=app_db[1], secret_key=SECRET), manage_pool=False)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        staff, manager = await _sign_in(http, "staff"), await _sign_in(http, "manager")
        wrong = await http.post("/api/auth/token", json={"email": "staff@clinic.test", "password": "not it at all"})
        assert wrong.status_code == 401

        lot_number = f.unique("R").replace(" ", "")
        line = {"product_id": clinic.product["id"], "lot_number": lot_number, "expiry_date": str(f.in_days(300))}
        received = await http.post(
            "/api/receipts",
            json={"location_id": clinic.location_id, "lines": [{**line, "quantity": 3}]},
            headers={**staff, "Idempotency-Key": secrets.token_hex(8)},
        )
        assert received.status_code == 201, received.text

        key = {**staff, "Idempotency-Key": secrets.token_hex(8)}
        url = f"/api/sessions/{clinic.session['id']}/scans"
        used = await http.post(url, json={"barcode": clinic.code()}, headers=key)
        assert used.status_code == 201, used.text
        replayed = await http.post(url, json={"barcode": clinic.code()}, headers=key)
        assert replayed.json()["usage_id"] == used.json()["usage_id"]
        # Beyond stock: the use is recorded with its stock_discrepancy warning in the one INSERT.
        over = await http.post(url, json={"barcode": clinic.code(), "quantity": 5, "repeat": True}, headers=staff)
        assert over.status_code == 201, over.text
        assert "stock_discrepancy" in [w["code"] for w in over.json()["warnings"]]

        voided = await http.post(
            f"/api/usages/{used.json()['usage_id']}/void", json={"reason": "wrong client"}, headers=staff
        )
        assert voided.status_code == 200, voided.text

        rule = await http.put(
            f"/api/locations/{clinic.location_id}/rules/{clinic.product['id']}",
            json={"reorder_point": 50, "par_level": 80, "lead_time_days": 3},
            headers=manager,
        )
        assert rule.status_code in (200, 201), rule.text

        case = await http.post(
            "/api/recalls", json={"lot_ids": [clinic.lot["id"]], "reason": "Manufacturer notice"}, headers=manager
        )
        assert case.status_code == 201, case.text
        contacted = await http.patch(
            f"/api/recalls/{case.json()['id']}/clients/{clinic.client['id']}",
            json={"contact_status": "contacted", "note": "phoned"},
            headers=manager,
        )
        assert contacted.status_code == 200, contacted.text
        closed = await http.post(f"/api/recalls/{case.json()['id']}/close", headers=manager)
        assert closed.status_code == 200, closed.text
        signed_out = await http.post("/api/auth/logout", headers=staff)
        assert signed_out.status_code in (200, 204), signed_out.text

    await alert_refresh.refresh_all()
    assert set(await maintenance.purge()) == {"idempotency_keys", "login_attempts", "revoked_tokens", "job_periods"}
    async with db.connection() as conn:
        [stored] = await conn.fetch("SELECT warnings FROM usage WHERE id = $1", over.json()["usage_id"])
        assert "stock_discrepancy" in [w["code"] for w in stored["warnings"]]
        assert await conn.fetchval("SELECT voided_at IS NOT NULL FROM usage WHERE id = $1", used.json()["usage_id"])


async def test_the_scheduled_jobs_run_as_the_app_role(app_db: tuple[str, str]) -> None:
    location = await f.location((await _actors())["manager"])
    day = clock.now().astimezone(PARIS).date() + timedelta(days=2)
    clock.reset()
    clock.shift(datetime.combine(day, time(3, 0), tzinfo=PARIS) - clock.now())
    worker = jobs.Jobs(Settings(database_url=app_db[1], secret_key=SECRET, webhook_url=None))
    claimed = set(await worker.tick())
    assert {Period(REFRESH, location["id"], day), Period(PURGE, SERVICE_SCOPE, day)} <= claimed
    await worker.drain()
    async with db.connection() as conn:
        outcomes = await conn.fetch("SELECT job, finished_at FROM scheduled_run WHERE day = $1", day)
    assert outcomes and all(r["finished_at"] is not None for r in outcomes)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE usage SET client = client WHERE true",
        "UPDATE usage SET warnings = '[]' WHERE true",
        "DELETE FROM usage",
        "TRUNCATE usage CASCADE",
        "UPDATE stock_movement SET quantity = 0 WHERE true",
        "DELETE FROM stock_movement",
        "TRUNCATE stock_movement CASCADE",
        "UPDATE audit_event SET action = 'tampered' WHERE true",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event CASCADE",
        "ALTER TABLE usage DISABLE TRIGGER usage_append_only",
        "ALTER TABLE stock_movement DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_event_append_only ON audit_event",
        "CREATE TRIGGER sneaky BEFORE INSERT ON usage FOR EACH ROW EXECUTE FUNCTION refuse_change()",
        "SET session_replication_role = replica",
        "CREATE TABLE shadow (id int)",
        "DELETE FROM migration",
        "ALTER TABLE usage ALTER COLUMN client DROP NOT NULL",
        "ALTER TABLE stock_movement OWNER TO CURRENT_USER",
    ],
)
async def test_the_app_role_cannot_rewrite_the_record(app_db: tuple[str, str], statement: str) -> None:
    async with db.connection() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)


async def test_the_owner_may_only_void_a_usage_too(app_db: tuple[str, str]) -> None:
    """The trigger behind the privileges: even the owner cannot change who received what, or delete a use."""
    actors = await _actors()
    clinic = await build(actors, on_hand=2)
    from inventory.services import scanning

    used = await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    owner = await asyncpg.connect(app_db[0])
    try:
        for statement in (
            "UPDATE usage SET client = client + 0, quantity = quantity + 1 WHERE id = $1",
            """UPDATE usage SET warnings = '[{"code": "erased"}]' WHERE id = $1""",
            "DELETE FROM usage WHERE id = $1",
        ):
            with pytest.raises(asyncpg.RestrictViolationError):
                await owner.execute(statement, used["usage_id"])
        with pytest.raises(asyncpg.RestrictViolationError):
            await owner.execute("TRUNCATE usage CASCADE")
        await owner.execute(
            "UPDATE usage SET voided_at = now(), voided_by = used_by, void_reason = 'x' WHERE id = $1",
            used["usage_id"],
        )
        with pytest.raises(asyncpg.RestrictViolationError):  # once voided, never un-voided or re-voided
            await owner.execute("UPDATE usage SET voided_at = NULL WHERE id = $1", used["usage_id"])
    finally:
        await owner.close()


@pytest.mark.parametrize(
    "change",
    [
        "lot_number = lot_number || 'X'",
        "expiry_date = expiry_date + 1",
        "created_at = created_at + interval '1 second'",
        "lot_key = 'x'",
    ],
)
async def test_no_role_rewrites_what_identifies_a_lot(app_db: tuple[str, str], change: str) -> None:
    """The app role may change a lot's status, never its number, expiry or product (the owner neither)."""
    actors = await _actors()
    clinic = await build(actors, on_hand=1)
    lot_id = clinic.lot["id"]
    async with db.connection() as conn:
        await conn.execute("UPDATE lot SET status = 'quarantined', not_received = false WHERE id = $1", lot_id)
        with pytest.raises(asyncpg.RestrictViolationError):
            await conn.execute(f"UPDATE lot SET {change} WHERE id = $1", lot_id)
    owner = await asyncpg.connect(app_db[0])
    try:
        with pytest.raises(asyncpg.RestrictViolationError):
            await owner.execute(f"UPDATE lot SET {change} WHERE id = $1", lot_id)
    finally:
        await owner.close()


async def test_migrate_again_keeps_the_grants_exact(app_db: tuple[str, str], databases: Databases) -> None:
    """A privilege granted by hand is taken back by the next migrate; the role's own grants come back."""
    owner = await asyncpg.connect(app_db[0])
    try:
        await owner.execute(f'GRANT UPDATE, DELETE ON stock_movement TO "{databases.app_role}"')
        engine = db.get_engine()
        saved = engine.config
        engine.config = {"dsn": app_db[0]}
        try:
            await migrate.grant_app_role(role=databases.app_role)
        finally:
            engine.config = saved
        changed = await owner.fetchval(
            "SELECT has_table_privilege($1, 'stock_movement', 'UPDATE') OR has_table_privilege($1, 'stock_movement',"
            " 'DELETE')",
            databases.app_role,
        )
        assert not changed
        assert await owner.fetchval("SELECT has_table_privilege($1, 'lot', 'UPDATE')", databases.app_role)
    finally:
        await owner.close()


async def test_migrate_refuses_a_superuser_or_the_owner_as_app_role(app_db: tuple[str, str]) -> None:
    engine = db.get_engine()
    saved = engine.config
    engine.config = {"dsn": app_db[0]}
    try:
        with pytest.raises(RuntimeError, match="migrates"):
            await migrate.grant_app_role(role="postgres")
    finally:
        engine.config = saved


async def test_a_clients_allergies_change_and_erasure_run_as_the_app_role_and_nothing_else_of_the_client_changes(
    app_db: tuple[str, str],
) -> None:
    actors = await _actors()
    client = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Ana"), allergies=["Latex"])
    changed = await clinical.change_allergies(
        actor=actors["staff"], client_id=client["id"], add=["Lidocaine"], remove=["latex"]
    )
    assert changed["allergies"] == ["Lidocaine"]
    erased = await erasure.erase_client(actor=actors["admin"], client_id=client["id"], reason="asked", secret=SECRET)
    assert erased["full_name"].startswith("Erased client ") and erased["allergies"] == []
    async with db.connection() as conn:
        for statement in (
            "UPDATE client SET sex = 'other' WHERE id = $1",
            "UPDATE client SET created_at = created_at WHERE id = $1",
            "UPDATE client SET id = id WHERE id = $1",
            "DELETE FROM client WHERE id = $1",
            "DELETE FROM usage WHERE client = $1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement, client["id"])
