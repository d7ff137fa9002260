"""Receiving a delivery: scan box or ampoule codes (or type lines) into a draft, book it once, print its labels."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from inventory.domain.errors import InventoryError
from inventory.services import catalog, idempotency, purchasing, receiving
from inventory.services.barcodes import MAX_BARCODE_LENGTH
from inventory.services.page_sessions import PageSignIn
from inventory.services.receiving import LinePreview, ReceivedLine
from inventory.web import label_printing
from inventory.web.forms import Fields, refusal_message
from inventory.web.i18n import N_, format_date, format_number, gettext, ngettext
from inventory.web.pages import current_user, read_form, redirect, render, staff_page
from inventory.web.receipt_draft import MAX_QUANTITY, DraftLine, added, decode_all, fingerprint
from inventory.web.receiving_order import OrderCheck, check_order, order_refusal, order_status_name, receivable_orders

MAX_PRODUCTS = 1000
MAX_LOT_LENGTH = 64
TYPED_FIELDS = ("product_id", "lot_number", "expiry_date", "quantity")
SHOWN_GS = "\u2039GS\u203a"  # the GS1 separator made visible, as the chair shows it
EVERY_FIELD = ("barcode", "scan_quantity", *TYPED_FIELDS)
# The refusals of a typed line that belong to one of its fields (the rest go next to the product).
_TYPED_FIELD_OF = {
    "lot_number_invalid": "lot_number",
    "lot_expired": "expiry_date",
    "lot_expiry_mismatch": "expiry_date",
    "date_out_of_range": "expiry_date",
    "lot_recalled": "lot_number",
    "lot_quarantined": "lot_number",
}
# Refusals of a line whose lot could be read: the line is shown with its refusal until it is removed.
_LOT_REFUSALS = {"lot_expired", "lot_expiry_mismatch", "lot_recalled", "lot_quarantined"}
_EXPIRED = N_("Lot %(lot)s expired on %(expiry)s: it cannot be received. Set this box aside.")
_MISMATCH = N_(
    "Lot %(lot)s is recorded with expiry %(recorded)s, not %(expiry)s. Check the box: nothing has been changed."
)
_RECALLED = N_("Lot %(lot)s is recalled: it cannot be received. Set this box aside.")
_QUARANTINED = N_("Lot %(lot)s is in quarantine: it cannot be received. Set this box aside.")
_NO_PRODUCT = N_("No product in the catalog has GTIN %(gtin)s. Add it to the catalog first.")
_AMBIGUOUS = N_("The scanner dropped a separator and this code reads several ways: scan it again or type the line.")
_NO_LINES = N_("Scan or type at least one line.")
_LOST_LINES = N_("The lines of this delivery could not be read back; start again.")
_RECEIVED = N_("Delivery received.")
_BOOKED_BEFORE = N_(
    "This delivery was already received with other lines. Check these lines:"
    " “Receive the delivery” books them as a new delivery."
)
_NO_LABELS = N_("Give at least one lot a count above 0.")
_RECEIVED_AGAINST = N_("Delivery received against order %(id)s, which is now %(status)s.")


@dataclass(frozen=True)
class LineRow:
    """A draft line as the page shows it."""

    index: int
    value: str
    preview: LinePreview
    code: str | None  # the scanned code as shown
    amount: str
    error: str | None


def amount(quantity: int, units: int) -> str:
    """ "1 box of 10 = 10 ampoules", or "3 ampoules" for single units."""
    if units > 1:
        pack = ngettext(
            "%(count)s box of %(units)s = %(total)s ampoules",
            "%(count)s boxes of %(units)s = %(total)s ampoules",
            quantity,
        )
        return pack % {
            "count": format_number(quantity),
            "units": format_number(units),
            "total": format_number(quantity * units),
        }
    return ngettext("%(total)s ampoule", "%(total)s ampoules", quantity) % {"total": format_number(quantity)}


def line_refusal(preview: LinePreview) -> str | None:
    """Why a line cannot be received, in the page's language, with the lot and dates it names."""
    refusal = preview.refusal
    if refusal is None:
        return None
    lot, expiry = preview.lot_number or "", format_date(preview.expiry_date)
    if refusal.code == "lot_expired":
        return gettext(_EXPIRED) % {"lot": lot, "expiry": expiry}
    if refusal.code == "lot_expiry_mismatch":
        recorded = refusal.extra.get("recorded_expiry")
        shown = format_date(date.fromisoformat(recorded)) if isinstance(recorded, str) else ""
        return gettext(_MISMATCH) % {"lot": lot, "recorded": shown, "expiry": expiry}
    if refusal.code == "lot_recalled":
        return gettext(_RECALLED) % {"lot": lot}
    if refusal.code == "lot_quarantined":
        return gettext(_QUARANTINED) % {"lot": lot}
    return code_refusal(refusal)


def code_refusal(refusal: InventoryError) -> str:
    """Why a scanned code cannot be read, in the page's language."""
    gtin = refusal.extra.get("gtin")
    if refusal.code == "product_unknown" and isinstance(gtin, str):
        return gettext(_NO_PRODUCT) % {"gtin": gtin}
    if refusal.code == "barcode_ambiguous":
        return gettext(_AMBIGUOUS)
    return refusal_message(refusal)


def _rows(lines: list[DraftLine], previews: list[LinePreview]) -> list[LineRow]:
    return [
        LineRow(
            index=index,
            value=line.encode(),
            preview=preview,
            code=line.barcode.replace("\x1d", SHOWN_GS) if line.barcode else None,
            amount=amount(line.quantity, preview.units),
            error=line_refusal(preview),
        )
        for index, (line, preview) in enumerate(zip(lines, previews, strict=True))
    ]


@dataclass
class Draft:
    """The delivery being entered: the form as posted, its lines, the checks of those lines, and the errors."""

    form: dict[str, Any]
    fields: Fields
    lines: list[DraftLine]
    key: str
    location_id: int | None = None
    supplier: str | None = None
    reference: str | None = None
    order_id: int | None = None  # the purchase order received against, if any
    previews: list[LinePreview] | None = None
    focus: str = "barcode"
    status: int = 200
    added: int | None = None  # the line a scan just added to (shown again beside the scan box)

    @classmethod
    def read(cls, form: dict[str, Any]) -> Draft:
        """The draft as posted: the delivery's fields checked, its lines read back from the hidden fields."""
        fields = Fields(form)
        values = form.get("line", [])
        lines = decode_all(values if isinstance(values, list) else [values])
        key = fields.raw("idempotency_key")[: idempotency.MAX_KEY_LENGTH] or new_key()
        draft = cls(form=form, fields=fields, lines=lines or [], key=key)
        if lines is None:
            fields.errors["lines"] = gettext(_LOST_LINES)
        draft.location_id = fields.integer("location_id", minimum=1, maximum=receiving.MAX_ID)
        draft.supplier = fields.text("supplier", required=False, max_length=200)
        draft.reference = fields.text("reference", required=False, max_length=200)
        draft.order_id = fields.integer("purchase_order_id", required=False, minimum=1, maximum=receiving.MAX_ID)
        return draft

    def refuse(self, status: int, field: str | None = None) -> None:
        """The post was refused: answer with `status` and the focus on `field`."""
        self.status = max(self.status, status)
        if field is not None:
            self.focus = field

    async def check(self) -> list[LinePreview]:
        """Check every line with the receiving service (at the chosen location's day)."""
        if self.location_id is None or not self.lines:
            self.previews = [LinePreview(index=i, quantity=line.quantity) for i, line in enumerate(self.lines)]
            return self.previews
        try:
            self.previews = await receiving.preview(
                location_id=self.location_id, lines=[line.line_in() for line in self.lines]
            )
        except InventoryError as refusal:  # the location is gone
            self.fields.refuse(refusal, default="location_id")
            self.refuse(refusal.status, "location_id")
            self.location_id = None
            return await self.check()
        return self.previews


def new_key() -> str:
    """A fresh Idempotency-Key for a draft: booking it twice books once."""
    return str(uuid.uuid4())


