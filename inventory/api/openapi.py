"""Completes the OpenAPI document: every operation lists the problem responses it can give."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Reference, Schema
from litestar.openapi.spec.enums import OpenAPIType

PROBLEM_MEDIA_TYPE = "application/problem+json"

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    description="RFC 9457 problem details; `code` is stable and machine-readable, extra members carry the data"
    " to act on (`candidates`, `readings`, `ingredients`, `errors`, ...).",
    required=["type", "title", "status", "detail", "code"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "code": Schema(type=OpenAPIType.STRING, examples=["lot_expired"]),
        "request_id": Schema(
            type=OpenAPIType.STRING,
            description="The request's id, as in its X-Request-ID header and the service's logs: quote it to support.",
        ),
    },
    additional_properties=True,
)

_OPEN = {"/health", "/ready", "/api/auth/token"}
_COMMON = {
    "400": "Malformed request: not JSON, or not UTF-8 (problem `code`: bad_request)",
    "404": "Not found (problem `code`: not_found, product_unknown, ...)",
    "409": "Conflicts with the current state (problem `code` names the rule)",
    "422": "Invalid content (problem `code`: validation_error, gtin_invalid, barcode_invalid, ...)",
    "503": "The database is unreachable or busy (problem `code`: busy, unavailable); see Retry-After",
}
_AUTH = {
    "401": "Missing, bad, expired or revoked bearer token",
    "403": "The role may not do this",
}
# Routes whose refusals a client must tell apart, beyond the generic descriptions above.
_SPECIFIC = {
    "/api/auth/refresh": {
        "401": "Missing, bad, expired or revoked bearer token (problem `code`: invalid_token), or a sign-in older"
        " than its maximum age: sign in again (problem `code`: session_expired)",
    },
    "/api/sessions/{session_id}/scans": {
        "409": "Refused, nothing written (problem `code`: session_closed, lot_expired, lot_recalled,"
        " lot_quarantined, serial_already_used, lot_ambiguous with `candidates`, lot_required, allergy_conflict with"
        " `ingredients`, repeat_scan with the earlier `usage_id` and `seconds_ago`: the same barcode was recorded on"
        ' this session less than 10 s ago, send `"repeat": true` if it is another ampoule)',
        "422": "Invalid content (problem `code`: validation_error, barcode_invalid, barcode_ambiguous with"
        " `readings`, override_reason_invalid: the reason reads as a barcode, has control characters or says"
        " nothing)",
    },
}


def _strict_structs() -> set[str]:
    """Names of the msgspec structs that refuse unknown fields (Litestar names components after them)."""
    found: set[str] = set()
    pending: list[type[msgspec.Struct]] = [msgspec.Struct]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__struct_config__.forbid_unknown_fields:
            found.add(cls.__name__)
    return found


def _whole_bounds(schema: Schema | Reference | None) -> None:
    """Integer bounds as whole numbers (Litestar writes 2147483647.0), through nested schemas."""
    if not isinstance(schema, Schema):
        return
    if schema.type == OpenAPIType.INTEGER:
        for name in ("minimum", "maximum"):
            value = getattr(schema, name)
            if isinstance(value, float) and value.is_integer():
                setattr(schema, name, int(value))
    for child in (*(schema.one_of or ()), *(schema.any_of or ()), *(schema.all_of or ()), schema.items):
        _whole_bounds(child)
    for child in (schema.properties or {}).values():
        _whole_bounds(child)


def document_problems(app: Litestar) -> None:
    """Complete the app's OpenAPI document before it is served.

    Every operation lists its problem responses; the open routes say `security: []` (the document's default
    asks for the bearer token); bodies that refuse unknown fields say `additionalProperties: false`.
    """
    document = app.openapi_schema
    if document.components.schemas is None:
        document.components.schemas = {}
    strict = _strict_structs()
    for name, schema in document.components.schemas.items():
        if isinstance(schema, Schema) and name in strict:
            schema.additional_properties = False
        _whole_bounds(schema)
    document.components.schemas["Problem"] = PROBLEM_SCHEMA
    content = {PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))}
    for path, item in (document.paths or {}).items():
        if path in _OPEN:
            for operation in (item.get, item.put, item.post, item.patch, item.delete):
                if operation is not None:
                    operation.security = []
        for operation in (item.get, item.put, item.post, item.patch, item.delete):
            for parameter in (operation.parameters or []) if operation is not None else []:
                if not isinstance(parameter, Reference):
                    _whole_bounds(parameter.schema)
        if not path.startswith("/api"):
            continue
        wanted = dict(_COMMON) if path in _OPEN else {**_COMMON, **_AUTH}
        if path == "/api/auth/token":
            wanted["401"] = "Wrong e-mail or password (problem `code`: invalid_credentials)"
            wanted["429"] = (
                "Too many failed sign-in attempts for this e-mail from this address, or from this address"
                " (problem `code`: too_many_attempts); Retry-After says when to try again"
            )
        wanted.update(_SPECIFIC.get(path, {}))
        for operation in (item.get, item.put, item.post, item.patch, item.delete):
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            for status, description in wanted.items():
                # Litestar documents its 400 as plain JSON; ours, like every error, is problem+json.
                if status == "400" or status not in responses:
                    responses[status] = OpenAPIResponse(description=description, content=content)
            operation.responses = responses


def add_file_types(operation: Any, media_types: dict[str, str], *, status: str = "200") -> None:
    """Document the files one response may also be (PDF, CSV…) beside what Litestar generated for it.

    For an operation_class's __post_init__: schemathesis (and clients) check every Content-Type against these.
    """
    responses = operation.responses or {}
    response = responses.get(status)
    if not isinstance(response, OpenAPIResponse):
        return
    content = dict(response.content or {})
    for media_type, about in media_types.items():
        content[media_type] = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, description=about))
    response.content = content
