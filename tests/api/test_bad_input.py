"""Bad input for every route: 4xx problem details with a `code`, never a 5xx, and nothing written.

Two passes. A table of hand-written cases per operation of the OpenAPI document (missing fields, wrong types,
unknown ids, negative quantities, bad GTINs, impossible dates, oversize strings, non-JSON bodies, arrays for
objects, huge integers, out-of-range path ids), each with the status and code the contract gives it; and a
generic pass that walks every operation the document lists and fires malformed requests at it.

Each request runs in a savepoint of the test's transaction that is rolled back afterwards, so one case cannot
leak into the next; the row count of every table is compared before and after, inside that savepoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from inventory import clock
from inventory.domain.gs1 import format_element_string
from inventory.domain.models import Actor
from inventory.services import (
    catalog,
    clinical,
    purchasing,
    quarantine,
    recall_cases,
    scanning,
    stocktake,
    vigilance,
)
from tests.support import factories as f
from tests.support.clinic import build

H = dict[str, dict[str, str]]
BIG = "x" * 10_000
HUGE = 2**40
INT32_OVERFLOW = 2**31
UNKNOWN = 999_999
PROBLEM = "application/problem+json"
ABORTED = "<transaction aborted by the request>"


# ------------------------------------------------------------------ one app for the module, the world


@dataclass
class World:
    """Ids of a small clinic: catalog, a lot with stock, a client, a session with a use, a course."""

    brand_id: int
    product_id: int
    product_name: str
    gtin: str
    box_gtin: str
    location_id: int
    location2_id: int
    location2_name: str
    lot_id: int
    lot_number: str
    client_id: int
    session_id: int
    usage_id: int
    course_id: int
    recall_id: int
    quarantined_lot_id: int
    alert_id: int
    user_id: int
    reaction_id: int
    supplier_id: int
    order_id: int  # a draft of the supplier at location2, from its open reorder alert
    stocktake_id: int  # open at location_id

    def code(self, **changes: Any) -> str:
        """A GS1 element string of the product (changes override gtin, expiry, lot_number)."""
        fields: dict[str, Any] = {"gtin": self.gtin, "expiry": f.in_days(200), "lot_number": self.lot_number, **changes}
        return format_element_string(**fields)


@pytest.fixture
async def world(actors: dict[str, Actor], conn: asyncpg.Connection) -> World:
    """Build the world inside the test transaction."""
    clinic = await build(actors, on_hand=10)
    other = await f.location(actors["manager"])
    use = await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    course = await clinical.create_course(
        actor=actors["manager"],
        client_id=clinic.client["id"],
        location_id=clinic.location_id,
        treatment="Face",
        start_date=f.in_days(1),
        sessions=2,
        interval_days=14,
        products=[(clinic.product["id"], 1)],
    )
    recalled = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="RC1",
        expiry=f.in_days(300),
        quantity=2,
    )
    await scanning.record_use(
        actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code("RC1", expiry=f.in_days(300))
    )
    recall = await recall_cases.create_recall(
        actor=actors["manager"], lot_ids=[recalled["lot"]["id"]], reason="Sterility doubt"
    )
    held = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="QH1",
        expiry=f.in_days(300),
        quantity=2,
    )
    await quarantine.quarantine_lot(actor=actors["manager"], lot_id=held["lot"]["id"], reason="Broken seal")
    # A serious reaction on the session: its lots signal (lot-<lot_id>), which quarantineSignal acts on.
    reaction = await vigilance.record_reaction(
        actor=actors["staff"], session_id=clinic.session["id"], kind="nodule", severity="serious", onset_at=clock.now()
    )
    await catalog.set_rule(
        actor=actors["manager"],
        location_id=other["id"],
        product_id=clinic.product["id"],
        reorder_point=5,
        par_level=10,
        lead_time_days=2,
    )
    alert_id = await conn.fetchval(
        "SELECT id FROM reorder_alert WHERE product = $1 AND location = $2", clinic.product["id"], other["id"]
    )
    assert alert_id is not None
    # A fixed name (the test rolls back): f.unique would shift the numbers later tests draw (see the report)
    supplier = await purchasing.create_supplier(actor=actors["manager"], name="Supplier of the world", email=None)
    await purchasing.set_supplier_product(
        actor=actors["manager"],
        supplier_id=supplier.id,
        product_id=clinic.product["id"],
        pack_gtin=None,
        pack_units=5,
        lead_time_days=2,
        reference=None,
    )
    drafted = await purchasing.from_alerts(actor=actors["manager"], location_id=other["id"])
    counting = await stocktake.start(actor=actors["manager"], location_id=clinic.location_id)
    return World(
        stocktake_id=counting["id"],
        supplier_id=supplier.id,
        order_id=drafted.orders[0].order.id,
        user_id=actors["staff2"].id,
        recall_id=recall.id,
        quarantined_lot_id=held["lot"]["id"],
        alert_id=alert_id,
        brand_id=clinic.product["brand_id"],
        product_id=clinic.product["id"],
        product_name=clinic.product["name"],
        gtin=clinic.gtin,
        box_gtin=clinic.box_gtin,
        location_id=clinic.location_id,
        location2_id=other["id"],
        location2_name=other["name"],
        lot_id=clinic.lot["id"],
        lot_number=clinic.lot["lot_number"],
        client_id=clinic.client["id"],
        session_id=clinic.session["id"],
        usage_id=use["usage_id"],
        course_id=course["id"],
        reaction_id=reaction.id,
    )


# ------------------------------------------------------------------ sending a case and checking it


@dataclass(frozen=True)
class Raw:
    """A body sent as these exact bytes."""

    content: bytes
    content_type: str = "application/json"


Body = Callable[[World], Any] | Raw | None


@dataclass(frozen=True)
class Case:
    """One bad request and what must come back."""

    name: str
    body: Body = None
    path: str | None = None  # overrides the route's path template
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None  # None: any 4xx
    code: str | None = None


_COUNT_QUERY: list[str] = []


async def table_counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Row count of every table in the schema."""
    if not _COUNT_QUERY:
        tables = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
            )
        ]
        _COUNT_QUERY.append(" UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM \"{t}\"" for t in tables))
    return {r["t"]: int(r["n"]) for r in await conn.fetch(_COUNT_QUERY[0])}


@dataclass
class Outcome:
    """What one request did."""

    response: httpx.Response
    changed: dict[str, tuple[int, int]]


async def send_in_savepoint(
    conn: asyncpg.Connection,
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: Any = None,
    raw: Raw | None = None,
    query: dict[str, Any] | None = None,
) -> Outcome:
    """Send one request inside a savepoint that is always rolled back; report the tables it changed."""
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        before = await table_counts(conn)
        if raw is not None:
            response = await client.request(
                method, url, content=raw.content, params=query, headers={**headers, "Content-Type": raw.content_type}
            )
        elif body is not None:
            response = await client.request(
                method,
                url,
                content=json.dumps(body),
                params=query,
                headers={**headers, "Content-Type": "application/json"},
            )
        else:
            response = await client.request(method, url, params=query, headers=headers)
        try:
            after = await table_counts(conn)
        except asyncpg.InFailedSQLTransactionError:
            after = {ABORTED: 1}
        changed = {
            t: (before.get(t, 0), after.get(t, 0))
            for t in set(before) | set(after)
            if before.get(t, 0) != after.get(t, 0)
        }
        return Outcome(response, changed)
    finally:
        await savepoint.rollback()


def problems_with(outcome: Outcome, case: Case | None = None) -> list[str]:
    """What is wrong with the answer to a bad request (empty when it is right)."""
    response, wrong = outcome.response, []
    status = response.status_code
    if not 400 <= status < 500:
        wrong.append(f"status {status}, expected 4xx: {response.text[:300]}")
        return wrong
    if not response.headers.get("content-type", "").startswith(PROBLEM):
        wrong.append(f"content-type {response.headers.get('content-type')!r}")
    else:
        body = response.json()
        if not isinstance(body, dict) or not body.get("code") or body.get("status") != status:
            wrong.append(f"problem body without code/status: {response.text[:300]}")
        elif case is not None and case.code is not None and body["code"] != case.code:
            wrong.append(f"code {body['code']!r}, expected {case.code!r}: {body.get('detail')}")
    if case is not None and case.status is not None and status != case.status:
        wrong.append(f"status {status}, expected {case.status}: {response.text[:300]}")
    if ABORTED in outcome.changed:
        wrong.append("the input reached PostgreSQL and failed there (the transaction was aborted): validate it first")
    elif outcome.changed:
        wrong.append(f"rows written: {outcome.changed}")
    return wrong


# ------------------------------------------------------------------ the table


def merge(base: Callable[[World], dict[str, Any]], **changes: Any) -> Callable[[World], dict[str, Any]]:
    """The valid body with some fields replaced (a callable value is given the world)."""

    def make(w: World) -> dict[str, Any]:
        body = base(w)
        for key, value in changes.items():
            body[key] = value(w) if callable(value) else value
        return body

    return make


def without(base: Callable[[World], dict[str, Any]], *keys: str) -> Callable[[World], dict[str, Any]]:
    """The valid body without some fields."""
    return lambda w: {k: v for k, v in base(w).items() if k not in keys}


def wrong_check(gtin: str) -> str:
    """A GTIN with its check digit changed."""
    return gtin[:-1] + str((int(gtin[-1]) + 1) % 10)


@dataclass(frozen=True)
class Route:
    """An operation: how to call it, a valid body, and its bad cases."""

    method: str
    path: str
    role: str = "manager"
    valid: Callable[[World], dict[str, Any]] | None = None
    cases: tuple[Case, ...] = ()
    body_optional: bool = False


def _protocol(w: World) -> dict[str, Any]:
    return {"name": f"Protocol {w.product_id}", "items": [{"product_id": w.product_id, "quantity": 1}]}


