"""The pages' own files: scripts, the stylesheet, the service worker and the vendored decoder, served from memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from inventory.web.pages import CHAIR_CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY

STATIC = Path(__file__).parent.parent / "static"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
MEDIA_TYPES = {
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


@get("/sw.js", include_in_schema=False, security=[])
async def service_worker() -> Response[bytes]:
    """The chair's service worker: keeps the station's own files so a reload works with the network down."""
    return _serve("sw.js")


@get("/{name:path}", include_in_schema=False, security=[])
async def asset(name: FromPath[str]) -> Response[bytes]:
    """A script, the stylesheet or a vendored file (the camera's decoder); any other path is the pages' 404."""
    name = name.lstrip("/")
    if name == "sw.js" or name not in _CONTENT:
        raise NotFoundException()
    if name.startswith("vendor/"):
        return _serve(name, csp=CHAIR_CONTENT_SECURITY_POLICY)
    return _serve(name)


HANDLERS: list[Any] = [service_worker, asset]
