"""Operational routes and authentication over HTTP."""

from __future__ import annotations

import httpx


async def test_health_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_answers_when_database_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200


async def test_api_without_token_is_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/brands")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "unauthorized"


async def test_openapi_document_is_open(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert "/api/receipts" in response.json()["paths"]


async def test_root_and_docs_lead_to_the_pages_and_the_api_documentation(client: httpx.AsyncClient) -> None:
    root = await client.get("/")
    assert root.status_code in (301, 302, 307, 308)
    assert root.headers["location"] == "/ui/"
    docs = await client.get("/docs", follow_redirects=True)
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_openapi_documents_problem_responses_on_every_api_operation(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert "Problem" in document["components"]["schemas"]
    for path, item in document["paths"].items():
        if not path.startswith("/api"):
            continue
        for method, operation in item.items():
            responses = operation["responses"]
            for status in ("400", "404", "409", "422"):
                assert "application/problem+json" in responses[status]["content"], (method, path, status)
            if path != "/api/auth/token":
                assert {"401", "403"} <= set(responses), (method, path)


async def test_openapi_documents_the_chair_fields_and_refusals(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    schemas = document["components"]["schemas"]

    def properties(name: str) -> dict[str, object]:
        [key] = [key for key in schemas if key.endswith(name)]
        found: dict[str, object] = schemas[key]["properties"]
        return found

    assert "repeat" in properties("ScanIn")
    assert "override_reason" in properties("ScanOut")
    assert "override_reason" in properties("SessionUsageOut")
    scans = document["paths"]["/api/sessions/{session_id}/scans"]["post"]["responses"]
    assert "repeat_scan" in scans["409"]["description"]
    assert "override_reason_invalid" in scans["422"]["description"]
    refresh = document["paths"]["/api/auth/refresh"]["post"]
    assert refresh["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("TokenOut")
    assert "session_expired" in refresh["responses"]["401"]["description"]
