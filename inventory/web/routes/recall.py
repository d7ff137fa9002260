"""The recall desk (managers): trace a lot, quarantine it, open a case, then run the case over days (contacts and
notes per client, disposal of the units left on the shelves, the clients' CSV) and close it with its report."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Template

from inventory.domain.errors import InventoryError, NotFound, Unprocessable
from inventory.services import idempotency, quarantine, recall_cases, recall_contacts, trace
from inventory.services.page_sessions import PageSignIn
from inventory.web.downloads import csv_attachment
from inventory.web.forms import Fields
from inventory.web.i18n import N_, NP_, gettext, ngettext
from inventory.web.pages import current_user, manager_page, read_form, redirect, render, settings_of

MAX_ID = 2_147_483_647  # ids are PostgreSQL integers
Id = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
MAX_CASES = 200
MAX_REASON = 2000

LOT_STATUSES = {"active": N_("Active"), "quarantined": N_("Quarantined"), "recalled": N_("Recalled")}
CASE_STATUSES = {"open": NP_("recall case", "Open"), "closed": NP_("recall case", "Closed")}
CONTACT_STATUSES = {
    "to_contact": N_("To contact"),
    "contacted": N_("Contacted"),
    "unreachable": N_("Unreachable"),
    "acknowledged": NP_("recall contact", "Acknowledged"),
}
_NO_LOT = N_("Tick at least one lot to recall.")
_NOTHING_TO_SAVE = N_("Choose a new contact status or write a note.")


@dataclass(frozen=True)
class FormState:
    """A refused form shown again: which form on the page, a message per field, and what was typed."""

    form: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


def _refused(
    form: str, fields: Fields, error: InventoryError | None = None, default: str = "form", **by_code: str
) -> FormState:
    """The form's state after bad input or a service's refusal (next to the field `by_code` names, else `default`)."""
    if error is not None:
        fields.refuse(error, by_code=by_code, default=default)
    return FormState(form=form, errors=dict(fields.errors), values=dict(fields.form))


def _labels(names: dict[str, str]) -> dict[str, str]:
    return {key: gettext(label) for key, label in names.items()}


def _form_key(failed: FormState | None) -> str:
    """A fresh key per rendered page (a refused form keeps its own, since nothing was kept for it)."""
    kept = failed.values.get("form_key") if failed else None
    return kept if isinstance(kept, str) and kept else str(uuid.uuid4())


async def _once(
    request: Request[Any, Any, Any], form: dict[str, Any], write: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """Run a form's write once per rendered form key; the same form sent again gets the first result back."""
    # A double click or a resent form must not open two cases or dispose twice; "ui:" keeps page keys apart.
    user = await current_user(request)
    key = form.get("form_key")
    if not isinstance(key, str) or not key:
        return await write()
    sent = {name: value for name, value in form.items() if name not in ("csrf_token", "form_key")}
    fingerprint = hashlib.sha256(
        (request.url.path + "\n" + json.dumps(sent, sort_keys=True, default=str)).encode()
    ).hexdigest()

    async def operation() -> idempotency.StoredResponse:
        return idempotency.StoredResponse(200, json.dumps(await write(), default=str).encode())

    stored = await idempotency.run_once(
        user_id=user.actor.id, key=f"ui:{key}"[:255], fingerprint=fingerprint, operation=operation
    )
    kept: dict[str, Any] = json.loads(stored.body)
    return kept


def _desk_path(lot: str) -> str:
    return f"/ui/recall?lot={quote(lot, safe='')}" if lot else "/ui/recall"


def _case_path(recall_id: int) -> str:
    return f"/ui/recall/{recall_id}"


# ------------------------------------------------------------------ the desk: trace, quarantine, open a case


async def _desk(
    request: Request[Any, Any, Any], user: PageSignIn, *, lot: str, failed: FormState | None = None, status: int = 200
) -> Template:
    found = None
    if lot:
        try:
            found = await trace.trace_lot(actor=user.actor, lot_number=lot)
        except InventoryError as error:
            failed, status = _refused("trace", Fields({"lot": lot}), error, lot_number_invalid="lot"), error.status
    entries = (found.matches + found.similar) if found else []
    cases = await recall_cases.list_recalls(actor=user.actor, limit=MAX_CASES)
    return await render(
        request,
        "recall/desk.html",
        status=status,
        lot=lot,
        found=found,
        entries=entries,
        cases_by_lot=await recall_cases.cases_naming(lot_ids=[entry.lot.id for entry in entries]),
        open_cases=[case for case in cases if case.status == "open"],
        closed_cases=[case for case in cases if case.status == "closed"],
        failed=failed or FormState(),
        form_key=_form_key(failed),
        timezone=settings_of(request).timezone,
        lot_statuses=_labels(LOT_STATUSES),
    )


