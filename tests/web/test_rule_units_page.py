"""The stock-rule form in the product's unit: "2,5" or "2.5" ml, whole numbers for `each`, shown in the locale."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from inventory.domain.models import Actor
from tests.support.clinic import build
from tests.support.pages import Pages, field_error
from tests.support.vials import build_vials

FR = {"Accept-Language": "fr"}


def _form(location_id: int, product_id: int, reorder_point: str, par_level: str) -> dict[str, str]:
    return {
        "location_id": str(location_id),
        "product_id": str(product_id),
        "reorder_point": reorder_point,
        "par_level": par_level,
        "lead_time_days": "2",
    }


async def test_an_ml_rule_takes_a_comma_and_shows_it_back_in_the_locale(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build_vials(actors, unit="ml", container_quantity=2, vials=1)
    manager = pages.sign_in_as(page_cookies["manager"])
    product_id = clinic.product["id"]
    saved = await manager.post("/ui/catalog/rules", _form(clinic.location_id, product_id, "2,5", "10.25"), headers=FR)
    assert saved.status_code == 303, saved.text
    row = await conn.fetchrow("SELECT reorder_point, par_level FROM stock_rule WHERE product = $1", product_id)
    assert row is not None and (row["reorder_point"], row["par_level"]) == (Decimal("2.5"), Decimal("10.25"))
    fr = (await manager.get(f"/ui/catalog/rules?location={clinic.location_id}", headers=FR)).text
    assert f'id="rule-{product_id}-reorder_point"' in fr and 'value="2,5"' in fr and 'value="10,25"' in fr
    assert "en ml" in fr
    en = (await manager.get(f"/ui/catalog/rules?location={clinic.location_id}")).text
    assert 'value="2.5"' in en and 'inputmode="decimal"' in en
    refused = await manager.post("/ui/catalog/rules", _form(clinic.location_id, product_id, "1,125", "4"))
    assert refused.status_code == 422
    assert field_error(refused.text, f"rule-{product_id}-reorder_point") == "Enter a number (up to 2 decimal places)."


async def test_a_decimal_rule_for_a_product_counted_one_by_one_is_refused_on_its_field(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=3)
    manager = pages.sign_in_as(page_cookies["manager"])
    product_id = clinic.product["id"]
    refused = await manager.post("/ui/catalog/rules", _form(clinic.location_id, product_id, "2", "4,5"), headers=FR)
    assert refused.status_code == 422
    assert field_error(refused.text, f"rule-{product_id}-par_level") == (
        "Ce produit se compte en unités entières : saisissez un nombre entier."
    )
    assert await conn.fetchval("SELECT count(*) FROM stock_rule WHERE product = $1", product_id) == 0
