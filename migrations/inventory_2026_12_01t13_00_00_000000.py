"""app_user.locale: the language a user chose for the pages (null: follow the browser's Accept-Language)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "user locale"


async def forwards() -> MigrationManager:
    """Add the column."""
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    manager.add_column(
        table_class_name="AppUser",
        tablename="app_user",
        column_name="locale",
        db_column_name="locale",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 8,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
