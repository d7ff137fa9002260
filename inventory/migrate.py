"""Applying Piccolo migrations and the job queue's schema, granting the application role, telling what is pending."""

from __future__ import annotations

import contextlib
import io
import os
import re

import asyncpg

from inventory.piccolo_app import MIGRATIONS_FOLDER

APP_NAME = "inventory"
JOB_QUEUE = "pgqueuer schema"  # how the job queue's schema shows among pending migrations


async def forwards(*, quiet: bool = False, app_role: str | None = None, app_password: str | None = None) -> str:
    """Apply every pending migration, converge the job queue's schema, then grant the application role.

    Runs as the owner of the tables. Returns the application role's name; raises RuntimeError when a migration
    fails or the role cannot be granted safely (see `grant_app_role`).
    """
    from piccolo.apps.migrations.commands.forwards import run_forwards

    sink = io.StringIO()
    with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
        result = await run_forwards(APP_NAME)
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}\n{sink.getvalue()}")
    from inventory import jobs

    await jobs.install_schema()
    return await grant_app_role(role=app_role, password=app_password)


async def pending() -> list[str]:
    """IDs of migrations not yet applied to the database (and the job queue's schema, when it is behind)."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.apps.migrations.tables import Migration

    from inventory import jobs

    manager = BaseMigrationManager()
    ids = manager.get_migration_ids(manager.get_migration_modules(str(MIGRATIONS_FOLDER)))
    queue = [] if await jobs.schema_is_current() else [JOB_QUEUE]
    if not await Migration.table_exists().run():
        return ids + queue
    ran = await Migration.get_migrations_which_ran(app_name=APP_NAME)
    return sorted(set(ids) - set(ran)) + queue


# ---------------------------------------------------------------- the application role

DEFAULT_APP_ROLE = "inventory_app"
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# Every table the service may read and append to gets SELECT and INSERT; UPDATE and DELETE only where a statement
# of the service needs them (each reason names the statement). The service's own table locks count: SELECT ... FOR
# UPDATE/SHARE needs UPDATE on a column, LOCK TABLE ... EXCLUSIVE needs table-level UPDATE.
UPDATES: dict[str, str] = {
    "app_user": "role, active, password and tokens_valid_after changes (store/users.py); FOR UPDATE on admins",
    "login_attempt": "a failed attempt is marked succeeded once the password checks (store/users.py)",
    "idempotency_record": "the reserved key gets its response (store/idempotency.py)",
    "location": "rename and time zone (store/catalog.py); FOR UPDATE",
    "stock_rule": "the rule upsert (store/catalog.py); FOR NO KEY UPDATE serialises alert evaluation",
    "lot": "status (quarantine, recall, release) and not_received (store/lots.py, store/trace.py); "
    "LOCK TABLE lot IN EXCLUSIVE MODE (recalls) needs table-level UPDATE",
    "stock_level": "on-hand changes, always with their ledger row (store/stock.py)",
    "treatment_session": "close and reopen (store/clinical.py); FOR NO KEY UPDATE for one scan at once",
    "reorder_alert": "resolve, refresh details, acknowledge and undo it (store/alerts.py)",
    "recall": "close a case (store/trace.py)",
    "recall_client": "contact status and note (store/trace.py)",
    "notification_delivery": "status, attempts and last error of a webhook delivery (store/alerts.py)",
    "scheduled_run": "the queued job id and the outcome of a claimed period (store/jobs.py)",
    "supplier_product": "the pack, lead time and reference upsert (store/purchasing.py)",
    "purchase_order": "send, cancel and the status a receipt gives (store/purchasing.py); FOR UPDATE",
    "purchase_order_line": "a draft's quantities, from-alerts adding to a draft, received units (store/purchasing.py)",
    "stocktake": "approve or cancel (store/stocktakes.py); FOR SHARE by each count, FOR UPDATE by approve/cancel",
}
DELETES: dict[str, str] = {
    "login_attempt": "the purge forgets attempts older than 30 days (store/users.py)",
    "revoked_token": "the purge forgets revocations of expired tokens (store/users.py)",
    "idempotency_record": "an abandoned reservation is dropped; the purge forgets old keys (store/idempotency.py)",
    "scheduled_run": "the purge forgets old claims (store/jobs.py)",
    "purchase_order_line": "a draft's line is removed by setting it to 0 (store/purchasing.py); sent lines stay",
}
# UPDATE column by column where only some columns may change. usage is the traceability record: the only change is
# a void (the trigger usage_append_only refuses any other, even from the owner).
COLUMN_UPDATES: dict[str, tuple[str, ...]] = {
    "usage": ("voided_at", "voided_by", "void_reason"),
    # Allergies are added and removed; erasure replaces the name by the pseudonym and drops contacts, birth date
    # and allergies (store/clinical.py); FOR UPDATE. Never the id, sex or creation time.
    "client": ("allergies", "full_name", "email", "phone", "date_of_birth", "erased_at"),
    # An opened container's remainder changes only with its ledger rows (a dose, a void, a disposal), and it is
    # emptied or disposed (store/containers.py, store/usages.py); what it is, where and since when never change.
    "container": ("remaining", "status", "closed_at"),
    # A manager marks a product as an implant or not (store/catalog.py); FOR UPDATE. Nothing else of it changes.
    "product": ("implant",),
}
# Never UPDATE, DELETE or TRUNCATE: the ledger, the audit log, the traceability record, reactions with their lots
# and follow-ups, stocktake counts, supplier returns.
APPEND_ONLY = (
    "stock_movement",
    "audit_event",
    "usage",
    "reaction",
    "reaction_lot",
    "reaction_follow_up",
    "stocktake_count",
    "supplier_return",
)
# Piccolo's bookkeeping: serving only reads it, to refuse an unmigrated database.
READ_ONLY = ("migration",)
# pgqueuer's tables: the queue takes, finishes (deletes) and logs jobs, keeps statistics and its cron schedule.
JOB_QUEUE_PREFIX = "pgqueuer"


def app_role() -> str:
    """The application role's name: INVENTORY_APP_ROLE, or inventory_app; raises RuntimeError on a bad name."""
    name = os.environ.get("INVENTORY_APP_ROLE", "").strip() or DEFAULT_APP_ROLE
    if not _ROLE_NAME.fullmatch(name):
        raise RuntimeError(f"INVENTORY_APP_ROLE={name!r}: use lower-case letters, digits and _ (at most 63)")
    return name


