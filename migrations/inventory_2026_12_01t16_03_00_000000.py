"""Protocols: names unique ignoring case, one line per product, positive quantities."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T16:03:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "protocol constraints"

STATEMENTS = [
    "CREATE UNIQUE INDEX protocol_name_once ON protocol (lower(name))",
    "CREATE UNIQUE INDEX protocol_item_product_once ON protocol_item (protocol, product)",
    "ALTER TABLE protocol_item ADD CONSTRAINT protocol_item_quantity_ck CHECK (quantity > 0)",
]


class RawTable(Table):
    """A handle for running raw SQL in this migration."""


async def forwards() -> MigrationManager:
    """Add the indexes and the check (raw SQL: no braces, Piccolo formats them)."""
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement).run()

    manager.add_raw(run)
    return manager
