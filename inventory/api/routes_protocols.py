"""Routes for protocols: treatment templates of products and quantities that sessions and courses follow."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.params import JSONBody
from msgspec import Meta, Struct

from inventory.api.params import ActorRequest, PathId
from inventory.api.schemas import Amount, Id, Name, to
from inventory.api.security import manager, staff
from inventory.services import protocols


class ProtocolItemIn(Struct, forbid_unknown_fields=True):
    """A product of the protocol and what one session uses, in the product's unit."""

    product_id: Id
    quantity: Annotated[Amount, Meta(description="Whole for `each`; up to 2 decimal places for ml and U.")] = 1


class ProtocolIn(Struct, forbid_unknown_fields=True):
    """A new protocol."""

    name: Name
    items: Annotated[list[ProtocolItemIn], Meta(min_length=1, max_length=50)]


class ProtocolItemOut(Struct):
    """A protocol item."""

    product_id: int
    quantity: Amount


class ProtocolOut(Struct):
    """A protocol."""

    id: int
    name: str
    created_at: datetime
    items: list[ProtocolItemOut]


class ProtocolController(Controller):
    """Protocols: managers write them (like the catalog), everyone at the chair reads them."""

    path = "/api/protocols"
    tags = ["clinical"]
    guards = [staff]

    @post("/", operation_id="createProtocol", guards=[manager])
    async def create(self, request: ActorRequest, data: JSONBody[ProtocolIn]) -> ProtocolOut:
        """Create a protocol: a name and the products (with quantities) each session of it uses."""
        created = await protocols.create_protocol(
            actor=request.user,
            name=data.name,
            items=[(item.product_id, item.quantity) for item in data.items],
        )
        return to(ProtocolOut, created)

    @get("/", operation_id="listProtocols")
    async def list_all(self) -> list[ProtocolOut]:
        """Every protocol by name."""
        return to(list[ProtocolOut], await protocols.list_protocols())

    @get("/{protocol_id:int}", operation_id="getProtocol")
    async def get_one(self, protocol_id: PathId) -> ProtocolOut:
        """One protocol with its items."""
        return to(ProtocolOut, await protocols.get_protocol(protocol_id=protocol_id))


HANDLERS: list[Any] = [ProtocolController]
