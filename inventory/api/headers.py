"""Response headers every answer carries: no sniffing anywhere, no caching of /api data."""

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
