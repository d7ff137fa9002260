"""Runs a request once more when its database connection broke before anything was committed."""

from __future__ import annotations

from typing import cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPRequestEvent, Message, Receive, ReceiveMessage, Scope, Send

from inventory.api.problems import RETRY_SAFE_HEADER
from inventory.db import DISCONNECTED

_MARK = RETRY_SAFE_HEADER.encode()


def retry_middleware(app: ASGIApp, *, max_body: int = 1_000_000) -> ASGIApp:
    """ASGI middleware: a 503 marked retry-safe (a read, or a write that never reached COMMIT) is run again once.

    The pool hands the second attempt a fresh connection (asyncpg drops the broken one on release). A second
    failure goes out as it is: 503 `busy` with Retry-After. The marker header never leaves the app.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request" or size > max_body:
                # The client left, or the body is past the limit (the framework answers 413): run once as is.
                pending: list[ReceiveMessage] = [_request(b"".join(chunks), more=True), message]
                await app(scope, _replay(pending, receive), _unmarked(send))
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
        body = b"".join(chunks)
        held: list[Message] = []

        async def hold_retry_safe_failure(message: Message) -> None:
            if held or (message["type"] == "http.response.start" and _marked(message)):
                held.append(message)
                return
            await send(message)

        try:
            await app(scope, _replay([_request(body)], receive), hold_retry_safe_failure)
            retry = bool(held)
        except DISCONNECTED:
            # Raised outside the handler (the token check in the auth middleware), before any answer went out.
            retry = True
        if retry:
            await app(scope, _replay([_request(body)], receive), _unmarked(send))

    return middleware


def _request(body: bytes, *, more: bool = False) -> HTTPRequestEvent:
    return {"type": "http.request", "body": body, "more_body": more}


def _marked(message: Message) -> bool:
    headers = cast("list[tuple[bytes, bytes]]", message.get("headers", []))
    return any(name.lower() == _MARK for name, _ in headers)


def _unmarked(send: Send) -> Send:
    async def forward(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = cast("list[tuple[bytes, bytes]]", message.get("headers", []))
            message["headers"] = [(n, v) for n, v in headers if n.lower() != _MARK]
        await send(message)

    return forward


def _replay(pending: list[ReceiveMessage], receive: Receive) -> Receive:
    queue = list(pending)

    async def replayed() -> ReceiveMessage:
        return queue.pop(0) if queue else await receive()

    return replayed
