"""Alerts (managers): what to reorder and why, acknowledging an alert and undoing it, lots expired or expiring."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from litestar import Request, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Template

from inventory.domain.errors import Conflict, NotFound
from inventory.services import catalog, expiry_views, reorder_alerts
from inventory.web.forms import Fields, refusal_message
from inventory.web.i18n import gettext, ngettext
from inventory.web.pages import current_user, manager_page, read_form, redirect, render
from inventory.web.reorder_why import why

PAGE = "/ui/alerts"
DEFAULT_WITHIN_DAYS = 30
FILTER_KEYS = ("location", "product", "within_days", "acknowledged")
AlertId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


@dataclass(frozen=True)
class Filters:
    """What the manager narrowed the page to."""

    location_id: int | None = None
    product: str | None = None
    within_days: int = DEFAULT_WITHIN_DAYS
    acknowledged: bool = False

    def pairs(self) -> list[tuple[str, str]]:
        """The filters as query parameters (defaults left out)."""
        pairs = []
        if self.location_id is not None:
            pairs.append(("location", str(self.location_id)))
        if self.product:
            pairs.append(("product", self.product))
        if self.within_days != DEFAULT_WITHIN_DAYS:
            pairs.append(("within_days", str(self.within_days)))
        if self.acknowledged:
            pairs.append(("acknowledged", "1"))
        return pairs

    def query(self) -> str:
        """The filters as a query string."""
        return urlencode(self.pairs())

    def shows(self, product: Mapping[str, Any]) -> bool:
        """Whether the product text filter lets this product (name, brand or GTIN) through."""
        if not self.product:
            return True
        needle = self.product.casefold()
        return any(needle in str(product.get(key) or "").casefold() for key in ("name", "brand", "gtin"))


def read_filters(values: Mapping[str, Any], location_ids: list[int]) -> tuple[Filters, dict[str, str]]:
    """The filters of the page's query; a bad one is left at its default and gets a message next to its field."""
    fields = Fields(dict(values))
    location = fields.choice("location", [str(i) for i in location_ids], required=False)
    product = fields.text("product", required=False, max_length=100)
    within_days = fields.integer("within_days", required=False, minimum=0, maximum=3650)
    filters = Filters(
        location_id=int(location) if location else None,
        product=product,
        within_days=DEFAULT_WITHIN_DAYS if within_days is None else within_days,
        acknowledged=fields.raw("acknowledged") == "1",
    )
    return filters, fields.errors


@dataclass(frozen=True)
class ReorderLine:
    """One open reorder alert as the table shows it, with its arithmetic in words."""

    id: int | None
    product: str
    brand: str
    location: str
    timezone: str
    usable_on_hand: int
    reorder_point: int
    par_level: int
    suggested_quantity: int
    opened_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    why: str

    @classmethod
    def of(cls, alert: Mapping[str, Any]) -> ReorderLine:
        """The line of an alert from `reorder_alerts.list_reorder`."""
        by = alert["acknowledged_by"]
        return cls(
            id=alert["id"],
            product=alert["product"]["name"],
            brand=alert["product"]["brand"],
            location=alert["location"]["name"],
            timezone=alert["location"]["timezone"],
            usable_on_hand=alert["usable_on_hand"],
            reorder_point=alert["reorder_point"],
            par_level=alert["par_level"],
            suggested_quantity=alert["suggested_quantity"],
            opened_at=alert["opened_at"],
            acknowledged_at=alert["acknowledged_at"],
            acknowledged_by=by["email"] if by else None,
            why=why(alert),
        )


@dataclass(frozen=True)
class ExpiryLine:
    """One lot on the shelf at one location, by its expiry."""

    product: str
    brand: str
    lot_id: int
    lot_number: str
    lot_status: str
    expiry_date: date
    days_left: int
    location: str
    on_hand: int

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> ExpiryLine:
        """The line of an item from `expiry_views.expiry`."""
        return cls(
            product=item["product"]["name"],
            brand=item["product"]["brand"],
            lot_id=item["lot"]["id"],
            lot_number=item["lot"]["lot_number"],
            lot_status=item["lot"]["status"],
            expiry_date=item["lot"]["expiry_date"],
            days_left=item["days_left"],
            location=item["location"]["name"],
            on_hand=item["on_hand"],
        )

    @property
    def when(self) -> str:
        """How far the expiry is, counted from the location's local today."""
        if self.days_left < 0:
            days = -self.days_left
            return ngettext("expired %(days)s day ago", "expired %(days)s days ago", days) % {"days": days}
        if self.days_left == 0:
            return gettext("last day today")
        return ngettext("%(days)s day left", "%(days)s days left", self.days_left) % {"days": self.days_left}


