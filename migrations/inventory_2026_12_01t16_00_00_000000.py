"""Product units and in-use hours, decimal quantities (numeric(12,2)) everywhere stock is counted, opened containers.

Every existing product becomes `each`, 1 per container, single use (the column defaults); integer quantities convert
to numeric exactly.
"""

import decimal

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Integer, Numeric, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class AppUser(Table, tablename="app_user", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


class Container(Table, tablename="container", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


class Location(Table, tablename="location", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


class Lot(Table, tablename="lot", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


class Product(Table, tablename="product", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


ID = "2026-12-01T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "product units, decimal quantities, opened containers"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    manager.add_table(class_name="Container", tablename="container", schema=None, columns=None)

    manager.add_column(
        table_class_name="Container",
        tablename="container",
        column_name="lot",
        db_column_name="lot",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": Lot,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Container",
        tablename="container",
        column_name="product",
        db_column_name="product",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": Product,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
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

    manager.add_column(
        table_class_name="Container",
        tablename="container",
        column_name="location",
        db_column_name="location",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": Location,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Container",
        tablename="container",
        column_name="status",
        db_column_name="status",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 16,
            "default": "open",
            "null": False,
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

    manager.add_column(
        table_class_name="Container",
        tablename="container",
        column_name="opened_at",
        db_column_name="opened_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
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

    manager.add_column(
        table_class_name="Container",
        tablename="container",
        column_name="opened_by",
        db_column_name="opened_by",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": AppUser,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
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

    manager.add_column(
        table_class_name="Container",
        tablename="container",
        column_name="use_by",
        db_column_name="use_by",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
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

    manager.add_column(
        table_class_name="Container",
        tablename="container",
        column_name="remaining",
        db_column_name="remaining",
        column_class_name="Numeric",
        column_class=Numeric,
        params={
            "default": decimal.Decimal("0"),
            "digits": (12, 2),
            "null": False,
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

    manager.add_column(
        table_class_name="Container",
        tablename="container",
        column_name="closed_at",
        db_column_name="closed_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
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

    manager.add_column(
        table_class_name="Product",
        tablename="product",
        column_name="container_quantity",
        db_column_name="container_quantity",
        column_class_name="Numeric",
        column_class=Numeric,
        params={
            "default": decimal.Decimal("1"),
            "digits": (12, 2),
            "null": False,
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

    manager.add_column(
        table_class_name="Product",
        tablename="product",
        column_name="in_use_hours",
        db_column_name="in_use_hours",
        column_class_name="Integer",
        column_class=Integer,
        params={
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

    manager.add_column(
        table_class_name="Product",
        tablename="product",
        column_name="unit",
        db_column_name="unit",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 8,
            "default": "each",
            "null": False,
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

    manager.add_column(
        table_class_name="StockMovement",
        tablename="stock_movement",
        column_name="container",
        db_column_name="container",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": Container,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
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

    manager.add_column(
        table_class_name="Usage",
        tablename="usage",
        column_name="container",
        db_column_name="container",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": Container,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
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

    manager.alter_column(
        table_class_name="CourseProduct",
        tablename="course_product",
        column_name="quantity",
        db_column_name="quantity",
        params={"default": decimal.Decimal("0"), "digits": (12, 2)},
        old_params={"default": 0, "digits": None},
        column_class=Numeric,
        old_column_class=Integer,
        schema=None,
    )

    manager.alter_column(
        table_class_name="RecallLot",
        tablename="recall_lot",
        column_name="quarantined_units",
        db_column_name="quarantined_units",
        params={"default": decimal.Decimal("0"), "digits": (12, 2)},
        old_params={"default": 0, "digits": None},
        column_class=Numeric,
        old_column_class=Integer,
        schema=None,
    )

    manager.alter_column(
        table_class_name="ReceiptLine",
        tablename="receipt_line",
        column_name="quantity",
        db_column_name="quantity",
        params={"default": decimal.Decimal("0"), "digits": (12, 2)},
        old_params={"default": 0, "digits": None},
        column_class=Numeric,
        old_column_class=Integer,
        schema=None,
    )

    manager.alter_column(
        table_class_name="StockLevel",
        tablename="stock_level",
        column_name="on_hand",
        db_column_name="on_hand",
        params={"default": decimal.Decimal("0"), "digits": (12, 2)},
        old_params={"default": 0, "digits": None},
        column_class=Numeric,
        old_column_class=Integer,
        schema=None,
    )

    manager.alter_column(
        table_class_name="StockMovement",
        tablename="stock_movement",
        column_name="quantity",
        db_column_name="quantity",
        params={"default": decimal.Decimal("0"), "digits": (12, 2)},
        old_params={"default": 0, "digits": None},
        column_class=Numeric,
        old_column_class=Integer,
        schema=None,
    )

    manager.alter_column(
        table_class_name="StockRule",
        tablename="stock_rule",
        column_name="reorder_point",
        db_column_name="reorder_point",
        params={"default": decimal.Decimal("0"), "digits": (12, 2)},
        old_params={"default": 0, "digits": None},
        column_class=Numeric,
        old_column_class=Integer,
        schema=None,
    )

    manager.alter_column(
        table_class_name="StockRule",
        tablename="stock_rule",
        column_name="par_level",
        db_column_name="par_level",
        params={"default": decimal.Decimal("0"), "digits": (12, 2)},
        old_params={"default": 0, "digits": None},
        column_class=Numeric,
        old_column_class=Integer,
        schema=None,
    )

    manager.alter_column(
        table_class_name="StocktakeCount",
        tablename="stocktake_count",
        column_name="quantity",
        db_column_name="quantity",
        params={"default": decimal.Decimal("0"), "digits": (12, 2)},
        old_params={"default": 0, "digits": None},
        column_class=Numeric,
        old_column_class=Integer,
        schema=None,
    )

    manager.alter_column(
        table_class_name="StocktakeCount",
        tablename="stocktake_count",
        column_name="on_hand_at_count",
        db_column_name="on_hand_at_count",
        params={"digits": (12, 2)},
        old_params={"digits": None},
        column_class=Numeric,
        old_column_class=Integer,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Usage",
        tablename="usage",
        column_name="quantity",
        db_column_name="quantity",
        params={"default": decimal.Decimal("0"), "digits": (12, 2)},
        old_params={"default": 0, "digits": None},
        column_class=Numeric,
        old_column_class=Integer,
        schema=None,
    )

    return manager
