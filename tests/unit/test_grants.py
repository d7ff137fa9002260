"""The application role's UPDATE and DELETE grants cover every such statement of the service, and no more."""

from __future__ import annotations

import re
from pathlib import Path

from piccolo.table import Table

from inventory import migrate, tables

SOURCES = sorted((Path(__file__).parents[2] / "inventory").rglob("*.py"))
# `UPDATE t SET`, `DELETE FROM t`; an upsert's `DO UPDATE` updates the INSERT's table.
_UPDATE = re.compile(r"\bUPDATE\s+(\w+)\s+(?:\w+\s+)?SET\b")
_DELETE = re.compile(r"\bDELETE\s+FROM\s+(\w+)")
_UPSERT = re.compile(r"INSERT INTO (\w+)(?:(?!INSERT INTO)[^;])*?ON CONFLICT(?:(?!INSERT INTO)[^;])*?DO UPDATE", re.S)


# Piccolo's builder: `AppUser.update(...)`, `AppUser.delete()`, `.lock_rows(...)` on `AppUser.select(...)`.
_TABLES = {
    name: table._meta.tablename
    for name, table in vars(tables).items()
    if isinstance(table, type) and issubclass(table, Table) and table is not Table
}
_BUILT_UPDATE = re.compile(r"\b(\w+)\.update\(")
_BUILT_DELETE = re.compile(r"\b(\w+)\.delete\(")


def _written(pattern: re.Pattern[str]) -> set[str]:
    found = {match for path in SOURCES for match in pattern.findall(path.read_text())}
    built = {_UPDATE: _BUILT_UPDATE, _DELETE: _BUILT_DELETE}.get(pattern)
    if built is not None:
        names = {match for path in SOURCES for match in built.findall(path.read_text())}
        found |= {_TABLES[name] for name in names if name in _TABLES}
    return found


def test_every_update_and_delete_of_the_service_is_granted() -> None:
    updated = _written(_UPDATE) | _written(_UPSERT)
    assert updated <= set(migrate.UPDATES) | set(migrate.COLUMN_UPDATES)
    assert _written(_DELETE) <= set(migrate.DELETES)


def test_no_grant_is_left_without_a_statement_that_needs_it() -> None:
    updated = _written(_UPDATE) | _written(_UPSERT)
    # app_user and location are also locked FOR UPDATE, which needs UPDATE; each has its UPDATE statements too.
    assert set(migrate.UPDATES) <= updated
    assert set(migrate.DELETES) <= _written(_DELETE)


def test_the_record_is_never_granted_a_rewrite() -> None:
    for table in migrate.APPEND_ONLY:
        assert table not in migrate.UPDATES and table not in migrate.DELETES
    # A usage changes only by its void; a client by its allergies and by erasure (name to pseudonym, contacts and
    # birth date dropped, erased_at set): never its id, sex or creation; an opened container only by what it holds
    # and whether it is still open (never what, where or when opened); a product only by whether it is an implant.
    assert migrate.COLUMN_UPDATES == {
        "usage": ("voided_at", "voided_by", "void_reason"),
        "client": ("allergies", "full_name", "email", "phone", "date_of_birth", "erased_at"),
        "container": ("remaining", "status", "closed_at"),
        "product": ("implant",),
    }


def test_supplier_returns_are_append_only_by_privilege() -> None:
    assert "supplier_return" in migrate.APPEND_ONLY
    assert migrate.table_privileges("supplier_return") == ["SELECT, INSERT"]


def test_the_embedded_server_is_served_as_the_app_role_on_the_same_socket_and_database() -> None:
    from inventory.db import login_as

    embedded = "postgresql://postgres:@/postgres?host=/tmp/pgdata"
    assert (
        login_as(embedded, "inventory_app", "s3cr/t")
        == "postgresql://inventory_app:s3cr%2Ft@/postgres?host=/tmp/pgdata"
    )
    server = "postgresql://owner:pw@db.example:5432/inventory"
    assert login_as(server, "inventory_app", "x") == "postgresql://inventory_app:x@db.example:5432/inventory"
