"""Controllers' helper for writes that honour the Idempotency-Key header."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Request, Response
from litestar.params import HeaderParameter

from inventory.api.schemas import encode, to
from inventory.domain.models import Actor
from inventory.services import idempotency

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=255,
        description="Retry-safe key: the same key and body return the first response and change nothing.",
    ),
]


async def respond(
    request: Request[Actor, Any, Any],
    key: str | None,
    make: Callable[[], Awaitable[Any]],
    out: type[Any],
    status: int = 201,
) -> Response[bytes]:
    """Run a write once per Idempotency-Key and answer with its (possibly replayed) response."""

    async def operation() -> idempotency.StoredResponse:
        result = await make()
        return idempotency.StoredResponse(status, encode(to(out, result)))

    if key is None:
        stored = await operation()
    else:
        body = await request.body()
        fingerprint = hashlib.sha256(
            request.method.encode() + b" " + request.url.path.encode() + b"\n" + body
        ).hexdigest()
        stored = await idempotency.run_once(
            user_id=request.user.id, key=key, fingerprint=fingerprint, operation=operation
        )
    headers = {"Idempotency-Replayed": "true"} if stored.replayed else {}
    return Response(content=stored.body, status_code=stored.status, media_type="application/json", headers=headers)
