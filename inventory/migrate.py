"""Applying Piccolo migrations from `migrations/` and the job queue's schema, and telling what is still pending."""

from __future__ import annotations

import contextlib
import io

from inventory.piccolo_app import MIGRATIONS_FOLDER

APP_NAME = "inventory"
JOB_QUEUE = "pgqueuer schema"  # how the job queue's schema shows among pending migrations


async def forwards(*, quiet: bool = False) -> None:
    """Apply every pending migration, then converge the job queue's schema; raises RuntimeError when one fails."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    sink = io.StringIO()
    with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
        result = await run_forwards(APP_NAME)
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}\n{sink.getvalue()}")
    from inventory import jobs

    await jobs.install_schema()


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
