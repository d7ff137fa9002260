"""Clients: find one by name, register one with allergies, and a client's page (allergies, contacts for the roles
that may see them, the lots received with their implant cards, courses with their planned sessions, a session at the
chair, and erasure on request by an admin)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, PathParameter
from litestar.response import Redirect, Template

from inventory import clock
from inventory.domain.errors import InventoryError, NotFound
from inventory.services import catalog, clinical, erasure, implant_card, trace
from inventory.web import once
from inventory.web.forms import Fields, field_of, refusal_message
from inventory.web.i18n import N_, NP_, format_date, gettext, ngettext
from inventory.web.pages import (
    PAGE_HEADERS,
    admin_page,
    current_user,
    read_form,
    redirect,
    render,
    settings_of,
    staff_page,
)

SEARCH_LENGTH = 100  # as the API's GET /api/clients?q=
LIST_LIMIT = 50
PRODUCT_ROWS = 3  # products a course form offers (a course usually uses one or two)
MAX_QUANTITY = 100  # per product and session, as the API's
MAX_REASON = 1000  # an erasure's reason, as the API's
MAX_ID = 2_147_483_647  # ids are PostgreSQL integers
Id = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
# Allergies typed in one box: one per line, or separated by commas or semicolons. "Latex, lidocaine" on one line
# must become two allergies, or the chair's allergy check would look for the ingredient "latex lidocaine".
_ALLERGY_SEPARATORS = re.compile(r"[\r\n,;]+")

_CONTROL = N_("Remove the control characters.")
_ALLERGY_TOO_LONG = N_("Each allergy has at most %(length)s characters.")
_TOO_MANY_ALLERGIES = N_("At most %(count)s allergies.")
_LISTED_TWICE = N_("This product is already listed above.")
_START_RANGE = N_("Choose a first date between %(earliest)s and %(latest)s.")
# What a refusal of the service means next to the field it names (its codes are generic: validation_error).
_FIELD_MESSAGES = {
    "full_name": N_("Enter the client's full name (at most 200 characters)."),
    "email": N_("Enter an e-mail address such as name@example.com."),
    "phone": N_("Enter a phone number: digits, spaces and + ( ) . - / only."),
    "date_of_birth": N_("Enter a date of birth between 1 January 1900 and today."),
    "allergies": N_("Each allergy has at most 120 characters, and a client at most 50."),
    "treatment": N_("Name the treatment."),
    "sessions": N_("A course has 1 to 52 sessions."),
    "interval_days": N_("The interval is 1 to 365 days."),
    "start_date": N_("This first date is too far in the past."),
}
_ERASED = N_("This client was erased: no new session, course or allergy can be recorded for them.")
_ALREADY_ERASED = N_("This client was already erased.")
_CONFIRM_ERASE = N_("Tick the box to confirm: the erasure cannot be undone.")
STATUS_NAMES = {"planned": N_("Planned"), "open": NP_("session", "Open"), "closed": NP_("session", "Closed")}


@dataclass
class Form:
    """A form's typed values and its messages by field (empty: nothing to show)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def split_allergies(text: str) -> list[str]:
    """The allergies typed in one box (one per line, or separated by commas or semicolons)."""
    return [part.strip() for part in _ALLERGY_SEPARATORS.split(text) if part.strip()]


def _printable(fields: Fields, name: str, value: str | None) -> str | None:
    """`value`, unless it holds control characters (then a message next to the field)."""
    if value is not None and not value.isprintable():
        fields.errors.setdefault(name, gettext(_CONTROL))
        return None
    return value


def _allergies(fields: Fields, name: str) -> list[str]:
    """The allergies of a box, each checked; a message next to the box when one is wrong."""
    allergies = split_allergies(str(fields.form.get(name) or ""))
    if any(not a.replace("\t", " ").isprintable() for a in allergies):
        fields.errors.setdefault(name, gettext(_CONTROL))
    elif any(len(a) > clinical.MAX_ALLERGY_LENGTH for a in allergies):
        fields.errors.setdefault(name, gettext(_ALLERGY_TOO_LONG) % {"length": clinical.MAX_ALLERGY_LENGTH})
    elif len(allergies) > clinical.MAX_ALLERGIES:
        fields.errors.setdefault(name, gettext(_TOO_MANY_ALLERGIES) % {"count": clinical.MAX_ALLERGIES})
    return allergies