def _token(w: World) -> dict[str, Any]:
    return {"email": "staff@clinic.test", "password": "x" * 12}


def _user(w: World) -> dict[str, Any]:
    return {"email": "fresh-user@clinic.test", "role": "staff", "password": "long enough password"}


def _user_patch(w: World) -> dict[str, Any]:
    return {"role": "staff", "active": True}


def _new_password(w: World) -> dict[str, Any]:
    return {"password": "a different long phrase"}


def _brand(w: World) -> dict[str, Any]:
    return {"name": "Brand under test"}


def _product(w: World) -> dict[str, Any]:
    return {"brand_id": w.brand_id, "name": "Product under test", "ingredients": ["HA"], "storage": "room"}


def _location(w: World) -> dict[str, Any]:
    return {"name": "Room under test"}


def _product_patch(w: World) -> dict[str, Any]:
    return {"implant": True}


def _location_patch(w: World) -> dict[str, Any]:
    return {"timezone": "America/New_York"}


def _rule(w: World) -> dict[str, Any]:
    return {"reorder_point": 2, "par_level": 5, "lead_time_days": 3}


def _receipt(w: World) -> dict[str, Any]:
    return {
        "location_id": w.location_id,
        "lines": [
            {
                "product_id": w.product_id,
                "lot_number": "NEW-LOT",
                "expiry_date": f.in_days(90).isoformat(),
                "quantity": 2,
            }
        ],
    }


def _line(**changes: Any) -> Callable[[World], dict[str, Any]]:
    def make(w: World) -> dict[str, Any]:
        body = _receipt(w)
        line = body["lines"][0]
        for key, value in changes.items():
            if value is _DROP:
                line.pop(key, None)
            else:
                line[key] = value(w) if callable(value) else value
        return body

    return make


_DROP = object()


def _transfer(w: World) -> dict[str, Any]:
    return {"lot_id": w.lot_id, "from_location_id": w.location_id, "to_location_id": w.location2_id, "quantity": 1}


def _stocktake(w: World) -> dict[str, Any]:
    return {"location_id": w.location2_id}


def _count(w: World) -> dict[str, Any]:
    return {"lot_id": w.lot_id, "quantity": 1}


def _adjustment(w: World) -> dict[str, Any]:
    return {"lot_id": w.lot_id, "location_id": w.location_id, "delta": -1, "reason": "Count"}


def _disposal(w: World) -> dict[str, Any]:
    return {"lot_id": w.lot_id, "location_id": w.location_id, "quantity": 1, "reason": "Broken"}


def _client(w: World) -> dict[str, Any]:
    return {"full_name": "Client under test", "allergies": []}


def _session(w: World) -> dict[str, Any]:
    return {"client_id": w.client_id, "location_id": w.location_id}


def _course(w: World) -> dict[str, Any]:
    return {
        "client_id": w.client_id,
        "location_id": w.location_id,
        "treatment": "Face",
        "start_date": f.in_days(3).isoformat(),
        "sessions": 4,
        "interval_days": 21,
        "products": [{"product_id": w.product_id, "quantity": 1}],
    }


def _scan(w: World) -> dict[str, Any]:
    # The world already recorded this barcode on the session a moment ago: the valid scan confirms the repeat.
    return {"barcode": w.code(), "quantity": 1, "repeat": True}


def _void(w: World) -> dict[str, Any]:
    return {"reason": "Wrong client"}


def _recall(w: World) -> dict[str, Any]:
    return {"lot_ids": [w.lot_id], "reason": "Manufacturer notice"}


def _contact(w: World) -> dict[str, Any]:
    return {"contact_status": "contacted", "note": "Phoned"}


def _close(w: World) -> dict[str, Any]:
    return {"note": "All clients reached"}


def _reason(w: World) -> dict[str, Any]:
    return {"reason": "Seal broken"}


def _sheet(w: World) -> dict[str, Any]:
    return {"items": [{"lot_id": w.lot_id, "copies": 1}], "layout": "3x8"}


def _follow_up(w: World) -> dict[str, Any]:
    return {"note": "Called the client: better", "outcome": "recovering"}


def _reaction(w: World) -> dict[str, Any]:
    return {"kind": "swelling", "severity": "mild", "onset_at": clock.now().isoformat(), "outcome": "recovering"}


def _contact_cases() -> tuple[Case, ...]:
    base = "/api/recalls/{w.recall_id}/clients/{w.client_id}"
    return (
        Case("missing status", without(_contact, "contact_status"), status=422, code=V),
        Case("unknown status", merge(_contact, contact_status="maybe"), status=422, code=V),
        Case("status as number", merge(_contact, contact_status=3), status=422, code=V),
        Case("oversize note", merge(_contact, note=BIG), status=422, code=V),
        Case("unknown recall", _contact, path="/api/recalls/999999/clients/{w.client_id}", status=404),
        Case("client not in the case", _contact, path=base.replace("{w.client_id}", "999999"), status=404),
    )


V = "validation_error"
D = "date_out_of_range"


def _supplier(w: World) -> dict[str, Any]:
    return {"name": "Supplier under test", "email": "orders@supplier.test"}


def _supplier_product(w: World) -> dict[str, Any]:
    return {"pack_gtin": w.box_gtin, "pack_units": 10, "lead_time_days": 4, "reference": "SUP-1"}


def _order_line(w: World) -> dict[str, Any]:
    return {"quantity": 15}


def _from_alerts(w: World) -> dict[str, Any]:
    return {"location_id": w.location2_id}


def _supplier_return(w: World) -> dict[str, Any]:
    return {
        "lot_id": w.lot_id,
        "location_id": w.location_id,
        "quantity": 1,
        "supplier_id": w.supplier_id,
        "reason": "damaged",
        "note": "box crushed",
    }


def _receipt_against(w: World) -> dict[str, Any]:
    return {**_receipt(w), "location_id": w.location2_id, "purchase_order_id": w.order_id}


