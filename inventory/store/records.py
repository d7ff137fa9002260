"""Typed records shared by store modules: how a lot, product, location or person looks, built from a row once.

Each builder reads the column aliases the queries give (`lot_id`, `product_name`, `location_timezone`, …), so
a query that drops an alias fails where the record is built, not in a template three layers up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from inventory.domain.labelcode import format_lot_code


@dataclass(frozen=True)
class Person:
    """Who did something: a user's id, e-mail and name."""

    id: int
    email: str
    full_name: str


@dataclass(frozen=True)
class Place:
    """A location: id, name and the IANA time zone its local days are counted in."""

    id: int
    name: str
    timezone: str


@dataclass(frozen=True)
class LotRef:
    """A lot as results show it, with the code the service's labels print for it."""

    id: int
    product_id: int
    lot_number: str
    expiry_date: date
    status: str
    not_received: bool
    label_code: str


@dataclass(frozen=True)
class ProductRef:
    """The product part of a result: id, name, brand and the GTIN of one unit."""

    id: int
    name: str
    brand_id: int
    brand: str
    gtin: str | None


def person(row: Any, prefix: str) -> Person | None:
    """The person in a row's `<prefix>_id`, `_email` and `_full_name` columns (None when nobody)."""
    if row[f"{prefix}_id"] is None:
        return None
    return Person(row[f"{prefix}_id"], row[f"{prefix}_email"], row[f"{prefix}_full_name"])


def place(row: Any) -> Place:
    """The location in a row's location_id, location_name and location_timezone columns."""
    return Place(row["location_id"], row["location_name"], row["location_timezone"])


def lot_ref(row: Any) -> LotRef:
    """The lot in a row's lot_id (or id), product_id, lot_number, expiry_date, status and not_received columns."""
    lot_id = int(row["lot_id"] if "lot_id" in row else row["id"])
    return LotRef(
        lot_id,
        row["product_id"],
        row["lot_number"],
        row["expiry_date"],
        row["status"],
        bool(row["not_received"]),
        format_lot_code(lot_id),
    )


def product_ref(row: Any) -> ProductRef:
    """The product in a row's product_id, product_name, brand_id, brand_name and gtin columns."""
    return ProductRef(row["product_id"], row["product_name"], row["brand_id"], row["brand_name"], row["gtin"])
