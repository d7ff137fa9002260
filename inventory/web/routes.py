"""The /ui pages: static HTML, one JS module and one CSS file, served without auth under a strict CSP.

The pages hold no data: every data call goes to /api with the bearer token kept in sessionStorage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Response, get

STATIC = Path(__file__).parent / "static"

# No inline scripts or styles, nothing from elsewhere, no framing, no plugins.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

_FILES: dict[str, tuple[str, str]] = {
    "index.html": ("index.html", "text/html"),
    "scan": ("scan.html", "text/html"),
    "alerts": ("alerts.html", "text/html"),
    "recall": ("recall.html", "text/html"),
    "app.js": ("app.js", "text/javascript"),
    "app.css": ("app.css", "text/css"),
}


# Read once at import: a handful of small files, and no blocking file reads inside the event loop.
_CONTENT: dict[str, bytes] = {name: (STATIC / filename).read_bytes() for name, (filename, _) in _FILES.items()}


def _serve(name: str) -> Response[bytes]:
    return Response(content=_CONTENT[name], media_type=_FILES[name][1], headers=dict(SECURITY_HEADERS))


@get("/ui", include_in_schema=False, security=[])
async def sign_in_page() -> Response[bytes]:
    """Sign-in and the menu (/ui and /ui/ are the same route)."""
    return _serve("index.html")


@get("/ui/scan", include_in_schema=False, security=[])
async def scan_page() -> Response[bytes]:
    """The chair: session, scan input, result, uses."""
    return _serve("scan")


@get("/ui/alerts", include_in_schema=False, security=[])
async def alerts_page() -> Response[bytes]:
    """Reorder and expiry alerts (managers)."""
    return _serve("alerts")


@get("/ui/recall", include_in_schema=False, security=[])
async def recall_page() -> Response[bytes]:
    """Lot trace and recall cases (managers)."""
    return _serve("recall")


@get("/ui/app.js", include_in_schema=False, security=[])
async def script() -> Response[bytes]:
    """The pages' one JavaScript module."""
    return _serve("app.js")


@get("/ui/app.css", include_in_schema=False, security=[])
async def stylesheet() -> Response[bytes]:
    """The pages' one stylesheet."""
    return _serve("app.css")


HANDLERS: list[Any] = [sign_in_page, scan_page, alerts_page, recall_page, script, stylesheet]
