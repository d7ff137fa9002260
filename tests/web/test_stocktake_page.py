"""/ui/stocktake over HTTP: a manager starts a count, staff count blind, the manager reviews and approves."""

from __future__ import annotations

import asyncpg
import pytest

from inventory.domain.labelcode import format_lot_code
from inventory.domain.models import Actor
from inventory.services import scanning, stocktake
from inventory.store.stock import on_hand
from tests.support import factories as f
from tests.support.clinic import Clinic, build
from tests.support.pages import Pages, field_error

FR = {"Accept-Language": "fr"}


async def start(manager: Pages, clinic: Clinic) -> int:
    started = await manager.post("/ui/stocktake", {"location_id": str(clinic.location_id)})
    assert started.status_code == 303, started.text
    return int(started.headers["location"].rsplit("/", 1)[1])


async def count(page: Pages, stocktake_id: int, headers: dict[str, str] | None = None, **fields: str) -> str:
    """Post a count and return the page shown after it (the redirect followed, or the refusal)."""
    posted = await page.post(f"/ui/stocktake/{stocktake_id}/count", fields, headers=headers or {})
    if posted.status_code == 303:
        return (await page.get(posted.headers["location"], headers=headers or {})).text
    return posted.text


async def test_staff_see_the_open_count_and_only_managers_start_review_and_approve(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=5)
    manager = pages.sign_in_as(page_cookies["manager"])
    st = await start(manager, clinic)
    twice = await manager.post("/ui/stocktake", {"location_id": str(clinic.location_id)})
    assert twice.status_code == 409
    assert field_error(twice.text, "location_id") == "A count is already open here: approve or cancel it first."
    staff = pages.sign_in_as(page_cookies["staff"])
    index = await staff.get("/ui/stocktake")
    assert f'href="/ui/stocktake/{st}/count"' in index.text
    assert f'href="/ui/stocktake/{st}"' not in index.text and 'action="/ui/stocktake"' not in index.text
    for path in (f"/ui/stocktake/{st}", f"/ui/stocktake/{st}/approve", f"/ui/stocktake/{st}/cancel"):
        assert (await staff.get(path)).status_code == 403
    assert (await staff.post("/ui/stocktake", {"location_id": str(clinic.location_id)})).status_code == 403
    assert (await staff.post(f"/ui/stocktake/{st}/approve", {})).status_code == 403


async def test_two_counters_add_up_blind_and_approval_makes_stock_the_count(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=7)
    manager = pages.sign_in_as(page_cookies["manager"])
    st = await start(manager, clinic)
    staff = pages.sign_in_as(page_cookies["staff"])
    first = await count(staff, st, barcode=clinic.code(), quantity="3")
    assert "Counted: " in first and "You have counted 3 of this lot." in first
    assert "Expected" not in first and ">7<" not in first  # blind: the 7 on record is nowhere
    staff2 = pages.sign_in_as(page_cookies["staff2"])
    # A typed lot number counts as its lot; in French as well.
    second = await count(staff2, st, FR, barcode=clinic.lot["lot_number"].lower(), quantity="2")
    assert "Vous avez compté 2 de ce lot." in second and '<html lang="fr">' in second
    # A label of the service counts too (its code names the lot).
    label = await count(staff2, st, barcode=format_lot_code(clinic.lot["id"]), quantity="1")
    assert "You have counted 3 of this lot." in label

    staff = pages.sign_in_as(page_cookies["staff"])
    unknown = await count(staff, st, barcode=clinic.code("NEWLOT1", expiry=f.in_days(400)), quantity="4")
    assert "The system does not know this lot" in unknown
    refused = await count(staff, st, barcode="no such thing", quantity="1")
    assert field_error(refused, "barcode") == (
        "This is not a code the service reads, and no lot has this number. Scan the box or the label."
    )
    zero = await count(staff, st, barcode=clinic.code(), quantity="0")
    assert field_error(zero, "quantity") == "Enter a number above 0."

    manager = pages.sign_in_as(page_cookies["manager"])
    review = (await manager.get(f"/ui/stocktake/{st}")).text
    assert f'data-lot="{clinic.lot["id"]}" class="differs"' in review
    assert 'id="unknown-lots"' in review and "NEWLOT1" in review
    # expected 7, counted 3 + 2 + 1 = 6, variance -1
    assert '<td class="num counted" data-label="Counted">6' in review
    assert '<td class="num variance" data-label="Variance">-1' in review
    question = await manager.get(f"/ui/stocktake/{st}/approve")
    assert "1 adjustment will be written" in question.text
    assert await on_hand(conn, clinic.lot["id"], clinic.location_id) == 7  # asking wrote nothing
    approved = await manager.post(f"/ui/stocktake/{st}/approve", {})
    assert approved.status_code == 303
    shown = (await manager.get(approved.headers["location"])).text
    assert "Stocktake approved: 1 adjustments written to the ledger." in shown
    assert await on_hand(conn, clinic.lot["id"], clinic.location_id) == 6
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM stock_movement WHERE lot = $1 AND kind = 'adjust' AND reason = $2",
            clinic.lot["id"],
            f"stocktake {st}",
        )
        == 1
    )
    staff = pages.sign_in_as(page_cookies["staff"])
    closed = await count(staff, st, barcode=clinic.code(), quantity="1")
    assert 'id="closed"' in closed


async def test_a_use_during_the_count_is_no_variance_and_lots_not_counted_are_listed(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=5)
    other = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="OTHER1",
        expiry=f.in_days(500),
        quantity=2,
    )
    manager = pages.sign_in_as(page_cookies["manager"])
    st = await start(manager, clinic)
    staff = pages.sign_in_as(page_cookies["staff"])
    await count(staff, st, barcode=clinic.code(), quantity="5")
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    manager = pages.sign_in_as(page_cookies["manager"])
    review = (await manager.get(f"/ui/stocktake/{st}")).text
    assert '<td class="num variance" data-label="Variance">0' in review
    assert 'id="not-counted"' in review and f'data-lot="{other["lot"]["id"]}"' in review
    cancel = await manager.get(f"/ui/stocktake/{st}/cancel")
    assert cancel.status_code == 200 and f'action="/ui/stocktake/{st}/cancel"' in cancel.text
    done = await manager.post(f"/ui/stocktake/{st}/cancel", {})
    assert done.status_code == 303
    assert (await stocktake.get(stocktake_id=st))["status"] == "cancelled"
    assert await on_hand(conn, clinic.lot["id"], clinic.location_id) == 4


@pytest.mark.parametrize("path", ["/ui/stocktake/999999", "/ui/stocktake/999999/count"])
async def test_an_unknown_stocktake_is_the_404_page(pages: Pages, page_cookies: dict[str, str], path: str) -> None:
    manager = pages.sign_in_as(page_cookies["manager"])
    assert (await manager.get(path)).status_code == 404
