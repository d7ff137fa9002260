"""Request and query-parameter types shared by the controllers."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.params import QueryParameter

from inventory.domain.models import Actor

ActorRequest = Request[Actor, Any, Any]
OptId = Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)]
Limit = Annotated[int, QueryParameter(ge=1, le=1000)]
Offset = Annotated[int, QueryParameter(ge=0, le=10_000_000)]