def _changed(value: Any) -> int | None:
    """The alert just acknowledged or restored (kept in view and focused), from the query."""
    text = str(value or "")
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else None


@get("/alerts", guards=[manager_page], include_in_schema=False, security=[])
async def alerts_page(request: Request[Any, Any, Any]) -> Template:
    """The reorder table with its arithmetic, the expiry views and the way to the discrepancies."""
    locations = await catalog.list_locations()
    query = {key: request.query_params.get(key) for key in request.query_params}
    filters, errors = read_filters(query, [location["id"] for location in locations])
    changed = _changed(query.get("changed"))
    alerts = [
        a
        for a in await reorder_alerts.list_reorder(status="open", location_id=filters.location_id)
        if filters.shows(a["product"])
    ]
    shown = [a for a in alerts if filters.acknowledged or not a["acknowledged"] or a["id"] == changed]
    expiry = [
        ExpiryLine.of(item)
        for item in await expiry_views.expiry(within_days=filters.within_days, location_id=filters.location_id)
        if filters.shows(item["product"])
    ]
    opened_past = [
        item
        for item in await expiry_views.opened_past_use_by(location_id=filters.location_id)
        if filters.shows(item["product"])
    ]
    return await render(
        request,
        "alerts/alerts.html",
        status=422 if errors else 200,
        locations=locations,
        filters=filters,
        errors=errors,
        typed={key: str(query.get(key) or "") for key in FILTER_KEYS},
        changed=changed,
        reorder=[ReorderLine.of(a) for a in shown],
        hidden_acknowledged=len(alerts) - len(shown),
        expired=[line for line in expiry if line.days_left < 0],
        expiring=[line for line in expiry if line.days_left >= 0],
        opened_past=opened_past,
    )


def _back(form: Mapping[str, Any], changed: int | None = None) -> str:
    """The page with the filters the form was sent from (only the page's own parameters)."""
    pairs = [(key, value) for key, value in parse_qsl(str(form.get("filters") or "")) if key in FILTER_KEYS]
    if changed is not None:
        pairs.append(("changed", str(changed)))
    return f"{PAGE}?{urlencode(pairs)}" if pairs else PAGE


async def _answer(request: Request[Any, Any, Any], alert_id: int, *, undo: bool) -> Redirect:
    form = await read_form(request)
    user = await current_user(request)
    change = reorder_alerts.unacknowledge if undo else reorder_alerts.acknowledge
    try:
        alert = await change(actor=user.actor, alert_id=alert_id)
    except (NotFound, Conflict) as refusal:
        return redirect(request, _back(form), flash=refusal_message(refusal), kind="error")
    names = {"product": alert["product"]["name"], "location": alert["location"]["name"]}
    message = (
        gettext("Acknowledgement undone: %(product)s at %(location)s is to review again.")
        if undo
        else gettext("Acknowledged: %(product)s at %(location)s. It stays open until the stock is back up.")
    )
    return redirect(request, _back(form, alert_id), flash=message % names)


@post(
    "/alerts/{alert_id:int}/acknowledge", guards=[manager_page], status_code=303, include_in_schema=False, security=[]
)
async def acknowledge(request: Request[Any, Any, Any], alert_id: AlertId) -> Redirect:
    """Mark an open alert as seen (it stays open until stock recovers)."""
    return await _answer(request, alert_id, undo=False)


@post(
    "/alerts/{alert_id:int}/unacknowledge", guards=[manager_page], status_code=303, include_in_schema=False, security=[]
)
async def unacknowledge(request: Request[Any, Any, Any], alert_id: AlertId) -> Redirect:
    """Take an acknowledgement back (the alert reads as not yet seen again)."""
    return await _answer(request, alert_id, undo=True)


HANDLERS: list[Any] = [alerts_page, acknowledge, unacknowledge]