ROUTES: dict[str, Route] = {
    "issueToken": Route(
        "POST",
        "/api/auth/token",
        role="none",
        valid=_token,
        cases=(
            Case("missing password", without(_token, "password"), status=422, code=V),
            Case("missing email", without(_token, "email"), status=422, code=V),
            Case("wrong types", merge(_token, email=5, password=["x"]), status=422, code=V),
            Case("oversize email", merge(_token, email=BIG + "@clinic.test"), status=422, code=V),
            Case("oversize password", merge(_token, password=BIG), status=422, code=V),
            Case("unknown field", merge(_token, role="admin"), status=422, code=V),
        ),
    ),
    "createUser": Route(
        "POST",
        "/api/users",
        role="admin",
        valid=_user,
        cases=(
            Case("missing role", without(_user, "role"), status=422, code=V),
            Case("missing password", without(_user, "password"), status=422, code=V),
            Case("unknown role", merge(_user, role="root"), status=422, code=V),
            Case("short password", merge(_user, password="short"), status=422, code="password_too_short"),
            Case("no e-mail", merge(_user, email="not-an-email"), status=422, code=V),
            Case("oversize e-mail", merge(_user, email=BIG + "@x.test"), status=422, code=V),
            Case("oversize name", merge(_user, full_name=BIG), status=422, code=V),
            Case("huge integer as e-mail", merge(_user, email=HUGE), status=422, code=V),
            Case("duplicate e-mail", merge(_user, email="staff@clinic.test"), status=409, code="duplicate"),
            Case("duplicate e-mail other case", merge(_user, email="STAFF@clinic.test"), status=409, code="duplicate"),
        ),
    ),
    "updateUser": Route(
        "PATCH",
        "/api/users/{w.user_id}",
        role="admin",
        valid=_user_patch,
        cases=(
            Case("unknown role", merge(_user_patch, role="root"), status=422, code=V),
            Case("active as text", merge(_user_patch, active="no"), status=422, code=V),
            Case("role as number", merge(_user_patch, role=3), status=422, code=V),
            Case("unknown user", _user_patch, path="/api/users/999999", status=404, code="not_found"),
        ),
    ),
    "resetUserPassword": Route(
        "POST",
        "/api/users/{w.user_id}/password",
        role="admin",
        valid=_new_password,
        cases=(
            Case("missing password", lambda w: {}, status=422, code=V),
            Case("short password", merge(_new_password, password="short"), status=422, code="password_too_short"),
            Case(
                "common password", merge(_new_password, password="password1234"), status=422, code="password_too_common"
            ),
            Case(
                "NUL in password", merge(_new_password, password="ten chars\x00"), status=422, code="password_invalid"
            ),
            Case("oversize password", merge(_new_password, password=BIG), status=422, code=V),
            Case("password as list", merge(_new_password, password=["x"]), status=422, code=V),
            Case("unknown user", _new_password, path="/api/users/999999/password", status=404, code="not_found"),
        ),
    ),
    "createBrand": Route(
        "POST",
        "/api/brands",
        valid=_brand,
        cases=(
            Case("missing name", lambda w: {}, status=422, code=V),
            Case("empty name", merge(_brand, name=""), status=422, code=V),
            Case("blank name", merge(_brand, name="   "), status=422, code=V),
            Case("control characters", merge(_brand, name="a\x00b"), status=422, code=V),
            Case("wrong type", merge(_brand, name=12), status=422, code=V),
            Case("oversize name", merge(_brand, name=BIG), status=422, code=V),
            Case("null name", merge(_brand, name=None), status=422, code=V),
        ),
    ),
    "createProduct": Route(
        "POST",
        "/api/products",
        valid=_product,
        cases=(
            Case("missing brand", without(_product, "brand_id"), status=422, code=V),
            Case("missing ingredients", without(_product, "ingredients"), status=422, code=V),
            Case("unknown brand", merge(_product, brand_id=UNKNOWN), status=404, code="not_found"),
            Case("negative brand id", merge(_product, brand_id=-1), status=422, code=V),
            Case("huge brand id", merge(_product, brand_id=HUGE), status=422, code=V),
            Case("brand id as text", merge(_product, brand_id="one"), status=422, code=V),
            Case(
                "bad check digit",
                merge(_product, gtin=lambda w: wrong_check(f.make_gtin(4321))),
                status=422,
                code="gtin_invalid",
            ),
            Case("gtin of 11 digits", merge(_product, gtin="12345678901"), status=422, code="gtin_invalid"),
            Case("gtin with letters", merge(_product, gtin="37600012345AB"), status=422, code="gtin_invalid"),
            Case("oversize gtin", merge(_product, gtin=BIG), status=422, code=V),
            Case("gtin taken", merge(_product, gtin=lambda w: w.gtin), status=409, code="duplicate"),
            Case(
                "pack gtin taken",
                merge(_product, gtin=lambda w: f.make_gtin(4322), packs=lambda w: [{"gtin": w.box_gtin, "units": 10}]),
                status=409,
                code="duplicate",
            ),
            Case(
                "pack bad gtin",
                merge(_product, packs=[{"gtin": "12345", "units": 10}]),
                status=422,
                code="gtin_invalid",
            ),
            Case(
                "pack of zero",
                merge(_product, packs=lambda w: [{"gtin": f.make_gtin(4323), "units": 0}]),
                status=422,
                code=V,
            ),
            Case(
                "pack of negative units",
                merge(_product, packs=lambda w: [{"gtin": f.make_gtin(4323), "units": -10}]),
                status=422,
                code=V,
            ),
            Case(
                "pack without units", merge(_product, packs=lambda w: [{"gtin": f.make_gtin(4323)}]), status=422, code=V
            ),
            Case("packs not a list", merge(_product, packs={"gtin": "x"}), status=422, code=V),
            Case("unknown storage", merge(_product, storage="freezer"), status=422, code=V),
            Case("ingredients as text", merge(_product, ingredients="HA"), status=422, code=V),
            Case("oversize ingredient", merge(_product, ingredients=[BIG]), status=422, code=V),
            Case("oversize name", merge(_product, name=BIG), status=422, code=V),
            Case(
                "duplicate name", merge(_product, name=lambda w: w.product_name.upper()), status=409, code="duplicate"
            ),
        ),
    ),
    "createLocation": Route(
        "POST",
        "/api/locations",
        valid=_location,
        cases=(
            Case("missing name", lambda w: {}, status=422, code=V),
            Case("blank name", merge(_location, name=" \t "), status=422, code=V),
            Case("wrong type", merge(_location, name=["Room"]), status=422, code=V),
            Case("oversize name", merge(_location, name=BIG), status=422, code=V),
            Case("unknown time zone", merge(_location, timezone="Mars/Olympus"), status=422, code="timezone_unknown"),
            Case(
                "a path as time zone",
                merge(_location, timezone="../../etc/passwd"),
                status=422,
                code="timezone_unknown",
            ),
            Case("localtime is no zone", merge(_location, timezone="localtime"), status=422, code="timezone_unknown"),
            Case("empty time zone", merge(_location, timezone=""), status=422, code=V),
            Case("oversize time zone", merge(_location, timezone=BIG), status=422, code=V),
            Case("time zone as number", merge(_location, timezone=1), status=422, code=V),
        ),
    ),
    "updateProduct": Route(
        "PATCH",
        "/api/products/{w.product_id}",
        valid=_product_patch,
        cases=(
            Case("implant as text", merge(_product_patch, implant="yes"), status=422, code=V),
            Case("implant as a count", merge(_product_patch, implant=2), status=422, code=V),
            Case("nothing to change", lambda w: {}, status=422, code=V),
            Case("implant null", merge(_product_patch, implant=None), status=422, code=V),
            Case("unknown field", merge(_product_patch, unit="ml"), status=422, code=V),
            Case("unknown product", _product_patch, path="/api/products/999999", status=404, code="not_found"),
            Case("product id too big", _product_patch, path=f"/api/products/{HUGE}"),
        ),
    ),
    "updateLocation": Route(
        "PATCH",
        "/api/locations/{w.location_id}",
        valid=_location_patch,
        cases=(
            Case(
                "unknown time zone",
                merge(_location_patch, timezone="Europe/Atlantis"),
                status=422,
                code="timezone_unknown",
            ),
            Case(
                "NUL in time zone",
                merge(_location_patch, timezone="Europe/Paris\x00"),
                status=422,
                code="timezone_unknown",
            ),
            Case("blank name", merge(_location_patch, name="  "), status=422, code=V),
            Case("unknown field", merge(_location_patch, colour="red"), status=422, code=V),
            Case("duplicate name", lambda w: {"name": w.location2_name.upper()}, status=409, code="duplicate"),
            Case("unknown location", _location_patch, path="/api/locations/999999", status=404, code="not_found"),
            Case("location id too big", _location_patch, path=f"/api/locations/{HUGE}"),
        ),
    ),
    "setStockRule": Route(
        "PUT",
        "/api/locations/{w.location_id}/rules/{w.product_id}",
        valid=_rule,
        cases=(
            Case("missing par level", without(_rule, "par_level"), status=422, code=V),
            Case("par below reorder point", merge(_rule, reorder_point=9, par_level=3), status=422, code=V),
            Case("negative reorder point", merge(_rule, reorder_point=-1), status=422, code=V),
            Case("negative lead time", merge(_rule, lead_time_days=-1), status=422, code=V),
            Case("huge par level", merge(_rule, par_level=HUGE), status=422, code=V),
            Case("half an ampoule", merge(_rule, reorder_point=0.5), status=422, code="quantity_not_whole"),
            Case("text", merge(_rule, reorder_point="two"), status=422, code=V),
            Case(
                "unknown location",
                _rule,
                path="/api/locations/999999/rules/{w.product_id}",
                status=404,
                code="not_found",
            ),
            Case(
                "unknown product",
                _rule,
                path="/api/locations/{w.location_id}/rules/999999",
                status=404,
                code="not_found",
            ),
            Case("location id 0", _rule, path="/api/locations/0/rules/{w.product_id}"),
            Case("negative product id", _rule, path="/api/locations/{w.location_id}/rules/-1"),
            Case("location id over int32", _rule, path="/api/locations/2147483648/rules/{w.product_id}"),
            Case("product id over int64", _rule, path="/api/locations/{w.location_id}/rules/99999999999999999999"),
        ),
    ),
    "createReceipt": Route(
        "POST",
        "/api/receipts",
        role="staff",
        valid=_receipt,
        cases=(
            Case("missing lines", without(_receipt, "lines"), status=422, code=V),
            Case("no lines", merge(_receipt, lines=[]), status=422, code=V),
            Case("lines not a list", merge(_receipt, lines={"quantity": 1}), status=422, code=V),
            Case("unknown location", merge(_receipt, location_id=UNKNOWN), status=404, code="not_found"),
            Case("location id 0", merge(_receipt, location_id=0), status=422, code=V),
            Case("a draft order", _receipt_against, status=409, code="invalid_transition"),
            Case("unknown order", merge(_receipt, purchase_order_id=UNKNOWN), status=404, code="not_found"),
            Case("order id 0", merge(_receipt, purchase_order_id=0), status=422, code=V),
            Case("order id as text", merge(_receipt, purchase_order_id="one"), status=422, code=V),
            Case("huge location id", merge(_receipt, location_id=HUGE), status=422, code=V),
            Case("unknown product", _line(product_id=UNKNOWN), status=404, code="not_found"),
            Case("missing quantity", _line(quantity=_DROP), status=422, code=V),
            Case("zero quantity", _line(quantity=0), status=422, code=V),
            Case("negative quantity", _line(quantity=-5), status=422, code=V),
            Case("huge quantity", _line(quantity=HUGE), status=422, code=V),
            Case("quantity as text", _line(quantity="two"), status=422, code=V),
            Case("missing lot number", _line(lot_number=_DROP), status=422, code=V),
            Case("missing expiry", _line(expiry_date=_DROP), status=422, code=V),
            Case("impossible date", _line(expiry_date="2026-02-30"), status=422, code=V),
            Case("not a date", _line(expiry_date="not-a-date"), status=422, code=V),
            Case("date as number", _line(expiry_date=20270101), status=422, code=V),
            Case("expired", _line(expiry_date=lambda w: f.in_days(-1).isoformat()), status=422, code="lot_expired"),
            Case("expiry on the calendar's last day", _line(expiry_date="9999-12-31"), status=422, code=D),
            Case(
                "expiry a century ahead", _line(expiry_date=lambda w: f.in_days(36_600).isoformat()), status=422, code=D
            ),
            Case(
                "other expiry of a known lot",
                _line(lot_number=lambda w: w.lot_number.lower(), expiry_date=lambda w: f.in_days(201).isoformat()),
                status=409,
                code="lot_expiry_mismatch",
            ),
            Case("oversize lot number", _line(lot_number=BIG), status=422, code=V),
            Case("blank lot number", _line(lot_number="   "), status=422),
            Case("control characters in lot", _line(lot_number="AB\x07"), status=422),
            Case("oversize supplier", merge(_receipt, supplier=BIG), status=422, code=V),
            Case(
                "oversize barcode",
                lambda w: {"location_id": w.location_id, "lines": [{"barcode": BIG, "quantity": 1}]},
                status=422,
                code=V,
            ),
            Case(
                "unreadable barcode",
                lambda w: {"location_id": w.location_id, "lines": [{"barcode": "hello", "quantity": 1}]},
                status=422,
                code="barcode_invalid",
            ),
            Case(
                "bad check digit barcode",
                lambda w: {"location_id": w.location_id, "lines": [{"barcode": wrong_check(w.gtin), "quantity": 1}]},
                status=422,
                code="barcode_invalid",
            ),
            Case(
                "impossible date in barcode",
                lambda w: {
                    "location_id": w.location_id,
                    "lines": [{"barcode": f"01{w.gtin}17260230" + "10ABC", "quantity": 1}],
                },
                status=422,
                code="barcode_invalid",
            ),
            Case(
                "plain gtin barcode",
                lambda w: {"location_id": w.location_id, "lines": [{"barcode": w.gtin, "quantity": 1}]},
                status=422,
                code="barcode_incomplete",
            ),
            Case(
                "unknown gtin barcode",
                lambda w: {
                    "location_id": w.location_id,
                    "lines": [{"barcode": w.code(gtin=f.make_gtin(77, prefix="400123")), "quantity": 1}],
                },
                status=404,
                code="product_unknown",
            ),
            Case("barcode and fields", _line(barcode=lambda w: w.code()), status=422, code=V),
            Case("unknown line field", _line(colour="blue"), status=422, code=V),
            Case(
                "second line bad",
                lambda w: {
                    "location_id": w.location_id,
                    "lines": [_receipt(w)["lines"][0], {**_receipt(w)["lines"][0], "quantity": -1}],
                },
                status=422,
                code=V,
            ),
            Case("idempotency key too long", _receipt, headers={"Idempotency-Key": "k" * 300}, status=422),
        ),
    ),
    "createTransfer": Route(
        "POST",
        "/api/transfers",
        valid=_transfer,
        cases=(
            Case("missing lot", without(_transfer, "lot_id"), status=422, code=V),
            Case("missing quantity", without(_transfer, "quantity"), status=422, code=V),
            Case("unknown lot", merge(_transfer, lot_id=UNKNOWN), status=404, code="not_found"),
            Case("unknown target", merge(_transfer, to_location_id=UNKNOWN), status=404, code="not_found"),
            Case("same location", merge(_transfer, to_location_id=lambda w: w.location_id), status=422, code=V),
            Case("zero quantity", merge(_transfer, quantity=0), status=422, code=V),
            Case("negative quantity", merge(_transfer, quantity=-3), status=422, code=V),
            Case("huge quantity", merge(_transfer, quantity=HUGE), status=422, code=V),
            Case("more than on hand", merge(_transfer, quantity=11), status=409, code="insufficient_stock"),
            Case("lot id as text", merge(_transfer, lot_id="lot"), status=422, code=V),
            Case("oversize reason", merge(_transfer, reason=BIG), status=422, code=V),
        ),
    ),
    "createAdjustment": Route(
        "POST",
        "/api/adjustments",
        valid=_adjustment,
        cases=(
            Case("missing reason", without(_adjustment, "reason"), status=422, code=V),
            Case("blank reason", merge(_adjustment, reason="  "), status=422, code=V),
            Case("counted and delta", merge(_adjustment, counted=3), status=422, code=V),
            Case("neither counted nor delta", without(_adjustment, "delta"), status=422, code=V),
            Case("negative count", merge(without(_adjustment, "delta"), counted=-1), status=422, code=V),
            Case("delta below zero", merge(_adjustment, delta=-11), status=409, code="insufficient_stock"),
            Case("zero delta", merge(_adjustment, delta=0), status=422, code=V),
            Case("huge delta", merge(_adjustment, delta=HUGE), status=422, code=V),
            Case("unknown lot", merge(_adjustment, lot_id=UNKNOWN), status=404, code="not_found"),
            Case("unknown location", merge(_adjustment, location_id=UNKNOWN), status=404, code="not_found"),
            Case("oversize reason", merge(_adjustment, reason=BIG), status=422, code=V),
        ),
    ),
    "startStocktake": Route(
        "POST",
        "/api/stocktakes",
        valid=_stocktake,
        cases=(
            Case("missing location", lambda w: {}, status=422, code=V),
            Case("unknown location", merge(_stocktake, location_id=UNKNOWN), status=404, code="not_found"),
            Case(
                "one open there",
                merge(_stocktake, location_id=lambda w: w.location_id),
                status=409,
                code="stocktake_open",
            ),
            Case("location as text", merge(_stocktake, location_id="room"), status=422, code=V),
            Case("location id over int32", merge(_stocktake, location_id=INT32_OVERFLOW), status=422, code=V),
        ),
    ),
    "addStocktakeCount": Route(
        "POST",
        "/api/stocktakes/{w.stocktake_id}/counts",
        role="staff",
        valid=_count,
        cases=(
            Case("neither barcode nor lot", without(_count, "lot_id"), status=422, code=V),
            Case("barcode and lot", merge(_count, barcode=lambda w: w.code()), status=422, code=V),
            Case("missing quantity", without(_count, "quantity"), status=422, code=V),
            Case("zero quantity", merge(_count, quantity=0), status=422, code=V),
            Case("negative quantity", merge(_count, quantity=-2), status=422, code=V),
            Case("half an ampoule", merge(_count, quantity=1.5), status=422, code="quantity_not_whole"),
            Case("huge quantity", merge(_count, quantity=HUGE), status=422, code=V),
            Case("unknown lot", merge(_count, lot_id=UNKNOWN), status=404, code="not_found"),
            Case("lot id over int32", merge(_count, lot_id=INT32_OVERFLOW), status=422, code=V),
            Case("empty barcode", merge(without(_count, "lot_id"), barcode=""), status=422, code=V),
            Case(
                "blank barcode", merge(without(_count, "lot_id"), barcode="  \r\n"), status=422, code="barcode_invalid"
            ),
            Case("oversize barcode", merge(without(_count, "lot_id"), barcode=BIG), status=422, code=V),
            Case(
                "bad check digit",
                merge(without(_count, "lot_id"), barcode=lambda w: wrong_check(w.gtin)),
                status=422,
                code="barcode_invalid",
            ),
            Case(
                "unknown product",
                merge(without(_count, "lot_id"), barcode=f.make_gtin(424_242)),
                status=404,
                code="product_unknown",
            ),
            Case("NUL in barcode", merge(without(_count, "lot_id"), barcode="\x00"), status=422),
            Case(
                "box of units over the limit",
                merge(without(_count, "lot_id"), quantity=100_000, barcode=lambda w: w.code(gtin=w.box_gtin)),
                status=422,
                code=V,
            ),
            Case("unknown stocktake", _count, path="/api/stocktakes/999999/counts", status=404, code="not_found"),
        ),
    ),
    "listStocktakes": Route(
        "GET",
        "/api/stocktakes",
        role="staff",
        cases=(
            Case("unknown status", query={"status": "lost"}, status=422, code=V),
            Case("location id 0", query={"location_id": 0}, status=422, code=V),
            Case("location id as text", query={"location_id": "room"}, status=422, code=V),
            Case("limit 0", query={"limit": 0}, status=422, code=V),
        ),
    ),
    "reviewStocktake": Route(
        "GET",
        "/api/stocktakes/{w.stocktake_id}",
        cases=(Case("unknown", path="/api/stocktakes/999999", status=404, code="not_found"),),
    ),
    "approveStocktake": Route(
        "POST",
        "/api/stocktakes/{w.stocktake_id}/approve",
        cases=(Case("unknown", path="/api/stocktakes/999999/approve", status=404, code="not_found"),),
    ),
    "cancelStocktake": Route(
        "POST",
        "/api/stocktakes/{w.stocktake_id}/cancel",
        cases=(Case("unknown", path="/api/stocktakes/999999/cancel", status=404, code="not_found"),),
    ),
    "createDisposal": Route(
        "POST",
        "/api/disposals",
        valid=_disposal,
        cases=(
            Case("missing reason", without(_disposal, "reason"), status=422, code=V),
            Case("missing quantity", without(_disposal, "quantity"), status=422, code=V),
            Case("zero quantity", merge(_disposal, quantity=0), status=422, code=V),
            Case("negative quantity", merge(_disposal, quantity=-1), status=422, code=V),
            Case("more than on hand", merge(_disposal, quantity=11), status=409, code="insufficient_stock"),
            Case("unknown lot", merge(_disposal, lot_id=UNKNOWN), status=404, code="not_found"),
            Case("location id over int32", merge(_disposal, location_id=INT32_OVERFLOW), status=422, code=V),
        ),
    ),
    "createClient": Route(
        "POST",
        "/api/clients",
        role="staff",
        valid=_client,
        cases=(
            Case("missing name", without(_client, "full_name"), status=422, code=V),
            Case("blank name", merge(_client, full_name="   "), status=422),
            Case("oversize name", merge(_client, full_name=BIG), status=422, code=V),
            Case("impossible birth date", merge(_client, date_of_birth="2026-02-30"), status=422, code=V),
            Case("birth date not a date", merge(_client, date_of_birth="not-a-date"), status=422, code=V),
            Case("allergies as text", merge(_client, allergies="latex"), status=422, code=V),
            Case("oversize e-mail", merge(_client, email=BIG), status=422, code=V),
            Case("oversize phone", merge(_client, phone=BIG), status=422, code=V),
            Case("unknown sex", merge(_client, sex="f"), status=422, code=V),
            Case("sex as number", merge(_client, sex=1), status=422, code=V),
        ),
    ),
    "createSession": Route(
        "POST",
        "/api/sessions",
        role="staff",
        valid=_session,
        cases=(
            Case("missing client", without(_session, "client_id"), status=422, code=V),
            Case("unknown client", merge(_session, client_id=UNKNOWN), status=404),
            Case("unknown location", merge(_session, location_id=UNKNOWN), status=404),
            Case("negative client id", merge(_session, client_id=-1), status=422, code=V),
            Case("huge location id", merge(_session, location_id=HUGE), status=422, code=V),
            Case("impossible time", merge(_session, scheduled_for="2026-02-30T10:00:00Z"), status=422, code=V),
            Case("not a time", merge(_session, scheduled_for="not-a-date"), status=422, code=V),
            Case(
                "time at the calendar's end west of UTC",
                merge(_session, scheduled_for="9999-12-31T23:00:00-05:00"),
                status=422,
                code=D,
            ),
            Case("time in year 1", merge(_session, scheduled_for="0001-01-01T00:30:00+01:00"), status=422, code=D),
            Case("oversize treatment", merge(_session, treatment=BIG), status=422, code=V),
        ),
    ),
    "closeSession": Route(
        "POST",
        "/api/sessions/{w.session_id}/close",
        role="staff",
        cases=(Case("unknown session", path="/api/sessions/999999/close", status=404),),
    ),
    "createCourse": Route(
        "POST",
        "/api/courses",
        role="staff",
        valid=_course,
        cases=(
            Case("missing sessions", without(_course, "sessions"), status=422, code=V),
            Case("zero sessions", merge(_course, sessions=0), status=422, code=V),
            Case("negative interval", merge(_course, interval_days=-21), status=422, code=V),
            Case("huge sessions", merge(_course, sessions=HUGE), status=422, code=V),
            Case("impossible start", merge(_course, start_date="2026-02-30"), status=422, code=V),
            Case("start not a date", merge(_course, start_date="not-a-date"), status=422, code=V),
            Case("start in 9999", merge(_course, start_date="9999-01-01", interval_days=365), status=422, code=D),
            Case("start on the last day", merge(_course, start_date="9999-12-31", sessions=2), status=422, code=D),
            Case("start in year 1", merge(_course, start_date="0001-01-01"), status=422, code=D),
            Case("unknown client", merge(_course, client_id=UNKNOWN), status=404),
            Case("unknown product", merge(_course, products=[{"product_id": UNKNOWN, "quantity": 1}]), status=404),
            Case(
                "negative product quantity",
                merge(_course, products=lambda w: [{"product_id": w.product_id, "quantity": -1}]),
                status=422,
                code=V,
            ),
            Case("oversize treatment", merge(_course, treatment=BIG), status=422, code=V),
            Case("unknown protocol", merge(_course, protocol_id=UNKNOWN), status=404),
        ),
    ),
    "createProtocol": Route(
        "POST",
        "/api/protocols",
        valid=_protocol,
        cases=(
            Case("missing name", without(_protocol, "name"), status=422, code=V),
            Case("blank name", merge(_protocol, name="   "), status=422, code=V),
            Case("no items", merge(_protocol, items=[]), status=422, code=V),
            Case("unknown product", merge(_protocol, items=[{"product_id": UNKNOWN, "quantity": 1}]), status=404),
            Case(
                "zero quantity",
                merge(_protocol, items=lambda w: [{"product_id": w.product_id, "quantity": 0}]),
                status=422,
                code=V,
            ),
            Case(
                "half an ampoule",
                merge(_protocol, items=lambda w: [{"product_id": w.product_id, "quantity": 0.5}]),
                status=422,
                code="quantity_not_whole",
            ),
            Case(
                "product twice",
                merge(
                    _protocol,
                    items=lambda w: [{"product_id": w.product_id, "quantity": 1}, {"product_id": w.product_id}],
                ),
                status=422,
                code=V,
            ),
            Case(
                "quantity as text",
                merge(_protocol, items=lambda w: [{"product_id": w.product_id, "quantity": "x"}]),
                status=422,
                code=V,
            ),
        ),
    ),
    "listProtocols": Route("GET", "/api/protocols", role="staff"),
    "getProtocol": Route(
        "GET",
        "/api/protocols/1",
        role="staff",
        cases=(
            Case("unknown", path="/api/protocols/999999", status=404),
            Case("huge id", path="/api/protocols/2147483648"),
        ),
    ),
    "recordScan": Route(
        "POST",
        "/api/sessions/{w.session_id}/scans",
        role="staff",
        valid=_scan,
        cases=(
            Case("missing barcode", without(_scan, "barcode"), status=422, code=V),
            Case("empty barcode", merge(_scan, barcode=""), status=422, code=V),
            Case("oversize barcode", merge(_scan, barcode=BIG), status=422, code=V),
            Case("unreadable barcode", merge(_scan, barcode="hello"), status=422, code="barcode_invalid"),
            Case(
                "bad check digit",
                merge(_scan, barcode=lambda w: wrong_check(w.gtin)),
                status=422,
                code="barcode_invalid",
            ),
            Case("zero quantity", merge(_scan, quantity=0), status=422, code=V),
            Case("negative quantity", merge(_scan, quantity=-1), status=422, code=V),
            Case("huge quantity", merge(_scan, quantity=HUGE), status=422, code=V),
            Case("quantity as text", merge(_scan, quantity="two"), status=422, code=V),
            Case("half an ampoule", merge(_scan, quantity=0.5), status=422, code="quantity_not_whole"),
            Case("open_new not a boolean", merge(_scan, open_new="yes"), status=422, code=V),
            Case("unknown session", _scan, path="/api/sessions/999999/scans", status=404),
            Case("unconfirmed repeat", merge(_scan, repeat=False), status=409, code="repeat_scan"),
            Case("repeat not a boolean", merge(_scan, repeat="yes"), status=422, code=V),
            Case(
                "override reason is a barcode",
                merge(_scan, override_reason=lambda w: "]C1" + w.code()),
                status=422,
                code="override_reason_invalid",
            ),
            Case(
                "unknown gtin",
                merge(_scan, barcode=lambda w: w.code(gtin=f.make_gtin(78, prefix="400123"))),
                status=404,
                code="product_unknown",
            ),
        ),
    ),
    "voidUsage": Route(
        "POST",
        "/api/usages/{w.usage_id}/void",
        role="staff",
        valid=_void,
        cases=(
            Case("missing reason", lambda w: {}, status=422, code=V),
            Case("empty reason", merge(_void, reason=""), status=422, code=V),
            Case("oversize reason", merge(_void, reason=BIG), status=422, code=V),
            Case("unknown usage", _void, path="/api/usages/999999/void", status=404),
        ),
    ),
    # Reads: bad query values and path ids.
    "listProducts": Route(
        "GET",
        "/api/products",
        role="staff",
        cases=(
            Case("limit 0", query={"limit": 0}, status=422, code=V),
            Case("limit text", query={"limit": "ten"}, status=422, code=V),
            Case("huge limit", query={"limit": HUGE}, status=422, code=V),
            Case("negative offset", query={"offset": -1}, status=422, code=V),
            Case("brand id 0", query={"brand_id": 0}, status=422, code=V),
            Case("oversize q", query={"q": BIG}, status=422, code=V),
            Case("NUL in q", query={"q": "a\x00b"}, status=422, code=V),
        ),
    ),
    "getProduct": Route(
        "GET",
        "/api/products/{w.product_id}",
        role="staff",
        cases=(Case("unknown", path="/api/products/999999", status=404, code="not_found"),),
    ),
    "listStockRules": Route(
        "GET",
        "/api/rules",
        role="staff",
        cases=(
            Case("location id text", query={"location_id": "room"}, status=422, code=V),
            Case("location id over int32", query={"location_id": INT32_OVERFLOW}, status=422, code=V),
        ),
    ),
    "listStock": Route(
        "GET",
        "/api/stock",
        role="staff",
        cases=(
            Case("location id text", query={"location_id": "x"}, status=422, code=V),
            Case("product id negative", query={"product_id": -1}, status=422, code=V),
            Case("lot id huge", query={"lot_id": HUGE}, status=422, code=V),
            Case("include_empty not a bool", query={"include_empty": "maybe"}, status=422, code=V),
        ),
    ),
    "listContainers": Route(
        "GET",
        "/api/containers",
        role="staff",
        cases=(
            Case("location id text", query={"location_id": "x"}, status=422, code=V),
            Case("location id over int32", query={"location_id": INT32_OVERFLOW}, status=422, code=V),
            Case("unknown status", query={"status": "half"}, status=422, code=V),
        ),
    ),
    "listLots": Route(
        "GET",
        "/api/lots",
        role="staff",
        cases=(
            Case("unknown status", query={"status": "lost"}, status=422, code=V),
            Case("limit over 1000", query={"limit": 1001}, status=422, code=V),
            Case("product id 0", query={"product_id": 0}, status=422, code=V),
        ),
    ),
    "getLot": Route(
        "GET",
        "/api/lots/{w.lot_id}",
        role="staff",
        cases=(Case("unknown", path="/api/lots/999999", status=404, code="not_found"),),
    ),
    "listMovements": Route(
        "GET",
        "/api/movements",
        cases=(
            Case("lot id text", query={"lot_id": "x"}, status=422, code=V),
            Case("limit 0", query={"limit": 0}, status=422, code=V),
        ),
    ),
    "listAuditEvents": Route(
        "GET",
        "/api/audit",
        cases=(
            Case("oversize entity", query={"entity": BIG}, status=422, code=V),
            Case("NUL in entity", query={"entity": "lot\x00"}, status=422, code=V),
            Case("entity id text", query={"entity_id": "x"}, status=422, code=V),
            Case("actor id negative", query={"actor_id": -5}, status=422, code=V),
            Case("before id huge", query={"before_id": HUGE}, status=422, code=V),
        ),
    ),
    "listClients": Route(
        "GET",
        "/api/clients",
        role="staff",
        cases=(
            Case("oversize q", query={"q": BIG}, status=422, code=V),
            Case("limit 0", query={"limit": 0}, status=422, code=V),
        ),
    ),
    "getClient": Route(
        "GET",
        "/api/clients/{w.client_id}",
        role="staff",
        cases=(Case("unknown", path="/api/clients/999999", status=404),),
    ),
    "listSessions": Route(
        "GET",
        "/api/sessions",
        role="staff",
        cases=(
            Case("unknown status", query={"status": "lost"}, status=422, code=V),
            Case("client id text", query={"client_id": "x"}, status=422, code=V),
        ),
    ),
    "getSession": Route(
        "GET",
        "/api/sessions/{w.session_id}",
        role="staff",
        cases=(Case("unknown", path="/api/sessions/999999", status=404),),
    ),
    "getCourse": Route(
        "GET",
        "/api/courses/{w.course_id}",
        role="staff",
        cases=(Case("unknown", path="/api/courses/999999", status=404),),
    ),
    # Alerts, traceability, recalls and labels.
    "listReorderAlerts": Route(
        "GET",
        "/api/alerts/reorder",
        cases=(
            Case("unknown status", query={"status": "lost"}, status=422, code=V),
            Case("location id 0", query={"location_id": 0}, status=422, code=V),
            Case("limit 0", query={"limit": 0}, status=422, code=V),
            Case("negative offset", query={"offset": -1}, status=422, code=V),
            Case("huge product id", query={"product_id": HUGE}, status=422, code=V),
        ),
    ),
    "getReorderAlert": Route(
        "GET",
        "/api/alerts/reorder/{w.alert_id}",
        cases=(Case("unknown", path="/api/alerts/reorder/999999", status=404, code="not_found"),),
    ),
    "acknowledgeReorderAlert": Route(
        "POST",
        "/api/alerts/reorder/{w.alert_id}/acknowledge",
        cases=(Case("unknown", path="/api/alerts/reorder/999999/acknowledge", status=404, code="not_found"),),
    ),
    "listExpiryAlerts": Route(
        "GET",
        "/api/alerts/expiry",
        cases=(
            Case("negative window", query={"within_days": -1}, status=422, code=V),
            Case("huge window", query={"within_days": HUGE}, status=422, code=V),
            Case("window as text", query={"within_days": "month"}, status=422, code=V),
            Case("unknown view", query={"view": "all-of-them"}, status=422, code=V),
        ),
    ),
    "previewAlertDigest": Route(
        "GET", "/api/alerts/digest", cases=(Case("location id text", query={"location_id": "x"}, status=422, code=V),)
    ),
    "traceLot": Route(
        "GET",
        "/api/trace/lot",
        cases=(
            Case("missing lot number", status=422, code=V),
            Case("empty lot number", query={"lot_number": ""}, status=422, code=V),
            Case("oversize lot number", query={"lot_number": BIG}, status=422, code=V),
            Case("oversize gtin", query={"lot_number": "A1", "gtin": BIG}, status=422, code=V),
        ),
    ),
    "getClientHistory": Route(
        "GET",
        "/api/clients/{w.client_id}/history",
        cases=(Case("unknown", path="/api/clients/999999/history", status=404),),
    ),
    "createRecall": Route(
        "POST",
        "/api/recalls",
        valid=_recall,
        cases=(
            Case("missing lots", without(_recall, "lot_ids"), status=422, code=V),
            Case("no lots", merge(_recall, lot_ids=[]), status=422, code=V),
            Case("unknown lot", merge(_recall, lot_ids=[UNKNOWN]), status=404),
            Case("lot id 0", merge(_recall, lot_ids=[0]), status=422, code=V),
            Case("huge lot id", merge(_recall, lot_ids=[HUGE]), status=422, code=V),
            Case("lots as text", merge(_recall, lot_ids="1,2"), status=422, code=V),
            Case("missing reason", without(_recall, "reason"), status=422, code=V),
            Case("blank reason", merge(_recall, reason="   "), status=422),
            Case("oversize reason", merge(_recall, reason=BIG), status=422, code=V),
            Case("oversize source", merge(_recall, source=BIG), status=422, code=V),
        ),
    ),
    "listRecalls": Route(
        "GET",
        "/api/recalls",
        cases=(
            Case("unknown status", query={"status": "lost"}, status=422, code=V),
            Case("limit 0", query={"limit": 0}, status=422, code=V),
        ),
    ),
    "getRecall": Route(
        "GET", "/api/recalls/{w.recall_id}", cases=(Case("unknown", path="/api/recalls/999999", status=404),)
    ),
    "createSupplier": Route(
        "POST",
        "/api/suppliers",
        valid=_supplier,
        cases=(
            Case("missing name", without(_supplier, "name"), status=422, code=V),
            Case("empty name", merge(_supplier, name=""), status=422, code=V),
            Case("blank name", merge(_supplier, name="   "), status=422, code=V),
            Case("oversize name", merge(_supplier, name=BIG), status=422, code=V),
            Case("name as number", merge(_supplier, name=5), status=422, code=V),
            Case("control characters", merge(_supplier, name="A\x00B"), status=422, code=V),
            Case("not an e-mail", merge(_supplier, email="nobody"), status=422, code=V),
            Case("oversize e-mail", merge(_supplier, email=BIG + "@x.test"), status=422, code=V),
        ),
    ),
    "listSuppliers": Route("GET", "/api/suppliers"),
    "setSupplierProduct": Route(
        "PUT",
        "/api/suppliers/{w.supplier_id}/products/{w.product_id}",
        valid=_supplier_product,
        cases=(
            Case("missing pack units", without(_supplier_product, "pack_units"), status=422, code=V),
            Case("missing lead time", without(_supplier_product, "lead_time_days"), status=422, code=V),
            Case("zero pack units", merge(_supplier_product, pack_units=0), status=422, code=V),
            Case("huge pack units", merge(_supplier_product, pack_units=HUGE), status=422, code=V),
            Case("negative lead time", merge(_supplier_product, lead_time_days=-1), status=422, code=V),
            Case("lead time over a year", merge(_supplier_product, lead_time_days=366), status=422, code=V),
            Case("fraction", merge(_supplier_product, pack_units=1.5), status=422, code=V),
            Case(
                "bad check digit",
                merge(_supplier_product, pack_gtin=lambda w: wrong_check(w.box_gtin)),
                status=422,
                code="gtin_invalid",
            ),
            Case(
                "letters in the GTIN",
                merge(_supplier_product, pack_gtin="37600ABC12345"),
                status=422,
                code="gtin_invalid",
            ),
            Case("oversize reference", merge(_supplier_product, reference=BIG), status=422, code=V),
            Case(
                "unknown supplier", _supplier_product, path="/api/suppliers/999999/products/{w.product_id}", status=404
            ),
            Case(
                "unknown product", _supplier_product, path="/api/suppliers/{w.supplier_id}/products/999999", status=404
            ),
        ),
    ),
    "createPurchaseOrdersFromAlerts": Route(
        "POST",
        "/api/purchase-orders/from-alerts",
        valid=_from_alerts,
        body_optional=True,
        cases=(
            Case("unknown location", merge(_from_alerts, location_id=UNKNOWN), status=404, code="not_found"),
            Case("location id 0", merge(_from_alerts, location_id=0), status=422, code=V),
            Case("huge location id", merge(_from_alerts, location_id=HUGE), status=422, code=V),
            Case("location id as text", merge(_from_alerts, location_id="two"), status=422, code=V),
            Case("idempotency key too long", _from_alerts, headers={"Idempotency-Key": "k" * 300}, status=422),
        ),
    ),
    "listPurchaseOrders": Route(
        "GET",
        "/api/purchase-orders",
        cases=(
            Case("unknown status", query={"status": "lost"}, status=422, code=V),
            Case("location id 0", query={"location_id": 0}, status=422, code=V),
            Case("late not a boolean", query={"late": "perhaps"}),
            Case("limit 0", query={"limit": 0}, status=422, code=V),
            Case("negative offset", query={"offset": -1}, status=422, code=V),
        ),
    ),
    "createSupplierReturn": Route(
        "POST",
        "/api/supplier-returns",
        valid=_supplier_return,
        cases=(
            Case("missing reason", without(_supplier_return, "reason"), status=422, code=V),
            Case("unknown reason", merge(_supplier_return, reason="bored"), status=422, code=V),
            Case("missing quantity", without(_supplier_return, "quantity"), status=422, code=V),
            Case("zero quantity", merge(_supplier_return, quantity=0), status=422, code=V),
            Case("negative quantity", merge(_supplier_return, quantity=-2), status=422, code=V),
            Case("huge quantity", merge(_supplier_return, quantity=HUGE), status=422, code=V),
            Case("fraction", merge(_supplier_return, quantity=1.5), status=422, code=V),
            Case("more than on hand", merge(_supplier_return, quantity=11), status=409, code="insufficient_stock"),
            Case(
                "lot not stocked at the location",
                merge(_supplier_return, location_id=lambda w: w.location2_id),
                status=409,
                code="insufficient_stock",
            ),
            Case("unknown lot", merge(_supplier_return, lot_id=UNKNOWN), status=404, code="not_found"),
            Case("unknown location", merge(_supplier_return, location_id=UNKNOWN), status=404, code="not_found"),
            Case("unknown supplier", merge(_supplier_return, supplier_id=UNKNOWN), status=404, code="not_found"),
            Case("lot id over int32", merge(_supplier_return, lot_id=INT32_OVERFLOW), status=422, code=V),
            Case("oversize note", merge(_supplier_return, note=BIG), status=422, code=V),
            Case("control characters in the note", merge(_supplier_return, note="a\x00b"), status=422),
            Case("unknown field", merge(_supplier_return, colour="red"), status=422, code=V),
            Case("idempotency key too long", _supplier_return, headers={"Idempotency-Key": "k" * 300}, status=422),
        ),
    ),
    "listSupplierReturns": Route(
        "GET",
        "/api/supplier-returns",
        cases=(
            Case("unknown reason", query={"reason": "bored"}, status=422, code=V),
            Case("lot id 0", query={"lot_id": 0}, status=422, code=V),
            Case("huge supplier id", query={"supplier_id": HUGE}, status=422, code=V),
            Case("limit 0", query={"limit": 0}, status=422, code=V),
            Case("negative offset", query={"offset": -1}, status=422, code=V),
        ),
    ),
    "getSupplierReturn": Route(
        "GET",
        "/api/supplier-returns/999999",
        cases=(
            Case("unknown", path="/api/supplier-returns/999999", status=404),
            Case("unknown pdf", path="/api/supplier-returns/999999.pdf", status=404),
            Case("other format", path="/api/supplier-returns/1.csv"),
            Case("huge id pdf", path="/api/supplier-returns/2147483648.pdf", status=404),
            Case("not a number", path="/api/supplier-returns/abc"),
        ),
    ),
    "getPurchaseOrder": Route(
        "GET",
        "/api/purchase-orders/{w.order_id}",
        cases=(
            Case("unknown", path="/api/purchase-orders/999999", status=404),
            Case("unknown pdf", path="/api/purchase-orders/999999.pdf", status=404),
            Case("unknown csv", path="/api/purchase-orders/999999.csv", status=404),
            Case("other format", path="/api/purchase-orders/{w.order_id}.xlsx"),
            Case("huge id pdf", path="/api/purchase-orders/2147483648.pdf", status=404),
        ),
    ),
    "setPurchaseOrderLine": Route(
        "PATCH",
        "/api/purchase-orders/{w.order_id}/lines/{w.product_id}",
        valid=_order_line,
        cases=(
            Case("missing quantity", without(_order_line, "quantity"), status=422, code=V),
            Case("negative quantity", merge(_order_line, quantity=-1), status=422, code=V),
            Case("negative quantity", merge(_order_line, quantity=-3), status=422, code=V),
            Case("huge quantity", merge(_order_line, quantity=HUGE), status=422, code=V),
            Case("fraction", merge(_order_line, quantity=1.5), status=422, code=V),
            Case("text", merge(_order_line, quantity="ten"), status=422, code=V),
            Case(
                "product not on the order",
                _order_line,
                path="/api/purchase-orders/{w.order_id}/lines/999999",
                status=404,
            ),
        ),
    ),
    "sendPurchaseOrder": Route(
        "POST",
        "/api/purchase-orders/{w.order_id}/send",
        cases=(Case("unknown", path="/api/purchase-orders/999999/send", status=404),),
    ),
    "cancelPurchaseOrder": Route(
        "POST",
        "/api/purchase-orders/{w.order_id}/cancel",
        cases=(Case("unknown", path="/api/purchase-orders/999999/cancel", status=404),),
    ),
    "exportRecallClients": Route(
        "GET",
        "/api/recalls/{w.recall_id}/clients.csv",
        cases=(Case("unknown", path="/api/recalls/999999/clients.csv", status=404),),
    ),
    "updateRecallClient": Route(
        "PATCH", "/api/recalls/{w.recall_id}/clients/{w.client_id}", valid=_contact, cases=_contact_cases()
    ),
    "updateRecallClientByPost": Route(
        "POST", "/api/recalls/{w.recall_id}/clients/{w.client_id}", valid=_contact, cases=_contact_cases()
    ),
    "closeRecall": Route(
        "POST",
        "/api/recalls/{w.recall_id}/close",
        valid=_close,
        body_optional=True,
        cases=(
            Case("oversize note", merge(_close, note=BIG), status=422, code=V),
            Case("note as number", merge(_close, note=5), status=422, code=V),
            Case("unknown", _close, path="/api/recalls/999999/close", status=404),
        ),
    ),
    "quarantineLot": Route(
        "POST",
        "/api/lots/{w.lot_id}/quarantine",
        valid=_reason,
        cases=(
            Case("missing reason", lambda w: {}, status=422, code=V),
            Case("blank reason", merge(_reason, reason="  "), status=422),
            Case("oversize reason", merge(_reason, reason=BIG), status=422, code=V),
            Case("unknown lot", _reason, path="/api/lots/999999/quarantine", status=404),
        ),
    ),
    "releaseLot": Route(
        "POST",
        "/api/lots/{w.quarantined_lot_id}/release",
        valid=_reason,
        cases=(
            Case("missing reason", lambda w: {}, status=422, code=V),
            Case("oversize reason", merge(_reason, reason=BIG), status=422, code=V),
            Case("unknown lot", _reason, path="/api/lots/999999/release", status=404),
        ),
    ),
    "getLotLabel": Route(
        "GET",
        "/api/lots/{w.lot_id}/label",
        role="staff",
        cases=(
            Case("unknown format", query={"format": "gif"}, status=422),
            Case("dpi too low", query={"format": "png", "dpi": 5}, status=422),
            Case("huge dpi", query={"format": "png", "dpi": HUGE}, status=422),
            Case("dpi as text", query={"dpi": "high"}, status=422),
            Case("zpl at 400 dpi", query={"format": "zpl", "dpi": 400}, status=422, code="label_format_invalid"),
            Case("unknown template", query={"template": "poster"}, status=422, code="label_format_invalid"),
            Case("a sheet template", query={"template": "sheet-5x13"}, status=422, code="label_format_invalid"),
            Case("unknown symbology", query={"symbology": "qr"}, status=422),
            Case(
                "gs1-128 on an ampoule",
                query={"template": "ampoule", "symbology": "gs1-128"},
                status=422,
                code="label_unrenderable",
            ),
            Case("unknown lot", path="/api/lots/999999/label", status=404),
        ),
    ),
    "recordReaction": Route(
        "POST",
        "/api/sessions/{w.session_id}/reactions",
        role="staff",
        valid=_reaction,
        cases=(
            Case("missing kind", without(_reaction, "kind"), status=422, code=V),
            Case("unknown kind", merge(_reaction, kind="itch"), status=422, code=V),
            Case("unknown severity", merge(_reaction, severity="fatal"), status=422, code=V),
            Case("unknown outcome", merge(_reaction, outcome="fine"), status=422, code=V),
            Case("missing onset", without(_reaction, "onset_at"), status=422, code=V),
            Case("onset not a moment", merge(_reaction, onset_at="yesterday"), status=422, code=V),
            Case("impossible onset", merge(_reaction, onset_at="2026-02-30T10:00:00Z"), status=422, code=V),
            Case(
                "onset in the future",
                merge(_reaction, onset_at=lambda w: (clock.now() + timedelta(hours=1)).isoformat()),
                status=422,
                code="onset_in_future",
            ),
            Case(
                "onset long before the session",
                merge(_reaction, onset_at=lambda w: (clock.now() - timedelta(days=3)).isoformat()),
                status=422,
                code="onset_too_early",
            ),
            Case("year 1 onset", merge(_reaction, onset_at="0001-01-01T00:00:00Z"), status=422),
            Case("oversize description", merge(_reaction, description=BIG), status=422, code=V),
            Case("unknown session", _reaction, path="/api/sessions/999999/reactions", status=404),
        ),
    ),
    "getReaction": Route(
        "GET",
        "/api/reactions/{w.reaction_id}",
        cases=(Case("unknown", path="/api/reactions/999999", status=404),),
    ),
    "addReactionFollowUp": Route(
        "POST",
        "/api/reactions/{w.reaction_id}/follow-ups",
        valid=_follow_up,
        cases=(
            Case("missing note", without(_follow_up, "note"), status=422, code=V),
            Case("empty note", merge(_follow_up, note=""), status=422, code=V),
            Case("blank note", merge(_follow_up, note="   "), status=422, code=V),
            Case("oversize note", merge(_follow_up, note=BIG), status=422, code=V),
            Case("note not text", merge(_follow_up, note=7), status=422, code=V),
            Case("unknown outcome", merge(_follow_up, outcome="fine"), status=422, code=V),
            Case("unknown field", merge(_follow_up, severity="serious"), status=422, code=V),
            Case("unknown reaction", _follow_up, path="/api/reactions/999999/follow-ups", status=404),
            Case("reaction id zero", _follow_up, path="/api/reactions/0/follow-ups"),
        ),
    ),
    "getReactionReport": Route(
        "GET",
        "/api/reactions/{w.reaction_id}/report",
        cases=(
            Case("unknown format", query={"format": "docx"}, status=422, code=V),
            Case("unknown", path="/api/reactions/999999/report", status=404),
        ),
    ),
    "listReactions": Route(
        "GET",
        "/api/reactions",
        cases=(
            Case("lot id text", query={"lot_id": "x"}, status=422, code=V),
            Case("product id zero", query={"product_id": 0}, status=422, code=V),
            Case("limit zero", query={"limit": 0}, status=422, code=V),
            Case("huge offset", query={"offset": HUGE}, status=422, code=V),
        ),
    ),
    "quarantineSignal": Route(
        "POST",
        "/api/vigilance/signals/lot-{w.lot_id}/quarantine",
        valid=_reason,
        cases=(
            Case("missing reason", lambda w: {}, status=422, code=V),
            Case("oversize reason", merge(_reason, reason=BIG), status=422, code=V),
            Case("unknown signal", _reason, path="/api/vigilance/signals/lot-999999/quarantine", status=404),
            Case("not a signal id", _reason, path="/api/vigilance/signals/batch-1/quarantine", status=404),
            Case("oversize signal id", _reason, path="/api/vigilance/signals/" + "l" * 100 + "/quarantine"),
            Case(
                "a product signal",
                _reason,
                path="/api/vigilance/signals/product-{w.product_id}/quarantine",
                status=422,
                code="signal_needs_lot",
            ),
        ),
    ),
    "getImplantCard": Route(
        "GET",
        "/api/usages/{w.usage_id}/implant-card",
        role="staff",
        cases=(
            Case("unknown format", query={"format": "png"}, status=422, code=V),
            Case("unknown", path="/api/usages/999999/implant-card", status=404),
            Case("not an implant", status=409, code="not_implant"),
        ),
    ),
    "eraseClient": Route(
        "POST",
        "/api/clients/{w.client_id}/erase",
        role="admin",
        valid=_reason,
        cases=(
            Case("missing reason", lambda w: {}, status=422, code=V),
            Case("empty reason", merge(_reason, reason=""), status=422, code=V),
            Case("blank reason", merge(_reason, reason="   "), status=422, code=V),
            Case("reason as number", merge(_reason, reason=5), status=422, code=V),
            Case("oversize reason", merge(_reason, reason=BIG), status=422, code=V),
            Case("unknown client", _reason, path="/api/clients/999999/erase", status=404),
        ),
    ),
    "renderLabelSheet": Route(
        "POST",
        "/api/labels/sheet",
        role="staff",
        valid=_sheet,
        cases=(
            Case("no items", merge(_sheet, items=[]), status=422, code=V),
            Case("missing items", lambda w: {"layout": "3x8"}, status=422, code=V),
            Case("unknown lot", merge(_sheet, items=[{"lot_id": UNKNOWN, "copies": 1}]), status=404),
            Case("zero copies", merge(_sheet, items=lambda w: [{"lot_id": w.lot_id, "copies": 0}]), status=422),
            Case("negative copies", merge(_sheet, items=lambda w: [{"lot_id": w.lot_id, "copies": -1}]), status=422),
            Case("huge copies", merge(_sheet, items=lambda w: [{"lot_id": w.lot_id, "copies": HUGE}]), status=422),
            Case("unknown layout", merge(_sheet, layout="9x9"), status=422, code=V),
            Case("dpi too low", merge(_sheet, dpi=10), status=422, code=V),
            Case("unknown symbology", merge(_sheet, symbology="qr"), status=422, code=V),
            Case("items as object", merge(_sheet, items={"lot_id": 1}), status=422, code=V),
        ),
    ),
}

