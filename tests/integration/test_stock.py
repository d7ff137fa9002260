"""Stock at the service level: transfers, adjustments, disposals, the ledger and stock lists."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import asyncpg
import pytest

from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.services import catalog, stock
from inventory.store.stock import ledger_sum, on_hand
from tests.support import factories as f
from tests.support.db import row_counts

WRITTEN_TABLES = ("stock_movement", "stock_level", "audit_event", "reorder_alert", "lot")
_seeds = itertools.count(700_000, 3)


@dataclass
class Shelf:
    """A lot with stock at location `a`; location `b` is empty."""

    product_id: int
    lot_id: int
    a: int
    b: int


async def shelf(actors: dict[str, Actor], on_hand: int = 10) -> Shelf:
    """A product, two locations and one lot received at the first."""
    manager = actors["manager"]
    product = await f.product(manager, gtin=f.make_gtin(next(_seeds)))
    a, b = await f.location(manager), await f.location(manager)
    line = await f.receive(
        manager,
        location_id=a["id"],
        product_id=product["id"],
        lot_number="STK1",
        expiry=f.in_days(200),
        quantity=on_hand,
    )
    return Shelf(product_id=product["id"], lot_id=line["lot"]["id"], a=a["id"], b=b["id"])


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Row counts of the tables stock changes write."""
    return await row_counts(conn, WRITTEN_TABLES)


async def last_audit(conn: asyncpg.Connection, lot_id: int) -> asyncpg.Record:
    """The newest audit event of a lot."""
    row = await conn.fetchrow(
        "SELECT actor, action, details FROM audit_event WHERE entity = 'lot' AND entity_id = $1 ORDER BY id DESC"
        " LIMIT 1",
        lot_id,
    )
    assert row is not None
    return row


# ------------------------------------------------------------------ transfers


