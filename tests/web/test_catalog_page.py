"""The catalog pages over HTTP: what each role sees, every refusal next to its field in English and French, and
nothing written when a form is refused."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest

from inventory.domain.labelcode import mod10_check_digit
from inventory.domain.models import Actor
from inventory.services import catalog
from tests.support import factories as f
from tests.support.pages import Pages, field_error

LOCALES = ("en", "fr")
# What a clinic reads for each refusal, in both languages (written out here: a missing French is a failure).
SAYS = {
    "required": ("This field is required.", "Ce champ est obligatoire."),
    "gtin_invalid": (
        "This GTIN is not valid (wrong length or check digit).",
        "Ce GTIN n’est pas valable (longueur ou clé de contrôle fausse).",
    ),
    "gtin_duplicate": (
        "Another product or pack already has this GTIN.",
        "Un autre produit ou conditionnement a déjà ce GTIN.",
    ),
    "gtin_twice": (
        "This GTIN is already given above in this form.",
        "Ce GTIN figure déjà plus haut dans ce formulaire.",
    ),
    "brand_taken": ("A brand with this name already exists.", "Une marque porte déjà ce nom."),
    "product_taken": (
        "This brand already has a product with this name.",
        "Cette marque a déjà un produit de ce nom.",
    ),
    "location_taken": ("A location with this name already exists.", "Un site porte déjà ce nom."),
    "timezone_unknown": (
        "This is not a known time zone (for example Europe/Paris).",
        "Ce fuseau horaire est inconnu (par exemple Europe/Paris).",
    ),
    "at_least_0": ("Enter a number of at least 0.", "Saisissez un nombre d’au moins 0."),
    "at_least_2": ("Enter a number of at least 2.", "Saisissez un nombre d’au moins 2."),
    "at_most_365": ("Enter a number of at most 365.", "Saisissez un nombre d’au plus 365."),
    "whole": ("Enter a whole number.", "Saisissez un nombre entier."),
    "number_2_places": (
        "Enter a number (up to 2 decimal places).",
        "Saisissez un nombre (jusqu’à 2 décimales).",
    ),
    "at_least_1": ("Enter a number of at least 1.", "Saisissez un nombre d’au moins 1."),
    "choice": ("Choose one of the options.", "Choisissez l’une des options."),
    "not_an_amount": ("Enter a number, for example 2.5.", "Saisissez un nombre, par exemple 2,5."),
    "container_invalid": (
        "Enter how much one container holds: above 0, with at most 2 decimal places.",
        "Indiquez ce que contient un contenant : plus de 0, avec au plus 2 décimales.",
    ),
    "in_use_needs_measure": (
        "Only a product measured in millilitres or units stays in use once opened; "
        "leave this empty for ampoules or vials counted one by one.",
        "Seul un produit mesuré en millilitres ou en unités reste utilisable une fois ouvert ; "
        "laissez ce champ vide pour des ampoules ou flacons comptés un par un.",
    ),
    "par_below": (
        "The par level cannot be below the reorder point.",
        "Le niveau cible ne peut pas être inférieur au seuil de commande.",
    ),
}
_seeds = itertools.count(700_001, 13)


def says(key: str, locale: str) -> str:
    """The message `key` in `locale`, as the page writes it (HTML-escaped apostrophes aside)."""
    english, french = SAYS[key]
    return french if locale == "fr" else english


def error_of(html: str, field: str) -> str | None:
    """The message next to `field`, unescaped."""
    message = field_error(html, field)
    return None if message is None else message.replace("&#39;", "'").replace("&amp;", "&")


def gtin13() -> str:
    """A valid GTIN-13 no other test uses."""
    return f.make_gtin(next(_seeds))[1:]


def with_wrong_check_digit(gtin: str) -> str:
    """The same GTIN with its check digit off by one."""
    return gtin[:-1] + str((int(gtin[-1]) + 1) % 10)


def valid(body: str) -> str:
    """`body` completed with its check digit."""
    return body + str(mod10_check_digit(body))


async def count(conn: asyncpg.Connection, sql: str, *args: Any) -> int:
    """How many rows a query finds."""
    return int(await conn.fetchval(f"SELECT count(*) FROM ({sql}) AS found", *args))


def lang(locale: str) -> dict[str, str]:
    """Request headers of a browser in `locale`."""
    return {"Accept-Language": "fr-FR,fr;q=0.9" if locale == "fr" else "en-GB,en;q=0.8"}


def assert_refused(page: httpx.Response, status: int, locale: str) -> None:
    """A form came back in the page's language with the given status and the "not saved" banner."""
    assert page.status_code == status, page.text[:2000]
    assert f'<html lang="{locale}">' in page.text
    assert 'id="form-error"' in page.text


@pytest.fixture
def manager(pages: Pages, page_cookies: dict[str, str]) -> Pages:
    """The pages signed in as a manager."""
    return pages.sign_in_as(page_cookies["manager"])


