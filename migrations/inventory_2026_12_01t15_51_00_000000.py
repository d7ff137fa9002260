"""Vigilance: the age band of reactions recorded before it was kept; a use's UDI checked.

Reactions are append-only (the refuse_change trigger refuses UPDATE for every role): the one backfill of the new
age_band column runs with that trigger disabled inside this migration's transaction, and re-enables it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T15:51:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "vigilance: backfill a reaction's age band"

STATEMENTS = [
    "ALTER TABLE reaction DISABLE TRIGGER reaction_append_only",
    "UPDATE reaction r SET age_band = (floor(extract(year FROM age((r.onset_at AT TIME ZONE o.timezone)::date,"
    " c.date_of_birth)) / 10) * 10)::int || '-' || ((floor(extract(year FROM age((r.onset_at AT TIME ZONE"
    " o.timezone)::date, c.date_of_birth)) / 10) * 10)::int + 9)"
    " FROM client c, treatment_session s, location o"
    " WHERE c.id = r.client AND s.id = r.session AND o.id = s.location AND c.date_of_birth IS NOT NULL"
    " AND c.date_of_birth <= (r.onset_at AT TIME ZONE o.timezone)::date",
    "ALTER TABLE reaction ENABLE TRIGGER reaction_append_only",
    "ALTER TABLE reaction ADD CONSTRAINT reaction_age_band_ck CHECK (age_band ~ '^([0-9]+-[0-9]+|unknown)$')",
    "ALTER TABLE usage ADD CONSTRAINT usage_udi_ck CHECK (udi IS NULL OR udi LIKE '(01)%')",
]


class RawTable(Table):
    """A handle for running raw SQL in this migration."""


async def forwards() -> MigrationManager:
    """Backfill and constrain (raw SQL: no braces, Piccolo formats them)."""
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement).run()

    manager.add_raw(run)
    return manager
