"""The stock page: a location's lots, the lots to reconcile (count, transfer, dispose), a lot's ledger and its returns
to a supplier, CSV export."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from inventory import clock
from inventory.domain.errors import InventoryError, NotFound, Unprocessable
from inventory.domain.quantities import plain
from inventory.services import (
    catalog,
    containers,
    discrepancies,
    ledger,
    purchasing,
    return_documents,
    stock,
    supplier_returns,
)
from inventory.services.discrepancies import FlaggedLot, Reason
from inventory.web import once
from inventory.web.downloads import csv_download
from inventory.web.forms import Fields
from inventory.web.i18n import format_number, format_quantity, gettext, input_number
from inventory.web.pages import current_user, manager_page, read_form, redirect, render, staff_page
from inventory.web.stock_words import (
    DISPOSAL_REASONS,
    RETURN_REASONS,
    STATUSES,
    StockLine,
    expiry_note,
    kind_label,
    movement_details,
    reason_label,
    reason_labels,
    reason_text,
    status_name,
    who,
)

LEDGER_ROWS = 200


@dataclass(frozen=True)
class Filters:
    """What the stock table shows: a text to find, a status, or only the lots to reconcile."""

    text: str = ""
    status: str = ""
    flagged_only: bool = False

    @classmethod
    def of(cls, request: Request[Any, Any, Any]) -> Filters:
        """From the query string; a value that means nothing is ignored."""
        status = request.query_params.get("status", "")
        return cls(
            text=request.query_params.get("q", "").strip()[:100],
            status=status if status in STATUSES else "",
            flagged_only=request.query_params.get("flagged") == "1",
        )

    def keeps(self, line: StockLine) -> bool:
        """Whether the line passes every filter (the text is looked for in brand, product, lot and GTIN)."""
        if self.status and line.status != self.status:
            return False
        if self.flagged_only and not line.reasons:
            return False
        wanted = self.text.casefold()
        return not wanted or any(
            wanted in (value or "").casefold()
            for value in (line.brand_name, line.product_name, line.lot_number, line.gtin)
        )


@dataclass
class Attempt:
    """A refused action form, shown again with what was typed and a message next to each field at fault."""

    action: str
    lot_id: int
    key: str
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionForm:
    """One action form of a lot to reconcile, as rendered: its key, values, messages, and whether it is open."""

    action: str
    id: str
    key: str
    values: dict[str, str]
    errors: dict[str, str]
    open: bool

    @property
    def focus(self) -> str | None:
        """The field at fault to put the cursor in (the first the form shows)."""
        return next((name for name in self.values if name in self.errors), None)


def _default_disposal_reason(lot: FlaggedLot) -> str:
    if Reason.EXPIRED_ON_SHELF in lot.reasons:
        return "expired"
    return lot.status if lot.status in DISPOSAL_REASONS else ""


def _action_forms(lot: FlaggedLot, attempt: Attempt | None, *, can_transfer: bool) -> list[ActionForm]:
    """The forms that can reconcile this lot: a count always; a transfer and a disposal when units are on hand."""
    defaults = {"count": {"counted": "", "reason": gettext("Shelf count")}}
    if lot.on_hand > 0:
        if can_transfer:
            defaults["transfer"] = {"to_location_id": "", "quantity": str(lot.on_hand), "note": ""}
        defaults["dispose"] = {
            "quantity": input_number(lot.on_hand),
            "reason": _default_disposal_reason(lot),
            "note": "",
        }
    forms = []
    for action, values in defaults.items():
        mine = attempt if attempt is not None and (attempt.action, attempt.lot_id) == (action, lot.lot_id) else None
        forms.append(
            ActionForm(
                action=action,
                id=f"{action}-{lot.lot_id}",
                key=mine.key if mine else once.new_key(),
                values={**values, **mine.values} if mine else values,
                errors=mine.errors if mine else {},
                open=mine is not None,
            )
        )
    return forms


def _location_in(locations: list[dict[str, Any]], location_id: int) -> dict[str, Any]:
    for place in locations:
        if place["id"] == location_id:
            return place
    raise NotFound.of("location", location_id)


def _location_param(request: Request[Any, Any, Any]) -> int | None:
    value = request.query_params.get("location_id", "")
    return int(value) if value.isdigit() and len(value) < 10 else None


async def _stock_page(
    request: Request[Any, Any, Any],
    *,
    location_id: int | None,
    filters: Filters,
    attempt: Attempt | None = None,
    status: int = 200,
) -> Template:
    user = await current_user(request)
    locations = await catalog.list_locations()
    context: dict[str, Any] = {
        "locations": locations,
        "filters": filters,
        "attempt": attempt,
        "can_act": user.actor.has_role("manager"),
        "statuses": [(code, status_name(code)) for code in STATUSES],
        "disposal_reasons": [(code, gettext(name)) for code, name in DISPOSAL_REASONS.items()],
        "status_name": status_name,
        "expiry_note": expiry_note,
        "reason_labels": reason_labels,
        "reason_text": reason_text,
    }
    if not locations:
        return await render(request, "stock/index.html", status=status, location=None, **context)
    location = _location_in(locations, location_id) if location_id is not None else locations[0]
    flagged = await discrepancies.flagged(location_id=location["id"])
    reasons = {lot.lot_id: lot.reasons for lot in flagged}
    today = clock.today_in(location["timezone"])
    items = await stock.list_stock(location_id=location["id"])
    lines = [StockLine.of(item, today, reasons.get(item["lot"]["id"], ())) for item in items]
    others = [place for place in locations if place["id"] != location["id"]]
    forms = {lot.lot_id: _action_forms(lot, attempt, can_transfer=bool(others)) for lot in flagged}
    opened = await containers.list_containers(location_id=location["id"])
    return await render(
        request,
        "stock/index.html",
        status=status,
        location=location,
        today=today,
        lines=[line for line in lines if filters.keeps(line)],
        total=len(lines),
        flagged=flagged,
        forms=forms,
        opened=opened,
        targets=[(str(place["id"]), place["name"]) for place in others],
        # A refusal whose form is not on the page (someone else reconciled the lot meanwhile) is shown above it.
        stray=attempt is not None and not any(form.open for shown in forms.values() for form in shown),
        **context,
    )


@get("/stock", guards=[staff_page], include_in_schema=False, security=[])
async def stock_page(request: Request[Any, Any, Any]) -> Template:
    """A location's lots (the first location unless `?location_id=`), filtered, and the lots to reconcile."""
    return await _stock_page(request, location_id=_location_param(request), filters=Filters.of(request))


