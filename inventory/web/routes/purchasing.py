"""Purchasing (managers): suppliers and how they sell each product; orders drafted from alerts, edited, sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Template

from inventory.domain.errors import InventoryError, NotFound
from inventory.services import catalog, order_documents, purchasing
from inventory.services.purchasing import OrderView, SupplierRow
from inventory.web.downloads import attachment, csv_attachment
from inventory.web.forms import Fields, refusal_message
from inventory.web.i18n import N_, gettext, ngettext
from inventory.web.pages import current_user, manager_page, read_form, redirect, render, settings_of
from inventory.web.receiving_order import STATUS_NAMES
from inventory.web.receiving_order import order_status_name as status_name

Id = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
MAX_PRODUCTS = 1000
_SUPPLIER_MADE = N_("Supplier %(name)s added. Now set the products it sells.")
_PRODUCT_SET = N_("%(product)s: saved for %(supplier)s.")
_NOTHING_NEW = N_(
    "Nothing new to order: every open reorder alert is already on a draft or a sent order (or none is open)."
)
_NO_SUPPLIER = N_("No supplier sells: %(products)s. Set a supplier for them on the Suppliers page.")
_SAVED = N_("Quantities saved.")
_SENT = N_("Order %(id)s sent. Download its PDF and CSV for the supplier below.")
_CANCELLED = N_("Order %(id)s cancelled: what it still owed is no longer on order.")
_NOTHING_CHANGED = N_("Nothing to save: the quantities are as they were.")


# ------------------------------------------------------------------ suppliers


async def _supplier(supplier_id: int) -> SupplierRow | None:
    return next((s for s in await purchasing.list_suppliers() if s.id == supplier_id), None)


async def _suppliers_page(
    request: Request[Any, Any, Any], *, fields: Fields | None = None, status: int = 200
) -> Template:
    fields = fields or Fields({})
    return await render(
        request,
        "purchasing/suppliers.html",
        status=status,
        suppliers=await purchasing.list_suppliers(),
        values=fields.form,
        errors=fields.errors,
        focus=next(iter(fields.errors), ""),
    )


@get("/suppliers", guards=[manager_page], include_in_schema=False, security=[])
async def suppliers_page(request: Request[Any, Any, Any]) -> Template:
    """Every supplier with what it sells, and the form to add one."""
    return await _suppliers_page(request)


@post("/suppliers", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def supplier_create(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Add a supplier; a name taken or a bad e-mail is shown next to its field."""
    user = await current_user(request)
    fields = Fields(await read_form(request))
    name = fields.text("name", max_length=200)
    email = fields.text("email", required=False, max_length=254)
    if email is not None and ("@" not in email or " " in email):
        fields.errors["email"] = gettext("Enter an e-mail address, such as orders@example.com.")
    if fields.errors or name is None:
        return await _suppliers_page(request, fields=fields, status=422)
    try:
        supplier = await purchasing.create_supplier(actor=user.actor, name=name, email=email)
    except InventoryError as refusal:
        fields.refuse(refusal, by_code={"duplicate": "name"}, default="name")
        return await _suppliers_page(request, fields=fields, status=refusal.status)
    return redirect(request, f"/ui/suppliers/{supplier.id}", flash=gettext(_SUPPLIER_MADE) % {"name": supplier.name})


async def _supplier_page(
    request: Request[Any, Any, Any], supplier_id: int, *, fields: Fields | None = None, status: int = 200
) -> Template:
    supplier = await _supplier(supplier_id)
    if supplier is None:
        raise NotFound.of("supplier", supplier_id)
    products = [p for p in await catalog.list_products(limit=MAX_PRODUCTS) if p["active"]]
    values: dict[str, Any] = dict(fields.form) if fields is not None else {}
    chosen = request.query_params.get("product")
    if fields is None and chosen:  # "Change" on a row: the form starts with that product's settings
        row = next((p for p in supplier.products if str(p.product_id) == chosen), None)
        if row is not None:
            values = {
                "product_id": str(row.product_id),
                "pack_gtin": row.pack_gtin or "",
                "pack_units": str(row.pack_units),
                "lead_time_days": str(row.lead_time_days),
                "reference": row.reference or "",
            }
    values.setdefault("pack_units", "1")
    values.setdefault("lead_time_days", "0")
    errors = fields.errors if fields is not None else {}
    return await render(
        request,
        "purchasing/supplier.html",
        status=status,
        supplier=supplier,
        products=products,
        values=values,
        errors=errors,
        focus=next(iter(errors), "product_id" if chosen is None and fields is None else ""),
    )


@get("/suppliers/{supplier_id:int}", guards=[manager_page], include_in_schema=False, security=[])
async def supplier_page(request: Request[Any, Any, Any], supplier_id: Id) -> Template:
    """A supplier's products (pack, lead time, reference) and the form to set one."""
    return await _supplier_page(request, supplier_id)


