"""The application factory: routes, lifespan (pool), auth, problem details, OpenAPI."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from inventory import db, metrics
from inventory.api import problems, routes_core, routes_ops
from inventory.api.docs import assets_router, swagger_plugin
from inventory.api.headers import allow_header, security_headers
from inventory.api.json_depth import json_depth_middleware
from inventory.api.json_response import JsonResponse
from inventory.api.observe import observe_middleware
from inventory.api.openapi import document_problems
from inventory.api.retry import retry_middleware
from inventory.api.security import auth_middleware, openapi_components
from inventory.config import Settings, get_settings
from inventory.services import labels as labels_service
from inventory.web.templating import template_config

MAX_BODY = 1_000_000


def _route_handlers() -> list[Any]:
    from inventory.api import (
        routes_alerts,
        routes_clinical,
        routes_containers,
        routes_labels,
        routes_protocols,
        routes_purchasing,
        routes_recalls,
        routes_stocktakes,
        routes_supplier_returns,
        routes_vigilance,
    )
    from inventory.web import routes as web_routes

    return [
        routes_ops.health,
        routes_ops.ready,
        routes_ops.metrics_endpoint,
        routes_ops.docs,
        assets_router(),
        routes_ops.home,
        routes_core.AuthController,
        routes_core.UserController,
        routes_core.CatalogController,
        routes_core.StockController,
        routes_core.AuditController,
        *routes_clinical.HANDLERS,
        *routes_alerts.HANDLERS,
        *routes_recalls.HANDLERS,
        *routes_labels.HANDLERS,
        *routes_vigilance.HANDLERS,
        *routes_purchasing.HANDLERS,
        *routes_supplier_returns.HANDLERS,
        *routes_stocktakes.HANDLERS,
        *routes_containers.HANDLERS,
        *routes_protocols.HANDLERS,
        web_routes.router(),
    ]


def create_app(settings: Settings | None = None, *, manage_pool: bool = True) -> Litestar:
    """Build the ASGI app. With manage_pool=False the caller (tests) owns the database pool."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def pool_lifespan(app: Litestar) -> AsyncIterator[None]:
        if manage_pool:
            db.configure(settings.database_url)
            await db.start_pool(
                min_size=settings.pool_min_size,
                max_size=settings.pool_max_size,
                idle_seconds=settings.pool_idle_seconds,
            )
        try:
            if manage_pool:
                async with metrics.sampling(lambda: db.get_engine().pool):
                    yield
            else:
                yield
        finally:
            if manage_pool:
                await db.close_pool()
                labels_service.shutdown()

    @contextlib.asynccontextmanager
    async def jobs_lifespan(app: Litestar) -> AsyncIterator[None]:
        # Scheduled jobs in every serving process: PostgreSQL makes each period run once across all of them.
        if not (manage_pool and settings.jobs):
            yield
            return
        from inventory import jobs

        async with jobs.running(settings):
            yield

    app = Litestar(
        route_handlers=_route_handlers(),
        lifespan=[pool_lifespan, jobs_lifespan],
        # The depth guard comes first: it must see every body before anything decodes it.
        # The retry sits outside authentication: the token check reads the database too.
        middleware=[
            DefineMiddleware(json_depth_middleware, max_body=MAX_BODY),
            DefineMiddleware(retry_middleware, max_body=MAX_BODY),
            auth_middleware(),
        ],
        plugins=[problems.plugin()],
        response_class=JsonResponse,
        template_config=template_config(),
        before_send=[security_headers, allow_header],
        state=State({"settings": settings}),
        compression_config=CompressionConfig(backend="gzip", minimum_size=2048, gzip_compress_level=5),
        openapi_config=OpenAPIConfig(
            title="meso-inventory",
            version="0.1.0",
            description="Ampoule traceability, stock, alerts and labels for mesotherapy clinics.",
            components=openapi_components(),
            security=[{"BearerToken": []}],
            path="/schema",
            render_plugins=[swagger_plugin()],
        ),
        request_max_body_size=MAX_BODY,
        # Logging belongs to the host: `inventory serve` configures it (logs.dict_config), tests have caplog.
        logging_config=None,
        debug=False,
    )
    # Around the router rather than among the middleware above: those run only once a route matched, and an
    # unknown path or a wrong method must get its request id, its metrics and its access line too.
    app.asgi_handler = observe_middleware(app.asgi_handler, access_log=settings.access_log)
    document_problems(app)
    return app
