"""Every error becomes an RFC 9457 problem+json response with a stable `code`, mapped here only."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin

from inventory import logs
from inventory.db import DISCONNECTED, TOO_MANY_CONNECTIONS, CommitOutcomeUnknown
from inventory.domain.errors import InventoryError

log = logging.getLogger("inventory")

PROBLEM_BASE = "https://meso-inventory.example/problems/"
# Set on a problem the retry middleware may answer by running the request once more; it never leaves the app.
RETRY_SAFE_HEADER = "x-inventory-retry-safe"
RETRY_AFTER_SECONDS = "1"

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def _problem(
    status: int, code: str, title: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=status,
        type_=PROBLEM_BASE + code,
        title=title,
        detail=detail,
        headers=headers,
        extra={"code": code, **{key: _numbers(value) for key, value in extra.items()}, **_request_id()},
    )


def _numbers(value: Any) -> Any:
    """Decimal quantities as JSON numbers (0.1), as every response writes them; msgspec would write strings."""
    if isinstance(value, Decimal):
        return msgspec.Raw(str(value).encode())
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_numbers(item) for item in value]
    return value


def _request_id() -> dict[str, str]:
    # The id in the access log and the X-Request-ID header, so a clinic can quote it when it calls.
    rid = logs.request_id.get()
    return {"request_id": rid} if rid is not None else {}


def from_domain(error: InventoryError) -> ProblemDetailsException:
    """A domain refusal; one that says when to retry carries Retry-After (seconds)."""
    retry_after = error.extra.get("retry_after")
    headers = {"Retry-After": str(retry_after)} if isinstance(retry_after, int) else None
    return _problem(error.status, error.code, error.title, error.detail, headers=headers, **error.extra)


def from_validation(error: ValidationException) -> ProblemDetailsException:
    """Malformed JSON, wrong types, missing fields, out-of-range values: 422; an impossible path id: 404."""
    errors = error.extra if isinstance(error.extra, list) else []
    if errors and all(isinstance(e, dict) and e.get("source") == "path" for e in errors):
        # An id outside 1..2147483647 names nothing that can exist: the resource is not found.
        return _problem(404, "not_found", "Not found", "No such resource.", errors=errors)
    detail = "; ".join(
        str(e.get("message", "")) + (f" ({e.get('key')})" if e.get("key") else "")
        for e in errors
        if isinstance(e, dict)
    ) or str(error.detail)
    return _problem(422, "validation_error", "Invalid request", detail, errors=errors)


def from_http(error: HTTPException) -> ProblemDetailsException:
    """Framework errors: unknown route, wrong method, and so on."""
    status = error.status_code
    code = _HTTP_CODES.get(status, "error")
    # The framework's own headers carry meaning: `Allow` on a 405 names the methods the route has.
    return _problem(status, code, code.replace("_", " ").capitalize(), str(error.detail), headers=error.headers)


def from_encoding(error: UnicodeDecodeError) -> ProblemDetailsException:
    """A body that is not valid UTF-8 (msgspec raises this from inside a JSON string, not a DecodeError)."""
    return _problem(400, "bad_request", "Bad request", "The request body is not valid UTF-8 JSON.")


def from_database(error: asyncpg.PostgresError) -> ProblemDetailsException:
    """Constraint and data errors the services did not anticipate; never a 500."""
    if isinstance(error, asyncpg.UniqueViolationError):
        return _problem(409, "duplicate", "Duplicate", "A record with these values already exists.")
    if isinstance(error, asyncpg.ForeignKeyViolationError):
        return _problem(404, "not_found", "Not found", "A referenced record does not exist.")
    if isinstance(error, asyncpg.CheckViolationError | asyncpg.DataError):
        return _problem(422, "validation_error", "Invalid request", "A value is out of the allowed range.")
    if isinstance(error, TOO_MANY_CONNECTIONS):
        # The pool needed one more connection and PostgreSQL has none left: a moment later one may be free.
        log.warning("database refused a connection: %s", error)
        return _problem(
            503,
            "busy",
            "Busy",
            "The database has no connection free; try again in a moment.",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    if isinstance(error, asyncpg.LockNotAvailableError | asyncpg.QueryCanceledError):
        return _problem(
            503, "busy", "Busy", "The records are busy; try again in a moment.", headers={"Retry-After": "1"}
        )
    if isinstance(error, asyncpg.SerializationError | asyncpg.DeadlockDetectedError):
        return _problem(409, "concurrent_update", "Conflict", "A concurrent change interfered; try again.")
    log.exception("database error", exc_info=error)
    return _problem(503, "unavailable", "Service unavailable", "The database could not complete the request.")


def _raised_in_driver(error: BaseException) -> bool:
    """Whether the error came up through asyncpg: connecting, waiting for a pooled connection, or a statement."""
    frame = error.__traceback__
    while frame is not None:
        if str(frame.tb_frame.f_globals.get("__name__", "")).split(".")[0] == "asyncpg":
            return True
        frame = frame.tb_next
    return False


def from_os_error(error: OSError) -> ProblemDetailsException:
    """An OSError (TimeoutError included) from asyncpg: the database is unreachable; from anywhere else: a bug.

    Connection errors proper (ConnectionError and asyncpg's own) are `db.DISCONNECTED`, mapped by
    `from_disconnect`; what reaches this is e.g. a refused unix socket, a name that does not resolve or a pool
    that hands out no connection in time, or an OSError of our own code, which must not read "database".
    """
    if _raised_in_driver(error):
        return from_connection(error)
    return from_unexpected(error)


def from_connection(error: Exception) -> ProblemDetailsException:
    """The database is unreachable."""
    log.warning("database unreachable: %s", error)
    return _problem(
        503,
        "unavailable",
        "Service unavailable",
        "The database is not reachable; try again shortly.",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def from_disconnect(error: Exception) -> ProblemDetailsException:
    """The database connection broke before anything was committed: safe to run again, else 503 busy."""
    log.warning("database connection lost: %s: %s", type(error).__name__, error)
    return _problem(
        503,
        "busy",
        "Busy",
        "The database connection was interrupted; nothing was written. Try again in a moment.",
        headers={"Retry-After": RETRY_AFTER_SECONDS, RETRY_SAFE_HEADER: "1"},
    )


def from_commit_unknown(error: CommitOutcomeUnknown) -> ProblemDetailsException:
    """The connection broke during COMMIT: retry with the same Idempotency-Key to learn the outcome."""
    log.warning("database connection lost during COMMIT: %s", error.__cause__)
    return _problem(
        503,
        "busy",
        "Busy",
        "The database connection was interrupted while saving; retry with the same Idempotency-Key.",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def from_unexpected(error: Exception) -> ProblemDetailsException:
    """A bug: logged with its trace, answered without internals."""
    log.exception("unhandled error", exc_info=error)
    return _problem(500, "internal_error", "Internal error", "Something went wrong; it has been logged.")


def plugin() -> ProblemDetailsPlugin:
    """The problem-details plugin with the whole mapping."""
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={
                InventoryError: from_domain,
                ValidationException: from_validation,
                HTTPException: from_http,
                UnicodeDecodeError: from_encoding,
                asyncpg.PostgresError: from_database,
                **dict.fromkeys(DISCONNECTED, from_disconnect),
                CommitOutcomeUnknown: from_commit_unknown,
                OSError: from_os_error,  # TimeoutError is one
                Exception: from_unexpected,
            }
        )
    )
