"""The chair: the day's sessions, the scan input, results, pending scans and uses (the page; scan.js drives it)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from inventory.web.pages import render, staff_page


@get("/scan", include_in_schema=False, security=[], guards=[staff_page])
async def scan_page(request: Request[Any, Any, Any]) -> Template:
    """The scan station (its script gets a bearer token of this sign-in from /ui/api-token)."""
    # The "Record a reaction" link works before the script runs when the address names the session.
    asked = str(request.query_params.get("session") or "")
    reaction_session = int(asked) if asked.isascii() and asked.isdigit() and 0 < len(asked) < 10 else None
    return await render(request, "chair/scan.html", chair=True, reaction_session=reaction_session)


HANDLERS: list[Any] = [scan_page]
