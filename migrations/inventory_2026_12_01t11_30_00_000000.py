"""usage is append-only like the ledger: an UPDATE may only void an unvoided use, never DELETE or TRUNCATE.

A second line of defence behind the application role's privileges: it holds even for the owner.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T11:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "usage: void-only updates, no delete or truncate"

STATEMENTS = [
    """
    CREATE FUNCTION usage_void_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.voided_at IS NOT NULL
           OR (to_jsonb(NEW) - 'voided_at' - 'voided_by' - 'void_reason')
              IS DISTINCT FROM (to_jsonb(OLD) - 'voided_at' - 'voided_by' - 'void_reason') THEN
            RAISE EXCEPTION 'usage is append-only: an update may only void a use that is not voided yet'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    "CREATE TRIGGER usage_append_only BEFORE UPDATE ON usage FOR EACH ROW EXECUTE FUNCTION usage_void_only()",
    "CREATE TRIGGER usage_no_delete BEFORE DELETE ON usage FOR EACH ROW EXECUTE FUNCTION refuse_change()",
    "CREATE TRIGGER usage_no_truncate BEFORE TRUNCATE ON usage FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()",
]


class RawTable(Table):
    """A handle for running raw SQL in this migration."""


async def forwards() -> MigrationManager:
    """Create the guard function and triggers (raw SQL: no braces, Piccolo formats them)."""
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement).run()

    manager.add_raw(run)
    return manager
