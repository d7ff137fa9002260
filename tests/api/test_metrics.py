"""GET /metrics: open on the loopback, behind a token elsewhere; requests by route template, scans by outcome."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import httpx
import pytest
from litestar import Litestar
from prometheus_client import REGISTRY

from inventory import clock
from inventory.app import create_app
from inventory.config import Settings
from inventory.domain.models import Actor
from tests.support.clinic import build
from tests.support.http import H, is_problem

TOKEN = "metrics-token-0123456789abcdef"
SCANS_ROUTE = "/api/sessions/{session_id}/scans"


def value(name: str, **labels: str) -> float:
    """A sample's current value in this process (0 before its first increment)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture(scope="module")
def token_app(settings: Settings) -> Litestar:
    """The app with INVENTORY_METRICS_TOKEN set."""
    return create_app(dataclasses.replace(settings, metrics_token=TOKEN), manage_pool=False)


async def _remote(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    # ASGI scope client: the peer address uvicorn would report for a machine on the network.
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def remote(app: Litestar, conn: asyncpg.Connection) -> AsyncIterator[httpx.AsyncClient]:
    """A client from another address, on the app without a metrics token."""
    async for http in _remote(app):
        yield http


@pytest.fixture
async def remote_with_token(token_app: Litestar, conn: asyncpg.Connection) -> AsyncIterator[httpx.AsyncClient]:
    """A client from another address, on the app with a metrics token."""
    async for http in _remote(token_app):
        yield http


async def test_metrics_are_open_from_the_loopback_in_prometheus_text(client: httpx.AsyncClient) -> None:
    await client.get("/health")
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.text
    assert 'inventory_http_requests_total{method="GET",route="/health",status="2xx"}' in text
    assert "inventory_http_request_duration_seconds_bucket" in text
    for state in ("in_use", "idle"):
        assert f'inventory_db_pool_connections{{state="{state}"}}' in text
    assert "inventory_db_pool_max_connections" in text


async def test_ipv6_loopback_is_open_too(app: Litestar, conn: asyncpg.Connection) -> None:
    transport = httpx.ASGITransport(app=app, client=("::1", 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/metrics")).status_code == 200


async def test_the_pool_gauges_show_this_process_pool(client: httpx.AsyncClient) -> None:
    await client.get("/metrics")
    # The test holds one connection for its transaction; the session pool has at most 10.
    assert value("inventory_db_pool_connections", state="in_use") >= 1
    assert value("inventory_db_pool_max_connections") == 10


async def test_metrics_from_another_address_without_a_configured_token_are_403(remote: httpx.AsyncClient) -> None:
    assert is_problem(await remote.get("/metrics"), 403, "forbidden")
    assert is_problem(await remote.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}), 403)


async def test_metrics_from_another_address_need_the_token(remote_with_token: httpx.AsyncClient) -> None:
    assert is_problem(await remote_with_token.get("/metrics"), 401, "unauthorized")
    wrong = await remote_with_token.get("/metrics", headers={"Authorization": "Bearer " + "x" * len(TOKEN)})
    assert is_problem(wrong, 401, "unauthorized")
    assert is_problem(await remote_with_token.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}), 401)
    right = await remote_with_token.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200
    assert "inventory_http_requests_total" in right.text


async def test_metrics_are_not_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert "/metrics" not in paths


async def test_requests_are_counted_by_route_template_never_by_id(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors)
    labels = {"method": "POST", "route": SCANS_ROUTE, "status": "2xx"}
    before = value("inventory_http_requests_total", **labels)
    response = await client.post(
        f"/api/sessions/{clinic.session['id']}/scans", json={"barcode": clinic.code()}, headers=auth_headers["staff"]
    )
    assert response.status_code == 201, response.text
    assert value("inventory_http_requests_total", **labels) == before + 1
    assert value("inventory_http_request_duration_seconds_count", method="POST", route=SCANS_ROUTE) >= 1
    text = (await client.get("/metrics")).text
    assert f"/api/sessions/{clinic.session['id']}" not in text


async def test_unknown_paths_and_odd_methods_do_not_grow_the_series(client: httpx.AsyncClient) -> None:
    before = value("inventory_http_requests_total", method="GET", route="unmatched", status="4xx")
    assert (await client.get("/no/such/path/12345")).status_code == 404
    assert value("inventory_http_requests_total", method="GET", route="unmatched", status="4xx") == before + 1
    await client.request("BREW", "/health")
    text = (await client.get("/metrics")).text
    assert "/no/such/path" not in text
    assert 'method="BREW"' not in text
    assert 'method="OTHER",route="unmatched",status="4xx"' in text  # 405: the router refused it


async def test_scan_outcomes_count_recorded_scans_warnings_and_refusals(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, expiry_days=1)
    recorded = value("inventory_scans_total", outcome="recorded")
    soon = value("inventory_scan_warnings_total", code="expires_soon")
    expired = value("inventory_scans_total", outcome="lot_expired")
    path = f"/api/sessions/{clinic.session['id']}/scans"
    first = await client.post(path, json={"barcode": clinic.code()}, headers=auth_headers["staff"])
    assert first.status_code == 201, first.text
    assert "expires_soon" in [w["code"] for w in first.json()["warnings"]]
    assert value("inventory_scans_total", outcome="recorded") == recorded + 1
    assert value("inventory_scan_warnings_total", code="expires_soon") == soon + 1

    repeats = value("inventory_scans_total", outcome="repeat_scan")
    again = await client.post(path, json={"barcode": clinic.code()}, headers=auth_headers["staff"])
    assert is_problem(again, 409, "repeat_scan")
    assert value("inventory_scans_total", outcome="repeat_scan") == repeats + 1

    clock.shift(timedelta(days=2))
    refused = await client.post(path, json={"barcode": clinic.code(), "repeat": True}, headers=auth_headers["staff"])
    assert is_problem(refused, 409, "lot_expired")
    assert value("inventory_scans_total", outcome="lot_expired") == expired + 1
    assert value("inventory_scans_total", outcome="recorded") == recorded + 1
