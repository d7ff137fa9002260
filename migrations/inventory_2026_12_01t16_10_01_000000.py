"""Vigilance follow-ups: the outcome list, a note of bounded length, not-null links, the append-only guard.

A follow-up is a record like the reaction it follows: the refuse_change trigger (from the first constraints
migration) refuses UPDATE, DELETE and TRUNCATE for every role, the owner included. Piccolo runs a migration's raw
SQL before its tables, hence this second migration after the one that creates the table.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T16:10:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "vigilance follow-up constraints and append-only triggers"

STATEMENTS = [
    "ALTER TABLE reaction_follow_up ALTER COLUMN reaction SET NOT NULL",
    "ALTER TABLE reaction_follow_up ALTER COLUMN recorded_by SET NOT NULL",
    "ALTER TABLE reaction_follow_up ADD CONSTRAINT reaction_follow_up_outcome_ck CHECK"
    " (outcome IS NULL OR outcome IN ('recovered', 'recovering', 'not_recovered', 'unknown'))",
    "ALTER TABLE reaction_follow_up ADD CONSTRAINT reaction_follow_up_note_ck CHECK (length(note) BETWEEN 1 AND 2000)",
    "CREATE TRIGGER reaction_follow_up_append_only BEFORE UPDATE OR DELETE ON reaction_follow_up "
    "FOR EACH ROW EXECUTE FUNCTION refuse_change()",
    "CREATE TRIGGER reaction_follow_up_no_truncate BEFORE TRUNCATE ON reaction_follow_up "
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