@post("/suppliers/{supplier_id:int}/products", guards=[manager_page], include_in_schema=False, security=[])
async def supplier_product_set(request: Request[Any, Any, Any], supplier_id: Id) -> Template | Redirect:
    """Set how the supplier sells a product; every bad value gets its message next to its field."""
    user = await current_user(request)
    fields = Fields(await read_form(request))
    product_id = fields.integer("product_id", minimum=1, maximum=purchasing.MAX_ID)
    pack_gtin = fields.text("pack_gtin", required=False, max_length=20)
    pack_units = fields.integer("pack_units", minimum=1, maximum=100_000)
    lead_time = fields.integer("lead_time_days", minimum=0, maximum=365)
    reference = fields.text("reference", required=False, max_length=200)
    if fields.errors or product_id is None or pack_units is None or lead_time is None:
        return await _supplier_page(request, supplier_id, fields=fields, status=422)
    try:
        supplier = await purchasing.set_supplier_product(
            actor=user.actor,
            supplier_id=supplier_id,
            product_id=product_id,
            pack_gtin=pack_gtin,
            pack_units=pack_units,
            lead_time_days=lead_time,
            reference=reference,
        )
    except InventoryError as refusal:
        if refusal.code == "not_found" and refusal.extra.get("entity") == "supplier":
            raise
        by_code = {"gtin_invalid": "pack_gtin", "gtin_duplicate": "pack_gtin", "not_found": "product_id"}
        fields.refuse(refusal, by_code=by_code, default="product_id")
        return await _supplier_page(request, supplier_id, fields=fields, status=refusal.status)
    product = next((p.product_name for p in supplier.products if p.product_id == product_id), "")
    message = gettext(_PRODUCT_SET) % {"product": product, "supplier": supplier.name}
    return redirect(request, f"/ui/suppliers/{supplier_id}#product-{product_id}", flash=message)


# ------------------------------------------------------------------ orders


@dataclass(frozen=True)
class LineFigures:
    """A line as the manager reads it: ordered, received, still to come, and any over-delivery."""

    product_id: int
    product: str
    quantity: int
    received: int
    pack_units: int
    packs: int
    reference: str | None

    @property
    def due(self) -> int:
        """Units still to come."""
        return max(0, self.quantity - self.received)

    @property
    def over(self) -> int:
        """Units received beyond what was ordered."""
        return max(0, self.received - self.quantity)