def _refuse(fields: Fields, error: InventoryError, *, by_code: dict[str, str] | None = None, default: str) -> None:
    """Put a service's refusal next to its field, worded for that field when the code is a generic one."""
    name = field_of(error, by_code, default)
    message = refusal_message(error)
    if error.code == "validation_error" and name in _FIELD_MESSAGES:
        message = gettext(_FIELD_MESSAGES[name])
    if error.code == "date_out_of_range" and {"earliest", "latest"} <= error.extra.keys():
        earliest, latest = (date.fromisoformat(error.extra[k]) for k in ("earliest", "latest"))
        message = gettext(_START_RANGE) % {"earliest": format_date(earliest), "latest": format_date(latest)}
    fields.errors.setdefault(name, message)


# ------------------------------------------------------------------ the list and the new client


async def _index(request: Request[Any, Any, Any], *, status: int = 200, new: Form | None = None) -> Template:
    user = await current_user(request)
    search = Fields({"q": request.query_params.get("q", "")})
    query = _printable(search, "q", search.text("q", required=False, max_length=SEARCH_LENGTH))
    clients: list[dict[str, Any]] = []
    # Only a search lists clients: the first few of a long list by name would help nobody find anyone.
    if query is not None and not search.errors:
        clients = await clinical.list_clients(actor=user.actor, query=query, limit=LIST_LIMIT + 1)
    return await render(
        request,
        "clients/index.html",
        status=422 if search.errors and status == 200 else status,
        q=search.raw("q"),
        searched=query is not None,
        search_errors=search.errors,
        clients=clients[:LIST_LIMIT],
        more=len(clients) > LIST_LIMIT,
        new=new or Form(),
    )


@get("/clients", include_in_schema=False, security=[], guards=[staff_page])
async def clients_page(request: Request[Any, Any, Any]) -> Template:
    """Find a client by part of the name (`?q=`), or register a new one."""
    return await _index(request)


