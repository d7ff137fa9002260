"""Returns to a supplier at service level: a `return` ledger row, refusals that write nothing, any lot status."""

from __future__ import annotations

import asyncpg
import pytest

from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.services import purchasing, quarantine, recall_cases, reorder_alerts, supplier_returns
from tests.support import factories as f
from tests.support.clinic import build, with_rule
from tests.support.db import row_counts

TABLES = ("supplier_return", "stock_movement", "stock_level", "audit_event")


async def _on_hand(conn: asyncpg.Connection, lot_id: int, location_id: int) -> int:
    return int(
        await conn.fetchval("SELECT on_hand FROM stock_level WHERE lot = $1 AND location = $2", lot_id, location_id)
    )


async def _ledger_sum(conn: asyncpg.Connection, lot_id: int, location_id: int) -> int:
    return int(
        await conn.fetchval(
            "SELECT sum(quantity) FROM stock_movement WHERE lot = $1 AND location = $2", lot_id, location_id
        )
    )


async def test_a_return_takes_the_units_off_with_a_return_ledger_row_naming_its_document(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    supplier = await purchasing.create_supplier(actor=actors["manager"], name=f.unique("Supplier"), email=None)
    created = await supplier_returns.create(
        actor=actors["manager"],
        lot_id=clinic.lot["id"],
        location_id=clinic.location_id,
        quantity=4,
        reason="damaged",
        supplier_id=supplier.id,
        note="  box crushed ",
    )
    record = created.record
    assert created.on_hand == 6 == await _on_hand(conn, clinic.lot["id"], clinic.location_id)
    assert await _ledger_sum(conn, clinic.lot["id"], clinic.location_id) == 6  # on-hand is still the ledger's sum
    assert record.number == f"RET-{record.id:06d}"
    assert (record.quantity, record.reason, record.note, record.supplier_id) == (
        4,
        "damaged",
        "box crushed",
        supplier.id,
    )
    movement = await conn.fetchrow("SELECT kind, quantity, reason, \"user\" FROM stock_movement WHERE id = $1",
                                   record.movement_id)  # fmt: skip
    assert (movement["kind"], movement["quantity"], movement["user"]) == ("return", -4, actors["manager"].id)
    assert movement["reason"] == f"damaged: {record.number} (box crushed)"
    audit = await conn.fetchrow(
        "SELECT actor, details FROM audit_event WHERE action = 'supplier_return.create' AND entity_id = $1", record.id
    )
    assert audit["actor"] == actors["manager"].id
    assert audit["details"]["quantity"] == 4 and audit["details"]["number"] == record.number


async def test_returning_more_than_on_hand_is_refused_and_writes_nothing(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=3)
    other = await f.location(actors["manager"])
    before = await row_counts(conn, TABLES)
    for location_id, quantity in ((clinic.location_id, 4), (other["id"], 1)):  # too many; never stocked there
        with pytest.raises(Conflict) as refused:
            await supplier_returns.create(
                actor=actors["manager"],
                lot_id=clinic.lot["id"],
                location_id=location_id,
                quantity=quantity,
                reason="damaged",
            )
        assert refused.value.code == "insufficient_stock"
        assert refused.value.extra["requested"] == quantity
    assert await row_counts(conn, TABLES) == before
    assert await _on_hand(conn, clinic.lot["id"], clinic.location_id) == 3


async def test_unknown_lot_location_or_supplier_and_bad_reasons_write_nothing(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=3)
    before = await row_counts(conn, TABLES)
    base = {"actor": actors["manager"], "lot_id": clinic.lot["id"], "location_id": clinic.location_id, "quantity": 1}
    for change, error in (
        ({"lot_id": 999_999}, NotFound),
        ({"location_id": 999_999}, NotFound),
        ({"supplier_id": 999_999}, NotFound),
        ({"reason": "bored"}, Unprocessable),
        ({"quantity": 0}, Unprocessable),
    ):
        with pytest.raises(error):
            await supplier_returns.create(**{**base, "reason": "other", **change})
    assert await row_counts(conn, TABLES) == before


async def test_recalled_and_quarantined_lots_go_back_too(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    recalled = await build(actors, on_hand=5)
    await recall_cases.create_recall(
        actor=actors["manager"], lot_ids=[recalled.lot["id"]], reason="Manufacturer notice"
    )
    held = await build(actors, on_hand=5)
    await quarantine.quarantine_lot(actor=actors["manager"], lot_id=held.lot["id"], reason="Fridge failure")
    sent_back = await supplier_returns.create(
        actor=actors["manager"],
        lot_id=recalled.lot["id"],
        location_id=recalled.location_id,
        quantity=5,
        reason="recalled",
    )
    assert (sent_back.on_hand, sent_back.record.lot_status) == (0, "recalled")
    held_back = await supplier_returns.create(
        actor=actors["manager"], lot_id=held.lot["id"], location_id=held.location_id, quantity=2, reason="damaged"
    )
    assert (held_back.on_hand, held_back.record.lot_status) == (3, "quarantined")


async def test_a_return_reevaluates_the_reorder_alert(actors: dict[str, Actor]) -> None:
    clinic = await build(actors, on_hand=10)
    await with_rule(actors, clinic, reorder_point=5, par_level=20)
    assert await reorder_alerts.list_reorder(status="open", location_id=clinic.location_id) == []
    await supplier_returns.create(
        actor=actors["manager"], lot_id=clinic.lot["id"], location_id=clinic.location_id, quantity=6, reason="expired"
    )
    (alert,) = await reorder_alerts.list_reorder(status="open", location_id=clinic.location_id)
    assert alert["id"] is not None and alert["usable_on_hand"] == 4  # opened by the return's own transaction


async def test_returns_are_listed_newest_first_by_lot_location_supplier_and_reason(actors: dict[str, Actor]) -> None:
    clinic = await build(actors, on_hand=10)
    supplier = await purchasing.create_supplier(actor=actors["manager"], name=f.unique("Supplier"), email=None)
    base = {"actor": actors["manager"], "lot_id": clinic.lot["id"], "location_id": clinic.location_id}
    first = await supplier_returns.create(**base, quantity=1, reason="damaged", supplier_id=supplier.id)
    second = await supplier_returns.create(**base, quantity=2, reason="expired")
    by_lot = await supplier_returns.list_returns(lot_id=clinic.lot["id"])
    assert [r.id for r in by_lot] == [second.record.id, first.record.id]
    assert [r.id for r in await supplier_returns.list_returns(supplier_id=supplier.id)] == [first.record.id]
    damaged = await supplier_returns.list_returns(location_id=clinic.location_id, reason="damaged")
    assert [r.id for r in damaged] == [first.record.id]
    with pytest.raises(Unprocessable):
        await supplier_returns.list_returns(reason="bored")
    assert (await supplier_returns.get(first.record.id)).supplier_name == supplier.name
    with pytest.raises(NotFound):
        await supplier_returns.get(999_999)


async def test_a_return_cannot_be_changed_or_deleted(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=3)
    created = await supplier_returns.create(
        actor=actors["manager"], lot_id=clinic.lot["id"], location_id=clinic.location_id, quantity=1, reason="other"
    )
    for statement in (
        "UPDATE supplier_return SET quantity = 2 WHERE id = $1",
        "DELETE FROM supplier_return WHERE id = $1",
    ):
        with pytest.raises(asyncpg.RestrictViolationError):
            async with conn.transaction():  # a savepoint: the refusal must not abort the test's transaction
                await conn.execute(statement, created.record.id)
