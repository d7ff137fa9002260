"""Applying Piccolo migrations from `migrations/`, and telling which are still pending."""

from __future__ import annotations

import contextlib
import io

from inventory.piccolo_app import MIGRATIONS_FOLDER

APP_NAME = "inventory"


async def forwards(*, quiet: bool = False) -> None:
    """Apply every pending migration; raises RuntimeError when one fails."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    sink = io.StringIO()
    with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
        result = await run_forwards(APP_NAME)
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}\n{sink.getvalue()}")


async def pending() -> list[str]:
    """IDs of migrations not yet applied to the database."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.apps.migrations.tables import Migration

    manager = BaseMigrationManager()
    ids = manager.get_migration_ids(manager.get_migration_modules(str(MIGRATIONS_FOLDER)))
    if not await Migration.table_exists().run():
        return ids
    ran = await Migration.get_migrations_which_ran(app_name=APP_NAME)
    return sorted(set(ids) - set(ran))
