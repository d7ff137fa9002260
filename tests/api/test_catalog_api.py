"""Brands, products and their GTINs, locations and stock rules over HTTP."""

from __future__ import annotations

import itertools
from typing import Any

import asyncpg
import httpx
import pytest

from inventory.domain.labelcode import mod10_check_digit
from tests.support import factories as f
from tests.support.db import row_counts
from tests.support.http import H, is_problem

CATALOG_TABLES = ("brand", "product", "product_gtin", "location", "stock_rule", "audit_event", "reorder_alert")
_seeds = itertools.count(800_000, 5)


def with_check(body: str) -> str:
    """A GTIN body completed with its check digit."""
    return body + str(mod10_check_digit(body))


def wrong_check(gtin: str) -> str:
    """The same GTIN with a wrong check digit."""
    return gtin[:-1] + str((int(gtin[-1]) + 1) % 10)


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Row counts of the catalog tables."""
    return await row_counts(conn, CATALOG_TABLES)


async def new_brand(client: httpx.AsyncClient, headers: H, name: str | None = None) -> dict[str, Any]:
    """POST /api/brands."""
    response = await client.post("/api/brands", json={"name": name or f.unique("Brand")}, headers=headers["manager"])
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def new_product(client: httpx.AsyncClient, headers: H, **fields: Any) -> httpx.Response:
    """POST /api/products with defaults for the required fields."""
    if "brand_id" not in fields:
        fields["brand_id"] = (await new_brand(client, headers))["id"]
    body = {"name": f.unique("Ampoule"), "ingredients": ["Hyaluronic acid"], **fields}
    return await client.post("/api/products", json=body, headers=headers["manager"])


# ------------------------------------------------------------------ brands


async def test_brand_is_created_with_the_contract_shape(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    name = f.unique("Brand")
    response = await client.post("/api/brands", json={"name": f"  {name}  "}, headers=auth_headers["manager"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {"id": body["id"], "name": name}
    listed = (await client.get("/api/brands", headers=auth_headers["staff"])).json()
    assert body in listed
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM audit_event WHERE action = 'brand.create' AND entity_id = $1", body["id"]
        )
        == 1
    )


async def test_duplicate_brand_name_ignoring_case_is_409(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    name = f.unique("Filorga")
    await new_brand(client, auth_headers, name)
    before = await counts(conn)
    for variant in (name, name.upper(), name.lower(), f"  {name.swapcase()} "):
        response = await client.post("/api/brands", json={"name": variant}, headers=auth_headers["manager"])
        assert is_problem(response, 409, "duplicate")
    assert await counts(conn) == before


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "x" * 121, "bad\x00name"])
async def test_brand_name_must_be_a_real_name(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, name: str
) -> None:
    before = await counts(conn)
    response = await client.post("/api/brands", json={"name": name}, headers=auth_headers["manager"])
    assert is_problem(response, 422)
    assert await counts(conn) == before


# ------------------------------------------------------------------ products


@pytest.mark.parametrize("length", [8, 12, 13, 14])
async def test_gtins_of_every_length_are_stored_as_14_digits(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, length: int
) -> None:
    seed = next(_seeds)
    gtin = with_check(str(seed).rjust(length - 1, "7")[: length - 1])
    box = with_check(f"1376{seed:09d}")
    response = await new_product(
        client,
        auth_headers,
        gtin=gtin,
        packs=[{"gtin": box, "units": 10}],
        ingredients=["Hyaluronic acid", " Vitamin C "],
        storage="fridge",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["gtin"] == gtin.zfill(14)
    assert body["packs"] == [{"gtin": box, "units": 10}]
    assert body["ingredients"] == ["Hyaluronic acid", "Vitamin C"]
    assert body["storage"] == "fridge"
    stored = await conn.fetch("SELECT gtin, units FROM product_gtin WHERE product = $1 ORDER BY units", body["id"])
    assert [(r["gtin"], r["units"]) for r in stored] == [(gtin.zfill(14), 1), (box, 10)]
    fetched = await client.get(f"/api/products/{body['id']}", headers=auth_headers["staff"])
    assert fetched.json() == body


async def test_gtin_printed_with_spaces_is_accepted(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    gtin = with_check(f"376{next(_seeds):09d}")
    response = await new_product(client, auth_headers, gtin=f"{gtin[0]} {gtin[1:7]} {gtin[7:]}")
    assert response.status_code == 201, response.text
    assert response.json()["gtin"] == gtin.zfill(14)


async def test_product_without_gtin_is_allowed(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    response = await new_product(client, auth_headers)
    assert response.status_code == 201, response.text
    assert (response.json()["gtin"], response.json()["packs"], response.json()["storage"]) == (None, [], "room")


@pytest.mark.parametrize(
    "fields",
    [
        {"gtin": "wrong-check"},
        {"gtin": "12345"},
        {"gtin": "123456789012345"},
        {"gtin": "37600012345A"},
        {"gtin": "00000000000000"},
        {"gtin": "\uff13\uff17\uff16" + "0001234567"},
        {"packs": [{"gtin": "wrong-check", "units": 10}]},
        {"packs": [{"gtin": "abc", "units": 10}]},
    ],
)
async def test_bad_gtin_is_422_gtin_invalid_and_writes_nothing(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, fields: dict[str, Any]
) -> None:
    brand = await new_brand(client, auth_headers)
    valid = with_check(f"376{next(_seeds):09d}")
    fields = {k: v for k, v in fields.items()}
    if fields.get("gtin") == "wrong-check":
        fields["gtin"] = wrong_check(valid)
    if "packs" in fields and fields["packs"][0]["gtin"] == "wrong-check":
        fields["packs"] = [{"gtin": wrong_check(valid), "units": 10}]
    before = await counts(conn)
    response = await new_product(client, auth_headers, brand_id=brand["id"], **fields)
    assert is_problem(response, 422, "gtin_invalid")
    assert await counts(conn) == before


async def test_a_gtin_belongs_to_one_product_only(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    gtin13 = with_check(f"376{next(_seeds):09d}")
    box = with_check(f"1376{next(_seeds):09d}")
    brand = await new_brand(client, auth_headers)
    first = await new_product(
        client, auth_headers, brand_id=brand["id"], gtin=gtin13, packs=[{"gtin": box, "units": 5}]
    )
    assert first.status_code == 201, first.text
    before = await counts(conn)
    for fields in ({"gtin": gtin13}, {"gtin": "0" + gtin13}, {"gtin": box}, {"packs": [{"gtin": gtin13, "units": 10}]}):
        response = await new_product(client, auth_headers, brand_id=brand["id"], **fields)
        assert is_problem(response, 409, "duplicate")
        assert response.json()["gtins"] in ([gtin13.zfill(14)], [box])
    assert await counts(conn) == before


async def test_the_same_gtin_twice_in_one_product_is_422(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    gtin = with_check(f"376{next(_seeds):09d}")
    response = await new_product(client, auth_headers, gtin=gtin, packs=[{"gtin": "0" + gtin, "units": 10}])
    assert is_problem(response, 422)


async def test_a_pack_holds_at_least_two_units(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    gtin, box = with_check(f"376{next(_seeds):09d}"), with_check(f"1376{next(_seeds):09d}")
    for units in (0, -3, 1):
        response = await new_product(client, auth_headers, gtin=gtin, packs=[{"gtin": box, "units": units}])
        assert is_problem(response, 422), units


async def test_product_of_unknown_brand_is_404(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    before = await counts(conn)
    response = await new_product(client, auth_headers, brand_id=999_999)
    assert is_problem(response, 404, "not_found")
    assert await counts(conn) == before


async def test_duplicate_product_name_within_a_brand_is_409(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    brand = await new_brand(client, auth_headers)
    assert (await new_product(client, auth_headers, brand_id=brand["id"], name="NCTF 135")).status_code == 201
    assert is_problem(await new_product(client, auth_headers, brand_id=brand["id"], name="nctf 135"), 409, "duplicate")
    other = await new_brand(client, auth_headers)
    assert (await new_product(client, auth_headers, brand_id=other["id"], name="NCTF 135")).status_code == 201


async def test_products_are_listed_and_filtered(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    brand = await new_brand(client, auth_headers)
    tag = f.unique("Zq").replace(" ", "")
    ids = []
    for name in (f"{tag} Alpha", f"{tag} Beta"):
        response = await new_product(client, auth_headers, brand_id=brand["id"], name=name)
        ids.append(response.json()["id"])
    by_brand = (
        await client.get("/api/products", params={"brand_id": brand["id"]}, headers=auth_headers["staff"])
    ).json()
    assert [p["id"] for p in by_brand] == ids
    by_name = (
        await client.get("/api/products", params={"q": f"{tag.lower()} bet"}, headers=auth_headers["staff"])
    ).json()
    assert [p["id"] for p in by_name] == ids[1:]
    page = (
        await client.get(
            "/api/products", params={"brand_id": brand["id"], "limit": 1, "offset": 1}, headers=auth_headers["staff"]
        )
    ).json()
    assert [p["id"] for p in page] == ids[1:]


async def test_unknown_product_is_404(client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection) -> None:
    assert is_problem(await client.get("/api/products/999999", headers=auth_headers["staff"]), 404, "not_found")


# ------------------------------------------------------------------ locations


async def test_locations_are_created_listed_and_unique_ignoring_case(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    name = f.unique("Treatment room")
    response = await client.post("/api/locations", json={"name": name}, headers=auth_headers["manager"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {"id": body["id"], "name": name, "timezone": "Europe/Paris"}
    assert body in (await client.get("/api/locations", headers=auth_headers["staff"])).json()
    duplicate = await client.post("/api/locations", json={"name": name.upper()}, headers=auth_headers["manager"])
    assert is_problem(duplicate, 409, "duplicate")


# ------------------------------------------------------------------ stock rules


async def rule_target(client: httpx.AsyncClient, headers: H) -> tuple[int, int]:
    """A product id and a location id."""
    product = (await new_product(client, headers)).json()
    location = (await client.post("/api/locations", json={"name": f.unique("Room")}, headers=headers["manager"])).json()
    return product["id"], location["id"]


async def test_stock_rule_is_set_and_replaced(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    product_id, location_id = await rule_target(client, auth_headers)
    url = f"/api/locations/{location_id}/rules/{product_id}"
    first = await client.put(
        url, json={"reorder_point": 5, "par_level": 20, "lead_time_days": 7}, headers=auth_headers["manager"]
    )
    assert first.status_code == 200, first.text
    assert first.json() == {
        "id": first.json()["id"],
        "product_id": product_id,
        "location_id": location_id,
        "reorder_point": 5,
        "par_level": 20,
        "lead_time_days": 7,
    }
    second = await client.put(
        url, json={"reorder_point": 0, "par_level": 0, "lead_time_days": 0}, headers=auth_headers["manager"]
    )
    assert second.status_code == 200, second.text
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["par_level"] == 0
    rules = (await client.get("/api/rules", params={"location_id": location_id}, headers=auth_headers["staff"])).json()
    assert rules == [second.json()]
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM audit_event WHERE action = 'stock_rule.set' AND entity_id = $1", first.json()["id"]
        )
        == 2
    )


@pytest.mark.parametrize(
    "body",
    [
        {"reorder_point": 10, "par_level": 5, "lead_time_days": 1},
        {"reorder_point": -1, "par_level": 5, "lead_time_days": 1},
        {"reorder_point": 1, "par_level": -5, "lead_time_days": 1},
        {"reorder_point": 1, "par_level": 5, "lead_time_days": -1},
        {"reorder_point": 1, "par_level": 5, "lead_time_days": 366},
        {"reorder_point": 1, "par_level": 5},
        {"reorder_point": "one", "par_level": 5, "lead_time_days": 1},
        {"reorder_point": [1], "par_level": 5, "lead_time_days": True},
        {"reorder_point": 1.5, "par_level": 5, "lead_time_days": 1},
        {"reorder_point": 1, "par_level": 2**40, "lead_time_days": 1},
    ],
)
async def test_invalid_stock_rule_is_422_and_writes_nothing(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, body: dict[str, Any]
) -> None:
    product_id, location_id = await rule_target(client, auth_headers)
    before = await counts(conn)
    response = await client.put(
        f"/api/locations/{location_id}/rules/{product_id}", json=body, headers=auth_headers["manager"]
    )
    assert is_problem(response, 422)
    assert await counts(conn) == before


async def test_stock_rule_of_unknown_product_or_location_is_404(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    product_id, location_id = await rule_target(client, auth_headers)
    before = await counts(conn)
    body = {"reorder_point": 1, "par_level": 2, "lead_time_days": 3}
    for url in (f"/api/locations/999999/rules/{product_id}", f"/api/locations/{location_id}/rules/999999"):
        assert is_problem(await client.put(url, json=body, headers=auth_headers["manager"]), 404, "not_found")
    assert await counts(conn) == before


async def test_product_search_takes_percent_and_underscore_literally(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    brand = await new_brand(client, auth_headers)
    tag = f.unique("Lk").replace(" ", "")
    ids = {}
    for name in (f"{tag} 50% HA", f"{tag} 50x HA", f"{tag} a_b", f"{tag} axb"):
        ids[name] = (await new_product(client, auth_headers, brand_id=brand["id"], name=name)).json()["id"]

    async def search(q: str) -> set[int]:
        response = await client.get(
            "/api/products", params={"q": q, "brand_id": brand["id"]}, headers=auth_headers["staff"]
        )
        assert response.status_code == 200, response.text
        return {p["id"] for p in response.json()}

    assert await search("50%") == {ids[f"{tag} 50% HA"]}
    assert await search("a_b") == {ids[f"{tag} a_b"]}
    assert await search("%") == {ids[f"{tag} 50% HA"]}
    assert len(await search(tag.lower())) == 4


async def test_invalid_utf8_in_a_json_body_is_400_not_500(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    before = await counts(conn)
    for content in (b'{"name": "\xff"}', b'{"name": "\xed\xa0\x80"}', b'{"name": "a\xc3"}'):
        response = await client.post(
            "/api/brands", content=content, headers={**auth_headers["manager"], "Content-Type": "application/json"}
        )
        assert is_problem(response, 400, "bad_request")
    assert await counts(conn) == before


async def test_control_characters_in_search_text_are_422(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection
) -> None:
    for q in ("a\x00b", "\x1f"):
        response = await client.get("/api/products", params={"q": q}, headers=auth_headers["staff"])
        assert is_problem(response, 422, "validation_error")
    assert await conn.fetchval("SELECT 1") == 1  # the request never reached PostgreSQL with it
