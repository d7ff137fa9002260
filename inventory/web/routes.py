"""The /ui pages: static HTML, our own small scripts and one stylesheet, served without auth under a strict CSP.

The pages hold no data: every data call goes to /api with the bearer token kept in sessionStorage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

STATIC = Path(__file__).parent / "static"

# No inline scripts or styles, nothing from elsewhere, no framing, no plugins. 'wasm-unsafe-eval' lets the
# chair compile the self-hosted barcode decoder (WebAssembly only; JavaScript eval stays refused).
_CSP = (
    "default-src 'self'; script-src 'self'{wasm}; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
CONTENT_SECURITY_POLICY = _CSP.format(wasm="")
CHAIR_CONTENT_SECURITY_POLICY = _CSP.format(wasm=" 'wasm-unsafe-eval'")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
MEDIA_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".txt": "text/plain",
}


def _read_static() -> dict[str, bytes]:
    """Every servable file under static/, by its path there (read once: no blocking reads in the event loop)."""
    return {
        path.relative_to(STATIC).as_posix(): path.read_bytes()
        for path in sorted(STATIC.rglob("*"))
        if path.is_file() and path.suffix in MEDIA_TYPES
    }


_CONTENT = _read_static()


def _serve(name: str, *, csp: str = CONTENT_SECURITY_POLICY, extra: dict[str, str] | None = None) -> Response[bytes]:
    content = _CONTENT.get(name)
    if content is None:
        raise NotFoundException()
    headers = {"Content-Security-Policy": csp, **SECURITY_HEADERS, **(extra or {})}
    return Response(content=content, media_type=MEDIA_TYPES[Path(name).suffix], headers=headers)


@get("/ui", include_in_schema=False, security=[])
async def sign_in_page() -> Response[bytes]:
    """Sign-in and the menu (/ui and /ui/ are the same route)."""
    return _serve("index.html")


@get("/ui/scan", include_in_schema=False, security=[])
async def scan_page() -> Response[bytes]:
    """The chair: the day's sessions, the scan input, results, pending scans and uses."""
    return _serve("scan.html", csp=CHAIR_CONTENT_SECURITY_POLICY)


@get("/ui/alerts", include_in_schema=False, security=[])
async def alerts_page() -> Response[bytes]:
    """Reorder and expiry alerts (managers)."""
    return _serve("alerts.html")


@get("/ui/recall", include_in_schema=False, security=[])
async def recall_page() -> Response[bytes]:
    """Lot trace and recall cases (managers)."""
    return _serve("recall.html")


@get("/ui/sw.js", include_in_schema=False, security=[])
async def service_worker() -> Response[bytes]:
    """The chair's service worker: keeps the station's own files so a reload works with the network down."""
    return _serve("sw.js")


@get("/ui/{name:str}", include_in_schema=False, security=[])
async def asset(name: FromPath[str]) -> Response[bytes]:
    """A script, stylesheet or other file of the pages (never an HTML page under another name)."""
    if name.endswith(".html") or name == "sw.js":
        raise NotFoundException()
    return _serve(name)


@get("/ui/vendor/{path:path}", include_in_schema=False, security=[])
async def vendored(path: FromPath[str]) -> Response[bytes]:
    """A vendored third-party file served by the service itself (the camera's barcode decoder)."""
    return _serve("vendor" + path, csp=CHAIR_CONTENT_SECURITY_POLICY)


HANDLERS: list[Any] = [sign_in_page, scan_page, alerts_page, recall_page, service_worker, asset, vendored]