# Operations with no input to get wrong (beyond the bearer token, covered in test_auth_api.py).
NO_INPUT = {
    "health",
    "ready",
    "revokeToken",
    "refreshToken",
    "listUsers",
    "listBrands",
    "listLocations",
    "listLabelTemplates",
    "listSignals",
}


def _generic_cases(route: Route) -> list[Case]:
    """Cases every body route and every route with path ids gets."""
    cases: list[Case] = []
    if route.valid is not None:
        valid = route.valid
        cases += [
            Case("non-JSON body", Raw(b"{this is not json"), status=400),
            Case("invalid UTF-8 in a string", Raw(b'{"name": "\xff\xfe"}'), status=400),
            Case("truncated JSON", Raw(b'{"name": "abc'), status=400),
            Case("JSON array", lambda w: [valid(w)], status=422, code=V),
            Case("empty JSON array", Raw(b"[]"), status=422, code=V),
            *(() if route.body_optional else (Case("JSON null", Raw(b"null"), status=422, code=V),)),
            Case("JSON string", Raw(b'"hello"'), status=422, code=V),
            *(
                ()
                if route.body_optional
                else (Case("empty body", Raw(b"")), Case("empty object", lambda w: {}, status=422, code=V))
            ),
            Case("form body", Raw(b"name=x&quantity=1", "application/x-www-form-urlencoded")),
            Case("unknown field", merge(valid, unexpected_field=1), status=422, code=V),
        ]
    if "{w." in route.path:
        for bad in ("0", "-1", "2147483648", "99999999999999999999", "999999"):
            bad_path = route.path
            first = bad_path.index("{w.")
            bad_path = bad_path[:first] + bad + bad_path[bad_path.index("}", first) + 1 :]
            cases.append(Case(f"path id {bad}", route.valid, path=bad_path))
        for bad in ("abc", "1.5", "%00"):
            first = route.path.index("{w.")
            bad_path = route.path[:first] + bad + route.path[route.path.index("}", first) + 1 :]
            cases.append(Case(f"path id {bad}", route.valid, path=bad_path))
    return cases


