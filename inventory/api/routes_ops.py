"""Operational routes: liveness, readiness and metrics."""

from __future__ import annotations

import hmac
from ipaddress import ip_address
from typing import Any

from litestar import Request, Response, get
from litestar.response import Redirect

from inventory import db, metrics
from inventory.config import Settings
from inventory.domain.errors import Forbidden, Unauthorized


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


# Left out of the OpenAPI document: it is for the monitoring system, and its access rule is not a bearer user's.
@get("/metrics", operation_id="metrics", include_in_schema=False, security=[], exclude_from_auth=True)
async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus text: open from the loopback address, elsewhere only with INVENTORY_METRICS_TOKEN as bearer."""
    settings: Settings = request.app.state.settings
    if not _loopback(request.client.host if request.client else None):
        expected = settings.metrics_token
        if expected is None:
            raise Forbidden("Metrics are served to 127.0.0.1 only; set INVENTORY_METRICS_TOKEN for others.")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
            raise Unauthorized("The metrics token is missing or wrong.", code="unauthorized")
    metrics.sample_pool(db.get_engine().pool)
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def _loopback(host: str | None) -> bool:
    try:
        address = ip_address(host or "")
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return address.is_loopback or (mapped is not None and mapped.is_loopback)
