"""The interactive API documentation, served from a packaged Swagger UI so it works offline."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

ASSETS = "/docs/assets"


def _swagger_ui_static() -> Path:
    # The swagger-ui-py package ships Swagger UI 5 (OpenAPI 3.1); only its static files are used, so the
    # package (which imports its own framework adapters) is located, never imported.
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def swagger_plugin() -> SwaggerRenderPlugin:
    """Swagger UI at /schema/swagger, loading its script, style and icon from this service only."""
    return SwaggerRenderPlugin(
        path="/swagger",
        js_url=f"{ASSETS}/swagger-ui-bundle.js",
        css_url=f"{ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
    )


def assets_router() -> Router:
    """The Swagger UI files under /docs/assets (open, like /docs)."""
    return create_static_files_router(
        path=ASSETS,
        directories=[_swagger_ui_static()],
        include_in_schema=False,
        name="docs-assets",
        send_as_attachment=False,
    )
