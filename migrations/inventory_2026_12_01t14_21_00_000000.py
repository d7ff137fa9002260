"""stocktake: one open count per location, positive counts, and counts that are never changed or deleted."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T14:21:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "stocktake: constraints, one open per location, append-only counts"

STATEMENTS = [
    "ALTER TABLE stocktake ADD CONSTRAINT stocktake_status_ck CHECK (status IN ('open', 'approved', 'cancelled'))",
    "CREATE UNIQUE INDEX stocktake_one_open ON stocktake (location) WHERE status = 'open'",
    "ALTER TABLE stocktake_count ADD CONSTRAINT stocktake_count_quantity_ck CHECK (quantity > 0)",
    # a count names a known lot, or keeps what the code said of a lot the system does not know
    "ALTER TABLE stocktake_count ADD CONSTRAINT stocktake_count_lot_ck"
    " CHECK (lot IS NOT NULL OR lot_number IS NOT NULL)",
    "CREATE INDEX stocktake_count_lot ON stocktake_count (stocktake, lot, id)",
    "CREATE TRIGGER stocktake_count_append_only BEFORE UPDATE OR DELETE ON stocktake_count "
    "FOR EACH ROW EXECUTE FUNCTION refuse_change()",
    "CREATE TRIGGER stocktake_count_no_truncate BEFORE TRUNCATE ON stocktake_count "
    "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()",
]


class RawTable(Table):
    """A handle for running raw SQL in this migration."""


async def forwards() -> MigrationManager:
    """Apply the constraints, index and triggers (raw SQL: no braces, Piccolo formats them)."""
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement).run()

    manager.add_raw(run)
    return manager