def product_form(brand_id: int, name: str, **fields: Any) -> dict[str, Any]:
    """A product form as the page posts it (three pack rows, empty unless given)."""
    packs: list[tuple[str, str]] = list(fields.pop("packs", []))
    packs += [("", "")] * (3 - len(packs))
    return {
        "brand_id": str(brand_id),
        "name": name,
        "ingredients": fields.pop("ingredients", "Hyaluronic acid"),
        "storage": fields.pop("storage", "room"),
        "gtin": fields.pop("gtin", ""),
        "pack_gtin[]": [g for g, _ in packs],
        "pack_units[]": [u for _, u in packs],
        **fields,
    }


# ------------------------------------------------------------------ who sees what


async def test_staff_reads_every_list_but_gets_no_catalog_form(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    product = await f.product(actors["manager"], gtin=gtin13(), packs=[(gtin13(), 10)])
    location = await f.location(actors["manager"])
    await catalog.set_rule(
        actor=actors["manager"],
        location_id=location["id"],
        product_id=product["id"],
        reorder_point=3,
        par_level=12,
        lead_time_days=7,
    )
    pages.sign_in_as(page_cookies["staff"])
    for path in (
        "/ui/catalog",
        "/ui/catalog/brands",
        "/ui/catalog/locations",
        f"/ui/catalog/rules?location={location['id']}",
        f"/ui/catalog/products/{product['id']}",
    ):
        page = await pages.get(path)
        assert page.status_code == 200, path
        assert not re.search(r'<form[^>]+method="post"[^>]+action="/ui/catalog', page.text), path
        content = page.text.split('id="main"')[1].split("</main>")[0]
        assert 'name="csrf_token"' not in content, path
    rules = await pages.get(f"/ui/catalog/rules?location={location['id']}")
    assert product["name"] in rules.text and ">12<" in rules.text
    for path in ("/ui/catalog/products/new", f"/ui/catalog/locations/{location['id']}"):
        assert (await pages.get(path)).status_code == 403, path


async def test_staff_posts_are_refused_and_write_nothing(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    brand = await f.brand(actors["manager"])
    product = await f.product(actors["manager"], brand_id=brand["id"])
    location = await f.location(actors["manager"])
    pages.sign_in_as(page_cookies["staff"])
    before = await count(conn, "SELECT id FROM audit_event")
    posts = [
        ("/ui/catalog/brands", {"name": "Staff brand"}),
        ("/ui/catalog/products", product_form(brand["id"], "Staff product", gtin=gtin13())),
        ("/ui/catalog/locations", {"name": "Staff room", "timezone": "Europe/Paris"}),
        (f"/ui/catalog/locations/{location['id']}", {"name": location["name"], "timezone": "Asia/Tokyo"}),
        (
            "/ui/catalog/rules",
            {
                "location_id": str(location["id"]),
                "product_id": str(product["id"]),
                "reorder_point": "1",
                "par_level": "5",
                "lead_time_days": "2",
            },
        ),
    ]
    for path, data in posts:
        page = await pages.post(path, data, headers=lang("fr"))
        assert page.status_code == 403, path
        assert "Vous ne pouvez pas ouvrir cette page." in page.text
    assert await count(conn, "SELECT id FROM audit_event") == before
    assert await count(conn, "SELECT id FROM brand WHERE name = 'Staff brand'") == 0
    assert await count(conn, "SELECT id FROM stock_rule WHERE location = $1", location["id"]) == 0
    assert await conn.fetchval("SELECT timezone FROM location WHERE id = $1", location["id"]) == "Europe/Paris"


async def test_a_form_without_the_sign_ins_token_is_refused(manager: Pages, conn: asyncpg.Connection) -> None:
    page = await manager.http.post("/ui/catalog/brands", data={"name": "No token brand"})
    assert page.status_code == 403
    assert await count(conn, "SELECT id FROM brand WHERE name = 'No token brand'") == 0


# ------------------------------------------------------------------ brands


async def test_a_manager_adds_a_brand_and_sees_it_listed_with_a_message(
    manager: Pages, conn: asyncpg.Connection
) -> None:
    name = f.unique("Filorga")
    page = await manager.post("/ui/catalog/brands", {"name": f"  {name}  "})
    assert page.status_code == 303
    assert page.headers["location"] == "/ui/catalog/brands"
    assert await count(conn, "SELECT id FROM brand WHERE name = $1", name) == 1
    listed = await manager.get("/ui/catalog/brands")
    assert f"Brand “{name}” added." in listed.text
    assert f'<td class="strong">{name}</td>' in listed.text


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_duplicate_brand_is_refused_next_to_its_name(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, locale: str
) -> None:
    brand = await f.brand(actors["manager"])
    before = await count(conn, "SELECT id FROM audit_event")
    page = await manager.post("/ui/catalog/brands", {"name": brand["name"].upper()}, headers=lang(locale))
    assert_refused(page, 409, locale)
    assert error_of(page.text, "name") == says("brand_taken", locale)
    assert f'value="{brand["name"].upper()}"' in page.text
    assert await count(conn, "SELECT id FROM brand WHERE lower(name) = lower($1)", brand["name"]) == 1
    assert await count(conn, "SELECT id FROM audit_event") == before


@pytest.mark.parametrize("locale", LOCALES)
async def test_an_empty_brand_name_is_refused(manager: Pages, conn: asyncpg.Connection, locale: str) -> None:
    before = await count(conn, "SELECT id FROM brand")
    page = await manager.post("/ui/catalog/brands", {"name": "   "}, headers=lang(locale))
    assert_refused(page, 422, locale)
    assert error_of(page.text, "name") == says("required", locale)
    assert 'aria-describedby="name-error"' in page.text
    assert await count(conn, "SELECT id FROM brand") == before


# ------------------------------------------------------------------ products


async def test_a_manager_adds_a_product_and_every_gtin_length_is_kept_as_14_digits(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    brand = await f.brand(actors["manager"])
    unit = gtin13()
    seed = next(_seeds)
    gtin8, gtin12, gtin14 = valid(f"{seed % 10**7:07d}"), valid(f"7{seed:010d}"), valid(f"1{unit[:-1]}")
    name = f.unique("Hydra")
    page = await manager.post(
        "/ui/catalog/products",
        product_form(
            brand["id"],
            name,
            gtin=f"{unit[0]} {unit[1:7]} {unit[7:]}",  # as printed under an EAN-13, grouped
            ingredients="Hyaluronic acid, Vitamin C\nglycine\nVITAMIN C",
            storage="fridge",
            packs=[(gtin8, "5"), (gtin12, "10"), (gtin14, "20")],
        ),
    )
    assert page.status_code == 303, page.text[:2000]
    product_id = int(page.headers["location"].rsplit("/", 1)[1])
    product = await catalog.get_product(product_id)
    assert product["brand_id"] == brand["id"]
    assert product["gtin"] == "0" + unit
    assert product["ingredients"] == ["Hyaluronic acid", "Vitamin C", "glycine"]
    assert product["storage"] == "fridge"
    assert [(p["gtin"], p["units"]) for p in product["packs"]] == [
        (gtin8.zfill(14), 5),
        (gtin12.zfill(14), 10),
        (gtin14, 20),
    ]
    shown = await manager.get(page.headers["location"])
    assert f"Product “{name}” added." in shown.text
    for gtin in ("0" + unit, gtin8.zfill(14), gtin12.zfill(14), gtin14):
        assert f">{gtin}<" in shown.text
    assert "Fridge (2–8 °C)" in shown.text  # noqa: RUF001 (a range's dash)
    listed = await manager.get(f"/ui/catalog?brand={brand['id']}")
    assert name in listed.text and f">{gtin8.zfill(14)}<" in listed.text


async def test_a_product_without_any_gtin_or_pack_is_added(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    brand = await f.brand(actors["manager"])
    page = await manager.post("/ui/catalog/products", product_form(brand["id"], "Plain serum", ingredients=""))
    assert page.status_code == 303
    assert await count(conn, "SELECT id FROM product WHERE brand = $1 AND name = 'Plain serum'", brand["id"]) == 1


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_bad_check_digit_on_the_unit_gtin_is_shown_next_to_it(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, locale: str
) -> None:
    brand = await f.brand(actors["manager"])
    pack = gtin13()
    bad = with_wrong_check_digit(gtin13())
    form = product_form(brand["id"], "Bad unit", gtin=bad, packs=[(pack, "10")])
    page = await manager.post("/ui/catalog/products", form, headers=lang(locale))
    assert_refused(page, 422, locale)
    assert error_of(page.text, "gtin") == says("gtin_invalid", locale)
    assert error_of(page.text, "pack-0-gtin") is None
    assert re.search(r'id="gtin"[^>]*aria-invalid="true"[^>]*aria-describedby="gtin-error gtin-hint"', page.text)
    assert re.search(r'id="gtin"[^>]*autofocus', page.text)
    # What was typed comes back, for fixing one digit rather than typing it all again.
    assert f'value="{bad}"' in page.text and f'value="{pack}"' in page.text and ">Hyaluronic acid<" in page.text
    assert await count(conn, "SELECT id FROM product WHERE brand = $1", brand["id"]) == 0
    assert await count(conn, "SELECT id FROM product_gtin WHERE gtin = $1", pack.zfill(14)) == 0


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_bad_check_digit_on_a_pack_gtin_is_shown_next_to_that_pack(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, locale: str
) -> None:
    brand = await f.brand(actors["manager"])
    unit, first, bad = gtin13(), gtin13(), with_wrong_check_digit(gtin13())
    form = product_form(brand["id"], "Bad pack", gtin=unit, packs=[(first, "5"), (bad, "10")])
    page = await manager.post("/ui/catalog/products", form, headers=lang(locale))
    assert_refused(page, 422, locale)
    assert error_of(page.text, "pack-1-gtin") == says("gtin_invalid", locale)
    for other in ("gtin", "pack-0-gtin", "pack-1-units", "pack-2-gtin"):
        assert error_of(page.text, other) is None, other
    assert re.search(r'id="pack-1-gtin"[^>]*aria-invalid="true"[^>]*autofocus', page.text)
    assert f'value="{bad}"' in page.text
    assert await count(conn, "SELECT id FROM product WHERE brand = $1", brand["id"]) == 0
    assert await count(conn, "SELECT id FROM product_gtin WHERE gtin = ANY($1::text[])", ["0" + unit, "0" + first]) == 0


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_gtin_another_product_has_is_refused_next_to_that_field(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, locale: str
) -> None:
    taken = gtin13()
    other = await f.product(actors["manager"], gtin=gtin13(), packs=[(taken, 10)])
    brand = await f.brand(actors["manager"])
    unit = gtin13()
    # Typed as a GTIN-13 here, stored as 14 digits there: still the same GTIN.
    form = product_form(brand["id"], "Copycat", gtin=unit, packs=[(gtin13(), "5"), (taken, "10")])
    before = await count(conn, "SELECT id FROM audit_event")
    page = await manager.post("/ui/catalog/products", form, headers=lang(locale))
    assert_refused(page, 409, locale)
    assert error_of(page.text, "pack-1-gtin") == says("gtin_duplicate", locale)
    assert error_of(page.text, "gtin") is None and error_of(page.text, "pack-0-gtin") is None
    assert await count(conn, "SELECT id FROM product WHERE brand = $1", brand["id"]) == 0
    assert await count(conn, "SELECT id FROM product_gtin WHERE gtin = $1", "0" + unit) == 0
    assert await count(conn, "SELECT id FROM product_gtin WHERE product = $1", other["id"]) == 2
    assert await count(conn, "SELECT id FROM audit_event") == before


@pytest.mark.parametrize("locale", LOCALES)
async def test_the_same_gtin_twice_in_one_form_is_marked_on_the_second(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, locale: str
) -> None:
    brand = await f.brand(actors["manager"])
    unit = gtin13()
    form = product_form(brand["id"], "Twice", gtin=unit, packs=[("0" + unit, "10")])
    page = await manager.post("/ui/catalog/products", form, headers=lang(locale))
    assert_refused(page, 422, locale)
    assert error_of(page.text, "gtin") is None
    assert error_of(page.text, "pack-0-gtin") == says("gtin_twice", locale)
    assert await count(conn, "SELECT id FROM product WHERE brand = $1", brand["id"]) == 0


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_pack_needs_its_gtin_and_at_least_two_units(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, locale: str
) -> None:
    brand = await f.brand(actors["manager"])
    form = product_form(brand["id"], "Odd packs", packs=[(gtin13(), "1"), ("", "10"), (gtin13(), "ten")])
    page = await manager.post("/ui/catalog/products", form, headers=lang(locale))
    assert_refused(page, 422, locale)
    assert error_of(page.text, "pack-0-units") == says("at_least_2", locale)
    assert error_of(page.text, "pack-1-gtin") == says("required", locale)
    assert error_of(page.text, "pack-2-units") == says("whole", locale)
    assert await count(conn, "SELECT id FROM product WHERE brand = $1", brand["id"]) == 0


@pytest.mark.parametrize("locale", LOCALES)
async def test_an_empty_product_name_and_no_brand_are_refused(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, locale: str
) -> None:
    await f.brand(actors["manager"])
    before = await count(conn, "SELECT id FROM product")
    form = product_form(0, " ", gtin=gtin13())
    form["brand_id"] = ""
    page = await manager.post("/ui/catalog/products", form, headers=lang(locale))
    assert_refused(page, 422, locale)
    assert error_of(page.text, "name") == says("required", locale)
    assert error_of(page.text, "brand_id") == says("required", locale)
    assert re.search(r'id="brand_id"[^>]*autofocus', page.text)
    assert await count(conn, "SELECT id FROM product") == before


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_product_name_the_brand_already_has_is_refused_next_to_the_name(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, locale: str
) -> None:
    existing = await f.product(actors["manager"])
    unit = gtin13()
    form = product_form(existing["brand_id"], existing["name"].lower(), gtin=unit)
    page = await manager.post("/ui/catalog/products", form, headers=lang(locale))
    assert_refused(page, 409, locale)
    assert error_of(page.text, "name") == says("product_taken", locale)
    assert await count(conn, "SELECT id FROM product WHERE brand = $1", existing["brand_id"]) == 1
    assert await count(conn, "SELECT id FROM product_gtin WHERE gtin = $1", "0" + unit) == 0


async def test_add_a_pack_row_shows_one_more_row_and_writes_nothing(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    brand = await f.brand(actors["manager"])
    first = gtin13()
    form = product_form(brand["id"], "Four packs", packs=[(first, "5")], action="more_packs")
    page = await manager.post("/ui/catalog/products", form)
    assert page.status_code == 200
    assert 'id="pack-3-gtin"' in page.text and 'id="pack-4-gtin"' not in page.text
    assert f'value="{first}"' in page.text
    assert await count(conn, "SELECT id FROM product WHERE brand = $1", brand["id"]) == 0


async def test_the_product_form_has_three_pack_rows_and_the_chosen_brand(
    manager: Pages, actors: dict[str, Actor]
) -> None:
    brand = await f.brand(actors["manager"])
    page = await manager.get(f"/ui/catalog/products/new?brand={brand['id']}")
    assert page.status_code == 200
    assert [f'id="pack-{i}-gtin"' in page.text for i in range(4)] == [True, True, True, False]
    assert f'<option value="{brand["id"]}" selected>' in page.text
    assert 'name="storage" value="room" checked' in page.text


async def test_an_unknown_product_is_the_404_page(manager: Pages) -> None:
    page = await manager.get("/ui/catalog/products/999999", headers=lang("fr"))
    assert page.status_code == 404
    assert "Cette page n’existe pas." in page.text
    assert (await manager.get("/ui/catalog/products/99999999999")).status_code in (400, 404)


async def test_products_are_found_by_name_or_brand(manager: Pages, actors: dict[str, Actor]) -> None:
    kept = await f.product(actors["manager"], name=f.unique("Needle-free"))
    other = await f.product(actors["manager"], name=f.unique("Mesoglow"))
    page = await manager.get("/ui/catalog", params={"q": "needle-FREE"})
    assert kept["name"] in page.text and other["name"] not in page.text
    page = await manager.get("/ui/catalog", params={"brand": str(other["brand_id"]), "q": ""})
    assert other["name"] in page.text and kept["name"] not in page.text
    assert (await manager.get("/ui/catalog", params={"brand": "x'; drop"})).status_code == 200


async def test_a_manager_adds_an_ml_multi_use_product_typed_with_a_decimal_comma(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    brand = await f.brand(actors["manager"])
    name = f.unique("Skinbooster")
    form = product_form(brand["id"], name, unit="ml", container_quantity=" 2,5 ", in_use_hours="24")
    page = await manager.post("/ui/catalog/products", form)
    assert page.status_code == 303, page.text[:2000]
    product_id = int(page.headers["location"].rsplit("/", 1)[1])
    product = await catalog.get_product(product_id)
    assert (product["unit"], product["container_quantity"], product["in_use_hours"], product["implant"]) == (
        "ml",
        Decimal("2.5"),
        24,
        False,
    )
    for locale, size, in_use in (
        ("en", "2.5 ml per container", "multi-use, 24 h once opened"),
        ("fr", "2,5 ml par contenant", "multi-usage, 24 h après ouverture"),
    ):
        listed = await manager.get(f"/ui/catalog?brand={brand['id']}", headers=lang(locale))
        row = listed.text.split(f'data-product="{product_id}"')[1].split("</tr>")[0]
        assert size in row and in_use in row, row
        assert "badge implant" not in row
        shown = await manager.get(f"/ui/catalog/products/{product_id}", headers=lang(locale))
        assert size in shown.text and in_use in shown.text
    assert (
        await count(conn, "SELECT id FROM audit_event WHERE action = 'product.create' AND entity_id = $1", product_id)
        == 1
    )


async def test_a_manager_adds_an_implant_counted_in_units_and_the_list_marks_it(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    brand = await f.brand(actors["manager"])
    plain = await f.product(actors["manager"], brand_id=brand["id"])
    name = f.unique("Volume filler")
    page = await manager.post(
        "/ui/catalog/products", product_form(brand["id"], name, unit="U", container_quantity="100", implant="yes")
    )
    assert page.status_code == 303, page.text[:2000]
    product_id = int(page.headers["location"].rsplit("/", 1)[1])
    product = await catalog.get_product(product_id)
    assert (product["implant"], product["unit"], product["container_quantity"], product["in_use_hours"]) == (
        True,
        "U",
        100,
        None,
    )
    details = await conn.fetchval(
        "SELECT details::text FROM audit_event WHERE action = 'product.create' AND entity_id = $1", product_id
    )
    assert '"implant": true' in details
    listed = await manager.get(f"/ui/catalog?brand={brand['id']}", headers=lang("fr"))
    implant_row = listed.text.split(f'data-product="{product_id}"')[1].split("</tr>")[0]
    plain_row = listed.text.split(f'data-product="{plain["id"]}"')[1].split("</tr>")[0]
    assert '<span class="badge implant">Implant</span>' in implant_row
    assert "100 U par contenant" in implant_row and "multi-usage" not in implant_row
    assert "badge implant" not in plain_row and "Compté un par un" in plain_row
    shown = await manager.get(f"/ui/catalog/products/{product_id}")
    assert "Yes: each use keeps the UDI and has an implant card" in shown.text


async def test_a_product_counted_one_by_one_ignores_a_container_size_typed_for_it(
    manager: Pages, actors: dict[str, Actor]
) -> None:
    brand = await f.brand(actors["manager"])
    page = await manager.post(
        "/ui/catalog/products", product_form(brand["id"], f.unique("Ampoule"), unit="each", container_quantity="5")
    )
    assert page.status_code == 303, page.text[:2000]
    product = await catalog.get_product(int(page.headers["location"].rsplit("/", 1)[1]))
    assert (product["unit"], product["container_quantity"], product["in_use_hours"]) == ("each", 1, None)


async def test_the_product_form_offers_the_units_and_the_container_fields(
    manager: Pages, actors: dict[str, Actor]
) -> None:
    await f.brand(actors["manager"])
    page = await manager.get("/ui/catalog/products/new", headers=lang("fr"))
    assert 'name="unit" value="each" checked' in page.text
    for text in ("Ampoules ou flacons comptés un par un", "Millilitres (ml)", "Unités (U, toxine)"):
        assert text in page.text
    assert 'id="container_quantity"' in page.text and 'inputmode="decimal"' in page.text
    assert 'id="in_use_hours"' in page.text and 'name="implant" value="yes"' in page.text
    assert '<script type="module" src="/ui/catalog.js"></script>' in page.text
    script = await manager.get("/ui/catalog.js")
    assert script.status_code == 200 and "container-fields" in script.text


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_manager_marks_an_existing_product_as_an_implant_and_back(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, locale: str
) -> None:
    product = await f.product(actors["manager"])
    path = f"/ui/catalog/products/{product['id']}"
    shown = await manager.get(path, headers=lang(locale))
    assert f'action="{path}/implant"' in shown.text and 'name="implant" value="yes"' in shown.text
    marked = await manager.post(f"{path}/implant", {"implant": "yes"}, headers=lang(locale))
    assert marked.status_code == 303 and marked.headers["location"] == path
    assert (await catalog.get_product(product["id"]))["implant"] is True
    shown = await manager.get(path, headers=lang(locale))
    flash = {
        "en": f"“{product['name']}” is now an implant: each use keeps the UDI and has an implant card.",
        "fr": f"« {product['name']} » est désormais un implant : "
        "chaque utilisation garde l’IUD et a une carte d’implant.",
    }
    assert flash[locale] in shown.text
    assert '<span class="badge implant">Implant</span>' in shown.text and 'name="implant" value="no"' in shown.text
    unmarked = await manager.post(f"{path}/implant", {"implant": "no"}, headers=lang(locale))
    assert unmarked.status_code == 303
    assert (await catalog.get_product(product["id"]))["implant"] is False
    details = [
        row["details"]
        for row in await conn.fetch(
            "SELECT details FROM audit_event WHERE action = 'product.update' AND entity_id = $1 ORDER BY id",
            product["id"],
        )
    ]
    assert details == [{"implant": {"from": False, "to": True}}, {"implant": {"from": True, "to": False}}]


async def test_marking_an_implant_needs_a_manager_a_known_product_and_a_choice(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    product = await f.product(actors["manager"])
    path = f"/ui/catalog/products/{product['id']}/implant"
    pages.sign_in_as(page_cookies["staff"])
    assert (await pages.post(path, {"implant": "yes"})).status_code == 403
    pages.sign_in_as(page_cookies["manager"])
    assert (await pages.post("/ui/catalog/products/999999/implant", {"implant": "yes"})).status_code == 404
    assert (await pages.post(path, {"implant": "maybe"})).status_code == 422
    assert (await pages.http.post(path, data={"implant": "yes"})).status_code == 403  # no CSRF token
    assert (await catalog.get_product(product["id"]))["implant"] is False
    updates = "SELECT id FROM audit_event WHERE action = 'product.update' AND entity_id = $1"
    assert await count(conn, updates, product["id"]) == 0


# Each bad packaging: the field the message is next to, the message, and the status (the service's 422 or the page's).
BAD_PACKAGING = {
    "zero": ({"unit": "ml", "container_quantity": "0"}, "container_quantity", "container_invalid"),
    "three places": ({"unit": "ml", "container_quantity": "2,555"}, "container_quantity", "container_invalid"),
    "negative": ({"unit": "U", "container_quantity": "-5"}, "container_quantity", "container_invalid"),
    "a word": ({"unit": "ml", "container_quantity": "two"}, "container_quantity", "not_an_amount"),
    "no size": ({"unit": "ml", "container_quantity": ""}, "container_quantity", "required"),
    "each kept open": ({"unit": "each", "in_use_hours": "24"}, "in_use_hours", "in_use_needs_measure"),
    "zero hours": ({"unit": "ml", "container_quantity": "1", "in_use_hours": "0"}, "in_use_hours", "at_least_1"),
    "half an hour": ({"unit": "ml", "container_quantity": "1", "in_use_hours": "1,5"}, "in_use_hours", "whole"),
    "another unit": ({"unit": "litre", "container_quantity": "1"}, "unit", "choice"),
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("case", list(BAD_PACKAGING))
async def test_bad_packaging_is_refused_next_to_its_field_and_writes_nothing(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, locale: str, case: str
) -> None:
    typed, where, message = BAD_PACKAGING[case]
    brand = await f.brand(actors["manager"])
    unit_gtin = gtin13()
    before = await count(conn, "SELECT id FROM audit_event")
    form = product_form(brand["id"], f.unique("Bad size"), gtin=unit_gtin, storage="fridge", **typed)
    page = await manager.post("/ui/catalog/products", form, headers=lang(locale))
    assert_refused(page, 422, locale)
    assert error_of(page.text, where) == says(message, locale)
    others = {"unit", "container_quantity", "in_use_hours", "name", "gtin"} - {where}
    assert [name for name in others if error_of(page.text, name) is not None] == []
    if where != "unit":
        assert re.search(
            rf'id="{where}"[^>]*aria-invalid="true"[^>]*aria-describedby="{where}-error {where}-hint"', page.text
        )
        assert re.search(rf'id="{where}"[^>]*autofocus', page.text)
    # What was typed comes back.
    for name in ("container_quantity", "in_use_hours"):
        if typed.get(name):
            assert f'value="{typed[name]}"' in page.text, name
    assert 'name="storage" value="fridge" checked' in page.text
    assert await count(conn, "SELECT id FROM product WHERE brand = $1", brand["id"]) == 0
    assert await count(conn, "SELECT id FROM product_gtin WHERE gtin = $1", "0" + unit_gtin) == 0
    assert await count(conn, "SELECT id FROM audit_event") == before


# ------------------------------------------------------------------ locations


async def test_a_manager_adds_a_location_in_a_time_zone_and_paris_is_the_default(
    manager: Pages, conn: asyncpg.Connection
) -> None:
    form = await manager.get("/ui/catalog/locations")
    assert "<option selected>Europe/Paris</option>" in form.text
    assert "<option>America/New_York</option>" in form.text and "<option>posixrules</option>" not in form.text
    name = f.unique("Cabinet")
    page = await manager.post("/ui/catalog/locations", {"name": name, "timezone": "America/New_York"})
    assert page.status_code == 303
    assert await conn.fetchval("SELECT timezone FROM location WHERE name = $1", name) == "America/New_York"
    listed = await manager.get("/ui/catalog/locations")
    assert f"Location “{name}” added." in listed.text
    assert re.search(rf"{name}</td>\s*<td[^>]*>America/New_York</td>", listed.text)


@pytest.mark.parametrize("locale", LOCALES)
async def test_an_unknown_time_zone_is_refused_next_to_it(
    manager: Pages, conn: asyncpg.Connection, locale: str
) -> None:
    name = f.unique("Nowhere")
    page = await manager.post(
        "/ui/catalog/locations", {"name": name, "timezone": "Europe/Atlantis"}, headers=lang(locale)
    )
    assert_refused(page, 422, locale)
    assert error_of(page.text, "timezone") == says("timezone_unknown", locale)
    assert f'value="{name}"' in page.text
    assert await count(conn, "SELECT id FROM location WHERE name = $1", name) == 0


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_location_needs_a_name_not_taken(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, locale: str
) -> None:
    before = await count(conn, "SELECT id FROM location")
    page = await manager.post("/ui/catalog/locations", {"name": "", "timezone": "Europe/Paris"}, headers=lang(locale))
    assert_refused(page, 422, locale)
    assert error_of(page.text, "name") == says("required", locale)
    existing = await f.location(actors["manager"])
    page = await manager.post(
        "/ui/catalog/locations", {"name": existing["name"], "timezone": "Europe/Paris"}, headers=lang(locale)
    )
    assert_refused(page, 409, locale)
    assert error_of(page.text, "name") == says("location_taken", locale)
    assert await count(conn, "SELECT id FROM location") == before + 1


async def test_a_manager_moves_a_location_to_another_time_zone(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    location = await f.location(actors["manager"])
    form = await manager.get(f"/ui/catalog/locations/{location['id']}")
    assert form.status_code == 200
    assert "<option selected>Europe/Paris</option>" in form.text
    page = await manager.post(
        f"/ui/catalog/locations/{location['id']}", {"name": location["name"], "timezone": "Pacific/Auckland"}
    )
    assert page.status_code == 303
    assert await conn.fetchval("SELECT timezone FROM location WHERE id = $1", location["id"]) == "Pacific/Auckland"
    audited = "SELECT id FROM audit_event WHERE action = 'location.update' AND entity_id = $1"
    assert await count(conn, audited, location["id"]) == 1
    listed = await manager.get("/ui/catalog/locations")
    assert f"“{location['name']}” is now in Pacific/Auckland." in listed.text


@pytest.mark.parametrize("locale", LOCALES)
async def test_moving_a_location_to_an_unknown_zone_changes_nothing(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, locale: str
) -> None:
    location = await f.location(actors["manager"])
    page = await manager.post(
        f"/ui/catalog/locations/{location['id']}",
        {"name": "Renamed too", "timezone": "Mars/Olympus"},
        headers=lang(locale),
    )
    assert_refused(page, 422, locale)
    assert error_of(page.text, "timezone") == says("timezone_unknown", locale)
    row = await conn.fetchrow("SELECT name, timezone FROM location WHERE id = $1", location["id"])
    assert (row["name"], row["timezone"]) == (location["name"], "Europe/Paris")


async def test_an_unknown_location_is_the_404_page(manager: Pages) -> None:
    assert (await manager.get("/ui/catalog/locations/999999")).status_code == 404
    assert (await manager.post("/ui/catalog/locations/999999", {"name": "x", "timezone": "UTC"})).status_code == 404
    assert (await manager.get("/ui/catalog/rules?location=999999")).status_code == 404


# ------------------------------------------------------------------ stock rules


def rule_form(location_id: int, product_id: int, reorder: str, par: str, lead: str) -> dict[str, str]:
    """One row's stock-rule form."""
    return {
        "location_id": str(location_id),
        "product_id": str(product_id),
        "reorder_point": reorder,
        "par_level": par,
        "lead_time_days": lead,
    }


async def test_a_manager_sets_and_then_changes_a_stock_rule(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    product = await f.product(actors["manager"])
    location = await f.location(actors["manager"])
    table = await manager.get(f"/ui/catalog/rules?location={location['id']}")
    assert f'id="rule-{product["id"]}-reorder_point"' in table.text
    page = await manager.post("/ui/catalog/rules", rule_form(location["id"], product["id"], "4", "12", "10"))
    assert page.status_code == 303
    assert page.headers["location"] == f"/ui/catalog/rules?location={location['id']}#rule-{product['id']}"
    page = await manager.post("/ui/catalog/rules", rule_form(location["id"], product["id"], "5", "15", "0"))
    row = await conn.fetchrow(
        "SELECT reorder_point, par_level, lead_time_days FROM stock_rule WHERE product = $1 AND location = $2",
        product["id"],
        location["id"],
    )
    assert tuple(row) == (5, 15, 0)
    table = await manager.get(page.headers["location"].split("#")[0])
    assert "Stock rule saved." in table.text
    assert re.search(rf'id="rule-{product["id"]}-par_level"[^>]*value="15"', table.text)


REFUSED_RULES = [
    pytest.param(("-1", "10", "5"), "reorder_point", "at_least_0", id="negative reorder point"),
    pytest.param(("8", "5", "5"), "par_level", "par_below", id="par below reorder point"),
    pytest.param(("2", "5", "400"), "lead_time_days", "at_most_365", id="lead time over a year"),
    pytest.param(("two", "5", "5"), "reorder_point", "number_2_places", id="not a number"),
    pytest.param(("2", "", "5"), "par_level", "required", id="empty par level"),
    pytest.param(("2", "5", "1.5"), "lead_time_days", "whole", id="a fraction of a day"),
]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("typed", "field", "message"), REFUSED_RULES)
async def test_a_bad_stock_rule_is_refused_next_to_its_field_and_the_old_rule_stays(
    manager: Pages,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    locale: str,
    typed: tuple[str, str, str],
    field: str,
    message: str,
) -> None:
    product = await f.product(actors["manager"])
    location = await f.location(actors["manager"])
    await catalog.set_rule(
        actor=actors["manager"],
        location_id=location["id"],
        product_id=product["id"],
        reorder_point=3,
        par_level=9,
        lead_time_days=7,
    )
    before = await count(conn, "SELECT id FROM audit_event")
    form = rule_form(location["id"], product["id"], *typed)
    page = await manager.post("/ui/catalog/rules", form, headers=lang(locale))
    assert_refused(page, 422, locale)
    input_id = f"rule-{product['id']}-{field}"
    assert error_of(page.text, input_id) == says(message, locale)
    assert re.search(rf'id="{input_id}"[^>]*aria-invalid="true"[^>]*autofocus', page.text)
    assert f'value="{typed[0]}"' in page.text  # the row shows what was typed, to fix it
    row = await conn.fetchrow(
        "SELECT reorder_point, par_level, lead_time_days FROM stock_rule WHERE product = $1 AND location = $2",
        product["id"],
        location["id"],
    )
    assert tuple(row) == (3, 9, 7)
    assert await count(conn, "SELECT id FROM audit_event") == before


@pytest.mark.parametrize("locale", LOCALES)
async def test_renaming_a_location_to_a_taken_name_changes_nothing(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection, locale: str
) -> None:
    taken = await f.location(actors["manager"])
    location = await f.location(actors["manager"])
    page = await manager.post(
        f"/ui/catalog/locations/{location['id']}",
        {"name": taken["name"], "timezone": "Asia/Tokyo"},
        headers=lang(locale),
    )
    assert_refused(page, 409, locale)
    assert error_of(page.text, "name") == says("location_taken", locale)
    assert "<option selected>Asia/Tokyo</option>" in page.text  # what was chosen stays chosen
    row = await conn.fetchrow("SELECT name, timezone FROM location WHERE id = $1", location["id"])
    assert (row["name"], row["timezone"]) == (location["name"], "Europe/Paris")
