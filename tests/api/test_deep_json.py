"""Deeply nested JSON is refused with 400 json_too_deep before any decoder recurses into it."""

from __future__ import annotations

import logging

import httpx
import pytest

from inventory.api.json_depth import MAX_DEPTH, too_deep
from tests.support.http import H, is_problem

ROUTES = [
    ("POST", "/api/auth/token", None),
    ("POST", "/api/brands", "manager"),
    ("POST", "/api/receipts", "staff"),
    ("POST", "/api/sessions/1/scans", "staff"),
    ("PUT", "/api/locations/1/rules/1", "manager"),
    ("POST", "/api/users", "admin"),
]


def arrays(depth: int) -> bytes:
    """`depth` nested arrays around a number."""
    return b"[" * depth + b"1" + b"]" * depth


def objects(depth: int) -> bytes:
    """`depth` nested objects, each under key "a"."""
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 980, 100_000])
@pytest.mark.parametrize("shape", [arrays, objects])
@pytest.mark.parametrize(("method", "path", "role"), ROUTES)
async def test_body_deeper_than_the_limit_is_400_json_too_deep_with_or_without_a_token(
    client: httpx.AsyncClient,
    auth_headers: H,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    role: str | None,
    shape: object,
    depth: int,
) -> None:
    assert callable(shape)
    body: bytes = shape(depth)
    for headers in ({}, auth_headers[role] if role else {"Authorization": "Bearer not-a-token"}):
        with caplog.at_level(logging.WARNING, logger="inventory"):
            response = await client.request(
                method, path, content=body, headers={**headers, "Content-Type": "application/json"}
            )
        assert is_problem(response, 400, "json_too_deep")
        assert "Traceback" not in caplog.text
        assert "RecursionError" not in caplog.text


async def test_body_at_the_limit_reaches_validation(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/token", content=arrays(MAX_DEPTH), headers={"Content-Type": "application/json"}
    )
    assert is_problem(response, 422, "validation_error")


async def test_deep_body_sent_as_a_form_is_refused_too(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/token", content=arrays(980), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert is_problem(response, 400, "json_too_deep")


def test_brackets_inside_strings_do_not_count() -> None:
    text = b'{"password": "' + b"[{" * 5000 + b'\\"' + b"[" * 100 + b'"}'
    assert not too_deep(text)
    assert too_deep(b'["' + b"x" * 10 + b'", ' + arrays(MAX_DEPTH) + b"]")


def test_many_shallow_brackets_are_not_deep() -> None:
    assert not too_deep(b"[" + b"[1]," * 10_000 + b"[]]")
    assert too_deep(b"[" * (MAX_DEPTH + 1))  # unclosed: the decoder would still recurse into it
