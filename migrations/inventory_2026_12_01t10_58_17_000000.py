"""An index for the per-address sign-in limit (raw SQL: Piccolo runs raw steps before added columns)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T10:58:17:000000"
VERSION = "1.38.0"
DESCRIPTION = "login attempt client index"


class RawTable(Table):
    """A handle for running raw SQL in this migration."""


async def forwards() -> MigrationManager:
    """Create the index."""
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run() -> None:
        await RawTable.raw("CREATE INDEX login_attempt_client_time ON login_attempt (client, attempted_at)").run()

    manager.add_raw(run)
    return manager
