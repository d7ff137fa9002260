"""Stock rules over HTTP in the product's unit: decimals for ml and U, whole numbers for `each`; the alert's sums."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from inventory.domain.models import Actor
from tests.support.clinic import build
from tests.support.db import row_counts
from tests.support.http import H, is_problem
from tests.support.vials import build_vials

WRITTEN = ("stock_rule", "audit_event", "reorder_alert")


def exact(response: httpx.Response) -> Any:
    """The body with JSON numbers read as exact decimals."""
    return json.loads(response.text, parse_float=Decimal)


async def _put(
    client: httpx.AsyncClient, headers: dict[str, str], location_id: int, product_id: int, body: str
) -> httpx.Response:
    return await client.put(
        f"/api/locations/{location_id}/rules/{product_id}",
        content=body,
        headers={**headers, "content-type": "application/json"},
    )


async def test_an_ml_rule_takes_decimals_and_the_reorder_alert_uses_them(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build_vials(actors, unit="ml", container_quantity=Decimal("1.5"), vials=2)  # 3 ml on hand
    manager = auth_headers["manager"]
    put = await _put(
        client,
        manager,
        clinic.location_id,
        clinic.product["id"],
        '{"reorder_point": 3.25, "par_level": 7.5, "lead_time_days": 2}',
    )
    assert put.status_code == 200, put.text
    rule = exact(put)
    assert (rule["reorder_point"], rule["par_level"]) == (Decimal("3.25"), Decimal("7.5"))
    alerts = exact(await client.get("/api/alerts/reorder", params={"location_id": clinic.location_id}, headers=manager))
    (item,) = alerts["items"]
    assert (item["usable_on_hand"], item["reorder_point"], item["par_level"]) == (3, Decimal("3.25"), Decimal("7.5"))
    assert item["suggested_quantity"] == Decimal("4.5")  # 7.5 - 3 rounded up to whole 1.5 ml containers
    listed = exact(await client.get("/api/rules", params={"location_id": clinic.location_id}, headers=manager))
    assert [r["reorder_point"] for r in listed] == [Decimal("3.25")]


async def test_a_rule_for_each_refuses_decimals_and_ml_refuses_three_places(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    each = await build(actors, on_hand=3)
    vial = await build_vials(actors, unit="U", container_quantity=100, vials=1)
    manager = auth_headers["manager"]
    before = await row_counts(conn, WRITTEN)
    refused = await _put(
        client,
        manager,
        each.location_id,
        each.product["id"],
        '{"reorder_point": 2, "par_level": 4.5, "lead_time_days": 1}',
    )
    assert is_problem(refused, 422, "quantity_not_whole") and refused.json()["field"] == "par_level"
    refused = await _put(
        client,
        manager,
        vial.location_id,
        vial.product["id"],
        '{"reorder_point": 2.125, "par_level": 4, "lead_time_days": 1}',
    )
    assert is_problem(refused, 422, "quantity_precision") and refused.json()["field"] == "reorder_point"
    assert await row_counts(conn, WRITTEN) == before
    whole = await _put(
        client,
        manager,
        each.location_id,
        each.product["id"],
        '{"reorder_point": 2.0, "par_level": 4, "lead_time_days": 1}',
    )
    assert whole.status_code == 200 and '"reorder_point":2,' in whole.text.replace(" ", "")