async def _page(request: Request[Any, Any, Any], draft: Draft, *, keep: tuple[str, ...] = ()) -> Template:
    """The draft page; the fields named in `keep` are shown again as typed (the others start empty)."""
    previews = draft.previews if draft.previews is not None else await draft.check()
    locations = await catalog.list_locations()
    products = [p for p in await catalog.list_products(limit=MAX_PRODUCTS) if p["active"]]
    rows = _rows(draft.lines, previews)
    location_value = draft.fields.raw("location_id")
    if not location_value and len(locations) == 1:
        location_value = str(locations[0]["id"])
    if not location_value and not draft.fields.errors:
        draft.focus = "location_id"  # where a delivery is received comes first
    values = {name: draft.fields.raw(name) for name in keep}
    order: OrderCheck | None = None
    prefilled: dict[str, str] = {}
    if draft.order_id is not None:
        order = await check_order(draft.order_id, previews)
        if order is not None:
            # A value the page filled in and the user left as it was is filled in afresh (what is still to come
            # changes as boxes are scanned); one the user typed stays.
            for name in ("product_id", "quantity"):
                if values.get(name) and values[name] == draft.fields.raw(f"prefilled_{name}"):
                    del values[name]
            typed, values = values, order.prefill(values)
            prefilled = {n: v for n, v in values.items() if n in ("product_id", "quantity") and typed.get(n) != v}
    orders = await receivable_orders(int(location_value) if location_value.isdigit() else None)
    return await render(
        request,
        "receive/draft.html",
        status=draft.status,
        locations=locations,
        products=products,
        location_value=location_value,
        supplier=draft.fields.raw("supplier"),
        reference=draft.fields.raw("reference"),
        values=values,
        scan_quantity=values.get("scan_quantity") or "1",
        rows=rows,
        added=rows[draft.added] if draft.added is not None else None,
        total=sum(p.total for p in previews),
        refused=sum(1 for row in rows if row.error),
        errors=draft.fields.errors,
        key=draft.key,
        focus=draft.focus,
        order=order,
        prefilled=prefilled,
        orders=orders,
        order_status_name=order_status_name,
    )


@get("/receive", guards=[staff_page], include_in_schema=False, security=[])
async def receive_page(request: Request[Any, Any, Any]) -> Template:
    """An empty delivery, with its own Idempotency-Key; `?order=` receives against a sent order."""
    form: dict[str, Any] = {}
    chosen = Fields({"order": request.query_params.get("order")}).integer(
        "order", required=False, minimum=1, maximum=receiving.MAX_ID
    )
    if chosen is not None:
        try:
            view = await purchasing.get_order(chosen)
        except InventoryError:
            view = None
        if view is not None:  # where, from whom and which order: filled in from the order
            form = {
                "purchase_order_id": str(chosen),
                "location_id": str(view.order.location_id),
                "supplier": view.order.supplier_name,
                "reference": gettext("Order %(id)s") % {"id": chosen},
            }
    fields = Fields(form)
    draft = Draft(form=form, fields=fields, lines=[], key=new_key(), previews=[], order_id=chosen if form else None)
    draft.location_id = fields.integer("location_id", required=False)
    return await _page(request, draft)


