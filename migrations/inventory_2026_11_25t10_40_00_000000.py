"""Constraints, indexes and append-only triggers that Piccolo's column types cannot express."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-25T10:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "constraints, indexes and append-only triggers"

STATEMENTS = [
    # catalog: names unique ignoring case; GTINs stored as 14 digits
    "CREATE UNIQUE INDEX brand_name_ci ON brand (lower(name))",
    "CREATE UNIQUE INDEX product_brand_name_ci ON product (brand, lower(name))",
    "ALTER TABLE product ADD CONSTRAINT product_storage_ck CHECK (storage IN ('room', 'fridge'))",
    "ALTER TABLE product_gtin ADD CONSTRAINT product_gtin_digits_ck CHECK (length(gtin) = 14 AND gtin ~ '^[0-9]+$')",
    "ALTER TABLE product_gtin ADD CONSTRAINT product_gtin_units_ck CHECK (units > 0)",
    "CREATE UNIQUE INDEX location_name_ci ON location (lower(name))",
    "CREATE UNIQUE INDEX stock_rule_product_location ON stock_rule (product, location)",
    "ALTER TABLE stock_rule ADD CONSTRAINT stock_rule_values_ck CHECK "
    "(reorder_point >= 0 AND par_level >= reorder_point AND lead_time_days >= 0)",
    # lots: unique per product and normalised number, never globally; trace looks up by key
    "CREATE UNIQUE INDEX lot_product_key ON lot (product, lot_key)",
    "CREATE INDEX lot_key_idx ON lot (lot_key)",
    "ALTER TABLE lot ADD CONSTRAINT lot_status_ck CHECK (status IN ('active', 'quarantined', 'recalled'))",
    "CREATE INDEX lot_expiry_idx ON lot (expiry_date)",
    # stock
    "CREATE UNIQUE INDEX stock_level_lot_location ON stock_level (lot, location)",
    "CREATE INDEX stock_movement_lot_location ON stock_movement (lot, location)",
    "ALTER TABLE stock_movement ADD CONSTRAINT stock_movement_kind_ck CHECK "
    "(kind IN ('receive', 'use', 'void', 'transfer', 'adjust', 'dispose', 'quarantine', 'release'))",
    "ALTER TABLE receipt_line ADD CONSTRAINT receipt_line_quantity_ck CHECK (quantity > 0)",
    # usage: trend per location, one use per serialised ampoule
    "CREATE INDEX usage_location_used_at ON usage (location, used_at)",
    "CREATE INDEX usage_product_location_used_at ON usage (product, location, used_at)",
    "CREATE UNIQUE INDEX usage_serial_once ON usage (product, serial) WHERE serial IS NOT NULL AND voided_at IS NULL",
    "ALTER TABLE usage ADD CONSTRAINT usage_quantity_ck CHECK (quantity > 0)",
    "CREATE INDEX treatment_session_planning ON treatment_session (location, status, scheduled_for)",
    # auth and idempotency
    "CREATE UNIQUE INDEX idempotency_user_key ON idempotency_record (user_id, key)",
    "CREATE INDEX idempotency_created_at ON idempotency_record (created_at)",
    "CREATE INDEX login_attempt_email_time ON login_attempt (email, attempted_at)",
    "ALTER TABLE app_user ADD CONSTRAINT app_user_role_ck CHECK (role IN ('staff', 'manager', 'admin'))",
    # alerts and recalls
    "CREATE UNIQUE INDEX reorder_alert_one_open ON reorder_alert (product, location) WHERE status = 'open'",
    "CREATE UNIQUE INDEX recall_lot_once ON recall_lot (recall, lot)",
    "CREATE UNIQUE INDEX recall_client_once ON recall_client (recall, client)",
    "CREATE INDEX audit_event_entity ON audit_event (entity, entity_id, id DESC)",
    # append-only: the ledger and the audit log refuse UPDATE and DELETE
    """
    CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    "CREATE TRIGGER stock_movement_append_only BEFORE UPDATE OR DELETE ON stock_movement "
    "FOR EACH ROW EXECUTE FUNCTION refuse_change()",
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION refuse_change()",
    "CREATE TRIGGER stock_movement_no_truncate BEFORE TRUNCATE ON stock_movement "
    "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()",
]


class RawTable(Table):
    """A handle for running raw SQL in this migration."""


async def forwards() -> MigrationManager:
    """Apply the constraints, indexes and triggers (raw SQL: no braces, Piccolo formats them)."""
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement).run()

    manager.add_raw(run)
    return manager
