"""The outermost middleware: a request id for every request, its metrics and one access log line."""

from __future__ import annotations

import logging
from time import perf_counter
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from inventory import logs, metrics

access = logging.getLogger(logs.ACCESS_LOGGER)

_HEADER = b"x-request-id"


def observe_middleware(app: ASGIApp, *, access_log: bool = True) -> ASGIApp:
    """ASGI middleware around the router, so that unknown routes (404) and wrong methods (405) are seen too.

    Metrics go by the route template (`/api/sessions/{session_id}/scans`), never the raw path; the access line
    names the method, template, status, duration, request id and user id, and nothing the client sent.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        method = scope["method"]
        incoming = next((value for name, value in scope["headers"] if name == _HEADER), None)
        rid = logs.accept_request_id(incoming.decode("latin-1") if incoming is not None else None)
        token = logs.request_id.set(rid)
        echoed = (_HEADER, rid.encode())
        status = 500  # what the client gets when the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        started = perf_counter()
        try:
            await app(scope, receive, send_with_id)
        finally:
            elapsed = perf_counter() - started
            # Set by the router once it matched a route; an unknown path has no template and must not become one.
            route: str = scope.get("path_template") or metrics.UNMATCHED
            metrics.observe_request(method, route, status, elapsed)
            if access_log and access.isEnabledFor(logging.INFO):
                access.info(
                    "%s %s %d %.1f ms",
                    method,
                    route,
                    status,
                    elapsed * 1000,
                    extra=_fields(scope, method, rid, route, status, elapsed),
                )
            logs.request_id.reset(token)

    return middleware


def _fields(scope: Scope, method: str, rid: str, route: str, status: int, elapsed: float) -> dict[str, Any]:
    user = scope.get("user")
    return {
        "request_id": rid,
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(elapsed * 1000, 2),
        "user_id": getattr(user, "id", None),
    }