def _headers(auth_headers: H, role: str) -> dict[str, str]:
    return {} if role == "none" else dict(auth_headers[role])


@pytest.mark.parametrize("operation", sorted(ROUTES))
async def test_bad_input_is_a_4xx_problem_and_writes_nothing(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, world: World, operation: str
) -> None:
    route = ROUTES[operation]
    failures: list[str] = []
    if route.valid is not None:
        # Guards the table itself: each bad case differs from an accepted request only by what it breaks.
        accepted = await send_in_savepoint(
            conn,
            client,
            route.method,
            route.path.format(w=world),
            headers=_headers(auth_headers, route.role),
            body=route.valid(world),
        )
        expected = (401,) if operation == "issueToken" else (200, 201, 204)  # the table's password is not the user's
        if accepted.response.status_code not in expected:
            failures.append(f"the valid body was refused: {accepted.response.text[:300]}")
    for case in (*route.cases, *_generic_cases(route)):
        path = (case.path or route.path).format(w=world)
        body: Any = None
        raw: Raw | None = None
        if isinstance(case.body, Raw):
            raw = case.body
        elif case.body is not None:
            body = case.body(world)
        outcome = await send_in_savepoint(
            conn,
            client,
            route.method,
            path,
            headers={**_headers(auth_headers, route.role), **case.headers},
            body=body,
            raw=raw,
            query=case.query,
        )
        failures += [f"{case.name}: {problem}" for problem in problems_with(outcome, case)]
    assert not failures, f"{operation}:\n  " + "\n  ".join(failures)


