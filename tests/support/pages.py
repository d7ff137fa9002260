"""Driving the pages over HTTP (ASGI, no browser): a client signed in by cookie, posting forms with their token."""

from __future__ import annotations

import re
from typing import Any

import httpx
import jwt

from inventory.config import Settings
from inventory.services import page_sessions
from inventory.web.pages import SESSION_COOKIE


class Pages:
    """An HTTP client on the app that holds one page sign-in's cookie and knows its CSRF token."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings
        self.csrf = ""

    def sign_in_as(self, cookie: str) -> Pages:
        """Use this page sign-in (a cookie made by `page_sessions.sign_in`)."""
        self.http.cookies.set(SESSION_COOKIE, cookie)
        jti = jwt.decode(cookie, options={"verify_signature": False})["jti"]
        self.csrf = page_sessions.csrf_token(self.settings, jti)
        return self

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET a page (redirects not followed)."""
        return await self.http.get(path, **kwargs)

    async def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        """POST a form with this sign-in's CSRF token."""
        return await self.http.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


def field_error(html: str, field: str) -> str | None:
    """The message shown next to a form field (`<… id="{field}-error">message<`), or None."""
    found = re.search(rf'id="{re.escape(field)}-error"[^>]*>\s*([^<]+?)\s*<', html)
    return found.group(1) if found else None