@get("/recall", guards=[manager_page], include_in_schema=False, security=[])
async def desk(request: Request[Any, Any, Any]) -> Template:
    """The recall desk: the trace form (GET ?lot=, the look-up is audited), what it found, and every case."""
    return await _desk(request, await current_user(request), lot=str(request.query_params.get("lot") or "").strip())


def _lot_id(fields: Fields, name: str = "lot_id") -> int:
    """A lot or location id from a hidden field; a tampered one is the error page, not a field's message."""
    value = fields.integer(name, minimum=1, maximum=MAX_ID)
    if value is None:
        raise Unprocessable(f"The form's {name} is not valid.", code="validation_error")
    return value


@post("/recall/quarantine", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def quarantine_lot(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Quarantine one lot at every location, with a reason; back to the trace."""
    user = await current_user(request)
    fields = Fields(await read_form(request))
    lot_id = _lot_id(fields)
    lot = fields.raw("lot")
    reason = fields.text("reason", max_length=MAX_REASON)
    form = f"quarantine-{lot_id}"
    if reason is None:
        return await _desk(request, user, lot=lot, failed=_refused(form, fields), status=422)
    try:
        held = await quarantine.quarantine_lot(actor=user.actor, lot_id=lot_id, reason=reason)
    except NotFound:
        raise  # a lot that does not exist: a tampered form, answered by the error page
    except InventoryError as error:
        failed = _refused(form, fields, error, default="reason")
        return await _desk(request, user, lot=lot, failed=failed, status=error.status)
    message = gettext("Lot %(lot)s is in quarantine at every location: scans of it are refused.")
    return redirect(request, _desk_path(lot), flash=message % {"lot": held.lot.lot_number})


@post("/recall/cases", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def open_case(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Open a recall case on the ticked lots (recalled at once, clients listed); on to the case."""
    user = await current_user(request)
    form = await read_form(request)
    fields = Fields(form)
    lot = fields.raw("lot")
    lot_ids = fields.ids("lot_ids")
    reason = fields.text("reason", max_length=MAX_REASON)
    source = fields.text("source", required=False)
    reference = fields.text("reference", required=False)
    if not lot_ids:
        fields.errors["lot_ids"] = gettext(_NO_LOT)
    if fields.errors or reason is None:
        return await _desk(request, user, lot=lot, failed=_refused("recall", fields), status=422)

    async def write() -> dict[str, Any]:
        case = await recall_cases.create_recall(
            actor=user.actor, lot_ids=lot_ids, reason=reason, source=source, reference=reference
        )
        return {"id": case.id}

    try:
        created = await _once(request, form, write)
    except InventoryError as error:
        failed = _refused("recall", fields, error, not_found="lot_ids")
        return await _desk(request, user, lot=lot, failed=failed, status=error.status)
    message = gettext("Recall case #%(id)s is open: its lots are recalled everywhere and scans of them are refused.")
    return redirect(request, _case_path(created["id"]), flash=message % {"id": created["id"]})


# ------------------------------------------------------------------ a case over days


async def _case_page(
    request: Request[Any, Any, Any],
    user: PageSignIn,
    recall_id: int,
    *,
    failed: FormState | None = None,
    status: int = 200,
) -> Template:
    case = await recall_cases.get_recall(actor=user.actor, recall_id=recall_id)
    return await render(
        request,
        "recall/case.html",
        status=status,
        case=case,
        failed=failed or FormState(),
        form_key=_form_key(failed),
        timezone=settings_of(request).timezone,
        lot_statuses=_labels(LOT_STATUSES),
        case_statuses=_labels(CASE_STATUSES),
        contact_statuses=_labels(CONTACT_STATUSES),
        transitions={status: sorted(after) for status, after in recall_contacts.TRANSITIONS.items()},
    )


@get("/recall/{recall_id:int}", guards=[manager_page], include_in_schema=False, security=[])
async def case_page(request: Request[Any, Any, Any], recall_id: Id) -> Template:
    """A case: its lots and what is left of them on the shelves, its clients and their contact, the report."""
    return await _case_page(request, await current_user(request), recall_id)


@post(
    "/recall/{recall_id:int}/clients/{client_id:int}",
    guards=[manager_page],
    include_in_schema=False,
    security=[],
    status_code=303,
)
async def update_client(request: Request[Any, Any, Any], recall_id: Id, client_id: Id) -> Redirect | Template:
    """Record contact with a client (a new status, with or without a note) or just write the note."""
    user = await current_user(request)
    fields = Fields(await read_form(request))
    contact_status = fields.choice("contact_status", tuple(CONTACT_STATUSES), required=False)
    note = fields.text("note", required=False, max_length=MAX_REASON)
    form = f"client-{client_id}"
    if not fields.errors and contact_status is None and note is None:
        fields.errors["contact_status"] = gettext(_NOTHING_TO_SAVE)
    if fields.errors:
        return await _case_page(request, user, recall_id, failed=_refused(form, fields), status=422)
    try:
        if contact_status is not None:
            entry = await recall_contacts.set_client_status(
                actor=user.actor, recall_id=recall_id, client_id=client_id, contact_status=contact_status, note=note
            )
        else:
            assert note is not None
            entry = await recall_contacts.set_client_note(
                actor=user.actor, recall_id=recall_id, client_id=client_id, note=note
            )
    except NotFound:
        raise  # the case or its client does not exist: the error page
    except InventoryError as error:
        failed = _refused(form, fields, error, invalid_transition="contact_status", recall_closed="contact_status")
        return await _case_page(request, user, recall_id, failed=failed, status=error.status)
    message = gettext("Saved for %(name)s (contact status: %(status)s).") % {
        "name": entry.client.full_name,
        "status": gettext(CONTACT_STATUSES[entry.contact_status]),
    }
    return redirect(request, _case_path(recall_id) + f"#client-{client_id}", flash=message)


@post("/recall/{recall_id:int}/dispose", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def dispose(request: Request[Any, Any, Any], recall_id: Id) -> Redirect | Template:
    """Dispose of units of a recalled lot left on a location's shelf, with a reason."""
    user = await current_user(request)
    form = await read_form(request)
    fields = Fields(form)
    lot_id, location_id = _lot_id(fields), _lot_id(fields, "location_id")
    quantity = fields.integer("quantity", minimum=1, maximum=100_000)
    reason = fields.text("reason", max_length=MAX_REASON)
    name = f"dispose-{lot_id}-{location_id}"
    if quantity is None or reason is None:
        return await _case_page(request, user, recall_id, failed=_refused(name, fields), status=422)

    async def write() -> dict[str, Any]:
        done = await recall_cases.dispose_units(
            actor=user.actor,
            recall_id=recall_id,
            lot_id=lot_id,
            location_id=location_id,
            quantity=quantity,
            reason=reason,
        )
        return {"quantity": done["quantity"], "lot_number": done["lot"]["lot_number"], "on_hand": done["on_hand"]}

    try:
        done = await _once(request, form, write)
    except NotFound:
        raise  # a lot the case does not name, or no such case: the error page
    except InventoryError as error:
        failed = _refused(name, fields, error, insufficient_stock="quantity", validation_error="reason")
        return await _case_page(request, user, recall_id, failed=failed, status=error.status)
    message = ngettext(
        "%(quantity)s unit of lot %(lot)s disposed of; %(left)s left there.",
        "%(quantity)s units of lot %(lot)s disposed of; %(left)s left there.",
        done["quantity"],
    ) % {
        "quantity": done["quantity"],
        "lot": done["lot_number"],
        "left": done["on_hand"],
    }
    return redirect(request, _case_path(recall_id) + "#shelves", flash=message)


@post("/recall/{recall_id:int}/close", guards=[manager_page], include_in_schema=False, security=[], status_code=303)
async def close_case(request: Request[Any, Any, Any], recall_id: Id) -> Redirect | Template:
    """Close the case with a note; its report is shown from then on."""
    user = await current_user(request)
    fields = Fields(await read_form(request))
    note = fields.text("note", required=False, max_length=MAX_REASON)
    if fields.errors:
        return await _case_page(request, user, recall_id, failed=_refused("close", fields), status=422)
    try:
        await recall_cases.close_recall(actor=user.actor, recall_id=recall_id, note=note)
    except InventoryError as error:
        failed = _refused("close", fields, error, recall_closed="note")
        return await _case_page(request, user, recall_id, failed=failed, status=error.status)
    message = gettext("Recall case #%(id)s is closed; its report is below.") % {"id": recall_id}
    return redirect(request, _case_path(recall_id), flash=message)


@get("/recall/{recall_id:int}/clients.csv", guards=[manager_page], include_in_schema=False, security=[])
async def clients_csv(request: Request[Any, Any, Any], recall_id: Id) -> Response[bytes]:
    """The case's clients with their contact details, as CSV for a spreadsheet (UTF-8 with BOM); audited."""
    user = await current_user(request)
    content = await recall_contacts.clients_csv(actor=user.actor, recall_id=recall_id)
    return csv_attachment(f"recall-{recall_id}-clients.csv", content)


HANDLERS: list[Any] = [desk, quarantine_lot, open_case, case_page, update_client, dispose, close_case, clients_csv]
