"""The stocktake count page in the product's unit: "1,7" or "1.7" for ml and U, whole numbers for `each`."""

from __future__ import annotations

from decimal import Decimal

from inventory.domain.models import Actor
from inventory.services import stocktake
from tests.support.clinic import build
from tests.support.pages import Pages, field_error
from tests.support.vials import build_vials

FR = {"Accept-Language": "fr"}


async def _count(page: Pages, st: int, headers: dict[str, str] | None = None, **fields: str) -> tuple[int, str]:
    posted = await page.post(f"/ui/stocktake/{st}/count", fields, headers=headers or {})
    if posted.status_code == 303:
        return 303, (await page.get(posted.headers["location"], headers=headers or {})).text
    return posted.status_code, posted.text


async def test_a_counter_types_ml_with_a_comma_or_a_point(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    clinic = await build_vials(actors, unit="ml", container_quantity=2, vials=1)
    st = int((await stocktake.start(actor=actors["manager"], location_id=clinic.location_id))["id"])
    staff = pages.sign_in_as(page_cookies["staff"])
    form = await staff.get(f"/ui/stocktake/{st}/count")
    assert 'inputmode="decimal"' in form.text
    status, shown = await _count(staff, st, FR, barcode=clinic.code(), quantity="1,7")
    assert status == 303 and "Vous avez compté 1,7\u00a0ml de ce lot." in shown, shown
    status, shown = await _count(staff, st, barcode=clinic.code(), quantity="0.2")
    assert status == 303 and "You have counted 1.9\u00a0ml of this lot." in shown
    line = (await stocktake.review(stocktake_id=st))["lines"][0]
    assert line["counted"] == Decimal("1.9") and line["variance"] == Decimal("-0.1")
    manager = pages.sign_in_as(page_cookies["manager"])
    review = (await manager.get(f"/ui/stocktake/{st}", headers=FR)).text
    row = review.split(f'data-lot="{clinic.lot["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert "1,9\u00a0ml" in row and "-0,1\u00a0ml" in row and "2\u00a0ml" in row
    staff = pages.sign_in_as(page_cookies["staff"])
    status, shown = await _count(staff, st, barcode=clinic.code(), quantity="0,125")
    assert status == 422 and field_error(shown, "quantity") == "Enter a number (up to 2 decimal places)."


async def test_a_decimal_for_a_product_counted_one_by_one_is_refused_next_to_the_field(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=3)
    st = int((await stocktake.start(actor=actors["manager"], location_id=clinic.location_id))["id"])
    staff = pages.sign_in_as(page_cookies["staff"])
    status, shown = await _count(staff, st, barcode=clinic.code(), quantity="1,5")
    assert status == 422
    assert field_error(shown, "quantity") == "This product is counted in whole units: enter a whole number."
    status, shown = await _count(staff, st, FR, barcode=clinic.code(), quantity="1.5")
    assert field_error(shown, "quantity") == "Ce produit se compte en unités entières : saisissez un nombre entier."
    status, shown = await _count(staff, st, barcode=clinic.code(), quantity="0")
    assert status == 422 and field_error(shown, "quantity") == "Enter a number above 0."
    status, shown = await _count(staff, st, barcode=clinic.code(), quantity="2")
    assert status == 303 and "You have counted 2 of this lot." in shown
    assert (await stocktake.review(stocktake_id=st))["lines"][0]["counted"] == 2