async def test_transfer_moves_units_with_two_ledger_rows_and_an_audit_event(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await shelf(actors)
    result = await stock.transfer(
        actor=actors["manager"],
        lot_id=s.lot_id,
        from_location_id=s.a,
        to_location_id=s.b,
        quantity=4,
        reason="Room 2 ran out",
    )
    assert (result["from_on_hand"], result["to_on_hand"], result["quantity"]) == (6, 4, 4)
    assert result["lot"]["id"] == s.lot_id
    rows = await conn.fetch(
        'SELECT location, quantity, kind, transfer_group, "user", reason FROM stock_movement'
        " WHERE lot = $1 AND kind = 'transfer' ORDER BY quantity",
        s.lot_id,
    )
    assert [(r["location"], r["quantity"]) for r in rows] == [(s.a, -4), (s.b, 4)]
    assert {r["transfer_group"] for r in rows} == {result["transfer_id"]}
    assert {r["user"] for r in rows} == {actors["manager"].id}
    assert {r["reason"] for r in rows} == {"Room 2 ran out"}
    audit = await last_audit(conn, s.lot_id)
    assert (audit["action"], audit["actor"]) == ("stock.transfer", actors["manager"].id)
    assert audit["details"]["quantity"] == 4
    for location in (s.a, s.b):
        assert await on_hand(conn, s.lot_id, location) == await ledger_sum(conn, s.lot_id, location)


async def test_transfer_of_everything_on_hand_is_allowed(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await shelf(actors, on_hand=3)
    result = await stock.transfer(
        actor=actors["manager"], lot_id=s.lot_id, from_location_id=s.a, to_location_id=s.b, quantity=3, reason=None
    )
    assert (result["from_on_hand"], result["to_on_hand"]) == (0, 3)


async def test_transfer_of_more_than_on_hand_is_insufficient_stock_and_writes_nothing(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await shelf(actors, on_hand=3)
    before = await counts(conn)
    with pytest.raises(Conflict) as refused:
        await stock.transfer(
            actor=actors["manager"], lot_id=s.lot_id, from_location_id=s.a, to_location_id=s.b, quantity=4, reason=None
        )
    assert refused.value.code == "insufficient_stock"
    assert (refused.value.extra["on_hand"], refused.value.extra["requested"]) == (3, 4)
    assert await counts(conn) == before
    assert await on_hand(conn, s.lot_id, s.a) == 3


async def test_transfer_from_a_location_never_stocked_is_insufficient_stock(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await shelf(actors)
    with pytest.raises(Conflict) as refused:
        await stock.transfer(
            actor=actors["manager"], lot_id=s.lot_id, from_location_id=s.b, to_location_id=s.a, quantity=1, reason=None
        )
    assert refused.value.code == "insufficient_stock"
    assert refused.value.extra["on_hand"] == 0


async def test_transfer_needs_two_locations_a_positive_quantity_and_known_ids(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await shelf(actors)
    before = await counts(conn)
    for quantity, source, target in ((1, s.a, s.a), (0, s.a, s.b), (-2, s.a, s.b), (100_001, s.a, s.b)):
        with pytest.raises(Unprocessable):
            await stock.transfer(
                actor=actors["manager"],
                lot_id=s.lot_id,
                from_location_id=source,
                to_location_id=target,
                quantity=quantity,
                reason=None,
            )
    for lot_id, source, target in ((999_999, s.a, s.b), (s.lot_id, 999_999, s.b), (s.lot_id, s.a, 999_999)):
        with pytest.raises(NotFound):
            await stock.transfer(
                actor=actors["manager"],
                lot_id=lot_id,
                from_location_id=source,
                to_location_id=target,
                quantity=1,
                reason=None,
            )
    assert await counts(conn) == before


# ------------------------------------------------------------------ adjustments


async def test_adjustment_to_a_count_records_the_difference_with_its_reason(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await shelf(actors)
    result = await stock.adjust(
        actor=actors["manager"], lot_id=s.lot_id, location_id=s.a, counted=7, delta=None, reason="  Stock count  "
    )
    assert (result["before"], result["delta"], result["on_hand"], result["reason"]) == (10, -3, 7, "Stock count")
    row = await conn.fetchrow(
        "SELECT quantity, reason FROM stock_movement WHERE lot = $1 AND kind = 'adjust'", s.lot_id
    )
    assert row is not None
    assert (row["quantity"], row["reason"]) == (-3, "Stock count")
    audit = await last_audit(conn, s.lot_id)
    assert audit["action"] == "stock.adjust"
    assert (audit["details"]["before"], audit["details"]["delta"], audit["details"]["counted"]) == (10, -3, 7)
    assert await on_hand(conn, s.lot_id, s.a) == await ledger_sum(conn, s.lot_id, s.a) == 7


async def test_adjustment_by_a_delta_adds_or_removes(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await shelf(actors)
    up = await stock.adjust(
        actor=actors["manager"], lot_id=s.lot_id, location_id=s.a, counted=None, delta=5, reason="Found a box"
    )
    assert (up["before"], up["on_hand"]) == (10, 15)
    down = await stock.adjust(
        actor=actors["manager"], lot_id=s.lot_id, location_id=s.a, counted=None, delta=-15, reason="Lost"
    )
    assert down["on_hand"] == 0
    fresh = await stock.adjust(
        actor=actors["manager"], lot_id=s.lot_id, location_id=s.b, counted=2, delta=None, reason="Found at B"
    )
    assert (fresh["before"], fresh["delta"], fresh["on_hand"]) == (0, 2, 2)
    assert await ledger_sum(conn, s.lot_id, s.a) == 0
    assert await ledger_sum(conn, s.lot_id, s.b) == 2


async def test_adjustment_below_zero_is_insufficient_stock_and_writes_nothing(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await shelf(actors, on_hand=2)
    before = await counts(conn)
    with pytest.raises(Conflict) as refused:
        await stock.adjust(
            actor=actors["manager"], lot_id=s.lot_id, location_id=s.a, counted=None, delta=-3, reason="Broken"
        )
    assert refused.value.code == "insufficient_stock"
    assert await counts(conn) == before


async def test_adjustment_to_the_current_count_changes_no_stock(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await shelf(actors)
    movements = await conn.fetchval("SELECT count(*) FROM stock_movement WHERE lot = $1", s.lot_id)
    result = await stock.adjust(
        actor=actors["manager"], lot_id=s.lot_id, location_id=s.a, counted=10, delta=None, reason="Count matches"
    )
    assert (result["delta"], result["on_hand"]) == (0, 10)
    assert await conn.fetchval("SELECT count(*) FROM stock_movement WHERE lot = $1", s.lot_id) == movements
    assert (await last_audit(conn, s.lot_id))["action"] == "stock.adjust"


@pytest.mark.parametrize(
    ("counted", "delta", "reason"),
    [
        (5, 1, "both"),
        (None, None, "neither"),
        (5, None, ""),
        (5, None, "   "),
        (None, 0, "zero delta"),
        (-1, None, "negative count"),
        (None, 100_001, "huge delta"),
    ],
)
async def test_adjustment_needs_exactly_one_of_counted_or_delta_and_a_reason(
    conn: asyncpg.Connection, actors: dict[str, Actor], counted: int | None, delta: int | None, reason: str
) -> None:
    s = await shelf(actors)
    before = await counts(conn)
    with pytest.raises(Unprocessable):
        await stock.adjust(
            actor=actors["manager"], lot_id=s.lot_id, location_id=s.a, counted=counted, delta=delta, reason=reason
        )
    assert await counts(conn) == before


async def test_adjustment_of_unknown_lot_or_location_is_not_found(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await shelf(actors)
    for lot_id, location_id in ((999_999, s.a), (s.lot_id, 999_999)):
        with pytest.raises(NotFound):
            await stock.adjust(
                actor=actors["manager"], lot_id=lot_id, location_id=location_id, counted=1, delta=None, reason="x"
            )


# ------------------------------------------------------------------ disposals


async def test_disposal_removes_units_with_a_dispose_ledger_row_and_an_audit_event(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await shelf(actors)
    result = await stock.dispose(
        actor=actors["manager"], lot_id=s.lot_id, location_id=s.a, quantity=2, reason="Dropped"
    )
    assert (result["on_hand"], result["quantity"], result["reason"]) == (8, 2, "Dropped")
    row = await conn.fetchrow(
        "SELECT quantity, reason FROM stock_movement WHERE lot = $1 AND kind = 'dispose'", s.lot_id
    )
    assert row is not None
    assert (row["quantity"], row["reason"]) == (-2, "Dropped")
    assert (await last_audit(conn, s.lot_id))["action"] == "stock.dispose"
    assert await on_hand(conn, s.lot_id, s.a) == await ledger_sum(conn, s.lot_id, s.a) == 8


async def test_disposal_refusals_write_nothing(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await shelf(actors, on_hand=2)
    before = await counts(conn)
    with pytest.raises(Conflict) as refused:
        await stock.dispose(actor=actors["manager"], lot_id=s.lot_id, location_id=s.a, quantity=3, reason="Broken")
    assert refused.value.code == "insufficient_stock"
    for quantity, reason in ((0, "x"), (-1, "x"), (1, " ")):
        with pytest.raises(Unprocessable):
            await stock.dispose(
                actor=actors["manager"], lot_id=s.lot_id, location_id=s.a, quantity=quantity, reason=reason
            )
    with pytest.raises(NotFound):
        await stock.dispose(actor=actors["manager"], lot_id=999_999, location_id=s.a, quantity=1, reason="x")
    assert await counts(conn) == before


# ------------------------------------------------------------------ alerts and the ledger


async def test_stock_changes_open_and_resolve_the_reorder_alert(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await shelf(actors)
    await catalog.set_rule(
        actor=actors["manager"],
        location_id=s.a,
        product_id=s.product_id,
        reorder_point=5,
        par_level=10,
        lead_time_days=2,
    )
    status = "SELECT status FROM reorder_alert WHERE product = $1 AND location = $2 ORDER BY id DESC LIMIT 1"
    assert await conn.fetchval(status, s.product_id, s.a) is None
    await stock.dispose(actor=actors["manager"], lot_id=s.lot_id, location_id=s.a, quantity=5, reason="Broken")
    assert await conn.fetchval(status, s.product_id, s.a) == "open"
    await stock.adjust(
        actor=actors["manager"], lot_id=s.lot_id, location_id=s.a, counted=9, delta=None, reason="Recount"
    )
    assert await conn.fetchval(status, s.product_id, s.a) == "resolved"


async def test_on_hand_equals_the_ledger_sum_after_every_kind_of_change(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await shelf(actors, on_hand=20)
    m = actors["manager"]
    await stock.transfer(actor=m, lot_id=s.lot_id, from_location_id=s.a, to_location_id=s.b, quantity=6, reason=None)
    await stock.adjust(actor=m, lot_id=s.lot_id, location_id=s.b, counted=4, delta=None, reason="Count")
    await stock.dispose(actor=m, lot_id=s.lot_id, location_id=s.a, quantity=1, reason="Broken")
    await stock.transfer(actor=m, lot_id=s.lot_id, from_location_id=s.b, to_location_id=s.a, quantity=4, reason=None)
    with pytest.raises(Conflict):
        await stock.dispose(actor=m, lot_id=s.lot_id, location_id=s.b, quantity=1, reason="Nothing left")
    assert (await on_hand(conn, s.lot_id, s.a), await on_hand(conn, s.lot_id, s.b)) == (17, 0)
    kinds = await conn.fetch(
        "SELECT kind, count(*) AS n FROM stock_movement WHERE lot = $1 GROUP BY kind ORDER BY kind", s.lot_id
    )
    assert {r["kind"]: r["n"] for r in kinds} == {"adjust": 1, "dispose": 1, "receive": 1, "transfer": 4}
    for location in (s.a, s.b):
        assert await on_hand(conn, s.lot_id, location) == await ledger_sum(conn, s.lot_id, location)


async def test_the_ledger_refuses_update_and_delete(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await shelf(actors)
    for statement in (
        "UPDATE stock_movement SET quantity = 999 WHERE lot = $1",
        "DELETE FROM stock_movement WHERE lot = $1",
    ):
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            async with conn.transaction():
                await conn.execute(statement, s.lot_id)
    assert await ledger_sum(conn, s.lot_id, s.a) == 10


# ------------------------------------------------------------------ reading stock


async def test_list_stock_filters_by_location_product_and_lot(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await shelf(actors)
    other = await f.product(actors["manager"])
    other_line = await f.receive(
        actors["manager"], location_id=s.a, product_id=other["id"], lot_number="OTH", expiry=f.in_days(100), quantity=1
    )
    await stock.transfer(
        actor=actors["manager"], lot_id=s.lot_id, from_location_id=s.a, to_location_id=s.b, quantity=10, reason=None
    )
    at_a = await stock.list_stock(location_id=s.a)
    assert {(i["lot"]["id"], i["on_hand"]) for i in at_a} == {(other_line["lot"]["id"], 1)}
    with_empty = await stock.list_stock(location_id=s.a, include_empty=True)
    assert {(i["lot"]["id"], i["on_hand"]) for i in with_empty} == {(other_line["lot"]["id"], 1), (s.lot_id, 0)}
    mine = await stock.list_stock(product_id=s.product_id)
    assert [(i["location"]["id"], i["on_hand"]) for i in mine] == [(s.b, 10)]
    item = mine[0]
    assert item["product"]["id"] == s.product_id
    assert item["lot"]["lot_number"] == "STK1"
    assert item["lot"]["status"] == "active"
    assert await stock.list_stock(lot_id=s.lot_id, location_id=s.a) == []
    assert await stock.list_stock(location_id=999_999) == []


async def test_get_lot_shows_stock_per_location_and_unknown_is_not_found(
    conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    s = await shelf(actors)
    await stock.transfer(
        actor=actors["manager"], lot_id=s.lot_id, from_location_id=s.a, to_location_id=s.b, quantity=3, reason=None
    )
    lot = await stock.get_lot(s.lot_id)
    assert sorted((r["location_id"], r["on_hand"]) for r in lot["stock"]) == sorted([(s.a, 7), (s.b, 3)])
    with pytest.raises(NotFound):
        await stock.get_lot(999_999)


async def test_movements_are_newest_first(conn: asyncpg.Connection, actors: dict[str, Actor]) -> None:
    s = await shelf(actors)
    await stock.dispose(actor=actors["manager"], lot_id=s.lot_id, location_id=s.a, quantity=1, reason="x")
    rows = await stock.movements(lot_id=s.lot_id, location_id=None)
    assert [r["kind"] for r in rows] == ["dispose", "receive"]
