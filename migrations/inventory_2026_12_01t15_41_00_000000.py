"""Supplier returns: the ledger's `return` kind, the fixed reasons, the append-only guard.

A return is a record like the ledger row it explains: the refuse_change trigger (from the first constraints
migration) refuses UPDATE, DELETE and TRUNCATE for every role, the owner included.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T15:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "supplier return constraints, ledger kind and append-only triggers"

STATEMENTS = [
    "ALTER TABLE stock_movement DROP CONSTRAINT stock_movement_kind_ck",
    "ALTER TABLE stock_movement ADD CONSTRAINT stock_movement_kind_ck CHECK "
    "(kind IN ('receive', 'use', 'void', 'transfer', 'adjust', 'dispose', 'quarantine', 'release', 'return'))",
    "ALTER TABLE supplier_return ADD CONSTRAINT supplier_return_reason_ck CHECK"
    " (reason IN ('recalled', 'damaged', 'expired', 'other'))",
    "ALTER TABLE supplier_return ADD CONSTRAINT supplier_return_quantity_ck CHECK (quantity > 0)",
    "ALTER TABLE supplier_return ADD CONSTRAINT supplier_return_note_ck CHECK (note IS NULL OR length(note) <= 500)",
    "CREATE INDEX supplier_return_supplier_idx ON supplier_return (supplier)",
    "CREATE TRIGGER supplier_return_append_only BEFORE UPDATE OR DELETE ON supplier_return "
    "FOR EACH ROW EXECUTE FUNCTION refuse_change()",
    "CREATE TRIGGER supplier_return_no_truncate BEFORE TRUNCATE ON supplier_return "
    "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()",
]


class RawTable(Table):
    """A handle for running raw SQL in this migration."""


async def forwards() -> MigrationManager:
    """Add the constraints and triggers (raw SQL: no braces, Piccolo formats them)."""
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement).run()

    manager.add_raw(run)
    return manager
