"""Units and opened containers over HTTP: decimal doses, in-use expiry, disposal on open_new, voids, the list."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx

from inventory import clock
from inventory.domain.models import Actor
from tests.support import factories as f
from tests.support.http import is_problem
from tests.support.vials import VialClinic, another_session, build_vials

H = dict[str, dict[str, str]]


async def scan(
    client: httpx.AsyncClient, headers: dict[str, str], clinic: VialClinic, **body: object
) -> httpx.Response:
    return await client.post(
        f"/api/sessions/{clinic.session['id']}/scans", json={"barcode": clinic.code(), **body}, headers=headers
    )


async def ledger_agrees(conn: asyncpg.Connection, container_id: int) -> tuple[Decimal, Decimal]:
    """The container's remainder and its capacity plus the sum of its ledger rows (equal when consistent)."""
    row = await conn.fetchrow(
        "SELECT c.remaining, p.container_quantity + coalesce((SELECT sum(m.quantity) FROM stock_movement m"
        " WHERE m.container = c.id AND m.kind <> 'dispose'), 0) - CASE WHEN c.status = 'disposed'"
        " THEN coalesce((SELECT -sum(m.quantity) FROM stock_movement m WHERE m.container = c.id"
        " AND m.kind = 'dispose'), 0) ELSE 0 END AS ledger"
        " FROM container c JOIN product p ON p.id = c.product WHERE c.id = $1",
        container_id,
    )
    assert row is not None
    return Decimal(row["remaining"]), Decimal(row["ledger"])


