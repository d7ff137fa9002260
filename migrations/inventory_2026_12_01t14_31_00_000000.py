"""Vigilance: the fixed lists of a reaction, one link per usage, the append-only guard; a client's sex.

Reactions and their lot links are records like the usage they follow: the refuse_change trigger (from the first
constraints migration) refuses UPDATE, DELETE and TRUNCATE for every role, the owner included.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T14:31:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "vigilance constraints and append-only triggers"

STATEMENTS = [
    "ALTER TABLE reaction ADD CONSTRAINT reaction_kind_ck CHECK (kind IN ('swelling', 'bruising', 'nodule',"
    " 'infection', 'allergic_reaction', 'necrosis', 'pain', 'other'))",
    "ALTER TABLE reaction ADD CONSTRAINT reaction_severity_ck CHECK (severity IN ('mild', 'moderate', 'serious'))",
    "ALTER TABLE reaction ADD CONSTRAINT reaction_outcome_ck CHECK"
    " (outcome IS NULL OR outcome IN ('recovered', 'recovering', 'not_recovered', 'unknown'))",
    "ALTER TABLE reaction ADD CONSTRAINT reaction_description_ck CHECK"
    " (description IS NULL OR length(description) <= 2000)",
    "CREATE INDEX reaction_onset_idx ON reaction (onset_at)",
    "CREATE UNIQUE INDEX reaction_lot_usage_once ON reaction_lot (reaction, usage)",
    "ALTER TABLE client ADD CONSTRAINT client_sex_ck CHECK (sex IS NULL OR sex IN ('female', 'male', 'other'))",
    "CREATE TRIGGER reaction_append_only BEFORE UPDATE OR DELETE ON reaction "
    "FOR EACH ROW EXECUTE FUNCTION refuse_change()",
    "CREATE TRIGGER reaction_no_truncate BEFORE TRUNCATE ON reaction "
    "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()",
    "CREATE TRIGGER reaction_lot_append_only BEFORE UPDATE OR DELETE ON reaction_lot "
    "FOR EACH ROW EXECUTE FUNCTION refuse_change()",
    "CREATE TRIGGER reaction_lot_no_truncate BEFORE TRUNCATE ON reaction_lot "
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
