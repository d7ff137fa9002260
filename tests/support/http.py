"""HTTP helpers for the API tests."""

from __future__ import annotations

import httpx

H = dict[str, dict[str, str]]
"""Authorization headers by role, as the `auth_headers` fixture gives them."""


def is_problem(response: httpx.Response, status: int, code: str | None = None) -> bool:
    """The response is problem+json with this status (and code)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status
    assert "code" in body
    if code is not None:
        assert body["code"] == code, body
    return True
