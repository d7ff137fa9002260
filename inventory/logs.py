"""Logging: the current request's id in every record, JSON or text lines, and uvicorn's configuration for serve."""

from __future__ import annotations

import json
import logging
import re
import secrets
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

__all__ = ["RequestIdFilter", "accept_request_id", "dict_config", "new_request_id", "request_id"]

# Set by the request middleware for the time of one request; every log record made meanwhile carries it.
request_id: ContextVar[str | None] = ContextVar("inventory_request_id", default=None)

ACCESS_LOGGER = "inventory.access"
_SANE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
# Record attributes every LogRecord has: anything else was passed in `extra` and belongs in the JSON line.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def new_request_id() -> str:
    """A fresh request id: 16 random hex digits."""
    return secrets.token_hex(8)


def accept_request_id(incoming: str | None) -> str:
    """The client's X-Request-ID when short and plain (no spaces, quotes or control characters), else a new one."""
    if incoming and _SANE_ID.fullmatch(incoming):
        return incoming
    return new_request_id()


class RequestIdFilter(logging.Filter):
    """Stamps `request_id` on every record (None outside a request); attach it to each handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the current request's id; never drops a record."""
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


def _without_row_values(text: str, error: BaseException | None) -> str:
    """The formatted trace with PostgreSQL's DETAIL withheld: it may quote a failing row (a client's name, contacts)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        detail = getattr(error, "detail", None)
        if type(error).__module__.startswith("asyncpg") and isinstance(detail, str) and detail:
            text = text.replace(detail, "(withheld: may quote row values)")
        error = error.__cause__ or error.__context__
    return text


class _Redacting(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        """The usual trace, without the database's row values."""
        return _without_row_values(super().formatException(ei), ei[1])


class JsonFormatter(_Redacting):
    """One JSON object per line: time, level, logger, message, request_id and the record's `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in ("color_message",):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(_Redacting):
    """A readable line with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The usual line, then `[request <id>]` inside a request."""
        text = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{text} [request {rid}]" if rid else text


def dict_config(*, log_format: str, level: str) -> dict[str, Any]:
    """A logging.config dictionary for uvicorn and the app: one stderr handler, the request id on every line."""
    formatter = "json" if log_format == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "inventory.logs.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "inventory.logs.JsonFormatter"},
            "text": {"()": "inventory.logs.TextFormatter"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": formatter,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # uvicorn's own loggers propagate to the root handler instead of keeping theirs.
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }
