"""Stocktake: a manager opens a count at a location, staff scan the shelf blind (on a phone), the manager approves."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Template

from inventory.domain.errors import InventoryError
from inventory.domain.quantities import Quantity
from inventory.services import catalog, stocktake
from inventory.services.barcodes import MAX_BARCODE_LENGTH
from inventory.web.forms import Fields, refusal_message
from inventory.web.i18n import N_, format_number, format_quantity, gettext
from inventory.web.pages import current_user, manager_page, read_form, redirect, render, staff_page
from inventory.web.routes.receive import code_refusal

Id = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
STATUS_NAMES = {"open": N_("Open"), "approved": N_("Approved"), "cancelled": N_("Cancelled")}
_STARTED = N_("Count started at %(location)s. Staff can join it on the Stocktake page.")
_ALREADY_OPEN = N_("A count is already open here: approve or cancel it first.")
_COUNTED = N_("Counted: %(product)s, lot %(lot)s · %(quantity)s. You have counted %(total)s of this lot.")
_UNKNOWN = N_(
    "Counted %(quantity)s of lot %(lot)s (%(product)s). The system does not know this lot: it is flagged for the"
    " manager, not added to stock."
)
_NO_LOT = N_("This is not a code the service reads, and no lot has this number. Scan the box or the label.")
_CHOOSE = N_("Several lots have this number: choose the one on the shelf.")
_CLOSED = N_("This count is closed: nothing more can be counted.")
_APPROVED = N_("Stocktake approved: %(count)s adjustments written to the ledger.")
_CANCELLED = N_("Stocktake cancelled: the stock is as it was.")


def status_name(status: str) -> str:
    """A stocktake's status in the page's language."""
    return gettext(STATUS_NAMES[status]) if status in STATUS_NAMES else status


@get("/stocktake", guards=[staff_page], include_in_schema=False, security=[])
async def stocktake_page(request: Request[Any, Any, Any]) -> Template:
    """The open counts to join; for managers also the form to start one and the recent counts to review."""
    return await _index(request)


async def _index(request: Request[Any, Any, Any], *, fields: Fields | None = None, status: int = 200) -> Template:
    user = await current_user(request)
    manager = user.actor.has_role("manager")
    errors = fields.errors if fields is not None else {}
    return await render(
        request,
        "stocktake/index.html",
        status=status,
        open_counts=await stocktake.list_stocktakes(status="open"),
        recent=await stocktake.list_stocktakes(limit=20) if manager else [],
        locations=await catalog.list_locations() if manager else [],
        manager=manager,
        status_name=status_name,
        values=fields.form if fields is not None else {},
        errors=errors,
        focus=next(iter(errors), ""),
    )


@post("/stocktake", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def stocktake_start(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Open a count at a location (one at a time per location)."""
    user = await current_user(request)
    fields = Fields(await read_form(request))
    location_id = fields.integer("location_id", minimum=1, maximum=2**31 - 1)
    if fields.errors or location_id is None:
        return await _index(request, fields=fields, status=422)
    try:
        head = await stocktake.start(actor=user.actor, location_id=location_id)
    except InventoryError as refusal:
        if refusal.code == "stocktake_open":
            fields.errors["location_id"] = gettext(_ALREADY_OPEN)
        else:
            fields.refuse(refusal, default="location_id")
        return await _index(request, fields=fields, status=refusal.status)
    message = gettext(_STARTED) % {"location": head["location"]["name"]}
    return redirect(request, f"/ui/stocktake/{head['id']}", flash=message)


# ------------------------------------------------------------------ counting (staff, blind)


async def _count_page(
    request: Request[Any, Any, Any],
    stocktake_id: int,
    *,
    fields: Fields | None = None,
    choices: list[Any] | None = None,
    status: int = 200,
) -> Template:
    head = await stocktake.get(stocktake_id=stocktake_id)
    errors = fields.errors if fields is not None else {}
    values = fields.form if fields is not None else {}
    return await render(
        request,
        "stocktake/count.html",
        status=status,
        head=head,
        status_name=status_name,
        values=values,
        quantity=str(values.get("quantity") or "1"),
        choices=choices or [],
        errors=errors,
        focus=next(iter(errors), "barcode"),
    )


@get("/stocktake/{stocktake_id:int}/count", guards=[staff_page], include_in_schema=False, security=[])
async def count_page(request: Request[Any, Any, Any], stocktake_id: Id) -> Template:
    """The counter's page: scan (or type a lot) and how many; never an expected figure."""
    return await _count_page(request, stocktake_id)


