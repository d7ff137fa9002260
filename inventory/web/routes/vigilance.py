"""Vigilance pages: a reaction recorded from the chair or the client's page (staff), and the managers' page of
signals (quarantine a lot in one step), reactions, follow-ups and reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Template

from inventory import clock
from inventory.domain import vigilance as rules
from inventory.domain.errors import InventoryError, NotFound
from inventory.services import catalog, clinical, reaction_follow_ups, vigilance, vigilance_report
from inventory.web import once
from inventory.web.downloads import csv_attachment
from inventory.web.forms import Fields, field_of, refusal_message
from inventory.web.i18n import N_, gettext
from inventory.web.pages import (
    PAGE_HEADERS,
    current_user,
    manager_page,
    read_form,
    redirect,
    render,
    settings_of,
    staff_page,
)

MAX_ID = 2_147_483_647  # ids are PostgreSQL integers
Id = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
SignalId = Annotated[str, PathParameter(min_length=1, max_length=40)]
MAX_TEXT = 2000
MAX_REASON = 1800  # the signal's id is put before it (the API's limit)
LIST_LIMIT = 100
ONSET_FORMAT = "%Y-%m-%dT%H:%M"  # what a datetime-local input sends (seconds are dropped)

KIND_NAMES = {
    "swelling": N_("Swelling"),
    "bruising": N_("Bruising"),
    "nodule": N_("Nodule"),
    "infection": N_("Infection"),
    "allergic_reaction": N_("Allergic reaction"),
    "necrosis": N_("Necrosis"),
    "pain": N_("Pain"),
    "other": N_("Other"),
}
SEVERITY_NAMES = {"mild": N_("Mild"), "moderate": N_("Moderate"), "serious": N_("Serious")}
OUTCOME_NAMES = {
    "recovered": N_("Recovered"),
    "recovering": N_("Recovering"),
    "not_recovered": N_("Not recovered"),
    "unknown": N_("Unknown"),
}
REASON_NAMES = {
    "clients": N_("%(clients)s distinct clients within %(days)s days"),
    "serious": N_("a serious reaction"),
}
LOT_STATUSES = {"active": N_("Active"), "quarantined": N_("Quarantined"), "recalled": N_("Recalled")}
# The service's refusals of a reaction, in the words of the form.
_REFUSALS = {
    "onset_in_future": N_("The onset cannot be in the future."),
    "onset_too_early": N_("The onset is more than a day before the session started."),
    "signal_needs_lot": N_("A product signal names no lot: quarantine its lots one by one."),
}
_ONSET = N_("Enter the date and time it began.")
_CONFIRM = N_("Tick the box to confirm: scans of this lot will be refused everywhere.")
_NO_SIGNAL = N_("This signal is no longer raised; the list below is up to date.")


@dataclass(frozen=True)
class Form:
    """A refused form shown again: which form on the page, its messages by field and what was typed."""

    name: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


def _names(names: dict[str, str]) -> dict[str, str]:
    return {key: gettext(label) for key, label in names.items()}


def _refuse(fields: Fields, error: InventoryError, default: str) -> None:
    """A service's refusal next to its field, in the form's words when the code is the form's own."""
    message = gettext(_REFUSALS[error.code]) if error.code in _REFUSALS else refusal_message(error)
    fields.errors.setdefault(field_of(error, default=default), message)


# ------------------------------------------------------------------ recording a reaction (staff)


def _local_input(at: datetime, timezone: str) -> str:
    """An instant as the datetime-local input shows it at the location."""
    return clock.local_now(timezone, at).strftime(ONSET_FORMAT)


def _onset(fields: Fields, timezone: str) -> datetime | None:
    """The onset typed in the location's local time, as an instant (a message next to the field when unreadable)."""
    value = fields.raw("onset_at")
    try:
        local = datetime.strptime(value[:16], ONSET_FORMAT) if len(value) in (16, 19) else None
    except ValueError:
        local = None
    if local is None:
        fields.errors.setdefault("onset_at", gettext(_ONSET))
        return None
    return local.replace(tzinfo=clock.zone(timezone)).astimezone(UTC)


async def _session(session_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The session with its uses, and its location."""
    session = await clinical.get_session(session_id=session_id)
    location = next(loc for loc in await catalog.list_locations() if loc["id"] == session["location_id"])
    return session, location


def _lots_used(session: dict[str, Any]) -> list[dict[str, Any]]:
    """The lots of the session's non-voided uses, once each, in the order first used."""
    lots: dict[int, dict[str, Any]] = {}
    for use in session["usages"]:
        if not use["voided"]:
            lots.setdefault(use["lot_id"], use)
    return list(lots.values())


async def _reaction_form(
    request: Request[Any, Any, Any], session_id: int, *, form: Form | None = None, status: int = 200
) -> Template:
    session, location = await _session(session_id)
    values = form.values if form else {"onset_at": _local_input(clock.now(), location["timezone"])}
    return await render(
        request,
        "vigilance/record.html",
        status=status,
        session=session,
        location=location,
        lots=_lots_used(session),
        errors=form.errors if form else {},
        values=values,
        key=values.get(once.FIELD) or once.new_key(),
        kinds=_names(KIND_NAMES),
        severities=_names(SEVERITY_NAMES),
        outcomes=_names(OUTCOME_NAMES),
    )


@get("/sessions/{session_id:int}/reaction", guards=[staff_page], include_in_schema=False, security=[])
async def reaction_form(request: Request[Any, Any, Any], session_id: Id) -> Template:
    """The form to record a reaction of the session's client (onset in the location's local time)."""
    return await _reaction_form(request, session_id)


@post(
    "/sessions/{session_id:int}/reaction",
    guards=[staff_page],
    include_in_schema=False,
    security=[],
    status_code=303,
)
async def record_reaction(request: Request[Any, Any, Any], session_id: Id) -> Redirect | Template:
    """Record the reaction (every lot used in the session is linked), then show what was linked."""
    user = await current_user(request)
    form = await read_form(request)
    fields = Fields(form)
    _, location = await _session(session_id)
    kind = fields.choice("kind", rules.REACTION_KINDS)
    severity = fields.choice("severity", rules.SEVERITIES)
    onset_at = _onset(fields, location["timezone"])
    outcome = fields.choice("outcome", rules.OUTCOMES, required=False)
    description = fields.text("description", required=False, max_length=MAX_TEXT)
    if not fields.errors:
        assert kind is not None and severity is not None and onset_at is not None

        async def write() -> once.Summary:
            record = await vigilance.record_reaction(
                actor=user.actor,
                session_id=session_id,
                kind=kind,
                severity=severity,
                onset_at=onset_at,
                outcome=outcome,
                description=description,
                webhook_url=settings_of(request).webhook_url,
            )
            return {"id": record.id, "lots": len(record.lots)}

        try:
            saved = await once.run_once(request, form, write)
        except NotFound:
            raise  # the session went away: the error page
        except InventoryError as error:
            _refuse(fields, error, default="kind")
        else:
            return redirect(
                request,
                f"/ui/sessions/{session_id}/reactions/{saved['id']}",
                flash=gettext("Reaction recorded."),
            )
    return await _reaction_form(request, session_id, form=Form(errors=fields.errors, values=form), status=422)


@get(
    "/sessions/{session_id:int}/reactions/{reaction_id:int}",
    guards=[staff_page],
    include_in_schema=False,
    security=[],
)
async def recorded_reaction(request: Request[Any, Any, Any], session_id: Id, reaction_id: Id) -> Template:
    """A reaction just recorded and the lots linked to it (never the client's contacts)."""
    reaction = await vigilance.get_reaction(reaction_id=reaction_id)
    if reaction.session_id != session_id:
        raise NotFound.of("reaction", reaction_id)
    session, location = await _session(session_id)
    products = {p["id"]: p for p in await catalog.list_products(limit=500)}
    return await render(
        request,
        "vigilance/recorded.html",
        reaction=reaction,
        session=session,
        location=location,
        products=products,
        kinds=_names(KIND_NAMES),
        severities=_names(SEVERITY_NAMES),
        outcomes=_names(OUTCOME_NAMES),
    )


# ------------------------------------------------------------------ the managers' page


def _signal_reasons(signal: vigilance.SignalView) -> list[str]:
    return [
        gettext(REASON_NAMES[reason]) % {"clients": signal.clients, "days": vigilance.SIGNAL_RULE.window_days}
        for reason in signal.reasons
        if reason in REASON_NAMES
    ]


async def _desk(request: Request[Any, Any, Any], *, form: Form | None = None, status: int = 200) -> Template:
    query = Fields({k: str(request.query_params.get(k) or "") for k in ("severity", "product_id")})
    products = await catalog.list_products(limit=500)
    severity = query.choice("severity", rules.SEVERITIES, required=False)
    product = query.choice("product_id", [str(p["id"]) for p in products], required=False)
    signals = await vigilance.list_signals()
    reactions = await reaction_follow_ups.list_followed(
        severity=severity, product_id=int(product) if product else None, limit=LIST_LIMIT
    )
    return await render(
        request,
        "vigilance/desk.html",
        status=422 if query.errors and status == 200 else status,
        signals=signals,
        signal_reasons={s.id: _signal_reasons(s) for s in signals},
        reactions=reactions,
        products={p["id"]: p for p in products},
        product_list=products,
        severity=severity or "",
        product_id=product or "",
        form=form or Form(),
        key=(form.values.get(once.FIELD) if form else None) or once.new_key(),
        kinds=_names(KIND_NAMES),
        severities=_names(SEVERITY_NAMES),
        outcomes=_names(OUTCOME_NAMES),
        lot_statuses=_names(LOT_STATUSES),
        timezone=settings_of(request).timezone,
        window_days=vigilance.SIGNAL_RULE.window_days,
        min_clients=vigilance.SIGNAL_RULE.min_clients,
    )


@get("/vigilance", guards=[manager_page], include_in_schema=False, security=[])
async def desk(request: Request[Any, Any, Any]) -> Template:
    """Open signals with their one action, and reactions (newest first, `?severity=`, `?product_id=`)."""
    return await _desk(request)


@post(
    "/vigilance/signals/{signal:str}/quarantine",
    guards=[manager_page],
    include_in_schema=False,
    security=[],
    status_code=303,
)
async def quarantine_signal(request: Request[Any, Any, Any], signal: SignalId) -> Redirect | Template:
    """Quarantine a lot signal's lot everywhere, with a reason and a ticked confirmation."""
    user = await current_user(request)
    form = await read_form(request)
    fields = Fields(form)
    reason = fields.text("reason", max_length=MAX_REASON)
    if fields.raw("confirm") != "yes":
        fields.errors.setdefault("confirm", gettext(_CONFIRM))
    name = f"signal-{signal}"
    if not fields.errors:
        assert reason is not None
        try:
            held = await vigilance.quarantine_signal(actor=user.actor, signal_id=signal, reason=reason)
        except NotFound:
            return redirect(request, "/ui/vigilance", flash=gettext(_NO_SIGNAL), kind="error")
        except InventoryError as error:
            _refuse(fields, error, default="reason")
        else:
            message = gettext("Lot %(lot)s is in quarantine at every location: scans of it are refused.")
            return redirect(request, f"/ui/vigilance#{name}", flash=message % {"lot": held.lot.lot_number})
    return await _desk(request, form=Form(name=name, errors=fields.errors, values=form), status=422)


@post(
    "/vigilance/reactions/{reaction_id:int}/follow-ups",
    guards=[manager_page],
    include_in_schema=False,
    security=[],
    status_code=303,
)
async def follow_up(request: Request[Any, Any, Any], reaction_id: Id) -> Redirect | Template:
    """Append a follow-up to a reaction: a note, and the outcome now when it changed."""
    user = await current_user(request)
    form = await read_form(request)
    fields = Fields(form)
    note = fields.text("note", max_length=MAX_TEXT)
    outcome = fields.choice("outcome", rules.OUTCOMES, required=False)
    name = f"reaction-{reaction_id}"
    if not fields.errors:
        assert note is not None

        async def write() -> once.Summary:
            made = await reaction_follow_ups.add_follow_up(
                actor=user.actor, reaction_id=reaction_id, note=note, outcome=outcome
            )
            return {"id": made.id}

        try:
            await once.run_once(request, form, write)
        except NotFound:
            raise  # no such reaction: the error page
        except InventoryError as error:
            _refuse(fields, error, default="note")
        else:
            message = gettext("Follow-up saved for reaction #%(id)s.") % {"id": reaction_id}
            return redirect(request, f"/ui/vigilance#{name}", flash=message)
    return await _desk(request, form=Form(name=name, errors=fields.errors, values=form), status=422)


@get("/vigilance/reactions/{reaction_id:int}/report.pdf", guards=[manager_page], include_in_schema=False, security=[])
async def report_pdf(request: Request[Any, Any, Any], reaction_id: Id) -> Response[bytes]:
    """The reaction's pre-filled report as a PDF (no name, contacts or birth date of the client)."""
    report = await vigilance_report.reaction_report(reaction_id=reaction_id)
    return Response(
        vigilance_report.report_pdf(report),
        media_type="application/pdf",
        headers={**PAGE_HEADERS, "Content-Disposition": f'inline; filename="reaction-{reaction_id}.pdf"'},
    )


@get("/vigilance/reactions/{reaction_id:int}/report.csv", guards=[manager_page], include_in_schema=False, security=[])
async def report_csv(request: Request[Any, Any, Any], reaction_id: Id) -> Response[bytes]:
    """The reaction's pre-filled report as CSV, one row per lot (UTF-8 with a BOM, as the API's)."""
    report = await vigilance_report.reaction_report(reaction_id=reaction_id)
    return csv_attachment(f"reaction-{reaction_id}.csv", vigilance_report.report_csv(report))


HANDLERS: list[Any] = [
    reaction_form,
    record_reaction,
    recorded_reaction,
    desk,
    quarantine_signal,
    follow_up,
    report_pdf,
    report_csv,
]