@dataclass(frozen=True)
class Target:
    """The lot and location an action form is about (hidden fields the page rendered)."""

    lot_id: int
    location_id: int


def _target(fields: Fields) -> Target:
    # Hidden fields: wrong only when the form was tampered with, so an error page rather than a field message.
    probe = Fields(fields.form)
    lot_id = probe.integer("lot_id", minimum=1, maximum=2**31 - 1)
    location_id = probe.integer("location_id", minimum=1, maximum=2**31 - 1)
    if lot_id is None or location_id is None:
        raise Unprocessable("The form names no lot or location.", code="validation_error")
    return Target(lot_id, location_id)


def _refuse(fields: Fields, error: InventoryError, by_code: dict[str, str]) -> None:
    if error.code == "insufficient_stock":
        fields.errors.setdefault(
            by_code["insufficient_stock"],
            gettext("Only %(on_hand)s on hand here.") % {"on_hand": format_number(error.extra.get("on_hand", 0))},
        )
    else:
        fields.refuse(error, by_code=by_code, default="form")


async def _refused(
    request: Request[Any, Any, Any], action: str, target: Target, form: dict[str, Any], fields: Fields, status: int
) -> Template:
    attempt = Attempt(
        action=action,
        lot_id=target.lot_id,
        key=str(form.get(once.FIELD) or once.new_key()),
        values={name: value for name, value in form.items() if isinstance(value, str)},
        errors=fields.errors,
    )
    return await _stock_page(request, location_id=target.location_id, filters=Filters(), attempt=attempt, status=status)


def _quantity_codes(name: str) -> dict[str, str]:
    """The refusals of a quantity in the product's unit, all shown next to the field `name`."""
    return {code: name for code in ("validation_error", "quantity_not_whole", "quantity_precision")}


