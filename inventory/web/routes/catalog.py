"""The catalog pages: brands, products with their GTINs and packs, locations with their time zone, stock rules.

Everyone signed in reads them; only managers get the forms, and only managers' posts are taken (CONTRACT §2).
Each post either redirects with a message or re-renders its form with a message next to each field at fault
and nothing written. They call the same `services.catalog` functions as the API's CatalogController.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Template

from inventory import clock
from inventory.domain import quantities
from inventory.domain.errors import Conflict, GtinInvalid, InventoryError, NotFound, Unprocessable
from inventory.domain.gtin import normalize_gtin
from inventory.services import catalog
from inventory.web.forms import ERROR_MESSAGES, Fields
from inventory.web.i18n import N_, gettext, input_number
from inventory.web.pages import current_user, manager_page, read_form, redirect, render, settings_of, staff_page

MAX_ID = 2_147_483_647  # ids are PostgreSQL integers
PageId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
# Enough for a clinic's whole catalog on one page; beyond it the page says so and the search narrows it.
PRODUCT_LIMIT = 500
PACK_ROWS = 3  # pack rows the product form shows without JavaScript (one more per "Add a pack row")
MAX_PACK_ROWS = 20
MAX_QUANTITY = 1_000_000  # reorder point and par level: far above any clinic's shelf, well inside int4
MAX_LEAD_DAYS = 365  # the service refuses more
MAX_PACK_UNITS = 10_000
NAME_LENGTH = {"brand": 120, "product": 200, "location": 120}  # the columns' lengths
INGREDIENT_LENGTH = 120
TIMEZONES = tuple(sorted(clock.zone_names()))
STORAGE_LABELS = {"room": N_("Room temperature"), "fridge": N_("Fridge (2–8 °C)")}  # noqa: RUF001 (a range's dash)
UNIT_LABELS = {
    "each": N_("Ampoules or vials counted one by one"),
    "ml": N_("Millilitres (ml)"),
    "U": N_("Units (U, toxin)"),
}
MAX_IN_USE_HOURS = 24 * 366  # the API's bound: a year and a day
# A container's size as typed: digits with a comma or a point for decimals (the service judges sign and places).
_AMOUNT = re.compile(r"[+-]?[0-9]{1,12}(?:[.,][0-9]{1,12})?")
_ID = re.compile(r"[0-9]{1,10}")
_INGREDIENT_SEPARATORS = re.compile(r"[,\n]")

# This family's own words for refusals that the shared messages word too generally.
BRAND_TAKEN = N_("A brand with this name already exists.")
PRODUCT_TAKEN = N_("This brand already has a product with this name.")
LOCATION_TAKEN = N_("A location with this name already exists.")
GTIN_TWICE = N_("This GTIN is already given above in this form.")
INGREDIENT_TOO_LONG = N_("Each ingredient has at most %(length)s characters.")
PAR_BELOW_REORDER = N_("The par level cannot be below the reorder point.")
BRAND_GONE = N_("This brand no longer exists; choose another.")
IMPLANT_MARKED = N_("“%(name)s” is now an implant: each use keeps the UDI and has an implant card.")
IMPLANT_UNMARKED = N_("“%(name)s” is no longer an implant.")
NOT_AN_AMOUNT = N_("Enter a number, for example 2.5.")
CONTAINER_INVALID = N_("Enter how much one container holds: above 0, with at most 2 decimal places.")
IN_USE_NEEDS_MEASURE = N_(
    "Only a product measured in millilitres or units stays in use once opened; "
    "leave this empty for ampoules or vials counted one by one."
)
# The service's packaging refusals, each next to its field in this page's words.
PACKAGING_REFUSALS = {
    "container_quantity_invalid": ("container_quantity", CONTAINER_INVALID),
    "quantity_precision": ("container_quantity", CONTAINER_INVALID),
    "quantity_not_whole": ("container_quantity", CONTAINER_INVALID),
    "in_use_hours_invalid": ("in_use_hours", IN_USE_NEEDS_MEASURE),
}


# ------------------------------------------------------------------ shared bits


async def _may_edit(request: Request[Any, Any, Any]) -> bool:
    """Whether the signed-in user gets the forms (catalog writes are a manager's)."""
    return (await current_user(request)).actor.has_role("manager")


def _query_id(request: Request[Any, Any, Any], name: str) -> int | None:
    """A positive id from the query string, or None when absent or not an id."""
    value = request.query_params.get(name) or ""
    return int(value) if _ID.fullmatch(value) and 0 < int(value) <= MAX_ID else None


def _put(fields: Fields, error: InventoryError, name: str, own: dict[str, str] | None = None) -> None:
    """A service's refusal next to field `name`, in this page's own words where it has them."""
    message = (own or {}).get(error.code)
    if message is None:
        fields.refuse(error, default=name)
    else:
        fields.errors.setdefault(name, gettext(message))


def _status(refusal: InventoryError | None) -> int:
    """The status of a re-rendered form: the service's refusal's, else 422 for what the page itself refused."""
    return refusal.status if refusal is not None else 422


# ------------------------------------------------------------------ products


@dataclass(frozen=True)
class PackRow:
    """A pack row of the product form as typed: the box's GTIN and how many units it holds."""

    gtin: str = ""
    units: str = ""

    @property
    def blank(self) -> bool:
        """Nothing typed in this row (it is skipped)."""
        return not self.gtin and not self.units


@dataclass(frozen=True)
class ProductDraft:
    """The product form as typed, to fill it again when it comes back with messages."""

    brand_id: str = ""
    name: str = ""
    ingredients: str = ""
    storage: str = "room"
    gtin: str = ""
    packs: tuple[PackRow, ...] = tuple(PackRow() for _ in range(PACK_ROWS))
    unit: str = "each"
    container_quantity: str = ""
    in_use_hours: str = ""
    implant: bool = False

    @classmethod
    def from_form(cls, form: dict[str, Any]) -> ProductDraft:
        """The draft of a submitted form (pack rows come as the lists `pack_gtin[]` and `pack_units[]`)."""

        def listed(name: str) -> list[str]:
            values = form.get(name, [])
            return [str(v).strip() for v in (values if isinstance(values, list) else [values])]

        gtins, units = listed("pack_gtin"), listed("pack_units")
        count = min(max(len(gtins), len(units)), MAX_PACK_ROWS)
        rows = [PackRow(gtins[i] if i < len(gtins) else "", units[i] if i < len(units) else "") for i in range(count)]
        rows += [PackRow() for _ in range(PACK_ROWS - len(rows))]

        def text(name: str) -> str:
            value = form.get(name, "")
            return value.strip() if isinstance(value, str) else ""

        return cls(
            brand_id=text("brand_id"),
            name=text("name"),
            ingredients=text("ingredients"),
            storage=text("storage") or "room",
            gtin=text("gtin"),
            packs=tuple(rows),
            unit=text("unit") or "each",
            container_quantity=text("container_quantity"),
            in_use_hours=text("in_use_hours"),
            implant=bool(text("implant")),
        )

    def with_another_pack_row(self) -> ProductDraft:
        """The same draft with one more empty pack row."""
        if len(self.packs) >= MAX_PACK_ROWS:
            return self
        return replace(self, packs=(*self.packs, PackRow()))

    def values(self) -> dict[str, str]:
        """The draft as one field per input id, for `Fields`."""
        values = {
            "brand_id": self.brand_id,
            "name": self.name,
            "ingredients": self.ingredients,
            "storage": self.storage,
            "gtin": self.gtin,
            "unit": self.unit,
            "container_quantity": self.container_quantity,
            "in_use_hours": self.in_use_hours,
        }
        for index, row in enumerate(self.packs):
            values[f"pack-{index}-gtin"] = row.gtin
            values[f"pack-{index}-units"] = row.units
        return values


@dataclass
class NewProduct:
    """A product form that passed the page's checks, ready for `catalog.create_product`."""

    brand_id: int
    name: str
    gtin: str | None
    packs: list[tuple[str, int]]
    ingredients: list[str]
    storage: str
    implant: bool = False
    unit: str = "each"
    container_quantity: Decimal | None = None
    in_use_hours: int | None = None
    # Which input each 14-digit GTIN came from, so a duplicate found by the service lands next to it.
    gtin_fields: dict[str, str] = field(default_factory=dict)


def split_ingredients(text: str) -> list[str]:
    """Ingredients typed one per line or separated by commas: trimmed, once each (ignoring case), in order."""
    found: dict[str, str] = {}
    for part in _INGREDIENT_SEPARATORS.split(text):
        name = " ".join(part.split())
        if name:
            found.setdefault(name.casefold(), name)
    return list(found.values())


def _gtin(fields: Fields, name: str, *, required: bool, seen: dict[str, str]) -> str | None:
    """The 14-digit GTIN typed in field `name`, checked here so a bad one is marked on that very field."""
    typed = fields.text(name, required=required, max_length=40)
    if typed is None:
        return None
    try:
        gtin = normalize_gtin(typed)
    except GtinInvalid as error:
        fields.refuse(error, default=name)
        return None
    if gtin in seen:
        fields.errors.setdefault(name, gettext(GTIN_TWICE))
        return None
    seen[gtin] = name
    return gtin


def _container_quantity(fields: Fields, unit: str | None) -> Decimal | None:
    """How much one container holds as typed ("2,5" or "2.5"); None for `each`, whose container holds 1."""
    if unit is None or unit == "each":
        return None
    typed = fields.text("container_quantity", max_length=30)
    if typed is None:
        return None
    compact = typed.replace(" ", "").replace("\u202f", "").replace("\xa0", "")
    if not _AMOUNT.fullmatch(compact):
        fields.errors.setdefault("container_quantity", gettext(NOT_AN_AMOUNT))
        return None
    return Decimal(compact.replace(",", "."))


def check_product(draft: ProductDraft, brand_ids: set[int]) -> tuple[Fields, NewProduct | None]:
    """The page's checks of a product form, field by field (every GTIN's check digit on its own field)."""
    fields = Fields(draft.values())
    brand = fields.choice("brand_id", [str(i) for i in sorted(brand_ids)])
    name = fields.text("name", max_length=NAME_LENGTH["product"])
    ingredients = split_ingredients(draft.ingredients)
    if any(len(i) > INGREDIENT_LENGTH for i in ingredients):
        fields.errors.setdefault("ingredients", gettext(INGREDIENT_TOO_LONG) % {"length": INGREDIENT_LENGTH})
    storage = fields.choice("storage", catalog.STORAGE)
    seen: dict[str, str] = {}
    unit_gtin = _gtin(fields, "gtin", required=False, seen=seen)
    packs: list[tuple[str, int]] = []
    for index, row in enumerate(draft.packs):
        if row.blank:
            continue
        pack_gtin = _gtin(fields, f"pack-{index}-gtin", required=True, seen=seen)
        units = fields.integer(f"pack-{index}-units", minimum=2, maximum=MAX_PACK_UNITS)
        if pack_gtin is not None and units is not None:
            packs.append((pack_gtin, units))
    unit = fields.choice("unit", quantities.UNITS)
    container_quantity = _container_quantity(fields, unit)
    in_use_hours = fields.integer("in_use_hours", required=False, minimum=1, maximum=MAX_IN_USE_HOURS)
    if fields.errors or brand is None or name is None or storage is None or unit is None:
        return fields, None
    return fields, NewProduct(
        brand_id=int(brand),
        name=name,
        gtin=unit_gtin,
        packs=packs,
        ingredients=ingredients,
        storage=storage,
        implant=draft.implant,
        unit=unit,
        container_quantity=container_quantity,
        in_use_hours=in_use_hours,
        gtin_fields=seen,
    )


def _refuse_product(fields: Fields, product: NewProduct, error: InventoryError) -> None:
    """Put the service's refusal of a product next to the field it is about."""
    taken = error.extra.get("gtins")
    if isinstance(error, Conflict) and isinstance(taken, list) and taken:
        for gtin in taken:
            where = product.gtin_fields.get(str(gtin), "gtin")
            fields.errors.setdefault(where, gettext(ERROR_MESSAGES["gtin_duplicate"]))
    elif isinstance(error, Conflict) and error.code == "duplicate":
        fields.errors.setdefault("name", gettext(PRODUCT_TAKEN))
    elif isinstance(error, NotFound):
        fields.errors.setdefault("brand_id", gettext(BRAND_GONE))
    elif isinstance(error, GtinInvalid):
        fields.refuse(error, default="gtin")
    elif error.code in PACKAGING_REFUSALS:
        where, message = PACKAGING_REFUSALS[error.code]
        fields.errors.setdefault(where, gettext(message))
    else:
        fields.refuse(error, by_code={"validation_error": "name"}, default="form")


async def _product_form(
    request: Request[Any, Any, Any], draft: ProductDraft, *, status: int = 200, errors: dict[str, str] | None = None
) -> Template:
    return await render(
        request,
        "catalog/product_form.html",
        status=status,
        section="products",
        brands=await catalog.list_brands(),
        draft=draft,
        errors=errors or {},
        first_error=next(iter(errors or {}), None),
        storage_labels={key: gettext(label) for key, label in STORAGE_LABELS.items()},
        unit_labels={key: gettext(label) for key, label in UNIT_LABELS.items()},
        max_in_use_hours=MAX_IN_USE_HOURS,
        more_rows=len(draft.packs) < MAX_PACK_ROWS,
    )


@get("/catalog", guards=[staff_page], include_in_schema=False, security=[])
async def products_page(request: Request[Any, Any, Any]) -> Template:
    """The products with brand, ingredients, storage, unit GTIN and packs; filtered by brand or a name."""
    brand_id = _query_id(request, "brand")
    query = (request.query_params.get("q") or "").strip()[:100]
    products = await catalog.list_products(brand_id=brand_id, query=query or None, limit=PRODUCT_LIMIT)
    return await render(
        request,
        "catalog/products.html",
        section="products",
        products=products,
        brands=await catalog.list_brands(),
        brand_id=brand_id,
        query=query,
        truncated=len(products) >= PRODUCT_LIMIT,
        storage_labels={key: gettext(label) for key, label in STORAGE_LABELS.items()},
        may_edit=await _may_edit(request),
    )


@get("/catalog/products/new", guards=[manager_page], include_in_schema=False, security=[])
async def new_product_page(request: Request[Any, Any, Any]) -> Template:
    """The form to add a product (`?brand=<id>` chooses its brand)."""
    brand_id = _query_id(request, "brand")
    return await _product_form(request, ProductDraft(brand_id=str(brand_id) if brand_id else ""))


@post("/catalog/products", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def add_product(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Add a product with its unit GTIN and packs, or show the form again with what to fix."""
    form = await read_form(request)
    draft = ProductDraft.from_form(form)
    if form.get("action") == "more_packs":
        return await _product_form(request, draft.with_another_pack_row())
    brand_ids = {brand["id"] for brand in await catalog.list_brands()}
    fields, product = check_product(draft, brand_ids)
    refusal: InventoryError | None = None
    if product is not None:
        try:
            created = await catalog.create_product(
                actor=(await current_user(request)).actor,
                brand_id=product.brand_id,
                name=product.name,
                gtin=product.gtin,
                packs=product.packs,
                ingredients=product.ingredients,
                storage=product.storage,
                implant=product.implant,
                unit=product.unit,
                container_quantity=product.container_quantity,
                in_use_hours=product.in_use_hours,
            )
        except InventoryError as error:
            refusal = error
            _refuse_product(fields, product, error)
        else:
            return redirect(
                request,
                f"/ui/catalog/products/{created['id']}",
                flash=gettext("Product “%(name)s” added.") % {"name": created["name"]},
            )
    return await _product_form(request, draft, status=_status(refusal), errors=fields.errors)


@get("/catalog/products/{product_id:int}", guards=[staff_page], include_in_schema=False, security=[])
async def product_page(request: Request[Any, Any, Any], product_id: PageId) -> Template:
    """One product: its GTINs as stored (14 digits), its packs, and its stock rules per location."""
    product = await catalog.get_product(product_id)
    locations = {location["id"]: location for location in await catalog.list_locations()}
    rules = [
        {**rule, "location": locations[rule["location_id"]]}
        for rule in await catalog.list_rules()
        if rule["product_id"] == product_id and rule["location_id"] in locations
    ]
    return await render(
        request,
        "catalog/product.html",
        section="products",
        product=product,
        rules=rules,
        storage_labels={key: gettext(label) for key, label in STORAGE_LABELS.items()},
        unit_labels={key: gettext(label) for key, label in UNIT_LABELS.items()},
        may_edit=await _may_edit(request),
    )


@post(
    "/catalog/products/{product_id:int}/implant",
    guards=[manager_page],
    include_in_schema=False,
    security=[],
    status_code=303,
)
async def set_implant(request: Request[Any, Any, Any], product_id: PageId) -> Redirect:
    """Mark a product as an implant (`implant=yes`) or not (`implant=no`), back to the product with a message."""
    fields = Fields(await read_form(request))
    choice = fields.choice("implant", ["yes", "no"])
    if choice is None:
        # The form's two buttons send one of them: only a hand-made post lacks it.
        raise Unprocessable("The form lacks its implant choice.", code="validation_error")
    product = await catalog.update_product(
        actor=(await current_user(request)).actor, product_id=product_id, implant=choice == "yes"
    )
    message = IMPLANT_MARKED if product["implant"] else IMPLANT_UNMARKED
    return redirect(request, f"/ui/catalog/products/{product_id}", flash=gettext(message) % {"name": product["name"]})


# ------------------------------------------------------------------ brands


async def _brands_page(
    request: Request[Any, Any, Any], *, status: int = 200, name: str = "", errors: dict[str, str] | None = None
) -> Template:
    products = await catalog.list_products(limit=PRODUCT_LIMIT)
    return await render(
        request,
        "catalog/brands.html",
        status=status,
        section="brands",
        brands=await catalog.list_brands(),
        counts=Counter(product["brand_id"] for product in products),
        name=name,
        errors=errors or {},
        may_edit=await _may_edit(request),
    )


@get("/catalog/brands", guards=[staff_page], include_in_schema=False, security=[])
async def brands_page(request: Request[Any, Any, Any]) -> Template:
    """The brands, with how many products each has; managers add one."""
    return await _brands_page(request)


@post("/catalog/brands", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def add_brand(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Add a brand, or show the form again with what to fix."""
    fields = Fields(await read_form(request))
    name = fields.text("name", max_length=NAME_LENGTH["brand"])
    refusal: InventoryError | None = None
    if name is not None:
        try:
            brand = await catalog.create_brand(actor=(await current_user(request)).actor, name=name)
        except (Conflict, Unprocessable) as error:
            refusal = error
            _put(fields, error, "name", {"duplicate": BRAND_TAKEN})
        else:
            return redirect(
                request, "/ui/catalog/brands", flash=gettext("Brand “%(name)s” added.") % {"name": brand["name"]}
            )
    return await _brands_page(request, status=_status(refusal), name=fields.raw("name"), errors=fields.errors)


# ------------------------------------------------------------------ locations


@dataclass(frozen=True)
class LocationDraft:
    """The location form as typed."""

    name: str = ""
    timezone: str = ""


async def _locations_page(
    request: Request[Any, Any, Any],
    *,
    status: int = 200,
    draft: LocationDraft | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    return await render(
        request,
        "catalog/locations.html",
        status=status,
        section="locations",
        locations=await catalog.list_locations(),
        now=clock.now(),
        draft=draft or LocationDraft(timezone=settings_of(request).timezone),
        timezones=TIMEZONES,
        errors=errors or {},
        first_error=next(iter(errors or {}), None),
        may_edit=await _may_edit(request),
    )


def _check_location(fields: Fields) -> tuple[str | None, str | None]:
    """The location form's name and time zone (the service judges the zone: it owns that rule)."""
    return fields.text("name", max_length=NAME_LENGTH["location"]), fields.text("timezone", max_length=64)


def _refuse_location(fields: Fields, error: InventoryError) -> None:
    """A location refusal next to its field: the zone for timezone_unknown, the name otherwise."""
    _put(fields, error, "timezone" if error.code == "timezone_unknown" else "name", {"duplicate": LOCATION_TAKEN})


@get("/catalog/locations", guards=[staff_page], include_in_schema=False, security=[])
async def locations_page(request: Request[Any, Any, Any]) -> Template:
    """The locations with their time zone and local time; managers add one."""
    return await _locations_page(request)


@post("/catalog/locations", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def add_location(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Add a location in a time zone, or show the form again with what to fix."""
    fields = Fields(await read_form(request))
    name, timezone = _check_location(fields)
    refusal: InventoryError | None = None
    if name is not None and timezone is not None:
        try:
            location = await catalog.create_location(
                actor=(await current_user(request)).actor, name=name, timezone=timezone
            )
        except (Conflict, Unprocessable) as error:
            refusal = error
            _refuse_location(fields, error)
        else:
            return redirect(
                request,
                "/ui/catalog/locations",
                flash=gettext("Location “%(name)s” added.") % {"name": location["name"]},
            )
    draft = LocationDraft(name=fields.raw("name"), timezone=fields.raw("timezone"))
    return await _locations_page(request, status=_status(refusal), draft=draft, errors=fields.errors)


async def _location_form(
    request: Request[Any, Any, Any],
    location: dict[str, Any],
    *,
    status: int = 200,
    draft: LocationDraft | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    return await render(
        request,
        "catalog/location.html",
        status=status,
        section="locations",
        location=location,
        now=clock.now(),
        draft=draft or LocationDraft(name=location["name"], timezone=location["timezone"]),
        timezones=TIMEZONES,
        errors=errors or {},
        first_error=next(iter(errors or {}), None),
    )


async def _location(location_id: int) -> dict[str, Any]:
    """A location by id; raises NotFound (the 404 page)."""
    for location in await catalog.list_locations():
        if location["id"] == location_id:
            return location
    raise NotFound.of("location", location_id)


@get("/catalog/locations/{location_id:int}", guards=[manager_page], include_in_schema=False, security=[])
async def location_page(request: Request[Any, Any, Any], location_id: PageId) -> Template:
    """The form to rename a location or change its time zone."""
    return await _location_form(request, await _location(location_id))


@post(
    "/catalog/locations/{location_id:int}", guards=[manager_page], include_in_schema=False, security=[], status_code=303
)
async def change_location(request: Request[Any, Any, Any], location_id: PageId) -> Redirect | Template:
    """Rename a location or change its time zone (its "today" and reorder alerts follow), or say what to fix."""
    location = await _location(location_id)
    fields = Fields(await read_form(request))
    name, timezone = _check_location(fields)
    refusal: InventoryError | None = None
    if name is not None and timezone is not None:
        try:
            changed = await catalog.update_location(
                actor=(await current_user(request)).actor, location_id=location_id, name=name, timezone=timezone
            )
        except (Conflict, Unprocessable) as error:
            refusal = error
            _refuse_location(fields, error)
        else:
            return redirect(
                request,
                "/ui/catalog/locations",
                flash=gettext("“%(name)s” is now in %(timezone)s.")
                % {"name": changed["name"], "timezone": changed["timezone"]},
            )
    draft = LocationDraft(name=fields.raw("name"), timezone=fields.raw("timezone"))
    return await _location_form(request, location, status=_status(refusal), draft=draft, errors=fields.errors)


# ------------------------------------------------------------------ stock rules


@dataclass(frozen=True)
class RuleRow:
    """One product's line of the stock-rule table at a location: its rule, or what was typed when refused."""

    product: dict[str, Any]
    rule: dict[str, Any] | None
    typed: dict[str, str] | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def value(self, name: str) -> str:
        """What the input `name` shows: the refused value typed, else the rule's, else nothing."""
        if self.typed is not None:
            return self.typed.get(name, "")
        return "" if self.rule is None else input_number(self.rule[name])


RULE_FIELDS = ("reorder_point", "par_level", "lead_time_days")


@dataclass(frozen=True)
class RefusedRule:
    """A stock-rule form that came back: whose row, what was typed and what to fix."""

    product_id: int
    typed: dict[str, str]
    errors: dict[str, str]


async def _rules_page(
    request: Request[Any, Any, Any],
    location_id: int | None,
    *,
    status: int = 200,
    refused: RefusedRule | None = None,
) -> Template:
    locations = await catalog.list_locations()
    location = next((item for item in locations if item["id"] == location_id), None)
    if location_id is not None and location is None:
        raise NotFound.of("location", location_id)
    if location is None and locations:
        location = locations[0]
    rows: list[RuleRow] = []
    products: list[dict[str, Any]] = []
    if location is not None:
        products = await catalog.list_products(limit=PRODUCT_LIMIT)
        rules = {rule["product_id"]: rule for rule in await catalog.list_rules(location_id=location["id"])}
        for product in products:
            mine = refused is not None and refused.product_id == product["id"]
            rows.append(
                RuleRow(
                    product=product,
                    rule=rules.get(product["id"]),
                    typed=refused.typed if refused and mine else None,
                    errors=refused.errors if refused and mine else {},
                )
            )
    return await render(
        request,
        "catalog/rules.html",
        status=status,
        section="rules",
        locations=locations,
        location=location,
        rows=rows,
        truncated=len(products) >= PRODUCT_LIMIT,
        first_error=(f"rule-{refused.product_id}-{next(iter(refused.errors))}" if refused and refused.errors else None),
        max_lead_days=MAX_LEAD_DAYS,
        may_edit=await _may_edit(request),
    )


@get("/catalog/rules", guards=[staff_page], include_in_schema=False, security=[])
async def rules_page(request: Request[Any, Any, Any]) -> Template:
    """Stock rules at a location (`?location=<id>`, else the first): reorder point, par level, lead time per product."""
    return await _rules_page(request, _query_id(request, "location"))


@post("/catalog/rules", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def set_rule(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Set one product's rule at a location, or show the table again with what to fix on that row."""
    form = await read_form(request)
    fields = Fields(form)
    location_id = fields.integer("location_id", minimum=1, maximum=MAX_ID)
    product_id = fields.integer("product_id", minimum=1, maximum=MAX_ID)
    if location_id is None or product_id is None:
        # Hidden fields: only a hand-made post lacks them.
        raise Unprocessable("The form lacks its location or product.", code="validation_error")
    reorder_point = fields.amount("reorder_point", maximum=MAX_QUANTITY, positive=False)
    par_level = fields.amount("par_level", maximum=MAX_QUANTITY, positive=False)
    lead_time_days = fields.integer("lead_time_days", minimum=0, maximum=MAX_LEAD_DAYS)
    if reorder_point is not None and par_level is not None and par_level < reorder_point:
        fields.errors.setdefault("par_level", gettext(PAR_BELOW_REORDER))
    refusal: InventoryError | None = None
    if not fields.errors and reorder_point is not None and par_level is not None and lead_time_days is not None:
        try:
            await catalog.set_rule(
                actor=(await current_user(request)).actor,
                location_id=location_id,
                product_id=product_id,
                reorder_point=reorder_point,
                par_level=par_level,
                lead_time_days=lead_time_days,
            )
        except Unprocessable as error:
            refusal = error
            fields.refuse(error, default="par_level")
        else:
            return redirect(
                request,
                f"/ui/catalog/rules?location={location_id}#rule-{product_id}",
                flash=gettext("Stock rule saved."),
            )
    refused = RefusedRule(
        product_id=product_id, typed={name: fields.raw(name) for name in RULE_FIELDS}, errors=fields.errors
    )
    return await _rules_page(request, location_id, status=_status(refusal), refused=refused)


HANDLERS: list[Any] = [
    products_page,
    new_product_page,
    add_product,
    product_page,
    set_implant,
    brands_page,
    add_brand,
    locations_page,
    add_location,
    location_page,
    change_location,
    rules_page,
    set_rule,
]
