"""No column takes the database's clock: business time comes only from the service's clock (CONTRACT section 4).

Piccolo gives every Timestamptz and Date column a DEFAULT of CURRENT_TIMESTAMP / CURRENT_DATE. The service writes
every such value itself (db.now(), clock.today_in); dropping the defaults makes an INSERT that forgets one fail on
NOT NULL instead of silently stamping the database's time. Piccolo's own `migration` table and pgqueuer's tables
keep theirs (bookkeeping, not business time).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T17:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drop database-clock defaults"

STATEMENT = """
DO $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> 'migration' AND table_name NOT LIKE 'pgqueuer%'
          AND (column_default ILIKE '%current_timestamp%' OR column_default ILIKE '%current_date%'
               OR column_default ILIKE '%now()%')
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I DROP DEFAULT', col.table_name, col.column_name);
    END LOOP;
END
$$
"""


class RawTable(Table):
    """A handle for running raw SQL in this migration."""


async def forwards() -> MigrationManager:
    """Drop the defaults (raw SQL: no braces, Piccolo formats them)."""
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run() -> None:
        await RawTable.raw(STATEMENT).run()

    manager.add_raw(run)
    return manager