def table_privileges(table: str) -> list[str]:
    """The GRANT clauses the application role gets on one table of the public schema."""
    if table in READ_ONLY:
        return ["SELECT"]
    if table.startswith(JOB_QUEUE_PREFIX):
        return ["SELECT, INSERT, UPDATE, DELETE"]
    clauses = ["SELECT, INSERT"]
    if table in UPDATES:
        clauses.append("UPDATE")
    if table in DELETES:
        clauses.append("DELETE")
    if table in COLUMN_UPDATES:
        clauses.append(f"UPDATE ({', '.join(COLUMN_UPDATES[table])})")
    return clauses


async def grant_app_role(*, role: str | None = None, password: str | None = None) -> str:
    """Create the application role if it is missing and grant it exactly what serving needs; returns its name.

    Idempotent, and exact: everything the role held on tables and sequences is revoked and granted again in one
    transaction, so a table added since gets its grants and a privilege removed here is removed there. With a
    password (INVENTORY_APP_PASSWORD) the role can log in with it. Raises RuntimeError when the role is unsafe
    (a superuser, the owner, or a member of it) or cannot be created by the migrating role.
    """
    from inventory import db

    role = role or app_role()
    password = password if password is not None else (os.environ.get("INVENTORY_APP_PASSWORD") or None)
    conn: asyncpg.Connection = await asyncpg.connect(**db.get_engine().config)
    try:
        async with conn.transaction():
            owner = await conn.fetchval("SELECT current_user")
            if role == owner:
                raise RuntimeError(
                    f"INVENTORY_APP_ROLE={role} is the role that migrates (and owns the tables); "
                    "name another role for the service"
                )
            await _ensure_role(conn, role, password)
            found = await conn.fetchrow(
                "SELECT rolsuper, rolbypassrls, pg_has_role($1, current_user, 'USAGE') AS member FROM pg_roles"
                " WHERE rolname = $1",
                role,
            )
            if found["rolsuper"] or found["rolbypassrls"] or found["member"]:
                raise RuntimeError(
                    f"role {role} is a superuser, bypasses row security or is a member of {owner}: "
                    "it could rewrite the traceability record; give the service a plain role"
                )
            owned = await conn.fetch(
                "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = $1)",
                role,
            )
            if owned:
                raise RuntimeError(f"role {role} owns {', '.join(r['relname'] for r in owned)}: reassign them first")
            quoted = _quote(role)
            database = _quote(await conn.fetchval("SELECT current_database()"))
            tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            statements = [
                f"GRANT CONNECT ON DATABASE {database} TO {quoted}",
                f"GRANT USAGE ON SCHEMA public TO {quoted}",
                f"REVOKE CREATE ON SCHEMA public FROM {quoted}",
                f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
                f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quoted}",
                f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
                # Tables and sequences this role creates later (outside `inventory migrate`) are readable and
                # appendable by the service at once; the next migrate makes them exact.
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO {quoted}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {quoted}",
            ]
            for row in tables:
                table = _quote(row["tablename"])
                statements += [
                    f"GRANT {clause} ON {table} TO {quoted}" for clause in table_privileges(row["tablename"])
                ]
            for statement in statements:
                await conn.execute(statement)
            if await conn.fetchval("SELECT has_schema_privilege($1, 'public', 'CREATE')", role):
                # A schema from before PostgreSQL 15 lets PUBLIC create in it: the role must not add objects.
                await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    finally:
        await conn.close()
    return role