async def test_every_operation_of_the_openapi_document_has_bad_input_cases(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operations = {
        op["operationId"]
        for item in document["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    missing = operations - set(ROUTES) - NO_INPUT
    assert not missing, f"add bad-input cases to ROUTES for: {sorted(missing)}"
    assert not set(ROUTES) - operations, f"ROUTES names operations the document lacks: {set(ROUTES) - operations}"


# ------------------------------------------------------------------ the generic pass over the document


async def _operations(client: httpx.AsyncClient) -> list[tuple[str, str, dict[str, Any]]]:
    document = (await client.get("/schema/openapi.json")).json()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append((method.upper(), path, {**operation, "_components": document.get("components", {})}))
    return found


def _schema_properties(operation: dict[str, Any]) -> list[str]:
    """Top-level property names of the JSON request body."""
    content: dict[str, Any] = operation.get("requestBody", {}).get("content", {})
    media: dict[str, Any] = next(iter(content.values()), {})
    schema: dict[str, Any] = media.get("schema", {})
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = operation["_components"].get("schemas", {}).get(name, {})
    return list(schema.get("properties", {}))


_BAD_VALUES: list[Any] = [
    None,
    -1,
    0,
    HUGE,
    2**70,
    -(2**63),
    1.5,
    "x",
    BIG,
    "2026-02-30",
    "not-a-date",
    [],
    {},
    True,
    "\x00",
]
_BAD_PATH = ["0", "-1", "2147483648", "99999999999999999999", "999999", "abc"]
_BAD_QUERY = ["abc", "-1", "0", "99999999999999999999", BIG, "2026-02-30", "", "\x00", "a\x1fb"]


def _malformed_requests(method: str, path: str, operation: dict[str, Any]) -> list[dict[str, Any]]:
    """A few malformed requests for one operation of the document."""
    params = operation.get("parameters", [])
    path_names = [p["name"] for p in params if p["in"] == "path"]
    query_names = [p["name"] for p in params if p["in"] == "query"]

    def url(fill: str = "999999", bad_name: str | None = None, bad: str = "") -> str:
        result = path
        for name in path_names:
            result = result.replace("{" + name + "}", bad if name == bad_name else fill)
        return result

    requests: list[dict[str, Any]] = []
    for name in path_names:
        requests += [{"url": url(bad_name=name, bad=value)} for value in _BAD_PATH]
    for name in query_names:
        requests += [{"url": url(), "query": {name: value}} for value in _BAD_QUERY]
    if "requestBody" in operation:
        requests += [
            {"url": url(), "raw": Raw(content)}
            for content in (
                b"not json",
                b"[]",
                b"[1, 2]",
                b"null",
                b"{}",
                b'{"a": ' + b"9" * 5000 + b"}",
                b'{"a": "\xed\xa0\x80"}',
                b'{"a": "\xff"}',
                b"\xff\xfe",
            )
        ]
        for prop in _schema_properties(operation):
            requests += [{"url": url(), "body": {prop: value}} for value in _BAD_VALUES]
    if any(p["name"].lower() == "idempotency-key" for p in params):
        requests.append({"url": url(), "raw": Raw(b"{}"), "headers": {"Idempotency-Key": BIG}})
    if not requests:
        requests.append({"url": url(), "query": {"limit": "-1", "unexpected": BIG}})
    return requests


async def test_no_malformed_request_to_any_operation_yields_a_5xx(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, world: World
) -> None:
    """With the admin token (every right of the manager and more), so every handler reads its input."""
    failures: list[str] = []
    sent = 0
    for method, path, operation in await _operations(client):
        for request in _malformed_requests(method, path, operation):
            outcome = await send_in_savepoint(
                conn,
                client,
                method,
                request["url"],
                headers={**auth_headers["admin"], **request.get("headers", {})},
                body=request.get("body"),
                raw=request.get("raw"),
                query=request.get("query"),
            )
            sent += 1
            status = outcome.response.status_code
            label = f"{method} {request['url'][:80]} {str(request.get('query') or request.get('body') or '')[:60]}"
            if status >= 500:
                failures.append(f"{label}: {status} {outcome.response.text[:200]}")
            elif status >= 400:
                failures += [f"{label}: {problem}" for problem in problems_with(outcome)]
    assert sent > 300
    assert not failures, f"{len(failures)} of {sent} requests:\n  " + "\n  ".join(failures[:60])


async def test_a_day_later_the_same_bad_requests_still_write_nothing(
    client: httpx.AsyncClient, auth_headers: H, conn: asyncpg.Connection, world: World
) -> None:
    """Date-dependent refusals (expired lots) hold when the clock has moved on."""
    clock.shift(timedelta(days=250))
    receipt = {
        "location_id": world.location_id,
        "lines": [
            {
                "product_id": world.product_id,
                "lot_number": world.lot_number,
                "expiry_date": (clock.today_in(f.PARIS) - timedelta(days=1)).isoformat(),
                "quantity": 1,
            }
        ],
    }
    outcome = await send_in_savepoint(
        conn, client, "POST", "/api/receipts", headers=auth_headers["staff"], body=receipt
    )
    assert not problems_with(outcome, Case("expired", status=422, code="lot_expired"))
