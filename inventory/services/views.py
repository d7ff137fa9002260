"""Shapes shared by services: how a lot, product or location looks in a result."""

from __future__ import annotations

from typing import Any

from inventory.domain.labelcode import format_lot_code


def lot_view(row: dict[str, Any]) -> dict[str, Any]:
    """A lot as services return it."""
    lot_id = row.get("lot_id", row.get("id"))
    assert isinstance(lot_id, int)
    return {
        "id": lot_id,
        "product_id": row["product_id"],
        "lot_number": row["lot_number"],
        "expiry_date": row["expiry_date"],
        "status": row["status"],
        "not_received": bool(row.get("not_received", False)),
        "label_code": format_lot_code(lot_id),
    }


def product_view(row: dict[str, Any]) -> dict[str, Any]:
    """A product as services return it."""
    return {
        "id": row["id"],
        "brand_id": row["brand_id"],
        "brand": row["brand_name"],
        "name": row["name"],
        "gtin": row["gtin"],
        "packs": list(row["packs"]),
        "ingredients": list(row["ingredients"] or []),
        "storage": row["storage"],
        "active": row["active"],
        "implant": bool(row.get("implant", False)),
        "unit": row["unit"],
        "container_quantity": row["container_quantity"],
        "in_use_hours": row["in_use_hours"],
    }


def product_ref(row: Any) -> dict[str, Any]:
    """The product part of a joined row (product_id, product_name, brand_id, brand_name, gtin)."""
    return {
        "id": row["product_id"],
        "name": row["product_name"],
        "brand_id": row["brand_id"],
        "brand": row["brand_name"],
        "gtin": row["gtin"],
    }


def user_ref(row: Any, prefix: str) -> dict[str, Any] | None:
    """Who did something, from a row's `<prefix>_id`, `_email` and `_full_name` (None when nobody)."""
    if row[f"{prefix}_id"] is None:
        return None
    return {"id": row[f"{prefix}_id"], "email": row[f"{prefix}_email"], "full_name": row[f"{prefix}_full_name"]}


def location_view(row: Any) -> dict[str, Any]:
    """A location as services return it, from a row's location_id, location_name and location_timezone."""
    return {"id": row["location_id"], "name": row["location_name"], "timezone": row["location_timezone"]}
