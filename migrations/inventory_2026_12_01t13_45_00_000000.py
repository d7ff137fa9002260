"""lot: what identifies a lot (product, number, expiry) never changes; only its status and not_received do.

The application role needs table-level UPDATE on lot (LOCK TABLE … IN EXCLUSIVE MODE for recalls requires it),
so privileges alone would let it rewrite a lot's number or expiry under every usage that points at it; this
trigger refuses that for every role, the owner included.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T13:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "lot: identity columns are fixed"

STATEMENTS = [
    """
    CREATE FUNCTION lot_identity_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (to_jsonb(NEW) - 'status' - 'not_received') IS DISTINCT FROM (to_jsonb(OLD) - 'status' - 'not_received') THEN
            RAISE EXCEPTION 'a lot''s product, number and expiry are fixed: only its status and not_received change'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    "CREATE TRIGGER lot_identity_fixed BEFORE UPDATE ON lot FOR EACH ROW EXECUTE FUNCTION lot_identity_fixed()",
]


class RawTable(Table):
    """A handle for running raw SQL in this migration."""


async def forwards() -> MigrationManager:
    """Create the guard function and trigger (raw SQL: no braces, Piccolo formats them)."""
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement).run()

    manager.add_raw(run)
    return manager
