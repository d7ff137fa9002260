"""Request and query-parameter types shared by the controllers."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.params import PathParameter, QueryParameter

from inventory.domain.models import Actor

ActorRequest = Request[Actor, Any, Any]
MAX_ID = 2_147_483_647  # ids are PostgreSQL integers (int32)
OptId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]
PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
Limit = Annotated[int, QueryParameter(ge=1, le=1000)]
Offset = Annotated[int, QueryParameter(ge=0, le=10_000_000)]
