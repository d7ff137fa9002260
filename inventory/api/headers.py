"""Response headers every answer carries: no sniffing anywhere, no caching of /api data, a true `Allow`."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope


async def security_headers(message: Message, scope: Scope) -> None:
    """A before-send hook: adds the headers to every response start, problem responses included."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers["X-Content-Type-Options"] = "nosniff"
    if scope["path"].startswith("/api/") or scope["path"] == "/api":
        # Tokens and clients' contact details must not stay in a browser's or a proxy's cache.
        headers["Cache-Control"] = "no-store"


async def allow_header(message: Message, scope: Scope) -> None:
    """A before-send hook: an OPTIONS answer's `Allow` lists every method of its path.

    Litestar 2.25 registers a controller's handlers one at a time and keeps the OPTIONS handler made for the
    first one, so a path with GET and POST would answer `Allow: GET, OPTIONS` (schemathesis found it).
    """
    if message["type"] != "http.response.start" or message["status"] != 204 or scope.get("method") != "OPTIONS":
        return
    handler = scope.get("route_handler")
    if handler is None:
        return
    methods: set[str] = set()
    for path in handler.paths:
        methods.update(scope["app"].route_handler_method_map.get(path, {}))
    if methods:
        MutableScopeHeaders.from_message(message)["Allow"] = ", ".join(sorted(methods | {"OPTIONS"}))