@post("/stocktake/{stocktake_id:int}/count", guards=[staff_page], include_in_schema=False, security=[])
async def count_post(request: Request[Any, Any, Any], stocktake_id: Id) -> Template | Redirect:
    """Add one count; a typed lot number that names several lots asks which one."""
    user = await current_user(request)
    fields = Fields(await read_form(request))
    barcode = fields.text("barcode", required=False, max_length=MAX_BARCODE_LENGTH)
    chosen = fields.integer("lot_id", required=False, minimum=1, maximum=2**31 - 1)
    quantity = fields.amount("quantity", maximum=stocktake.MAX_QUANTITY)
    if not fields.errors and barcode is None and chosen is None:
        fields.errors["barcode"] = gettext("Scan a code or type a lot number.")
    if fields.errors or quantity is None:
        return await _count_page(request, stocktake_id, fields=fields, status=422)
    try:
        if chosen is not None:
            counted = await stocktake.count(
                actor=user.actor, stocktake_id=stocktake_id, quantity=quantity, lot_id=chosen
            )
        else:
            assert barcode is not None
            counted = await _count_code(user.actor, stocktake_id, quantity, barcode)
    except _Choose as choose:
        fields.errors["barcode"] = gettext(_CHOOSE)
        return await _count_page(request, stocktake_id, fields=fields, choices=choose.lots, status=409)
    except InventoryError as refusal:
        if refusal.code == "not_found" and refusal.extra.get("entity") == "stocktake":
            raise
        if refusal.code == "stocktake_closed":
            fields.errors["form"] = gettext(_CLOSED)
        elif refusal.code in ("barcode_invalid", "product_unknown"):
            fields.errors["barcode"] = gettext(_NO_LOT) if refusal.code == "barcode_invalid" else code_refusal(refusal)
        else:
            quantity_codes = ("validation_error", "quantity_not_whole", "quantity_precision")
            fields.refuse(refusal, by_code={code: "quantity" for code in quantity_codes}, default="barcode")
        return await _count_page(request, stocktake_id, fields=fields, status=refusal.status)
    words = {
        "product": counted["product"]["name"],
        "lot": counted["lot"]["lot_number"],
        "quantity": format_quantity(counted["quantity"], counted["product"]["unit"]),
        "total": format_quantity(counted["your_total"], counted["product"]["unit"]),
    }
    message = gettext(_UNKNOWN if counted["unknown_lot"] else _COUNTED) % words
    return redirect(request, f"/ui/stocktake/{stocktake_id}/count", flash=message)


class _Choose(Exception):
    """A typed lot number names several lots: the counter chooses."""

    def __init__(self, lots: list[Any]) -> None:
        super().__init__("several lots")
        self.lots = lots


async def _count_code(actor: Any, stocktake_id: int, quantity: Quantity, barcode: str) -> dict[str, Any]:
    """Count a scanned code; text that is no code is taken as a typed lot number."""
    try:
        return await stocktake.count(actor=actor, stocktake_id=stocktake_id, quantity=quantity, barcode=barcode)
    except InventoryError as refusal:
        if refusal.code != "barcode_invalid":
            raise
        named = await stocktake.lots_named(lot_number=barcode)
        if len(named) == 1:
            return await stocktake.count(actor=actor, stocktake_id=stocktake_id, quantity=quantity, lot_id=named[0].id)
        if named:
            raise _Choose(named) from refusal
        raise


# ------------------------------------------------------------------ review (managers)


async def _review_page(
    request: Request[Any, Any, Any], stocktake_id: int, *, template: str = "stocktake/review.html"
) -> Template:
    review = await stocktake.review(stocktake_id=stocktake_id)
    return await render(request, template, review=review, status_name=status_name)


@get("/stocktake/{stocktake_id:int}", guards=[manager_page], include_in_schema=False, security=[])
async def review_page(request: Request[Any, Any, Any], stocktake_id: Id) -> Template:
    """Per lot expected, counted and variance; unknown lots flagged; lots not counted listed."""
    return await _review_page(request, stocktake_id)


@get("/stocktake/{stocktake_id:int}/approve", guards=[manager_page], include_in_schema=False, security=[])
async def approve_confirm(request: Request[Any, Any, Any], stocktake_id: Id) -> Template:
    """Ask before approving (what will be written), as a page: the question works without JavaScript."""
    return await _review_page(request, stocktake_id, template="stocktake/approve.html")


@post("/stocktake/{stocktake_id:int}/approve", guards=[manager_page], include_in_schema=False, security=[])
async def approve(request: Request[Any, Any, Any], stocktake_id: Id) -> Redirect:
    """Approve: one adjust ledger row per differing lot, all in one transaction."""
    user = await current_user(request)
    await read_form(request)
    try:
        done = await stocktake.approve(actor=user.actor, stocktake_id=stocktake_id)
    except InventoryError as refusal:
        if refusal.code == "not_found":
            raise
        return redirect(request, f"/ui/stocktake/{stocktake_id}", flash=refusal_message(refusal), kind="error")
    message = gettext(_APPROVED) % {"count": format_number(len(done["adjustments"]))}
    return redirect(request, f"/ui/stocktake/{stocktake_id}", flash=message)


@get("/stocktake/{stocktake_id:int}/cancel", guards=[manager_page], include_in_schema=False, security=[])
async def cancel_confirm(request: Request[Any, Any, Any], stocktake_id: Id) -> Template:
    """Ask before cancelling the count."""
    return await _review_page(request, stocktake_id, template="stocktake/cancel.html")


@post("/stocktake/{stocktake_id:int}/cancel", guards=[manager_page], include_in_schema=False, security=[])
async def cancel(request: Request[Any, Any, Any], stocktake_id: Id) -> Redirect:
    """Close the count without changing stock."""
    user = await current_user(request)
    await read_form(request)
    try:
        await stocktake.cancel(actor=user.actor, stocktake_id=stocktake_id)
    except InventoryError as refusal:
        if refusal.code == "not_found":
            raise
        return redirect(request, f"/ui/stocktake/{stocktake_id}", flash=refusal_message(refusal), kind="error")
    return redirect(request, f"/ui/stocktake/{stocktake_id}", flash=gettext(_CANCELLED))


HANDLERS: list[Any] = [
    stocktake_page,
    stocktake_start,
    count_page,
    count_post,
    review_page,
    approve_confirm,
    approve,
    cancel_confirm,
    cancel,
]
