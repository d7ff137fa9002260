"""Units and containers: the allowed units, whole quantities for `each`, one open container per lot and location.

A container's remainder never goes below zero (the check refuses it even if a statement forgot its guard), and at most
one container of a lot is open at a location at a time (the unique index: two scans opening one at once cannot both).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T16:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unit and container constraints"

STATEMENTS = [
    "ALTER TABLE product ADD CONSTRAINT product_unit_ck CHECK (unit IN ('each', 'ml', 'U'))",
    "ALTER TABLE product ADD CONSTRAINT product_container_quantity_ck CHECK (container_quantity > 0"
    " AND (unit <> 'each' OR container_quantity = 1))",
    "ALTER TABLE product ADD CONSTRAINT product_in_use_hours_ck CHECK (in_use_hours IS NULL OR in_use_hours > 0)",
    "ALTER TABLE container ADD CONSTRAINT container_status_ck CHECK (status IN ('open', 'empty', 'disposed'))",
    "ALTER TABLE container ADD CONSTRAINT container_remaining_ck CHECK (remaining >= 0)",
    "CREATE UNIQUE INDEX container_one_open ON container (lot, location) WHERE status = 'open'",
    "CREATE INDEX container_open_at_location ON container (location, use_by) WHERE status = 'open'",
    "CREATE INDEX stock_movement_container_idx ON stock_movement (container) WHERE container IS NOT NULL",
]


class RawTable(Table):
    """A handle for running raw SQL in this migration."""


async def forwards() -> MigrationManager:
    """Add the constraints and indexes (raw SQL: no braces, Piccolo formats them)."""
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement).run()

    manager.add_raw(run)
    return manager
