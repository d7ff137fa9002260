"""Purchasing: the unique keys and checks Piccolo's column types cannot express (raw SQL after the tables exist)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T14:11:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "purchasing: unique keys and checks"

STATEMENTS = [
    "CREATE UNIQUE INDEX supplier_name_unique ON supplier (lower(name))",
    "ALTER TABLE supplier_product ADD CONSTRAINT supplier_product_unique UNIQUE (supplier, product)",
    "ALTER TABLE supplier_product ADD CONSTRAINT supplier_product_pack_units CHECK (pack_units >= 1)",
    "ALTER TABLE supplier_product ADD CONSTRAINT supplier_product_lead_time CHECK (lead_time_days BETWEEN 0 AND 365)",
    "ALTER TABLE supplier_product ADD CONSTRAINT supplier_product_pack_gtin"
    " CHECK (pack_gtin IS NULL OR (pack_gtin ~ '^[0-9]+$' AND length(pack_gtin) = 14))",
    "ALTER TABLE purchase_order ADD CONSTRAINT purchase_order_status"
    " CHECK (status IN ('draft', 'sent', 'partially_received', 'received', 'cancelled'))",
    # One draft per supplier and location: from-alerts adds to it rather than opening a second.
    "CREATE UNIQUE INDEX purchase_order_one_draft ON purchase_order (supplier, location) WHERE status = 'draft'",
    # What is on order at a location: the reorder arithmetic reads it on every stock change.
    "CREATE INDEX purchase_order_open ON purchase_order (location)"
    " WHERE status IN ('draft', 'sent', 'partially_received')",
    "ALTER TABLE purchase_order_line ADD CONSTRAINT purchase_order_line_unique UNIQUE (purchase_order, product)",
    # quantity 0: a product delivered against the order that it did not name (an over-delivery).
    "ALTER TABLE purchase_order_line ADD CONSTRAINT purchase_order_line_quantity CHECK (quantity >= 0)",
    "ALTER TABLE purchase_order_line ADD CONSTRAINT purchase_order_line_received CHECK (received >= 0)",
]


class RawTable(Table):
    """A handle for running raw SQL in this migration."""


async def forwards() -> MigrationManager:
    """Add the keys and checks (raw SQL: no braces, Piccolo formats them)."""
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement).run()

    manager.add_raw(run)
    return manager
