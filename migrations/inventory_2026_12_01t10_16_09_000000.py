"""A period of a scheduled job is claimed once: unique per job, scope and local day."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T10:16:09:000000"
VERSION = "1.38.0"
DESCRIPTION = "scheduled_run: one claim per job, scope and day"


class RawTable(Table):
    """A handle for running raw SQL in this migration."""


async def forwards() -> MigrationManager:
    """The unique index a second claim of the same period runs into (and then does nothing)."""
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run() -> None:
        await RawTable.raw("CREATE UNIQUE INDEX scheduled_run_once ON scheduled_run (job, scope, day)").run()

    manager.add_raw(run)
    return manager