async def _unit(product_id: int) -> str:
    """What the product is counted in (each, ml, U), for the sentence after a write."""
    return str((await catalog.get_product(product_id))["unit"])


def _in_unit(summary: once.Summary, *names: str) -> dict[str, str]:
    """The summary's quantities (kept as exact text) with their unit, in the page's locale."""
    unit = str(summary.get("unit", "each"))
    return {name: format_quantity(plain(str(summary[name])), unit) for name in names}


def _back(target: Target) -> str:
    return f"/ui/stock?location_id={target.location_id}#flagged"


@post("/stock/count", guards=[manager_page], status_code=303, include_in_schema=False, security=[])
async def count(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Set on-hand to what was counted on the shelf: one adjustment of the difference, with a reason."""
    form = await read_form(request)
    fields = Fields(form)
    target = _target(fields)
    counted = fields.amount("counted", maximum=stock.MAX_QUANTITY, positive=False)
    reason = fields.text("reason", max_length=500)
    if fields.errors or counted is None or reason is None:
        return await _refused(request, "count", target, form, fields, 422)
    actor = (await current_user(request)).actor

    async def write() -> once.Summary:
        done = await stock.adjust(
            actor=actor,
            lot_id=target.lot_id,
            location_id=target.location_id,
            counted=counted,
            delta=None,
            reason=reason,
        )
        unit = await _unit(done["lot"]["product_id"])
        return {
            "lot": done["lot"]["lot_number"],
            "before": str(done["before"]),
            "after": str(done["on_hand"]),
            "unit": unit,
        }

    try:
        summary = await once.run_once(request, form, write)
    except InventoryError as error:
        _refuse(fields, error, {"insufficient_stock": "counted", **_quantity_codes("counted")})
        return await _refused(request, "count", target, form, fields, error.status)
    shown = {**summary, **_in_unit(summary, "before", "after")}
    if summary["before"] == summary["after"]:
        message = gettext("Lot %(lot)s counted: %(after)s on hand, as recorded.") % shown
    else:
        message = gettext("Lot %(lot)s counted: on hand was %(before)s, it is now %(after)s.") % shown
    return redirect(request, _back(target), flash=message)


@post("/stock/transfer", guards=[manager_page], status_code=303, include_in_schema=False, security=[])
async def transfer(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Move units of a lot from this location to another."""
    form = await read_form(request)
    fields = Fields(form)
    target = _target(fields)
    others = {str(place["id"]): place["name"] for place in await catalog.list_locations()}
    others.pop(str(target.location_id), None)
    to_location = fields.choice("to_location_id", list(others))
    quantity = fields.integer("quantity", minimum=1, maximum=stock.MAX_QUANTITY)
    note = fields.text("note", required=False, max_length=500)
    if fields.errors or to_location is None or quantity is None:
        return await _refused(request, "transfer", target, form, fields, 422)
    actor = (await current_user(request)).actor

    async def write() -> once.Summary:
        done = await stock.transfer(
            actor=actor,
            lot_id=target.lot_id,
            from_location_id=target.location_id,
            to_location_id=int(to_location),
            quantity=quantity,
            reason=note,
        )
        return {"lot": done["lot"]["lot_number"], "quantity": quantity, "left": done["from_on_hand"]}

    try:
        summary = await once.run_once(request, form, write)
    except InventoryError as error:
        _refuse(fields, error, {"insufficient_stock": "quantity", "validation_error": "quantity"})
        return await _refused(request, "transfer", target, form, fields, error.status)
    message = gettext("Moved %(quantity)s of lot %(lot)s to %(to)s; %(left)s left here.") % {
        **summary,
        "to": others[to_location],
    }
    return redirect(request, _back(target), flash=message)


@post("/stock/dispose", guards=[manager_page], status_code=303, include_in_schema=False, security=[])
async def dispose(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Throw units of a lot away, with a reason (expired, damaged, recalled…) written to the ledger."""
    form = await read_form(request)
    fields = Fields(form)
    target = _target(fields)
    quantity = fields.amount("quantity", maximum=stock.MAX_QUANTITY)
    why = fields.choice("reason", list(DISPOSAL_REASONS))
    note = fields.text("note", required=why == "other", max_length=500)
    if fields.errors or quantity is None or why is None:
        return await _refused(request, "dispose", target, form, fields, 422)
    actor = (await current_user(request)).actor
    # The ledger keeps the reason's code (readable in English, shown translated here) and what was added to it.
    reason = f"{why}: {note}" if note else why

    async def write() -> once.Summary:
        done = await stock.dispose(
            actor=actor, lot_id=target.lot_id, location_id=target.location_id, quantity=quantity, reason=reason
        )
        unit = await _unit(done["lot"]["product_id"])
        return {"lot": done["lot"]["lot_number"], "quantity": str(quantity), "left": str(done["on_hand"]), "unit": unit}

    try:
        summary = await once.run_once(request, form, write)
    except InventoryError as error:
        _refuse(fields, error, {"insufficient_stock": "quantity", **_quantity_codes("quantity")})
        return await _refused(request, "dispose", target, form, fields, error.status)
    message = gettext("Disposed of %(quantity)s of lot %(lot)s (%(reason)s); %(left)s left here.") % {
        **summary,
        **_in_unit(summary, "quantity", "left"),
        "reason": gettext(DISPOSAL_REASONS[why]).lower(),
    }
    return redirect(request, _back(target), flash=message)


RETURN_FORM = "return-form"
RETURN_FIELDS = ("location_id", "quantity", "reason", "supplier_id", "note")  # in the order the form shows them


def _return_defaults(lot: ledger.LotStock, back: int | None) -> dict[str, str]:
    """The return form as first shown: from the location the manager came from (else the first with stock)."""
    stocked = [level for level in lot.levels if level.on_hand > 0]
    level = next((lv for lv in stocked if lv.location_id == back), stocked[0])
    recalled = lot.status == "recalled"
    return {
        "location_id": str(level.location_id),
        "quantity": str(level.on_hand) if recalled else "",
        "reason": "recalled" if recalled else "",
        "supplier_id": "",
        "note": "",
    }


async def _lot_page(
    request: Request[Any, Any, Any], lot_id: int, *, attempt: Attempt | None = None, status: int = 200
) -> Template:
    user = await current_user(request)
    lot = await ledger.lot_stock(lot_id=lot_id)
    back = _location_param(request)
    shows_ledger = user.actor.has_role("manager")
    history = await ledger.lot_ledger(lot_id=lot_id, limit=LEDGER_ROWS) if shows_ledger else None
    context: dict[str, Any] = {"can_return": shows_ledger}
    if shows_ledger:
        places = [(str(lv.location_id), lv.location_name) for lv in lot.levels if lv.on_hand > 0]
        form = None
        if places or attempt is not None:
            values = attempt.values if attempt is not None else _return_defaults(lot, back)
            errors = attempt.errors if attempt is not None else {}
            form = ActionForm(
                action="return",
                id=RETURN_FORM,
                key=attempt.key if attempt is not None else once.new_key(),
                values={
                    name: values.get(name, "") for name in ("location_id", "quantity", "reason", "supplier_id", "note")
                },
                errors=errors,
                open=attempt is not None,
            )
        context |= {
            "return_form": form,
            "return_places": places,
            "return_reasons": [(code, gettext(name)) for code, name in RETURN_REASONS.items()],
            "suppliers": [(str(s.id), s.name) for s in await purchasing.list_suppliers()],
            "returns": await supplier_returns.list_returns(lot_id=lot_id, limit=50),
            "return_reason": lambda code: gettext(RETURN_REASONS[code]) if code in RETURN_REASONS else code,
        }
    return await render(
        request,
        "stock/lot.html",
        status=status,
        lot=lot,
        history=history,
        back=back,
        status_name=status_name,
        expiry_note=expiry_note,
        kind_label=kind_label,
        movement_details=movement_details,
        who=who,
        **context,
    )


@get("/stock/lots/{lot_id:int}", guards=[staff_page], include_in_schema=False, security=[])
async def lot_page(request: Request[Any, Any, Any], lot_id: FromPath[int]) -> Template:
    """A lot: its stock per location and, for managers (as the API's ledger), its movements and returns."""
    return await _lot_page(request, lot_id)


@post("/stock/lots/{lot_id:int}/return", guards=[manager_page], status_code=303, include_in_schema=False, security=[])
async def return_to_supplier(request: Request[Any, Any, Any], lot_id: FromPath[int]) -> Redirect | Template:
    """Send units of the lot back to a supplier from a location: a `return` ledger row, a return note."""
    form = await read_form(request)
    fields = Fields(form)
    places = {str(lv.location_id): lv.location_name for lv in (await ledger.lot_stock(lot_id=lot_id)).levels}
    suppliers = {str(s.id): s.name for s in await purchasing.list_suppliers()}
    location = fields.choice("location_id", list(places))
    quantity = fields.integer("quantity", minimum=1, maximum=stock.MAX_QUANTITY)
    why = fields.choice("reason", list(RETURN_REASONS))
    supplier = fields.choice("supplier_id", list(suppliers), required=False)
    note = fields.text("note", required=why == "other", max_length=500)

    async def refused(status: int) -> Template:
        values = {name: value for name, value in form.items() if isinstance(value, str)}
        key = str(form.get(once.FIELD) or once.new_key())
        attempt = Attempt(action="return", lot_id=lot_id, key=key, values=values, errors=fields.errors)
        return await _lot_page(request, lot_id, attempt=attempt, status=status)

    if fields.errors or location is None or quantity is None or why is None:
        return await refused(422)
    actor = (await current_user(request)).actor

    async def write() -> once.Summary:
        done = await supplier_returns.create(
            actor=actor,
            lot_id=lot_id,
            location_id=int(location),
            quantity=quantity,
            reason=why,
            supplier_id=int(supplier) if supplier else None,
            note=note,
        )
        record = done.record
        return {"lot": record.lot_number, "quantity": quantity, "number": record.number, "left": done.on_hand}

    try:
        summary = await once.run_once(request, form, write)
    except InventoryError as error:
        _refuse(fields, error, {"insufficient_stock": "quantity", "validation_error": "quantity", "not_found": "form"})
        return await refused(error.status)
    message = (
        gettext("Returned %(quantity)s of lot %(lot)s to the supplier (%(number)s); %(left)s left there.") % summary
    )
    return redirect(request, f"/ui/stock/lots/{lot_id}?location_id={location}#return", flash=message)


@get("/stock/returns/{return_id:int}/note.pdf", guards=[manager_page], include_in_schema=False, security=[])
async def return_note(return_id: FromPath[int]) -> Response[bytes]:
    """The return note of a return to a supplier, as a PDF to print and put in the box."""
    pdf = await return_documents.return_pdf(return_id)
    headers = {"Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="return-{return_id}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@get("/stock/locations/{location_id:int}/export.csv", guards=[staff_page], include_in_schema=False, security=[])
async def export_csv(location_id: FromPath[int]) -> Response[bytes]:
    """The location's stock as CSV (UTF-8 with BOM, opens in Excel), headings in the page's language."""
    location = _location_in(await catalog.list_locations(), location_id)
    today = clock.today_in(location["timezone"])
    flagged = {lot.lot_id: lot for lot in await discrepancies.flagged(location_id=location_id)}
    items = await stock.list_stock(location_id=location_id)
    header = [
        gettext("Location"),
        gettext("Brand"),
        gettext("Product"),
        "GTIN",
        gettext("Lot"),
        gettext("Expiry"),
        gettext("Status"),
        gettext("On hand"),
        gettext("To reconcile"),
    ]
    rows = []
    for item in items:
        line = StockLine.of(item, today, flagged[item["lot"]["id"]].reasons if item["lot"]["id"] in flagged else ())
        rows.append(
            [
                location["name"],
                line.brand_name,
                line.product_name,
                line.gtin or "",
                line.lot_number,
                line.expiry_date.isoformat(),
                status_name(line.status),
                line.on_hand,
                "; ".join(reason_label(reason, line.status) for reason in line.reasons),
            ]
        )
    return csv_download(f"stock-location-{location_id}-{today.isoformat()}.csv", header, rows)


HANDLERS: list[Any] = [stock_page, count, transfer, dispose, lot_page, return_to_supplier, return_note, export_csv]
