"""Refuses request bodies nested deeper than MAX_DEPTH before any JSON decoder sees them."""

from __future__ import annotations

import re
from itertools import accumulate

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPRequestEvent, Receive, ReceiveMessage, Scope, Send

from inventory.domain.errors import JsonTooDeep

MAX_DEPTH = 64
# msgspec recurses once per level and raises RecursionError near a thousand: far past any real body.

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
for _open in b"[{":
    _STEP[_open] = 1
for _close in b"]}":
    _STEP[_close] = -1


def too_deep(body: bytes) -> bool:
    """Whether a JSON text nests arrays and objects deeper than MAX_DEPTH (brackets in strings do not count)."""
    # Fast path, the scan's: a body with few brackets cannot be deep, and count() runs at C speed.
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKET)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > MAX_DEPTH


def json_depth_middleware(app: ASGIApp, *, max_body: int = 1_000_000) -> ASGIApp:
    """ASGI middleware: reads the body (up to max_body), refuses it when too deep, else replays it to the app."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        pending: list[ReceiveMessage] = []  # a disconnect met while reading, handed on untouched
        while more and size <= max_body:
            message = await receive()
            if message["type"] != "http.request":
                pending.append(message)
                break
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if size <= max_body and too_deep(body):
            raise JsonTooDeep(f"The request body nests arrays or objects deeper than {MAX_DEPTH} levels.")
        # Past max_body the rest streams on from `receive`, so the framework's own size limit answers 413.
        first: HTTPRequestEvent = {"type": "http.request", "body": body, "more_body": more and not pending}
        queue: list[ReceiveMessage] = [first, *pending]

        async def replay() -> ReceiveMessage:
            return queue.pop(0) if queue else await receive()

        await app(scope, replay, send)

    return middleware