def line_figures(view: OrderView) -> list[LineFigures]:
    """The order's lines with what is still to come."""
    return [
        LineFigures(
            product_id=li.product_id,
            product=li.product_name,
            quantity=li.quantity,
            received=li.received,
            pack_units=li.pack_units,
            packs=-(-li.quantity // max(1, li.pack_units)),
            reference=li.reference,
        )
        for li in view.order.lines
    ]


@get("/orders", guards=[manager_page], include_in_schema=False, security=[])
async def orders_page(request: Request[Any, Any, Any]) -> Template:
    """Orders by status at a location, and the button that drafts orders from the open reorder alerts."""
    locations = await catalog.list_locations()
    fields = Fields({key: request.query_params.get(key) for key in ("status", "location")})
    status = fields.choice("status", tuple(STATUS_NAMES), required=False)
    location = fields.choice("location", [str(place["id"]) for place in locations], required=False)
    location_id = int(location) if location else None
    orders = await purchasing.list_orders(status=status, location_id=location_id, limit=200)
    return await render(
        request,
        "purchasing/orders.html",
        status=422 if fields.errors else 200,
        locations=locations,
        statuses=[(code, gettext(name)) for code, name in STATUS_NAMES.items()],
        status_value=status or "",
        location_value=location_id,
        orders=[(view, line_figures(view)) for view in orders],
        status_name=status_name,
        errors=fields.errors,
        focus=next(iter(fields.errors), ""),
    )


@post("/orders/from-alerts", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def orders_from_alerts(request: Request[Any, Any, Any]) -> Redirect:
    """Draft one order per supplier and location from the open alerts; the flash says what it made."""
    user = await current_user(request)
    form = await read_form(request)
    locations = await catalog.list_locations()
    fields = Fields(form)
    location = fields.choice("location_id", [str(place["id"]) for place in locations], required=False)
    location_id = int(location) if location else None
    back = f"/ui/orders?location={location_id}" if location_id else "/ui/orders"
    if fields.errors:
        return redirect(request, back, flash=fields.errors["location_id"], kind="error")
    try:
        result = await purchasing.from_alerts(actor=user.actor, location_id=location_id)
    except InventoryError as refusal:
        return redirect(request, back, flash=refusal_message(refusal), kind="error")
    parts = []
    if result.orders:
        made = ", ".join(
            gettext("order %(id)s (%(supplier)s, %(location)s)")
            % {"id": v.order.id, "supplier": v.order.supplier_name, "location": v.order.location_name}
            for v in result.orders
        )
        parts.append(
            ngettext("Draft made or added to: %(orders)s.", "Drafts made or added to: %(orders)s.", len(result.orders))
            % {"orders": made}
        )
    else:
        parts.append(gettext(_NOTHING_NEW))
    if result.unassigned:
        names = {p["id"]: p["name"] for p in await catalog.list_products(limit=MAX_PRODUCTS)}
        unsold = ", ".join(sorted({names.get(u.product_id, f"#{u.product_id}") for u in result.unassigned}))
        parts.append(gettext(_NO_SUPPLIER) % {"products": unsold})
    target = f"/ui/orders/{result.orders[0].order.id}" if len(result.orders) == 1 else back
    # Nothing new is good news; a need no supplier sells is for the manager to act on.
    return redirect(request, target, flash=" ".join(parts), kind="error" if result.unassigned else "done")


async def _order_page(
    request: Request[Any, Any, Any],
    order_id: int,
    *,
    template: str = "purchasing/order.html",
    fields: Fields | None = None,
    status: int = 200,
) -> Template:
    view = await purchasing.get_order(order_id)
    errors = fields.errors if fields is not None else {}
    return await render(
        request,
        template,
        status=status,
        view=view,
        order=view.order,
        lines=line_figures(view),
        status_name=status_name,
        values=fields.form if fields is not None else {},
        errors=errors,
        focus=next(iter(errors), ""),
    )


@get("/orders/{order_id:int}", guards=[manager_page], include_in_schema=False, security=[])
async def order_page(request: Request[Any, Any, Any], order_id: Id) -> Template:
    """An order: its lines ordered and received; a draft's quantities can change; send or cancel it."""
    return await _order_page(request, order_id)


@post("/orders/{order_id:int}/lines", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def order_lines(request: Request[Any, Any, Any], order_id: Id) -> Template | Redirect:
    """Save a draft's changed quantities (single units; 0 removes a line)."""
    user = await current_user(request)
    fields = Fields(await read_form(request))
    view = await purchasing.get_order(order_id)
    wanted: dict[int, int] = {}
    for line in view.order.lines:
        quantity = fields.integer(f"quantity-{line.product_id}", minimum=0, maximum=1_000_000)
        if quantity is not None and quantity != line.quantity:
            wanted[line.product_id] = quantity
    if fields.errors:
        return await _order_page(request, order_id, fields=fields, status=422)
    if not wanted:
        return redirect(request, f"/ui/orders/{order_id}", flash=gettext(_NOTHING_CHANGED))
    for product_id, quantity in wanted.items():
        try:
            await purchasing.set_line(actor=user.actor, order_id=order_id, product_id=product_id, quantity=quantity)
        except InventoryError as refusal:
            fields.refuse(refusal, default=f"quantity-{product_id}")
            return await _order_page(request, order_id, fields=fields, status=refusal.status)
    return redirect(request, f"/ui/orders/{order_id}", flash=gettext(_SAVED))


@post("/orders/{order_id:int}/send", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def order_send(request: Request[Any, Any, Any], order_id: Id) -> Redirect:
    """Send a draft: from now on its quantities count as on order."""
    user = await current_user(request)
    await read_form(request)
    try:
        await purchasing.send(actor=user.actor, order_id=order_id, webhook_url=settings_of(request).webhook_url)
    except InventoryError as refusal:
        if refusal.code == "not_found":
            raise
        return redirect(request, f"/ui/orders/{order_id}", flash=refusal_message(refusal), kind="error")
    return redirect(request, f"/ui/orders/{order_id}#documents", flash=gettext(_SENT) % {"id": order_id})


@get("/orders/{order_id:int}/cancel", guards=[manager_page], include_in_schema=False, security=[])
async def order_cancel_confirm(request: Request[Any, Any, Any], order_id: Id) -> Template:
    """Ask before cancelling (a page of its own: the question works without JavaScript)."""
    return await _order_page(request, order_id, template="purchasing/cancel.html")


@post("/orders/{order_id:int}/cancel", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def order_cancel(request: Request[Any, Any, Any], order_id: Id) -> Redirect:
    """Cancel the order: what it still owed leaves on order."""
    user = await current_user(request)
    await read_form(request)
    try:
        await purchasing.cancel(actor=user.actor, order_id=order_id)
    except InventoryError as refusal:
        if refusal.code == "not_found":
            raise
        return redirect(request, f"/ui/orders/{order_id}", flash=refusal_message(refusal), kind="error")
    return redirect(request, f"/ui/orders/{order_id}", flash=gettext(_CANCELLED) % {"id": order_id})


@get("/orders/{order_id:int}/pdf", guards=[manager_page], include_in_schema=False, security=[])
async def order_pdf(order_id: Id) -> Response[bytes]:
    """The order form for the supplier, as a PDF download (the same document as the API's)."""
    return attachment(f"purchase-order-{order_id}.pdf", await order_documents.order_pdf(order_id), "application/pdf")


@get("/orders/{order_id:int}/csv", guards=[manager_page], include_in_schema=False, security=[])
async def order_csv(order_id: Id) -> Response[bytes]:
    """The order's lines for the supplier, as a CSV download (UTF-8 with a BOM, as the API's)."""
    return csv_attachment(f"purchase-order-{order_id}.csv", await order_documents.order_csv(order_id))


HANDLERS: list[Any] = [
    suppliers_page,
    supplier_create,
    supplier_page,
    supplier_product_set,
    orders_page,
    orders_from_alerts,
    order_page,
    order_lines,
    order_send,
    order_cancel_confirm,
    order_cancel,
    order_pdf,
    order_csv,
]