async def test_a_product_takes_a_unit_a_container_quantity_and_in_use_hours(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    brand = await f.brand(actors["manager"])
    body = {"brand_id": brand["id"], "name": "Toxin 100", "ingredients": ["Botulinum toxin"], "storage": "fridge"}
    made = await client.post(
        "/api/products",
        json={**body, "unit": "U", "container_quantity": 100, "in_use_hours": 24},
        headers=auth_headers["manager"],
    )
    assert made.status_code == 201, made.text
    assert made.json() | {} == made.json()
    assert (made.json()["unit"], made.json()["container_quantity"], made.json()["in_use_hours"]) == ("U", 100, 24)
    plain = await client.post("/api/products", json={**body, "name": "Ampoule"}, headers=auth_headers["manager"])
    assert (plain.json()["unit"], plain.json()["container_quantity"], plain.json()["in_use_hours"]) == ("each", 1, None)
    cocktail = await client.post(
        "/api/products",
        json={**body, "name": "Cocktail", "unit": "ml", "container_quantity": 2.5},
        headers=auth_headers["manager"],
    )
    assert cocktail.json()["container_quantity"] == 2.5
    assert b'"container_quantity":2.5' in cocktail.content  # a JSON number, not a string
    for wrong, code in [
        ({"unit": "each", "container_quantity": 2}, "container_quantity_invalid"),
        ({"unit": "each", "in_use_hours": 12}, "in_use_hours_invalid"),
        ({"unit": "ml", "container_quantity": 0.125}, "container_quantity_invalid"),
    ]:
        refused = await client.post(
            "/api/products", json={**body, "name": f.unique("P"), **wrong}, headers=auth_headers["manager"]
        )
        assert is_problem(refused, 422, code), (wrong, refused.text)


async def test_receipts_count_whole_containers_in_the_products_unit(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build_vials(actors, container_quantity=Decimal("2.5"), vials=3)
    stock = await client.get(
        f"/api/stock?location_id={clinic.location_id}&product_id={clinic.product['id']}", headers=auth_headers["staff"]
    )
    assert stock.json()["items"][0]["on_hand"] == 7.5


async def test_a_tenth_then_two_tenths_of_a_ml_leave_exactly_seven_tenths_in_the_vial(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build_vials(actors, unit="ml", container_quantity=1, in_use_hours=24, vials=2)
    first = await scan(client, auth_headers["staff"], clinic, quantity=0.1)
    assert first.status_code == 201, first.text
    body = first.json()
    assert [w["code"] for w in body["warnings"]] == ["container_opened"]
    assert body["quantity"] == 0.1 and body["on_hand_after"] == 1.9 and body["container"]["remaining"] == 0.9
    assert b'"quantity":0.1' in first.content
    opened_at = datetime.fromisoformat(body["container"]["opened_at"])
    assert datetime.fromisoformat(body["container"]["use_by"]) == opened_at + timedelta(hours=24)
    second = await scan(client, auth_headers["staff"], clinic, quantity=0.2, repeat=True)
    assert second.status_code == 201, second.text
    assert second.json()["warnings"] == []
    assert second.json()["container"]["id"] == body["container"]["id"]
    assert second.json()["container"]["remaining"] == 0.7 and second.json()["on_hand_after"] == 1.7
    drawn = await conn.fetchval(
        "SELECT sum(quantity) FROM usage WHERE session = $1 AND voided_at IS NULL", clinic.session["id"]
    )
    assert drawn == Decimal("0.3")
    assert await ledger_agrees(conn, body["container"]["id"]) == (Decimal("0.7"), Decimal("0.7"))
    session = await client.get(f"/api/sessions/{clinic.session['id']}", headers=auth_headers["staff"])
    assert [u["quantity"] for u in session.json()["usages"]] in ([0.1, 0.2], [0.2, 0.1])


async def test_doses_must_fit_the_unit(client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]) -> None:
    clinic = await build_vials(actors, unit="ml")
    too_fine = await scan(client, auth_headers["staff"], clinic, quantity=0.125)
    assert is_problem(too_fine, 422, "quantity_precision")
    ampoules = await build_vials(actors, unit="each", container_quantity=1, in_use_hours=None)
    half = await scan(client, auth_headers["staff"], ampoules, quantity=0.5)
    assert is_problem(half, 422, "quantity_not_whole")
    whole = await scan(client, auth_headers["staff"], ampoules, quantity=1)
    assert whole.status_code == 201 and whole.json()["quantity"] == 1 and whole.json()["container"] is None


async def test_a_vial_past_its_in_use_hours_is_refused_then_disposed_on_open_new(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build_vials(actors, unit="U", container_quantity=100, in_use_hours=6, vials=2)
    opened = (await scan(client, auth_headers["staff"], clinic, quantity=20)).json()["container"]
    clock.shift(timedelta(hours=5, minutes=59))
    still = await scan(client, auth_headers["staff"], clinic, quantity=10, repeat=True)
    assert still.status_code == 201 and still.json()["container"]["remaining"] == 70
    clock.shift(timedelta(minutes=1))
    refused = await scan(client, auth_headers["staff"], clinic, quantity=10, repeat=True)
    assert is_problem(refused, 409, "container_expired")
    assert refused.json()["container"]["id"] == opened["id"] and refused.json()["container"]["remaining"] == 70
    assert await conn.fetchval("SELECT count(*) FROM usage WHERE session = $1", clinic.session["id"]) == 2
    renewed = await scan(client, auth_headers["staff"], clinic, quantity=10, repeat=True, open_new=True)
    assert renewed.status_code == 201, renewed.text
    new = renewed.json()["container"]
    assert new["id"] != opened["id"] and new["remaining"] == 90
    warning = renewed.json()["warnings"][0]
    assert warning["code"] == "container_opened" and warning["disposed_reason"] == "in_use_expired"
    disposal = await conn.fetchrow(
        "SELECT quantity, kind, reason FROM stock_movement WHERE container = $1 AND kind = 'dispose'", opened["id"]
    )
    assert disposal is not None and (disposal["quantity"], disposal["reason"]) == (-70, "in_use_expired")
    # 200 received - 20 - 10 - 70 disposed - 10 = 90
    assert renewed.json()["on_hand_after"] == 90
    old = await conn.fetchrow("SELECT status, remaining FROM container WHERE id = $1", opened["id"])
    assert old is not None and (old["status"], old["remaining"]) == ("disposed", 0)


async def test_a_vial_is_usable_until_the_end_of_its_lots_expiry_day_at_most(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build_vials(actors, unit="ml", in_use_hours=24 * 30, expiry_days=2)
    body = (await scan(client, auth_headers["staff"], clinic, quantity=0.1)).json()
    assert datetime.fromisoformat(body["container"]["use_by"]) == clock.day_end(
        f.in_days(2), clinic_location_tz := "Europe/Paris"
    ), clinic_location_tz


async def test_more_than_the_vial_holds_is_refused_unless_a_new_one_is_opened(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build_vials(actors, unit="ml", container_quantity=1, vials=2)
    first = (await scan(client, auth_headers["staff"], clinic, quantity=0.9)).json()["container"]
    refused = await scan(client, auth_headers["staff"], clinic, quantity=0.3, repeat=True)
    assert is_problem(refused, 409, "container_insufficient")
    assert refused.json()["remaining"] == 0.1 and refused.json()["requested"] == 0.3
    renewed = await scan(client, auth_headers["staff"], clinic, quantity=0.3, repeat=True, open_new=True)
    assert renewed.status_code == 201 and renewed.json()["container"]["remaining"] == 0.7
    assert renewed.json()["warnings"][0]["disposed_reason"] == "container_remainder"
    assert await conn.fetchval(
        "SELECT quantity FROM stock_movement WHERE container = $1 AND kind = 'dispose'", first["id"]
    ) == Decimal("-0.1")
    assert renewed.json()["on_hand_after"] == 0.7
    too_much = await scan(client, auth_headers["staff"], clinic, quantity=1.5, repeat=True, open_new=True)
    assert is_problem(too_much, 409, "container_insufficient") and too_much.json()["capacity"] == 1


async def test_a_used_up_vial_is_followed_by_a_new_one(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build_vials(actors, unit="U", container_quantity=50, vials=2)
    first = await scan(client, auth_headers["staff"], clinic, quantity=50)
    assert first.json()["container"]["remaining"] == 0
    second = await scan(client, auth_headers["staff"], clinic, quantity=10, repeat=True)
    assert second.json()["container"]["id"] != first.json()["container"]["id"]
    assert [w["code"] for w in second.json()["warnings"]] == ["container_opened"]


async def test_a_voided_dose_goes_back_into_its_open_vial_and_not_into_a_disposed_one(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build_vials(actors, unit="U", container_quantity=100, in_use_hours=4, vials=2)
    use = (await scan(client, auth_headers["staff"], clinic, quantity=25)).json()
    voided = await client.post(
        f"/api/usages/{use['usage_id']}/void", json={"reason": "wrong client"}, headers=auth_headers["staff"]
    )
    assert voided.status_code == 200, voided.text
    assert voided.json()["container"]["remaining"] == 100 and voided.json()["on_hand_after"] == 200
    assert await ledger_agrees(conn, use["container"]["id"]) == (Decimal(100), Decimal(100))
    kept = (await scan(client, auth_headers["staff"], clinic, quantity=30, repeat=True)).json()
    clock.shift(timedelta(hours=4))
    late = await client.post(
        f"/api/usages/{kept['usage_id']}/void", json={"reason": "typo"}, headers=auth_headers["staff"]
    )
    assert late.status_code == 200 and late.json()["container"] is None
    assert late.json()["on_hand_after"] == 170  # the vial is past its use-by: the dose cannot return to the shelf
    assert await conn.fetchval("SELECT remaining FROM container WHERE id = $1", kept["container"]["id"]) == 70


async def test_open_containers_are_listed_per_location_with_use_by_and_remainder(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build_vials(actors, unit="ml", container_quantity=1, in_use_hours=8)
    await scan(client, auth_headers["staff"], clinic, quantity=0.25)
    listed = await client.get(f"/api/containers?location_id={clinic.location_id}", headers=auth_headers["staff"])
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert item["remaining"] == 0.75 and item["capacity"] == 1 and item["status"] == "open"
    assert item["product"]["id"] == clinic.product["id"] and item["product"]["unit"] == "ml"
    assert item["lot"]["id"] == clinic.lot["id"] and item["location"]["id"] == clinic.location_id
    assert item["past_use_by"] is False
    clock.shift(timedelta(hours=8))
    later = await client.get(f"/api/containers?location_id={clinic.location_id}", headers=auth_headers["staff"])
    assert later.json()["items"][0]["past_use_by"] is True
    other = await f.location(actors["manager"])
    empty = await client.get(f"/api/containers?location_id={other['id']}", headers=auth_headers["staff"])
    assert empty.json()["items"] == []
    disposed = await client.get(
        f"/api/containers?location_id={clinic.location_id}&status=disposed", headers=auth_headers["staff"]
    )
    assert disposed.json()["items"] == []


async def test_two_sessions_share_the_open_vial_of_a_lot(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build_vials(actors, unit="U", container_quantity=100)
    first = (await scan(client, auth_headers["staff"], clinic, quantity=20)).json()
    other = await another_session(actors, clinic)
    second = await client.post(
        f"/api/sessions/{other['id']}/scans",
        json={"barcode": clinic.code(), "quantity": 30},
        headers=auth_headers["staff"],
    )
    assert (
        second.json()["container"]["id"] == first["container"]["id"] and second.json()["container"]["remaining"] == 50
    )


async def test_an_opened_vial_past_its_use_by_shows_in_the_expiry_view_and_the_digest(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build_vials(actors, unit="U", container_quantity=100, in_use_hours=6)
    await scan(client, auth_headers["staff"], clinic, quantity=40)
    query = f"/api/alerts/expiry?location_id={clinic.location_id}"
    fresh = await client.get(query, headers=auth_headers["manager"])
    assert fresh.json()["opened_past_use_by"] == []
    clock.shift(timedelta(hours=6))
    late = await client.get(query, headers=auth_headers["manager"])
    [opened] = late.json()["opened_past_use_by"]
    assert opened["remaining"] == 60 and opened["lot"]["id"] == clinic.lot["id"]
    expired_only = await client.get(query + "&view=expired", headers=auth_headers["manager"])
    assert len(expired_only.json()["opened_past_use_by"]) == 1
    expiring = await client.get(query + "&view=expiring", headers=auth_headers["manager"])
    assert expiring.json()["opened_past_use_by"] == []
    digest = await client.get(f"/api/alerts/digest?location_id={clinic.location_id}", headers=auth_headers["manager"])
    [found] = digest.json()["items"]
    assert found["payload"]["summary"]["opened_past_use_by"] == 1
    assert found["payload"]["opened_past_use_by"][0]["remaining"] == 60


async def test_transfers_count_whole_containers_in_the_products_unit(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build_vials(actors, unit="ml", container_quantity=Decimal("2.5"), vials=3)
    other = await f.location(actors["manager"])
    moved = await client.post(
        "/api/transfers",
        json={
            "lot_id": clinic.lot["id"],
            "from_location_id": clinic.location_id,
            "to_location_id": other["id"],
            "quantity": 2,
        },
        headers=auth_headers["manager"],
    )
    assert moved.status_code == 201, moved.text
    assert (moved.json()["quantity"], moved.json()["from_on_hand"], moved.json()["to_on_hand"]) == (5, 2.5, 5)
    short = await client.post(
        "/api/transfers",
        json={
            "lot_id": clinic.lot["id"],
            "from_location_id": clinic.location_id,
            "to_location_id": other["id"],
            "quantity": 2,
        },
        headers=auth_headers["manager"],
    )
    assert is_problem(short, 409, "insufficient_stock")


async def test_disposals_and_adjustments_take_decimals_in_ml_and_whole_numbers_for_ampoules(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    vials = await build_vials(actors, unit="ml", container_quantity=1, vials=2)
    at = {"lot_id": vials.lot["id"], "location_id": vials.location_id}
    disposed = await client.post(
        "/api/disposals", json={**at, "quantity": 0.25, "reason": "spilt"}, headers=auth_headers["manager"]
    )
    assert disposed.status_code == 201, disposed.text
    assert disposed.json()["on_hand"] == 1.75
    counted = await client.post(
        "/api/adjustments", json={**at, "counted": 1.5, "reason": "count"}, headers=auth_headers["manager"]
    )
    assert counted.status_code == 201 and counted.json()["delta"] == -0.25 and counted.json()["on_hand"] == 1.5
    fine = await client.post(
        "/api/disposals", json={**at, "quantity": 0.125, "reason": "spilt"}, headers=auth_headers["manager"]
    )
    assert is_problem(fine, 422, "quantity_precision")
    ampoules = await build_vials(actors, unit="each", container_quantity=1, in_use_hours=None)
    half = await client.post(
        "/api/disposals",
        json={"lot_id": ampoules.lot["id"], "location_id": ampoules.location_id, "quantity": 0.5, "reason": "x"},
        headers=auth_headers["manager"],
    )
    assert is_problem(half, 422, "quantity_not_whole")


async def test_decimal_doses_read_back_as_numbers_in_trace_recall_history_stock_and_stocktake(
    client: httpx.AsyncClient, auth_headers: H, actors: dict[str, Actor]
) -> None:
    clinic = await build_vials(actors, container_quantity=Decimal("2.5"), vials=2)
    manager = auth_headers["manager"]
    assert (await scan(client, auth_headers["staff"], clinic, quantity=0.3)).status_code == 201
    traced = await client.get("/api/trace/lot", params={"lot_number": clinic.lot["lot_number"]}, headers=manager)
    assert traced.status_code == 200, traced.text
    [match] = traced.json()["matches"]
    assert [u["quantity"] for u in match["usages"]] == [0.3]
    assert [s["on_hand"] for s in match["stock"]] == [4.7]
    history = await client.get(f"/api/clients/{clinic.client['id']}/history", headers=manager)
    assert history.status_code == 200 and history.json()["lots"][0]["quantity"] == 0.3
    started = await client.post("/api/stocktakes", json={"location_id": clinic.location_id}, headers=manager)
    review = await client.get(f"/api/stocktakes/{started.json()['id']}", headers=manager)
    assert review.status_code == 200, review.text
    assert b"4.7" in review.content
    recall = await client.post(
        "/api/recalls", json={"lot_ids": [clinic.lot["id"]], "reason": "notice"}, headers=manager
    )
    assert recall.status_code == 201, recall.text
    body = recall.json()
    assert body["lots"][0]["on_hand"] == 4.7 and body["report"]["units_on_hand"] == 4.7
    assert body["clients"][0]["quantity"] == 0.3 and body["clients"][0]["usages"][0]["quantity"] == 0.3
    expiry = await client.get("/api/alerts/expiry", params={"within_days": 3650}, headers=manager)
    assert expiry.status_code == 200, expiry.text