async def _ensure_role(conn: asyncpg.Connection, role: str, password: str | None) -> None:
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    login = "LOGIN PASSWORD " + _literal(password) if password else None
    try:
        async with conn.transaction():  # a savepoint: a concurrent CREATE ROLE must not abort the grants
            if not exists:
                await conn.execute(f"CREATE ROLE {_quote(role)} {login or 'NOLOGIN'}")
            elif login:
                await conn.execute(f"ALTER ROLE {_quote(role)} {login}")
    except asyncpg.InsufficientPrivilegeError as error:
        raise RuntimeError(
            f"the migrating role may not {'set the password of' if exists else 'create'} role {role} ({error}); "
            f"as a database administrator run: CREATE ROLE {role} LOGIN PASSWORD '…'; "
            "then `inventory migrate` again (without INVENTORY_APP_PASSWORD)"
        ) from error
    except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
        pass  # another migrate (of another database on this server) created it a moment ago


async def serving_role() -> tuple[str, str | None]:
    """The role the engine connects as, and why it should not serve (a superuser, or the tables' owner), if so."""
    from inventory import db

    conn: asyncpg.Connection = await asyncpg.connect(**db.get_engine().config)
    try:
        row = await conn.fetchrow(
            "SELECT current_user AS name, r.rolsuper AS superuser, EXISTS (SELECT 1 FROM pg_tables"
            " WHERE schemaname = 'public' AND tablename = 'usage' AND pg_has_role(tableowner, 'USAGE')) AS owner"
            " FROM pg_roles r WHERE r.rolname = current_user"
        )
    finally:
        await conn.close()
    name: str = row["name"]
    if row["superuser"] or row["owner"]:
        what = "a superuser" if row["superuser"] else "the tables' owner"
        return name, (
            f"{name} is {what}: it can switch off the append-only triggers and rewrite the traceability record."
            f" Serve as the application role ({app_role()}, granted by `inventory migrate`) instead."
        )
    return name, None


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
