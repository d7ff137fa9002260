"""The audit log (managers): who did what and when, filtered, a page at a time, and as a CSV download.

The filters are a GET form (a filtered view can be bookmarked or sent); dates are local days in the service's
time zone, and so are the times shown. `?format=csv` gives every event the filters select, newest first.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Stream, Template

from inventory import clock
from inventory.domain.spreadsheet import BOM, csv_lines
from inventory.services import audit_log
from inventory.web import i18n
from inventory.web.forms import Fields
from inventory.web.i18n import N_, NP_, gettext
from inventory.web.pages import PAGE_HEADERS, ROLE_NAMES, manager_page, render, settings_of

PAGE_SIZE = 50
_CSV_BATCH = 500
_CODE_LENGTH = 32
_DETAILS_SHOWN = 240

# Readable names of the actions services record (an action not listed is shown by its code).
ACTIONS = {
    "auth.page": N_("Signed in to the pages"),
    "auth.token": N_("Signed in (API token)"),
    "auth.refresh": N_("Renewed an API token"),
    "auth.logout": N_("Signed out"),
    "user.create": N_("Created a user"),
    "user.update": N_("Changed a user"),
    "user.password_reset": N_("Reset a password"),
    "brand.create": N_("Created a brand"),
    "product.create": N_("Created a product"),
    "location.create": N_("Created a location"),
    "location.update": N_("Changed a location"),
    "stock_rule.set": NP_("audit action", "Set a stock rule"),
    "receipt.create": N_("Received a delivery"),
    "stock.transfer": N_("Transferred stock"),
    "stock.adjust": N_("Adjusted stock"),
    "stock.dispose": N_("Disposed of stock"),
    "client.create": N_("Created a client"),
    "client.history": N_("Viewed a client's history"),
    "session.create": N_("Opened a session"),
    "session.close": N_("Closed a session"),
    "course.create": N_("Planned a course"),
    "usage.void": N_("Voided a use"),
    "reorder_alert.acknowledge": N_("Acknowledged a reorder alert"),
    "reorder_alert.refresh": N_("Refreshed the reorder alerts"),
    "trace.lookup": N_("Traced a lot"),
    "lot.quarantine": N_("Quarantined a lot"),
    "lot.release": N_("Released a lot from quarantine"),
    "lot.recall": N_("Recalled a lot"),
    "recall.create": N_("Started a recall"),
    "recall.view": N_("Viewed a recall"),
    "recall.export": N_("Exported a recall's clients"),
    "recall.client_status": N_("Updated a recall contact"),
    "recall.close": N_("Closed a recall"),
}
ENTITIES = {
    "user": N_("User"),
    "brand": N_("Brand"),
    "product": N_("Product"),
    "location": N_("Location"),
    "stock_rule": N_("Stock rule"),
    "receipt": N_("Delivery"),
    "lot": N_("Lot"),
    "client": N_("Client"),
    "session": N_("Session"),
    "course": N_("Course"),
    "usage": N_("Use"),
    "reorder_alert": N_("Reorder alert"),
    "recall": N_("Recall"),
    "recall_client": N_("Recall contact"),
    "notification_delivery": N_("Notification"),
}
_SYSTEM = N_("System")
_TO_BEFORE_FROM = N_("The end date is before the start date.")
_CSV_COLUMNS = (N_("When"), N_("Who"), N_("Action"), N_("Code"), N_("Concerning"), N_("Number"), N_("Details"))


def action_label(code: str) -> str:
    """An action's readable name in the page's language, or its code."""
    return gettext(ACTIONS[code]) if code in ACTIONS else code


def entity_label(code: str) -> str:
    """A kind of entity's readable name in the page's language, or its code."""
    return gettext(ENTITIES[code]) if code in ENTITIES else code


@dataclass(frozen=True)
class AuditFilters:
    """What the manager asked to see: an actor, an action, an entity, local days from and to."""

    actor_id: int | None = None
    action: str | None = None
    entity: str | None = None
    entity_id: int | None = None
    first_day: date | None = None
    last_day: date | None = None

    def query(self, **more: str | int | None) -> str:
        """These filters (and `more`) as a query string, empty values left out."""
        values: dict[str, Any] = {
            "actor": self.actor_id,
            "action": self.action,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "from": self.first_day.isoformat() if self.first_day else None,
            "to": self.last_day.isoformat() if self.last_day else None,
            **more,
        }
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})

    @property
    def narrowed(self) -> bool:
        """Whether any filter is set."""
        return self.query() != ""


@dataclass
class ReadFilters:
    """The filters read from the query string, with a message per bad field, and the page to start after."""

    filters: AuditFilters
    before_id: int | None
    errors: dict[str, str] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)


def _code(fields: Fields, name: str) -> str | None:
    """An action or entity code: letters, digits, `_`, `.` and `-` (anything else selects nothing)."""
    value = fields.text(name, required=False, max_length=_CODE_LENGTH)
    if value is not None and not all(ch.isascii() and (ch.isalnum() or ch in "_.-") for ch in value):
        fields.errors.setdefault(name, gettext("Choose one of the options."))
        return None
    return value


def read_filters(query: dict[str, str]) -> ReadFilters:
    """The audit filters of a query string."""
    fields = Fields(dict(query))
    filters = AuditFilters(
        actor_id=fields.integer("actor", required=False, minimum=1, maximum=2**31 - 1),
        action=_code(fields, "action"),
        entity=_code(fields, "entity"),
        entity_id=fields.integer("entity_id", required=False, minimum=1, maximum=2**31 - 1),
        first_day=fields.date("from", required=False),
        last_day=fields.date("to", required=False),
    )
    before_id = fields.integer("before", required=False, minimum=1, maximum=2**31 - 1)
    if filters.first_day and filters.last_day and filters.last_day < filters.first_day:
        fields.errors.setdefault("to", gettext(_TO_BEFORE_FROM))
    typed = {name: fields.raw(name) for name in ("actor", "action", "entity", "entity_id", "from", "to")}
    return ReadFilters(filters=filters, before_id=before_id, errors=fields.errors, typed=typed)


async def _events(filters: AuditFilters, timezone: str, *, before_id: int | None, limit: int) -> list[audit_log.Event]:
    """One page of the events the filters select (the days are local days in `timezone`)."""
    return await audit_log.list_events(
        actor_id=filters.actor_id,
        action=filters.action,
        entity=filters.entity,
        entity_id=filters.entity_id,
        since=clock.day_start(filters.first_day, timezone) if filters.first_day else None,
        until=clock.day_end(filters.last_day, timezone) if filters.last_day else None,
        before_id=before_id,
        limit=limit,
    )


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


# A user's change reads as the users page words it: "Role: Staff → Manager", "Status: Active → Deactivated".
_USER_FIELDS = {"role": N_("Role"), "active": N_("Status")}
_ACTIVE = {True: N_("Active"), False: N_("Deactivated")}


def _user_value(value: Any) -> str:
    if isinstance(value, bool):
        return gettext(_ACTIVE[value])
    if isinstance(value, str) and value in ROLE_NAMES:
        return gettext(ROLE_NAMES[value])
    return _text(value)


def describe(action: str, details: dict[str, Any]) -> list[tuple[str, str]]:
    """An event's details as (name, value) lines; a user's change shows `before → after` in words."""
    lines = []
    for name, value in details.items():
        label = name.replace("_", " ")
        if action == "user.update" and isinstance(value, list) and len(value) == 2:
            label = gettext(_USER_FIELDS[name]) if name in _USER_FIELDS else label
            text = f"{_user_value(value[0])} → {_user_value(value[1])}"
        elif isinstance(value, list):
            text = ", ".join(_text(item) for item in value)
        else:
            text = _text(value)
        if len(text) > _DETAILS_SHOWN:
            text = text[: _DETAILS_SHOWN - 1] + "…"
        lines.append((label, text))
    return lines


@dataclass(frozen=True)
class EventRow:
    """An audit event as the page shows it."""

    id: int
    at: datetime
    who: str
    action: str
    action_code: str
    entity: str
    entity_id: int | None
    details: list[tuple[str, str]]


def _row(event: audit_log.Event) -> EventRow:
    return EventRow(
        id=event.id,
        at=event.created_at,
        who=event.actor_email or gettext(_SYSTEM),
        action=action_label(event.action),
        action_code=event.action,
        entity=entity_label(event.entity),
        entity_id=event.entity_id,
        details=describe(event.action, event.details),
    )


async def _csv(filters: AuditFilters, timezone: str, locale: str) -> AsyncIterator[bytes]:
    """Every selected event as CSV lines, in batches, after a UTF-8 BOM (Excel then reads it as UTF-8)."""
    i18n.use(locale)  # the rows are written while the response is sent, after the handler returned
    yield (BOM + csv_lines([[gettext(column) for column in _CSV_COLUMNS]])).encode()
    zone = clock.zone(timezone)
    before_id: int | None = None
    while True:
        batch = await _events(filters, timezone, before_id=before_id, limit=_CSV_BATCH)
        lines = csv_lines(
            (
                event.created_at.astimezone(zone).isoformat(timespec="seconds"),
                event.actor_email or gettext(_SYSTEM),
                action_label(event.action),
                event.action,
                entity_label(event.entity),
                event.entity_id,
                json.dumps(event.details, ensure_ascii=False),
            )
            for event in batch
        )
        yield lines.encode()
        if len(batch) < _CSV_BATCH:
            return
        before_id = batch[-1].id


@get("/audit", guards=[manager_page], include_in_schema=False, security=[])
async def audit_page(request: Request[Any, Any, Any]) -> Template | Stream:
    """The newest events the filters select, PAGE_SIZE at a time, or all of them as CSV (`format=csv`)."""
    timezone = settings_of(request).timezone
    read = read_filters(dict(request.query_params))
    as_csv = request.query_params.get("format") == "csv"
    if as_csv and not read.errors:
        return Stream(
            _csv(read.filters, timezone, i18n.current()),
            media_type="text/csv",  # Litestar adds "; charset=utf-8"
            headers={
                **PAGE_HEADERS,
                "Content-Disposition": f'attachment; filename="audit-{clock.today_in(timezone).isoformat()}.csv"',
            },
        )
    events: list[audit_log.Event] = []
    if not read.errors:
        events = await _events(read.filters, timezone, before_id=read.before_id, limit=PAGE_SIZE + 1)
    older = events[PAGE_SIZE - 1].id if len(events) > PAGE_SIZE else None
    actors = await audit_log.actors()
    return await render(
        request,
        "audit/log.html",
        status=422 if read.errors else 200,
        events=[_row(event) for event in events[:PAGE_SIZE]],
        filters=read.filters,
        typed=read.typed,
        errors=read.errors,
        older=read.filters.query(before=older) if older else None,
        paged=read.before_id is not None,
        actors=actors,
        actions=sorted(((code, gettext(label)) for code, label in ACTIONS.items()), key=lambda item: item[1]),
        entities=sorted(((code, gettext(label)) for code, label in ENTITIES.items()), key=lambda item: item[1]),
        csv_query=read.filters.query(format="csv"),
        timezone=timezone,
    )


HANDLERS: list[Any] = [audit_page]