@post("/receive", guards=[staff_page], include_in_schema=False, security=[], status_code=200)
async def receive_post(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Add a scanned or typed line, remove one, or book the delivery (all lines or none)."""
    user = await current_user(request)
    form = await read_form(request)
    draft = Draft.read(form)
    action = str(form.get("action") or "scan")
    if action == "scan" and not draft.fields.raw("barcode") and any(draft.fields.raw(n) for n in TYPED_FIELDS):
        action = "type"  # Enter pressed in a typed line's field submits with the form's first button
    if draft.fields.errors:
        draft.refuse(422, next(iter(draft.fields.errors)))
        return await _page(request, draft, keep=EVERY_FIELD)
    if action == "scan":
        return await _add_scanned(request, draft)
    if action == "type":
        return await _add_typed(request, draft)
    if action.startswith("remove-") and action[7:].isdigit():
        index = int(action[7:])
        draft.lines = [line for i, line in enumerate(draft.lines) if i != index]
        return await _page(request, draft, keep=TYPED_FIELDS)
    if action == "receive":
        return await _book(request, user, draft)
    return await _page(request, draft, keep=EVERY_FIELD)


async def _add_scanned(request: Request[Any, Any, Any], draft: Draft) -> Template:
    fields = draft.fields
    barcode = fields.text("barcode", required=False, max_length=MAX_BARCODE_LENGTH)
    quantity = fields.integer("scan_quantity", required=False, minimum=1, maximum=MAX_QUANTITY) or 1
    keep = EVERY_FIELD
    if not fields.errors and barcode is None:
        return await _page(request, draft, keep=keep)  # Enter in an empty scan box: nothing to add
    if fields.errors or barcode is None:
        draft.refuse(422, next(iter(fields.errors)))
        return await _page(request, draft, keep=keep)
    lines, index = added(draft.lines, DraftLine(quantity=quantity, barcode=barcode))
    if lines[index].quantity > MAX_QUANTITY:
        fields.integer("scan_quantity", maximum=MAX_QUANTITY - (lines[index].quantity - quantity))
        draft.refuse(422, "scan_quantity")
        return await _page(request, draft, keep=keep)
    before = draft.lines
    draft.lines = lines
    preview = (await draft.check())[index]
    if draft.location_id is None:  # the location is gone: nothing is added
        draft.lines, draft.previews = before, None
        return await _page(request, draft, keep=keep)
    if preview.refusal is not None and preview.refusal.code not in _LOT_REFUSALS:
        # A code that names no lot is not a line: it stays in the scan box, with why, to be scanned again.
        fields.errors["barcode"] = code_refusal(preview.refusal)
        draft.lines, draft.previews = before, None
        draft.refuse(preview.refusal.status, "barcode")
        return await _page(request, draft, keep=keep)
    if preview.refusal is not None:
        draft.refuse(preview.refusal.status)  # shown next to the line until it is removed
    draft.added = index
    return await _page(request, draft, keep=TYPED_FIELDS)  # a line being typed stays as it was


async def _add_typed(request: Request[Any, Any, Any], draft: Draft) -> Template:
    fields = draft.fields
    product_id = fields.integer("product_id", minimum=1, maximum=receiving.MAX_ID)
    lot_number = fields.text("lot_number", max_length=MAX_LOT_LENGTH)
    expiry = fields.date("expiry_date")
    quantity = fields.integer("quantity", minimum=1, maximum=MAX_QUANTITY)
    if fields.errors or product_id is None or lot_number is None or expiry is None or quantity is None:
        draft.refuse(422, next(iter(fields.errors)))
        return await _page(request, draft, keep=TYPED_FIELDS)
    line = DraftLine(quantity=quantity, product_id=product_id, lot_number=lot_number, expiry_date=expiry)
    lines, index = added(draft.lines, line)
    if lines[index].quantity > MAX_QUANTITY:
        fields.integer("quantity", maximum=MAX_QUANTITY - (lines[index].quantity - quantity))
        draft.refuse(422, "quantity")
        return await _page(request, draft, keep=TYPED_FIELDS)
    before = draft.lines
    draft.lines = lines
    preview = (await draft.check())[index]
    if draft.location_id is None:  # the location is gone: nothing is added
        draft.lines, draft.previews = before, None
        return await _page(request, draft, keep=EVERY_FIELD)
    if preview.refusal is not None:
        # A typed line is corrected where it was typed: it is not added while refused.
        field = _TYPED_FIELD_OF.get(preview.refusal.code, "product_id")
        fields.errors[field] = line_refusal(preview) or refusal_message(preview.refusal)
        draft.lines, draft.previews = before, None
        draft.refuse(preview.refusal.status, field)
        return await _page(request, draft, keep=EVERY_FIELD)
    draft.focus = "lot_number"  # the next lot of the same product
    return await _page(request, draft, keep=TYPED_FIELDS[:1])


async def _book(request: Request[Any, Any, Any], user: PageSignIn, draft: Draft) -> Template | Redirect:
    """Book every line in one call of the receiving service, once per Idempotency-Key."""
    if not draft.lines:
        draft.fields.errors["lines"] = gettext(_NO_LINES)
        draft.refuse(422, "barcode")
        return await _page(request, draft, keep=TYPED_FIELDS)
    refusals = [p.refusal for p in await draft.check() if p.refusal is not None]
    if refusals or draft.fields.errors or draft.location_id is None:
        draft.refuse(refusals[0].status if refusals else 422)
        return await _page(request, draft, keep=TYPED_FIELDS)
    location_id, lines = draft.location_id, draft.lines

    order_id = draft.order_id

    async def book() -> idempotency.StoredResponse:
        result = await receiving.receive(
            actor=user.actor,
            location_id=location_id,
            supplier=draft.supplier,
            reference=draft.reference,
            lines=[line.line_in() for line in lines],
            purchase_order_id=order_id,
        )
        return idempotency.StoredResponse(201, json.dumps({"receipt_id": result["id"]}).encode())

    try:
        stored = await idempotency.run_once(
            user_id=user.actor.id,
            key=draft.key,
            fingerprint=fingerprint(location_id, draft.supplier, draft.reference, lines, purchase_order_id=order_id),
            operation=book,
        )
    except InventoryError as refusal:
        # Refused after the check (another delivery or a recall came in between): nothing was written.
        line = refusal.extra.get("line")
        if isinstance(line, int) and 0 <= line < len(lines) and draft.previews is not None:
            previews = list(draft.previews)
            previews[line] = replace(previews[line], refusal=refusal)
            draft.previews = previews
        elif refusal.code == "idempotency_key_reused":
            # This page's delivery was booked, then changed (an old tab): the changed lines become a new draft.
            draft.key = new_key()
            draft.fields.errors["form"] = gettext(_BOOKED_BEFORE)
        elif order_id is not None and (
            refusal.code in ("invalid_transition", "location_mismatch")
            or refusal.extra.get("entity") == "purchase_order"
        ):
            draft.fields.errors["purchase_order_id"] = order_refusal(refusal)
        else:
            draft.fields.refuse(refusal, by_code={"not_found": "location_id"}, default="form")
        draft.refuse(refusal.status)
        return await _page(request, draft, keep=TYPED_FIELDS)
    receipt_id = int(json.loads(stored.body)["receipt_id"])
    if order_id is None:
        return redirect(request, f"/ui/receive/{receipt_id}", flash=gettext(_RECEIVED))
    after = (await purchasing.get_order(order_id)).order.status
    message = gettext(_RECEIVED_AGAINST) % {"id": order_id, "status": order_status_name(after).lower()}
    return redirect(request, f"/ui/receive/{receipt_id}", flash=message)


# ------------------------------------------------------------------ the received delivery and its labels


@dataclass(frozen=True)
class ReceivedLot:
    """A lot of the receipt, for its labels: how many single units arrived."""

    lot_id: int
    lot_number: str
    product: str
    quantity: int


def _received_lots(lines: list[ReceivedLine]) -> list[ReceivedLot]:
    """The receipt's lots once each, in line order, with all their units."""
    lots: dict[int, ReceivedLot] = {}
    for line in lines:
        known = lots.get(line.lot_id)
        total = line.quantity + (known.quantity if known else 0)
        lots[line.lot_id] = ReceivedLot(line.lot_id, line.lot_number, line.product, total)
    return list(lots.values())


async def _receipt_page(
    request: Request[Any, Any, Any], receipt_id: int, *, fields: Fields | None = None, status: int = 200
) -> Template:
    head, lines = await receiving.get_receipt(receipt_id)
    lots = _received_lots(lines)
    posted = fields.form if fields is not None else {}
    copies = {
        lot.lot_id: str(posted.get(f"copies-{lot.lot_id}", min(lot.quantity, label_printing.MAX_COPIES)))
        for lot in lots
    }
    return await render(
        request,
        "receive/receipt.html",
        status=status,
        receipt=head,
        lines=[(line, amount(line.quantity // line.units, line.units)) for line in lines],
        lots=lots,
        copies=copies,
        **label_printing.choice_context(posted),
        errors=fields.errors if fields is not None else {},
        focus=next(iter(fields.errors), "") if fields is not None else "",
    )


@get("/receive/{receipt_id:int}", guards=[staff_page], include_in_schema=False, security=[])
async def receipt_page(request: Request[Any, Any, Any], receipt_id: FromPath[int]) -> Template:
    """A booked delivery: its lots with the on-hand after each line, and the form to print their labels."""
    return await _receipt_page(request, receipt_id)


@post("/receive/{receipt_id:int}/labels", guards=[staff_page], include_in_schema=False, security=[], status_code=200)
async def receipt_labels(request: Request[Any, Any, Any], receipt_id: FromPath[int]) -> Response[bytes] | Template:
    """The received lots' labels as one download (a count of 0 leaves a lot out)."""
    fields = Fields(await read_form(request))
    _, lines = await receiving.get_receipt(receipt_id)
    lots = _received_lots(lines)
    template = label_printing.read_template(fields)
    items: list[tuple[int, int]] = []
    for lot in lots:
        count = fields.integer(f"copies-{lot.lot_id}", minimum=0, maximum=label_printing.MAX_COPIES)
        if count:
            items.append((lot.lot_id, count))
    if not fields.errors and not items:
        fields.errors["copies"] = gettext(_NO_LABELS)
    if fields.errors or template is None or not label_printing.check_items(fields, template, items, "template"):
        return await _receipt_page(request, receipt_id, fields=fields, status=422)
    download = await label_printing.print_labels(
        fields, template, items, field_names={"lots": "copies", "copies": "copies"}
    )
    if download is None:
        return await _receipt_page(request, receipt_id, fields=fields, status=422)
    return download


HANDLERS: list[Any] = [receive_page, receive_post, receipt_page, receipt_labels]
