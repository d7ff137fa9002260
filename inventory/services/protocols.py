"""Protocols: treatment templates that sessions and courses follow."""

from __future__ import annotations

from typing import Any

from inventory import db
from inventory.domain import protocols as rules
from inventory.domain import quantities
from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.domain.quantities import Quantity
from inventory.store import audit
from inventory.store import protocols as store


def protocol_view(protocol: store.Protocol) -> dict[str, Any]:
    """A protocol as services return it."""
    return {
        "id": protocol.id,
        "name": protocol.name,
        "created_at": protocol.created_at,
        "items": [{"product_id": i.product_id, "quantity": i.quantity} for i in protocol.items],
    }


async def create_protocol(*, actor: Actor, name: str, items: list[tuple[int, Quantity]]) -> dict[str, Any]:
    """Create a protocol; raises Unprocessable (empty name, bad items, quantity_not_whole, quantity_precision),
    NotFound (product), Conflict(duplicate)."""
    name = " ".join(name.split())
    if not name:
        raise Unprocessable("The protocol's name is required.", code="validation_error")
    rules.check_items(items)
    async with db.transaction() as conn:
        units = await store.products_of(conn, [product for product, _ in items])
        for product, _ in items:
            if product not in units:
                raise NotFound.of("product", product)
        checked = [(product, quantities.check(quantity, units[product])) for product, quantity in items]
        if await store.name_taken(conn, name):
            raise Conflict(f"A protocol named {name!r} already exists.", code="duplicate")
        protocol_id = await store.create(conn, name=name, items=checked, user_id=actor.id, at=db.now())
        await audit.record(
            conn,
            actor_id=actor.id,
            action="protocol.create",
            entity="protocol",
            entity_id=protocol_id,
            details={"name": name, "products": [product for product, _ in checked]},
        )
        protocol = await store.get(conn, protocol_id)
    assert protocol is not None
    return protocol_view(protocol)


async def get_protocol(*, protocol_id: int) -> dict[str, Any]:
    """One protocol with its items; raises NotFound."""
    async with db.connection() as conn:
        protocol = await store.get(conn, protocol_id)
    if protocol is None:
        raise NotFound.of("protocol", protocol_id)
    return protocol_view(protocol)


async def list_protocols() -> list[dict[str, Any]]:
    """Every protocol by name."""
    async with db.connection() as conn:
        return [protocol_view(p) for p in await store.list_all(conn)]


async def session_checklist(conn: db.Connection, session_id: int, protocol_id: int | None) -> list[rules.ChecklistItem]:
    """The session's protocol checklist (empty when it follows none)."""
    if protocol_id is None:
        return []
    protocol = await store.get(conn, protocol_id)
    assert protocol is not None
    return rules.checklist(protocol.items, await store.session_uses(conn, session_id))


async def require_protocol(conn: db.Connection, protocol_id: int) -> store.Protocol:
    """The protocol, or NotFound."""
    protocol = await store.get(conn, protocol_id)
    if protocol is None:
        raise NotFound.of("protocol", protocol_id)
    return protocol
