"""Piccolo app config: the tables and where their migrations live."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

MIGRATIONS_FOLDER = Path(__file__).resolve().parent.parent / "migrations"

APP_CONFIG = AppConfig(
    app_name="inventory",
    migrations_folder_path=str(MIGRATIONS_FOLDER),
    table_classes=table_finder(modules=["inventory.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
