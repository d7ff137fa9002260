"""Stocktake counts in the product's unit: exact decimals for ml and U, whole numbers only for `each`."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import pytest

from inventory.domain.errors import Unprocessable
from inventory.domain.models import Actor
from inventory.services import stocktake
from inventory.store.stock import on_hand
from tests.support.clinic import build
from tests.support.db import row_counts
from tests.support.vials import build_vials

WRITTEN = ("stocktake_count", "stock_movement", "audit_event")


async def test_ml_counts_add_exactly_and_the_variance_is_exact(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build_vials(actors, unit="ml", container_quantity=Decimal("1.5"), vials=2)
    st = (await stocktake.start(actor=actors["manager"], location_id=clinic.location_id))["id"]
    lot_id = clinic.lot["id"]
    first = await stocktake.count(actor=actors["staff"], stocktake_id=st, quantity=Decimal("0.1"), lot_id=lot_id)
    second = await stocktake.count(actor=actors["staff"], stocktake_id=st, quantity=Decimal("0.2"), lot_id=lot_id)
    assert first["product"]["unit"] == "ml"
    assert second["quantity"] == Decimal("0.2") and second["your_total"] == Decimal("0.3")
    await stocktake.count(actor=actors["staff"], stocktake_id=st, quantity=2, lot_id=lot_id)
    line = next(li for li in (await stocktake.review(stocktake_id=st))["lines"] if li["lot"]["id"] == lot_id)
    assert line["expected"] == 3  # two containers of 1.5 ml
    assert line["counted"] == Decimal("2.3") and line["variance"] == Decimal("-0.7")
    await stocktake.approve(actor=actors["manager"], stocktake_id=st)
    assert await on_hand(conn, lot_id, clinic.location_id) == Decimal("2.3")


async def test_u_counts_take_two_places_not_three(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build_vials(actors, unit="U", container_quantity=100, vials=1)
    st = (await stocktake.start(actor=actors["manager"], location_id=clinic.location_id))["id"]
    counted = await stocktake.count(
        actor=actors["staff"], stocktake_id=st, quantity=Decimal("99.75"), barcode=clinic.code()
    )
    assert counted["quantity"] == Decimal("99.75") and counted["product"]["unit"] == "U"
    before = await row_counts(conn, WRITTEN)
    with pytest.raises(Unprocessable) as refused:
        await stocktake.count(actor=actors["staff"], stocktake_id=st, quantity=Decimal("0.125"), barcode=clinic.code())
    assert refused.value.code == "quantity_precision"
    assert await row_counts(conn, WRITTEN) == before


async def test_each_refuses_a_decimal_count_and_takes_a_whole_decimal(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=4)
    st = (await stocktake.start(actor=actors["manager"], location_id=clinic.location_id))["id"]
    before = await row_counts(conn, WRITTEN)
    for kwargs in ({"lot_id": clinic.lot["id"]}, {"barcode": clinic.code()}):
        with pytest.raises(Unprocessable) as refused:
            await stocktake.count(actor=actors["staff"], stocktake_id=st, quantity=Decimal("1.5"), **kwargs)
        assert refused.value.code == "quantity_not_whole"
    assert await row_counts(conn, WRITTEN) == before
    whole = await stocktake.count(
        actor=actors["staff"], stocktake_id=st, quantity=Decimal("2.00"), lot_id=clinic.lot["id"]
    )
    assert whole["quantity"] == 2 and isinstance(whole["quantity"], int) and whole["product"]["unit"] == "each"
    for bad in (0, Decimal("-0.5"), Decimal("0.00")):
        with pytest.raises(Unprocessable) as refused:
            await stocktake.count(actor=actors["staff"], stocktake_id=st, quantity=bad, lot_id=clinic.lot["id"])
        assert refused.value.code == "validation_error"
