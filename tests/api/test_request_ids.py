"""Request ids: echoed or generated, in problem bodies, on every log record of the request; the JSON access line."""

from __future__ import annotations

import json
import logging
import sys

import asyncpg
import httpx
import pytest
from litestar import Litestar, get

from inventory import logs
from inventory.api.observe import observe_middleware
from tests.support.http import H, is_problem


async def test_a_sane_incoming_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "scanner-7:abc.123"})
    assert response.headers["x-request-id"] == "scanner-7:abc.123"


@pytest.mark.parametrize("incoming", [None, "", "has spaces", 'quo"te', "x" * 129, "naïve"])
async def test_a_missing_or_odd_request_id_is_replaced_by_a_generated_one(
    client: httpx.AsyncClient, incoming: str | None
) -> None:
    headers = [] if incoming is None else [(b"X-Request-ID", incoming.encode())]
    response = await client.get("/health", headers=headers)
    generated = response.headers["x-request-id"]
    assert generated != incoming
    assert len(generated) == 16 and int(generated, 16) >= 0


async def test_each_request_gets_its_own_id(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/health")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


async def test_problem_responses_carry_the_request_id_to_quote(client: httpx.AsyncClient, auth_headers: H) -> None:
    unauthorized = await client.get("/api/stock")
    assert is_problem(unauthorized, 401)
    assert unauthorized.json()["request_id"] == unauthorized.headers["x-request-id"]
    unknown = await client.get("/api/nothing-here", headers={"X-Request-ID": "call-me-42"})
    assert is_problem(unknown, 404)
    assert unknown.json()["request_id"] == "call-me-42" == unknown.headers["x-request-id"]


async def test_one_access_line_per_request_with_template_status_duration_and_user(
    client: httpx.AsyncClient, auth_headers: H, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=logs.ACCESS_LOGGER)
    response = await client.get("/api/lots/123456?lot_number=Dupont", headers=auth_headers["staff"])
    lines = [r for r in caplog.records if r.name == logs.ACCESS_LOGGER]
    assert len(lines) == 1
    record = lines[0]
    assert record.request_id == response.headers["x-request-id"]  # type: ignore[attr-defined]
    assert (record.method, record.route, record.status) == ("GET", "/api/lots/{lot_id}", response.status_code)  # type: ignore[attr-defined]
    assert record.user_id is not None  # type: ignore[attr-defined]
    line = json.loads(logs.JsonFormatter().format(record))
    assert {"time", "level", "logger", "message", "method", "route", "status", "duration_ms", "request_id"} <= set(line)
    assert line["request_id"] == response.headers["x-request-id"]
    # Neither the id in the path nor the query (which may hold a client's name) is logged.
    assert "123456" not in json.dumps(line) and "Dupont" not in json.dumps(line)


async def test_every_log_record_made_during_a_request_carries_its_id(caplog: pytest.LogCaptureFixture) -> None:
    @get("/work", sync_to_thread=False)
    def work() -> dict[str, bool]:
        logging.getLogger("inventory.somewhere").warning("doing the work")
        return {"done": True}

    app = Litestar(route_handlers=[work], logging_config=None)
    app.asgi_handler = observe_middleware(app.asgi_handler, access_log=False)
    caplog.handler.addFilter(logs.RequestIdFilter())  # as logs.dict_config attaches it to serve's handler
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/work")
    (record,) = [r for r in caplog.records if r.getMessage() == "doing the work"]
    assert record.request_id == response.headers["x-request-id"]  # type: ignore[attr-defined]
    logging.getLogger("inventory.somewhere").warning("outside any request")
    assert caplog.records[-1].request_id is None  # type: ignore[attr-defined]


def test_the_text_format_names_the_request() -> None:
    record = logging.LogRecord("inventory", logging.INFO, __file__, 1, "hello", None, None)
    record.request_id = "abc123"
    assert logs.TextFormatter().format(record).endswith("hello [request abc123]")


def test_serve_logging_config_puts_the_filter_on_its_handler_and_routes_uvicorn_there() -> None:
    config = logs.dict_config(log_format="json", level="INFO")
    assert config["handlers"]["stderr"]["filters"] == ["request_id"]
    assert config["handlers"]["stderr"]["formatter"] == "json"
    assert logs.dict_config(log_format="text", level="INFO")["handlers"]["stderr"]["formatter"] == "text"
    assert config["loggers"]["uvicorn.error"]["propagate"] is True


@pytest.mark.parametrize("formatter", [logs.JsonFormatter(), logs.TextFormatter()])
def test_a_logged_database_error_keeps_its_message_but_not_the_row_it_quotes(formatter: logging.Formatter) -> None:
    try:
        try:
            raise asyncpg.NotNullViolationError('null value in column "email" of relation "client"')
        except asyncpg.NotNullViolationError as error:
            error.detail = "Failing row contains (7, Jeanne Dupont, jeanne@example.com, null)."
            raise RuntimeError("wrapped") from error
    except RuntimeError:
        record = logging.LogRecord("inventory", logging.ERROR, __file__, 1, "database error", None, sys.exc_info())
    text = formatter.format(record)
    assert "null value in column" in text  # the message stays: it names the column, not the row
    assert "Dupont" not in text and "jeanne@" not in text
