"""Response headers, the offline API documentation, the OpenAPI document's promises, and unsupported methods."""

from __future__ import annotations

import re
from typing import Any

import httpx
import msgspec
import pytest

from inventory.api import schemas
from inventory.domain.models import Actor
from inventory.services import clinical
from tests.support.http import H, is_problem

MAX_ID = 2_147_483_647


def assert_api_headers(response: httpx.Response) -> None:
    """The headers every /api response carries."""
    assert response.headers.get("cache-control") == "no-store", (response.request.url, response.headers)
    assert response.headers.get("x-content-type-options") == "nosniff", (response.request.url, response.headers)


async def test_token_client_data_and_problems_are_never_cached_nor_sniffed(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    person = await clinical.create_client(actor=actors["manager"], full_name="Nadia Cached", allergies=[])
    responses = [
        await client.post(
            "/api/auth/token", json={"email": "staff@clinic.test", "password": "correct horse battery staple"}
        ),
        await client.post("/api/auth/token", json={"email": "staff@clinic.test", "password": "wrong password here"}),
        await client.get(f"/api/clients/{person['id']}", headers=auth_headers["manager"]),
        await client.get("/api/clients", headers=auth_headers["manager"]),
        await client.get("/api/brands"),
        await client.get("/api/no-such-route", headers=auth_headers["staff"]),
        await client.post("/api/brands", json={"name": 5}, headers=auth_headers["manager"]),
        await client.post("/api/brands", content=b"[" * 100, headers=auth_headers["manager"]),
        await client.request("TRACE", "/api/brands", headers=auth_headers["staff"]),
    ]
    assert [r.status_code for r in responses] == [200, 401, 200, 200, 401, 404, 422, 400, 405]
    for response in responses:
        assert_api_headers(response)


async def test_pages_and_documents_are_not_sniffed_either(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/schema/openapi.json", "/schema/swagger"):
        assert (await client.get(path)).headers.get("x-content-type-options") == "nosniff", path


# ------------------------------------------------------------------ /docs without a network

_ATTRIBUTE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


async def test_docs_page_loads_everything_from_this_service(client: httpx.AsyncClient) -> None:
    """The ASGI transport reaches no network: each asset the page names must come from the app itself."""
    page = await client.get("/docs", follow_redirects=True)
    assert page.status_code == 200
    assert "SwaggerUIBundle" in page.text
    references = _ATTRIBUTE.findall(page.text)
    assert len(references) >= 3, references  # script, preset, style (and the icon)
    for reference in references:
        assert reference.startswith("/") and not reference.startswith("//"), reference
        asset = await client.get(reference)
        assert asset.status_code == 200, reference
        assert len(asset.content) > 500, reference
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", page.text, re.IGNORECASE)
    assert "cdn." not in page.text
    assert "unpkg" not in page.text


async def test_the_packaged_swagger_ui_renders_openapi_3_1(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    script = await client.get("/docs/assets/swagger-ui-bundle.js")
    # Swagger UI learnt OpenAPI 3.1 in version 5; a 4.x bundle shows "Unable to render this definition".
    versions = re.findall(rb'"(5\.\d+\.\d+)"', script.content)
    assert versions, "Swagger UI 5 is required for an OpenAPI 3.1 document"


# ------------------------------------------------------------------ the OpenAPI document


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    """The served OpenAPI document."""
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_open_routes_say_they_need_no_token(document: dict[str, Any]) -> None:
    assert document["security"] == [{"BearerToken": []}]
    for path in ("/health", "/ready", "/api/auth/token"):
        for operation in document["paths"][path].values():
            assert operation["security"] == [], path
    for method, path, operation in _operations(document):
        if path.startswith("/api") and path != "/api/auth/token":
            assert operation.get("security") != [], (method, path)


def test_every_id_in_a_path_is_bounded_to_int32(document: dict[str, Any]) -> None:
    seen = 0
    for method, path, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                seen += 1
                assert parameter["schema"]["type"] == "integer", (method, path)
                assert parameter["schema"]["minimum"] == 1, (method, path)
                assert parameter["schema"]["maximum"] == MAX_ID, (method, path)
                assert isinstance(parameter["schema"]["maximum"], int)
    assert seen >= 20


async def test_path_ids_beyond_int32_or_below_one_are_404(client: httpx.AsyncClient, auth_headers: H) -> None:
    for bad in (0, -1, MAX_ID + 1):
        for path in (f"/api/products/{bad}", f"/api/lots/{bad}/label", f"/api/alerts/reorder/{bad}"):
            response = await client.get(path, headers=auth_headers["manager"])
            assert is_problem(response, 404, "not_found")
            assert response.json()["errors"][0]["source"] == "path"


def _strict_struct_names() -> set[str]:
    found: set[str] = set()
    pending: list[type[msgspec.Struct]] = [msgspec.Struct]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__struct_config__.forbid_unknown_fields:
            found.add(cls.__name__)
    return found


def test_request_bodies_that_refuse_unknown_fields_say_so(document: dict[str, Any]) -> None:
    assert schemas.TokenIn.__struct_config__.forbid_unknown_fields
    components = document["components"]["schemas"]
    bodies = set()
    for _, _, operation in _operations(document):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            ref = media.get("schema", {}).get("$ref", "")
            if ref:
                bodies.add(ref.rsplit("/", 1)[-1])
    strict = _strict_struct_names() & set(components)
    assert {"TokenIn", "UserIn", "ScanIn", "ReceiptIn", "ReceiptLineIn"} <= strict
    assert bodies <= strict, f"request bodies that accept unknown fields: {bodies - strict}"
    for name in strict:
        assert components[name]["additionalProperties"] is False, name
    assert "additionalProperties" not in components["TokenOut"]


# ------------------------------------------------------------------ methods


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
@pytest.mark.parametrize("path", ["/api/brands", "/api/auth/token", "/health", "/api/sessions/1/scans"])
async def test_unsupported_methods_are_405_with_allow(
    client: httpx.AsyncClient, auth_headers: H, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=auth_headers["staff"])
    assert is_problem(response, 405, "method_not_allowed")
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert allowed
    assert method not in allowed
    assert allowed <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


async def test_options_lists_every_method_of_the_path_the_schema_documents(
    client: httpx.AsyncClient, auth_headers: H
) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    answered = 0
    for path, operations in spec["paths"].items():
        response = await client.options(re.sub(r"\{[^}]+\}", "1", path))
        if response.status_code != 204:  # a controller guarded as a whole refuses the anonymous OPTIONS
            continue
        answered += 1
        documented = {m.upper() for m in operations}
        assert {m.strip() for m in response.headers["allow"].split(",")} >= documented | {"OPTIONS"}, path
    assert answered > 5
    stocktakes = await client.options("/api/stocktakes", headers=auth_headers["manager"])
    assert {m.strip() for m in stocktakes.headers["allow"].split(",")} == {"GET", "OPTIONS", "POST"}