@post("/clients", include_in_schema=False, security=[], guards=[staff_page], status_code=303)
async def create_client(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Register a client with their allergies and contacts, then show their page."""
    user = await current_user(request)
    form = await read_form(request)
    fields = Fields(form)
    full_name = _printable(fields, "full_name", fields.text("full_name", max_length=clinical.MAX_NAME_LENGTH))
    date_of_birth = fields.date("date_of_birth", required=False)
    email = _printable(fields, "email", fields.text("email", required=False, max_length=254))
    phone = fields.text("phone", required=False, max_length=40)
    allergies = _allergies(fields, "allergies")
    if not fields.errors:
        assert full_name is not None
        try:
            client = await clinical.create_client(
                actor=user.actor,
                full_name=full_name,
                email=email,
                phone=phone,
                date_of_birth=date_of_birth,
                allergies=allergies,
            )
        except InventoryError as error:
            _refuse(fields, error, default="full_name")
        else:
            return redirect(
                request,
                f"/ui/clients/{client['id']}",
                flash=gettext("Client registered: %(name)s.") % {"name": client["full_name"]},
            )
    return await _index(request, status=422, new=Form(values=form, errors=fields.errors))


# ------------------------------------------------------------------ one client


def _history_rows(history: trace.History) -> list[dict[str, Any]]:
    """One row per use on the client, latest first, with its lot and product (a template's rows)."""
    rows = [
        {"lot": entry.lot, "product": entry.product, "recalled": bool(entry.recall_ids), "use": use}
        for entry in history.lots
        for use in entry.usages
    ]
    return sorted(rows, key=lambda row: (row["use"].used_at, row["use"].usage_id), reverse=True)


async def _client_page(
    request: Request[Any, Any, Any],
    client_id: int,
    *,
    status: int = 200,
    allergy: Form | None = None,
    course: Form | None = None,
    session: Form | None = None,
    erase: Form | None = None,
    notice: str | None = None,
) -> Template:
    user = await current_user(request)
    client = await clinical.get_client(actor=user.actor, client_id=client_id)
    erased_at = client["erased_at"]
    erase = erase or Form()
    history = await trace.client_history(actor=user.actor, client_id=client_id)
    courses = await clinical.client_courses(client_id=client_id)
    open_sessions = await clinical.list_sessions(location_id=None, client_id=client_id, status="open", limit=20)
    locations = await catalog.list_locations()
    products = [p for p in await catalog.list_products(limit=500) if p["active"]]
    return await render(
        request,
        "clients/client.html",
        status=status,
        client=client,
        show_contacts=clinical.sees_contacts(user.actor),
        history=_history_rows(history),
        courses=courses,
        open_sessions=[s for s in open_sessions if s["course_id"] is None],
        locations=locations,
        location_names={loc["id"]: loc["name"] for loc in locations},
        products=products,
        product_rows=range(1, PRODUCT_ROWS + 1),
        status_names={key: gettext(name) for key, name in STATUS_NAMES.items()},
        allergy=allergy or Form(),
        course=course or Form(),
        session=session or Form(),
        # The deployment's local date: a client belongs to no one location.
        erased_on=clock.today_in(settings_of(request).timezone, erased_at) if erased_at else None,
        can_erase=erased_at is None and user.actor.has_role("admin"),
        erase=erase,
        erase_key=erase.values.get(once.FIELD) or once.new_key(),
        notice=notice,
    )


async def _refused_as_erased(request: Request[Any, Any, Any], client_id: int) -> Template:
    """The client's page again, saying politely why nothing new can be recorded for an erased client."""
    return await _client_page(request, client_id, status=409, notice=gettext(_ERASED))


@get("/clients/{client_id:int}", include_in_schema=False, security=[], guards=[staff_page])
async def client_page(request: Request[Any, Any, Any], client_id: FromPath[int]) -> Template:
    """A client: allergies, contacts (managers), lots received, courses and sessions."""
    return await _client_page(request, client_id)


@post("/clients/{client_id:int}/allergies", include_in_schema=False, security=[], guards=[staff_page], status_code=303)
async def add_allergies(request: Request[Any, Any, Any], client_id: FromPath[int]) -> Redirect | Template:
    """Add allergies to a client (one per line, or separated by commas)."""
    user = await current_user(request)
    form = await read_form(request)
    # Erasure removed the allergies and the service would take new ones (health data of nobody known): not here.
    if (await clinical.get_client(actor=user.actor, client_id=client_id))["erased_at"] is not None:
        return await _refused_as_erased(request, client_id)
    fields = Fields(form)
    allergies = _allergies(fields, "allergies")
    if not allergies and not fields.errors:
        fields.errors["allergies"] = gettext("Type the allergy to add.")
    if not fields.errors:
        try:
            await clinical.change_allergies(actor=user.actor, client_id=client_id, add=allergies)
        except InventoryError as error:
            _refuse(fields, error, default="allergies")
        else:
            message = ngettext("Allergy recorded.", "Allergies recorded.", len(allergies))
            return redirect(request, f"/ui/clients/{client_id}", flash=message)
    return await _client_page(request, client_id, status=422, allergy=Form(values=form, errors=fields.errors))


@post(
    "/clients/{client_id:int}/allergies/remove",
    include_in_schema=False,
    security=[],
    guards=[staff_page],
    status_code=303,
)
async def remove_allergy(request: Request[Any, Any, Any], client_id: FromPath[int]) -> Redirect:
    """Remove one allergy of a client (recorded in the audit log with what it was)."""
    user = await current_user(request)
    form = await read_form(request)
    allergy = str(form.get("allergy") or "")
    if not allergy:  # only a hand-made request has no allergy: nothing to remove, nothing to say
        return redirect(request, f"/ui/clients/{client_id}")
    await clinical.change_allergies(actor=user.actor, client_id=client_id, remove=[allergy])
    return redirect(
        request, f"/ui/clients/{client_id}", flash=gettext("Allergy removed: %(allergy)s.") % {"allergy": allergy}
    )


def _course_products(fields: Fields, product_ids: list[str]) -> list[tuple[int, int]]:
    """The chosen products with their quantities per session; each product once."""
    chosen: list[tuple[int, int]] = []
    for row in range(1, PRODUCT_ROWS + 1):
        product = fields.choice(f"product_{row}", product_ids, required=False)
        quantity = fields.integer(f"quantity_{row}", required=False, minimum=1, maximum=MAX_QUANTITY)
        if product is None:
            continue
        if any(int(product) == known for known, _ in chosen):
            fields.errors.setdefault(f"product_{row}", gettext(_LISTED_TWICE))
            continue
        chosen.append((int(product), quantity or 1))
    return chosen


@post("/clients/{client_id:int}/courses", include_in_schema=False, security=[], guards=[staff_page], status_code=303)
async def create_course(request: Request[Any, Any, Any], client_id: FromPath[int]) -> Redirect | Template:
    """Book a course for the client: its planned sessions at a location, and the products each will use."""
    user = await current_user(request)
    form = await read_form(request)
    fields = Fields(form)
    location_ids = [str(loc["id"]) for loc in await catalog.list_locations()]
    product_ids = [str(p["id"]) for p in await catalog.list_products(limit=500) if p["active"]]
    location = fields.choice("location_id", location_ids)
    treatment = _printable(fields, "treatment", fields.text("treatment"))
    start_date = fields.date("start_date")
    sessions = fields.integer("sessions", minimum=1, maximum=clinical.MAX_SESSIONS)
    interval_days = fields.integer("interval_days", minimum=1, maximum=365)
    products = _course_products(fields, product_ids)
    if not fields.errors:
        assert location and treatment and start_date and sessions and interval_days
        try:
            course = await clinical.create_course(
                actor=user.actor,
                client_id=client_id,
                location_id=int(location),
                treatment=treatment,
                start_date=start_date,
                sessions=sessions,
                interval_days=interval_days,
                products=products,
            )
        except InventoryError as error:
            if error.code == "client_erased":
                return await _refused_as_erased(request, client_id)
            _refuse(fields, error, by_code={"date_out_of_range": "start_date"}, default="course")
        else:
            message = ngettext("Course booked: %(n)s session.", "Course booked: %(n)s sessions.", sessions) % {
                "n": sessions
            }
            return redirect(request, f"/ui/clients/{client_id}#course-{course['id']}", flash=message)
    return await _client_page(request, client_id, status=422, course=Form(values=form, errors=fields.errors))


@post("/clients/{client_id:int}/sessions", include_in_schema=False, security=[], guards=[staff_page], status_code=303)
async def start_session(request: Request[Any, Any, Any], client_id: FromPath[int]) -> Redirect | Template:
    """Open a session for the client now at a location, and go to the chair with it."""
    user = await current_user(request)
    form = await read_form(request)
    fields = Fields(form)
    location_ids = [str(loc["id"]) for loc in await catalog.list_locations()]
    location = fields.choice("session_location_id", location_ids)
    if not fields.errors:
        assert location is not None
        try:
            session = await clinical.create_session(actor=user.actor, client_id=client_id, location_id=int(location))
        except InventoryError as error:
            if error.code == "client_erased":
                return await _refused_as_erased(request, client_id)
            _refuse(fields, error, default="session_location_id")
        else:
            return redirect(request, f"/ui/scan?session={session['id']}")
    return await _client_page(request, client_id, status=422, session=Form(values=form, errors=fields.errors))


# ------------------------------------------------------------------ erasure (admins) and implant cards


def _reason(fields: Fields) -> str | None:
    """The erasure's reason: several lines allowed, no other control characters."""
    reason = fields.text("reason", max_length=MAX_REASON)
    if reason is not None and not re.sub(r"[\r\n\t]", " ", reason).isprintable():
        fields.errors.setdefault("reason", gettext(_CONTROL))
        return None
    return reason


@post("/clients/{client_id:int}/erase", include_in_schema=False, security=[], guards=[admin_page], status_code=303)
async def erase_client(request: Request[Any, Any, Any], client_id: Id) -> Redirect | Template:
    """Erase the client on their request: a reason and a ticked confirmation; the page then shows the pseudonym."""
    user = await current_user(request)
    form = await read_form(request)
    fields = Fields(form)
    reason = _reason(fields)
    if fields.raw("confirm") != "yes":
        fields.errors.setdefault("confirm", gettext(_CONFIRM_ERASE))
    path = f"/ui/clients/{client_id}"
    if not fields.errors:
        assert reason is not None

        async def write() -> once.Summary:
            erased = await erasure.erase_client(
                actor=user.actor, client_id=client_id, reason=reason, secret=settings_of(request).secret_key
            )
            return {"pseudonym": erased["full_name"]}

        try:
            done = await once.run_once(request, form, write)
        except NotFound:
            raise  # no such client: the error page
        except InventoryError as error:
            if error.code == "client_erased":  # erased meanwhile (another tab, another admin): nothing more to do
                return redirect(request, path, flash=gettext(_ALREADY_ERASED), kind="error")
            _refuse(fields, error, default="reason")
        else:
            message = gettext("Client erased: from now on the records name them %(pseudonym)s.")
            return redirect(request, path, flash=message % {"pseudonym": done["pseudonym"]})
    return await _client_page(request, client_id, status=422, erase=Form(values=form, errors=fields.errors))


@get("/usages/{usage_id:int}/implant-card.pdf", include_in_schema=False, security=[], guards=[staff_page])
async def implant_card_pdf(request: Request[Any, Any, Any], usage_id: Id) -> Response[bytes]:
    """The implant card of one use of an implant (PDF), to hand to the client; its printing is audited."""
    user = await current_user(request)
    card = await implant_card.implant_card(actor=user.actor, usage_id=usage_id)
    return Response(
        implant_card.implant_card_pdf(card),
        media_type="application/pdf",
        headers={**PAGE_HEADERS, "Content-Disposition": f'inline; filename="implant-card-{usage_id}.pdf"'},
    )


HANDLERS: list[Any] = [
    clients_page,
    create_client,
    client_page,
    add_allergies,
    remove_allergy,
    create_course,
    start_session,
    erase_client,
    implant_card_pdf,
]
