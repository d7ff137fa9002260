"""Routes for opened containers of multi-use products."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from litestar import Controller, get
from litestar.params import QueryParameter
from msgspec import Struct

from inventory.api.params import OptId
from inventory.api.schemas import Amount, to
from inventory.api.security import staff
from inventory.services import containers


class ContainerProductOut(Struct):
    """The product an opened container holds."""

    id: int
    name: str
    brand: str
    unit: str


class ContainerLotOut(Struct):
    """The lot of an opened container."""

    id: int
    lot_number: str
    expiry_date: date


class ContainerLocationOut(Struct):
    """Where the container is."""

    id: int
    name: str
    timezone: str


class ContainerListItemOut(Struct):
    """An opened container: what, where, since when, until when, what is left."""

    id: int
    status: str
    product: ContainerProductOut
    lot: ContainerLotOut
    location: ContainerLocationOut
    opened_at: datetime
    use_by: datetime
    remaining: Amount
    capacity: Amount
    past_use_by: bool
    closed_at: datetime | None


class ContainerListOut(Struct):
    """Opened containers, soonest use-by first."""

    items: list[ContainerListItemOut]


class ContainerController(Controller):
    """Opened containers (staff and above: the chair needs to see what is open)."""

    path = "/api/containers"
    tags = ["stock"]
    guards = [staff]

    @get("/", operation_id="listContainers")
    async def list_containers(
        self,
        location_id: OptId = None,
        status: Annotated[Literal["open", "empty", "disposed"] | None, QueryParameter()] = "open",
    ) -> ContainerListOut:
        """Opened containers at a location (open ones by default), with use-by and what remains."""
        items = await containers.list_containers(location_id=location_id, status=status)
        return to(ContainerListOut, {"items": items})


HANDLERS: list[Any] = [ContainerController]
