"""The stock page's count and disposal in the product's unit: "1,7" or "1.7" ml, whole numbers for `each`."""

from __future__ import annotations

import re
from decimal import Decimal

import asyncpg

from inventory.domain.models import Actor
from inventory.services import quarantine
from inventory.store.stock import on_hand
from tests.support.clinic import build
from tests.support.pages import Pages, field_error
from tests.support.vials import VialClinic, build_vials

FR = {"Accept-Language": "fr"}


async def _held_vials(actors: dict[str, Actor]) -> VialClinic:
    """Two 1.5 ml vials of a quarantined lot: flagged on the stock page, so its forms are there."""
    clinic = await build_vials(actors, unit="ml", container_quantity=Decimal("1.5"), vials=2)
    await quarantine.quarantine_lot(actor=actors["manager"], lot_id=clinic.lot["id"], reason="Cold chain broken")
    return clinic


def _key(html: str, form_id: str) -> str:
    form = html.split(f'<form id="{form_id}"', 1)[1].split("</form>", 1)[0]
    found = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert found is not None
    return found.group(1)


def _flash(html: str) -> str:
    found = re.search(r'id="flash">([^<]+)</p>', html)
    assert found is not None
    return found.group(1)


async def test_a_manager_counts_and_disposes_of_ml_with_a_comma(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await _held_vials(actors)
    lot, where = clinic.lot["id"], clinic.location_id
    manager = pages.sign_in_as(page_cookies["manager"])
    html = (await manager.get(f"/ui/stock?location_id={where}", headers=FR)).text
    dispose_form = html.split(f'<form id="dispose-{lot}"', 1)[1].split("</form>", 1)[0]
    assert 'inputmode="decimal"' in dispose_form and 'value="3"' in dispose_form
    assert "3\u00a0ml" in html
    counted = await manager.post(
        "/ui/stock/count",
        {
            "lot_id": lot,
            "location_id": where,
            "counted": "2,75",
            "reason": "Recount",
            "idempotency_key": _key(html, f"count-{lot}"),
        },
        headers=FR,
    )
    assert counted.status_code == 303, counted.text[:400]
    assert await on_hand(conn, lot, where) == Decimal("2.75")
    html = (await manager.get(counted.headers["location"].split("#")[0], headers=FR)).text
    assert (
        _flash(html)
        == f"Lot {clinic.lot['lot_number']} compté : le stock était de 3\u00a0ml, il est maintenant de 2,75\u00a0ml."
    )
    disposed = await manager.post(
        "/ui/stock/dispose",
        {
            "lot_id": lot,
            "location_id": where,
            "quantity": "0.25",
            "reason": "damaged",
            "note": "",
            "idempotency_key": _key(html, f"dispose-{lot}"),
        },
    )
    assert disposed.status_code == 303, disposed.text[:400]
    assert await on_hand(conn, lot, where) == Decimal("2.5")
    html = (await manager.get(disposed.headers["location"].split("#")[0])).text
    assert f"Disposed of 0.25\u00a0ml of lot {clinic.lot['lot_number']}" in _flash(html)
    assert "2.5\u00a0ml left here." in _flash(html)
    refused = await manager.post(
        "/ui/stock/dispose",
        {
            "lot_id": lot,
            "location_id": where,
            "quantity": "0,125",
            "reason": "damaged",
            "note": "",
            "idempotency_key": _key(html, f"dispose-{lot}"),
        },
    )
    assert refused.status_code == 422
    assert field_error(refused.text, f"dispose-{lot}-quantity") == "Enter a number (up to 2 decimal places)."
    assert await on_hand(conn, lot, where) == Decimal("2.5")


async def test_a_decimal_for_a_product_counted_one_by_one_is_refused_next_to_the_field(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=4)
    lot, where = clinic.lot["id"], clinic.location_id
    await quarantine.quarantine_lot(actor=actors["manager"], lot_id=lot, reason="Dropped")
    manager = pages.sign_in_as(page_cookies["manager"])
    html = (await manager.get(f"/ui/stock?location_id={where}")).text
    assert 'type="number"' in html.split(f'<form id="dispose-{lot}"', 1)[1].split("</form>", 1)[0]
    for action, name in (("dispose", "quantity"), ("count", "counted")):
        refused = await manager.post(
            f"/ui/stock/{action}",
            {
                "lot_id": lot,
                "location_id": where,
                name: "1,5",
                "reason": "damaged" if action == "dispose" else "Recount",
                "note": "",
                "idempotency_key": _key(html, f"{action}-{lot}"),
            },
            headers=FR,
        )
        assert refused.status_code == 422, action
        assert field_error(refused.text, f"{action}-{lot}-{name}") == (
            "Ce produit se compte en unités entières : saisissez un nombre entier."
        )
    assert await on_hand(conn, lot, where) == 4
