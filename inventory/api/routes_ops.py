"""Operational routes: liveness and readiness."""

from __future__ import annotations

from litestar import Response, get
from litestar.response import Redirect

from inventory import db


@get("/health", operation_id="health", tags=["operations"], security=[], include_in_schema=True)
async def health() -> dict[str, str]:
    """200 while the process runs."""
    return {"status": "ok"}


@get("/ready", operation_id="ready", tags=["operations"], security=[])
async def ready() -> Response[dict[str, str]]:
    """200 when the database answers, 503 otherwise; recovers by itself when the database returns."""
    if await db.ping():
        return Response({"status": "ready"}, status_code=200)
    return Response({"status": "unavailable", "detail": "the database does not answer"}, status_code=503)


@get("/docs", operation_id="docs", include_in_schema=False, security=[])
async def docs() -> Redirect:
    """The interactive API documentation (Swagger UI)."""
    return Redirect(path="/schema/swagger")


@get("/", operation_id="home", include_in_schema=False, security=[])
async def home() -> Redirect:
    """The pages for people: sign-in and the menu."""
    return Redirect(path="/ui/")
