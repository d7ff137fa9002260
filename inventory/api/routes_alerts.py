"""Routes for reorder and expiry alerts (managers)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.params import QueryParameter
from msgspec import Meta, Struct

from inventory.api import schemas as s
from inventory.api.params import ActorRequest, OptId, PathId
from inventory.api.security import manager
from inventory.services import digest, expiry_views, reorder_alerts


class UserRefOut(Struct):
    """Who did something."""

    id: int
    email: str | None


class SupplierRefOut(Struct):
    """A supplier by id and name."""

    id: int
    name: str


class ReorderAlertOut(Struct):
    """A reorder alert with the arithmetic behind it as of now (see inventory/domain/reorder.py).

    `id`, `opened_at` and `updated_at` are empty for a product that alerts as of now but whose alert the nightly
    refresh (or the next stock change) has not opened yet: a read never writes.
    """

    id: int | None
    status: str
    product: s.StockProductOut
    location: s.LocationOut
    usable_on_hand: s.Amount
    reorder_point: s.Amount
    par_level: s.Amount
    suggested_quantity: s.Amount
    opened_at: datetime | None
    updated_at: datetime | None
    resolved_at: datetime | None
    acknowledged: bool
    acknowledged_at: datetime | None
    acknowledged_by: UserRefOut | None
    lead_time_days: int | None = None  # the lead time the arithmetic used
    lead_time_source: str | None = None  # "supplier" (its soonest supplier's) or "rule" (the stock rule's)
    lead_time_supplier: SupplierRefOut | None = None  # the supplier whose lead time it is
    rule_lead_time_days: int | None = None  # the stock rule's own lead time
    box_size: s.Amount | None = None
    expiring_within_lead_time: s.Amount | None = None
    expiring_unused: float | None = None
    forecast_courses: int | None = None
    forecast_trend: float | None = None
    forecast_demand: float | None = None
    average_daily_use: float | None = None
    used_last_28_days: s.Amount | None = None
    on_order: s.Amount = 0  # units on sent purchase orders not yet received (part of the projection)
    projected_at_arrival: float | None = None
    evaluated_on: date | None = None


class ReorderAlertsOut(Struct):
    """Reorder alerts."""

    items: list[ReorderAlertOut]


class ExpiryItemOut(Struct, omit_defaults=True):
    """A lot on the shelf at a location and the days left before it expires (negative: expired)."""

    lot: s.LotOut
    product: s.StockProductOut
    location: s.LocationOut
    on_hand: s.Amount
    days_left: int
    state: str
    expected_use: float | None = None
    surplus: int | None = None


class OpenedPastUseByOut(Struct):
    """An opened container of a multi-use product still open after its use-by: dispose of what it holds."""

    id: int
    product: dict[str, Any]
    lot: dict[str, Any]
    location: s.LocationOut
    opened_at: datetime
    use_by: datetime
    remaining: s.Amount


class ExpiryOut(Struct):
    """Lots by expiry; each item's `days_left` counts from its location's local date."""

    items: list[ExpiryItemOut]
    as_of: Annotated[
        date, Meta(description="Today at location_id, or in INVENTORY_TIMEZONE when the list spans locations.")
    ]
    within_days: int
    view: str
    # Without a view or with view=expired: opened containers past their use-by (in-use expiry).
    opened_past_use_by: list[OpenedPastUseByOut] = []


class DigestOut(Struct):
    """The daily digest of one location, as the webhook would receive it."""

    location_id: int
    payload: dict[str, Any]


class DigestsOut(Struct):
    """Digests per location."""

    items: list[DigestOut]


class AlertsController(Controller):
    """Reorder and expiry alerts."""

    path = "/api/alerts"
    tags = ["alerts"]
    guards = [manager]

    @get("/reorder", operation_id="listReorderAlerts")
    async def list_reorder(
        self,
        status: Annotated[str, QueryParameter(pattern="^(open|resolved|all)$")] = "open",
        location_id: OptId = None,
        product_id: OptId = None,
        limit: Annotated[int | None, QueryParameter(ge=1, le=100_000)] = None,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
    ) -> ReorderAlertsOut:
        """Reorder alerts as of now (lots expired overnight left out of usable stock); reading writes nothing."""
        items = await reorder_alerts.list_reorder(
            status=status, location_id=location_id, product_id=product_id, limit=limit, offset=offset
        )
        return ReorderAlertsOut(items=s.to(list[ReorderAlertOut], items))

    @get("/reorder/{alert_id:int}", operation_id="getReorderAlert")
    async def get_reorder(self, alert_id: PathId) -> ReorderAlertOut:
        """One reorder alert."""
        return s.to(ReorderAlertOut, await reorder_alerts.get_reorder(alert_id))

    @post("/reorder/{alert_id:int}/acknowledge", operation_id="acknowledgeReorderAlert", status_code=200)
    async def acknowledge(self, request: ActorRequest, alert_id: PathId) -> ReorderAlertOut:
        """Mark an open alert as seen; it stays open until stock recovers. Repeating it changes nothing."""
        alert = await reorder_alerts.acknowledge(actor=request.user, alert_id=alert_id)
        return s.to(ReorderAlertOut, alert)

    @get("/expiry", operation_id="listExpiryAlerts")
    async def expiry(
        self,
        request: ActorRequest,
        within_days: Annotated[int, QueryParameter(ge=0, le=3650)] = 30,
        view: Annotated[str | None, QueryParameter(pattern="^(expiring|expired|unused_in_time)$")] = None,
        location_id: OptId = None,
        product_id: OptId = None,
    ) -> ExpiryOut:
        """Lots on the shelf by expiry: expired (negative days_left) and expiring within N days.

        `view=expired`: to dispose of; `view=expiring`: not yet expired; `view=unused_in_time`: on-hand beyond
        what the trailing use rate and booked sessions will consume before expiry (`expected_use`, `surplus`).
        """
        items = await expiry_views.expiry(
            within_days=within_days, view=view, location_id=location_id, product_id=product_id
        )
        as_of = await expiry_views.as_of(location_id=location_id, default_timezone=request.app.state.settings.timezone)
        opened = [] if view not in (None, "expired") else await expiry_views.opened_past_use_by(location_id=location_id)
        if product_id is not None:
            opened = [c for c in opened if c["product"]["id"] == product_id]
        return ExpiryOut(
            items=s.to(list[ExpiryItemOut], items),
            as_of=as_of,
            within_days=within_days,
            view=view or "all",
            opened_past_use_by=s.to(list[OpenedPastUseByOut], opened),
        )

    @get("/digest", operation_id="previewAlertDigest")
    async def digest(self, request: ActorRequest, location_id: OptId = None) -> DigestsOut:
        """The daily digest per location as it would be sent today (nothing is sent or written)."""
        found = await digest.digest(
            location_id=location_id, send=False, default_zone=request.app.state.settings.timezone
        )
        return DigestsOut(items=[DigestOut(location_id=d["location_id"], payload=d["payload"]) for d in found])


HANDLERS: list[Any] = [AlertsController]
