"""Purchasing: suppliers and what they sell, draft orders from the open reorder alerts, sending and cancelling.

Receiving against an order is part of the receipt's own transaction (`services.receiving` calls
`receive_against`). Sending, cancelling and receiving re-evaluate the reorder alerts of the order's products at
its location in the same transaction, since what is on order is part of their arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import msgspec

from inventory import clock, db
from inventory.db import Connection
from inventory.domain import purchasing as rules
from inventory.domain.errors import Conflict, NotFound, Unprocessable
from inventory.domain.gtin import normalize_gtin
from inventory.domain.models import Actor
from inventory.services import alerting, reorder_alerts, webhook
from inventory.store import audit, catalog
from inventory.store import purchasing as store
from inventory.store.purchasing import OrderLineRow, OrderRow, SupplierRow

__all__ = ["FromAlerts", "OrderLineRow", "OrderRow", "OrderView", "SupplierRow"]

MAX_ID = 2_147_483_647
SENT_EVENT = "purchase_order.sent"  # the webhook event of a sent order


def _clean(value: str | None, what: str, *, required: bool = False) -> str | None:
    text = None if value is None else " ".join(value.split())
    if not text:
        if required:
            raise Unprocessable(f"The {what} is empty.", code="validation_error")
        return None
    if not text.isprintable():
        raise Unprocessable(f"The {what} contains control characters.", code="validation_error")
    return text


# ------------------------------------------------------------------ suppliers


async def create_supplier(*, actor: Actor, name: str, email: str | None) -> SupplierRow:
    """Create a supplier; raises Conflict(duplicate) when the name exists (ignoring case), Unprocessable."""
    clean = _clean(name, "supplier name", required=True)
    assert clean is not None
    mail = _clean(email, "e-mail")
    if mail is not None and ("@" not in mail or " " in mail):
        raise Unprocessable("The e-mail address is not valid.", code="validation_error")
    try:
        async with db.transaction() as conn:
            supplier = await store.create_supplier(conn, name=clean, email=mail, at=db.now())
            await audit.record(
                conn,
                actor_id=actor.id,
                action="supplier.create",
                entity="supplier",
                entity_id=supplier.id,
                details={"name": clean, "email": mail},
            )
    except asyncpg.UniqueViolationError as error:
        raise Conflict(f"Supplier {clean!r} already exists.", code="duplicate") from error
    return supplier


async def list_suppliers() -> list[SupplierRow]:
    """Every supplier by name, with what it sells."""
    async with db.connection() as conn:
        return await store.list_suppliers(conn)


async def set_supplier_product(
    *,
    actor: Actor,
    supplier_id: int,
    product_id: int,
    pack_gtin: str | None,
    pack_units: int,
    lead_time_days: int,
    reference: str | None,
) -> SupplierRow:
    """Set how a supplier sells a product and re-evaluate its alerts; raises NotFound, GtinInvalid, Unprocessable."""
    gtin = None if pack_gtin is None or not pack_gtin.strip() else normalize_gtin(pack_gtin)
    if not 1 <= pack_units <= 100_000:
        raise Unprocessable("pack_units is between 1 and 100000.", code="validation_error")
    if not 0 <= lead_time_days <= 365:
        raise Unprocessable("lead_time_days is between 0 and 365.", code="validation_error")
    ref = _clean(reference, "reference")
    async with db.transaction() as conn:
        if not await store.supplier_exists(conn, supplier_id):
            raise NotFound.of("supplier", supplier_id)
        if await catalog.get_product(conn, product_id) is None:
            raise NotFound.of("product", product_id)
        await store.upsert_supplier_product(
            conn,
            supplier_id=supplier_id,
            product_id=product_id,
            pack_gtin=gtin,
            pack_units=pack_units,
            lead_time_days=lead_time_days,
            reference=ref,
            at=db.now(),
        )
        # The supplier's lead time is part of the product's reorder arithmetic wherever it has a rule.
        await alerting.reevaluate(conn, [(product_id, loc) for loc in await store.rule_locations(conn, product_id)])
        await audit.record(
            conn,
            actor_id=actor.id,
            action="supplier_product.set",
            entity="supplier",
            entity_id=supplier_id,
            details={
                "product_id": product_id,
                "pack_gtin": gtin,
                "pack_units": pack_units,
                "lead_time_days": lead_time_days,
                "reference": ref,
            },
        )
        return (await store.list_suppliers(conn, supplier_id))[0]


# ------------------------------------------------------------------ orders


@dataclass(frozen=True)
class OrderView:
    """An order as the API shows it: the stored order and whether it is late at its location's today."""

    order: OrderRow
    late: bool


def _view(order: OrderRow) -> OrderView:
    today = clock.today_in(order.location_timezone)
    return OrderView(order=order, late=rules.is_late(order.status, order.expected_on, today))


def order_document(view: OrderView) -> dict[str, Any]:
    """An order as the API and the webhook show it (CONTRACT §8); lines in single units."""
    o = view.order
    return {
        "id": o.id,
        "supplier": {"id": o.supplier_id, "name": o.supplier_name},
        "location": {"id": o.location_id, "name": o.location_name},
        "status": o.status,
        "expected_on": o.expected_on,
        "late": view.late,
        "created_at": o.created_at,
        "sent_at": o.sent_at,
        "cancelled_at": o.cancelled_at,
        "lines": [
            {
                "product_id": li.product_id,
                "product_name": li.product_name,
                "quantity": li.quantity,
                "received": li.received,
                "outstanding": rules.outstanding(rules.LineState(li.quantity, li.received)),
                "over_delivered": rules.over_delivered(rules.LineState(li.quantity, li.received)),
                "pack_units": li.pack_units,
                "packs": rules.packs_for(li.quantity, li.pack_units),
            }
            for li in o.lines
        ],
    }


def sent_event(view: OrderView) -> dict[str, Any]:
    """The webhook body announcing a sent order: `kind` purchase_order.sent and the order as the API shows it."""
    o = view.order
    # msgspec writes dates and times exactly as the API's JSON does, so the webhook's order equals the API's.
    body: dict[str, Any] = msgspec.to_builtins(
        {
            "kind": SENT_EVENT,
            "purchase_order_id": o.id,
            "supplier_email": o.supplier_email,
            "location": {"id": o.location_id, "name": o.location_name, "timezone": o.location_timezone},
            "order": order_document(view),
        }
    )
    return body


@dataclass(frozen=True)
class FromAlerts:
    """The drafts made or added to, and the needs no supplier sells."""

    orders: list[OrderView]
    unassigned: list[rules.Unassigned] = field(default_factory=list)


async def from_alerts(*, actor: Actor, location_id: int | None) -> FromAlerts:
    """Draft orders from the open reorder alerts (one draft per supplier and location); raises NotFound.

    What the alerts suggest already counts sent orders as on order; open drafts are taken off here, so a second
    run orders nothing the first drafted. An existing draft of the supplier at the location is added to.
    """
    async with db.transaction() as conn:
        if location_id is not None and await catalog.get_location(conn, location_id) is None:
            raise NotFound.of("location", location_id)
        await store.lock_from_alerts(conn)
        alerts = await reorder_alerts.list_reorder(status="open", location_id=location_id)
        needs = [
            rules.Need(a["product"]["id"], a["location"]["id"], int(a["suggested_quantity"]))
            for a in alerts
            if a["status"] == "open" and a["suggested_quantity"] > 0
        ]
        pairs = sorted({(n.product_id, n.location_id) for n in needs})
        already = await store.drafted(conn, pairs)
        offers = await store.offers(conn, sorted({p for p, _ in pairs}))
        plan = rules.plan_orders(needs, offers, already)
        now = db.now()
        touched: list[int] = []
        for planned in plan.orders:
            order_id = await store.draft_for(
                conn, supplier_id=planned.supplier_id, location_id=planned.location_id, user_id=actor.id, at=now
            )
            for line in planned.lines:
                await store.add_to_line(conn, order_id=order_id, product_id=line.product_id, quantity=line.quantity)
            touched.append(order_id)
            await audit.record(
                conn,
                actor_id=actor.id,
                action="purchase_order.from_alerts",
                entity="purchase_order",
                entity_id=order_id,
                details={"lines": [{"product_id": li.product_id, "quantity": li.quantity} for li in planned.lines]},
            )
        if not touched:  # the run itself is recorded, even when every need was already on order
            await audit.record(
                conn,
                actor_id=actor.id,
                action="purchase_order.from_alerts",
                entity="purchase_order",
                entity_id=None,
                details={
                    "location_id": location_id,
                    "unassigned": [u.product_id for u in plan.unassigned],
                },
            )
        orders = await store.get_orders(conn, touched)
    return FromAlerts(orders=[_view(o) for o in orders], unassigned=list(plan.unassigned))


async def list_orders(
    *,
    status: str | None = None,
    location_id: int | None = None,
    late: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[OrderView]:
    """Orders, newest first, late or not by each location's today; raises Unprocessable for an unknown status."""
    if status is not None and status not in rules.STATUSES:
        raise Unprocessable(f"status is one of {', '.join(rules.STATUSES)}.", code="validation_error")
    async with db.connection() as conn:
        orders = await store.list_orders(
            conn, status=status, location_id=location_id, limit=limit, offset=offset, late=late, at=clock.now()
        )
    return [_view(o) for o in orders]


async def get_order(order_id: int) -> OrderView:
    """One order; raises NotFound."""
    found = None
    if 1 <= order_id <= MAX_ID:
        async with db.connection() as conn:
            found = await store.get_order(conn, order_id)
    if found is None:
        raise NotFound.of("purchase_order", order_id)
    return _view(found)


async def _locked(conn: Connection, order_id: int) -> tuple[str, int]:
    locked = await store.lock_order(conn, order_id) if 1 <= order_id <= MAX_ID else None
    if locked is None:
        raise NotFound.of("purchase_order", order_id)
    return locked


async def set_line(*, actor: Actor, order_id: int, product_id: int, quantity: int) -> OrderView:
    """Change a draft line's units, 0 removing the line; raises NotFound (order, or no such line), Conflict.

    A removed product comes back on a later from-alerts run if its alert is still open.
    """
    if not 0 <= quantity <= 1_000_000:
        raise Unprocessable("quantity is between 0 (remove the line) and 1000000.", code="validation_error")
    async with db.transaction() as conn:
        status, _ = await _locked(conn, order_id)
        rules.check_editable(order_id, status)
        if quantity == 0:
            found = await store.remove_line(conn, order_id=order_id, product_id=product_id)
        else:
            found = await store.set_line_quantity(conn, order_id=order_id, product_id=product_id, quantity=quantity)
        if not found:
            raise NotFound(
                f"Purchase order {order_id} has no line of product {product_id}.", code="not_found", entity="product"
            )
        await audit.record(
            conn,
            actor_id=actor.id,
            action="purchase_order.line_removed" if quantity == 0 else "purchase_order.line_set",
            entity="purchase_order",
            entity_id=order_id,
            details={"product_id": product_id, "quantity": quantity},
        )
        order = await store.get_order(conn, order_id)
    assert order is not None
    return _view(order)


async def send(*, actor: Actor, order_id: int, webhook_url: str | None = None) -> OrderView:
    """Send a draft: expected on the location's today plus the lead time; raises NotFound, Conflict.

    With a usable `webhook_url` (the deployment's) the order is queued for the webhook as `purchase_order.sent` in the
    same transaction: it goes out once the send commits, retried with back-off (`services.webhook`).

    The lead time is the longest of its lines': the supplier's for the product, else the stock rule's at the
    location, else 0.
    """
    async with db.transaction() as conn:
        status, location_id = await _locked(conn, order_id)
        rules.check_sendable(order_id, status)
        order = await store.get_order(conn, order_id)
        assert order is not None
        if not order.lines:
            raise Conflict(f"Purchase order {order_id} has no lines.", code="invalid_transition", order_id=order_id)
        lead = max(await store.lead_times(conn, order_id), default=0)
        expected_on = clock.today_in(order.location_timezone) + timedelta(days=lead)
        await store.mark_sent(conn, order_id=order_id, at=db.now(), user_id=actor.id, expected_on=expected_on)
        await alerting.reevaluate(conn, [(line.product_id, location_id) for line in order.lines])
        await audit.record(
            conn,
            actor_id=actor.id,
            action="purchase_order.send",
            entity="purchase_order",
            entity_id=order_id,
            details={"expected_on": expected_on.isoformat()},
        )
        sent = await store.get_order(conn, order_id)
        assert sent is not None
        view = _view(sent)
        delivery_id = await webhook.record_event(
            conn, location_id=location_id, payload=sent_event(view), url=webhook_url
        )
        if delivery_id is not None:
            await audit.record(
                conn,
                actor_id=actor.id,
                action="purchase_order.webhook_queued",
                entity="purchase_order",
                entity_id=order_id,
                details={"delivery_id": delivery_id},
            )
    return view


async def cancel(*, actor: Actor, order_id: int) -> OrderView:
    """Cancel an order not yet fully received: what it still owed is no longer on order; raises NotFound, Conflict."""
    async with db.transaction() as conn:
        status, location_id = await _locked(conn, order_id)
        rules.check_cancellable(order_id, status)
        await store.mark_cancelled(conn, order_id=order_id, at=db.now(), user_id=actor.id)
        products = await store.order_products(conn, order_id)
        await alerting.reevaluate(conn, [(product, location_id) for product in products])
        await audit.record(
            conn,
            actor_id=actor.id,
            action="purchase_order.cancel",
            entity="purchase_order",
            entity_id=order_id,
            details={"status_before": status},
        )
        order = await store.get_order(conn, order_id)
    assert order is not None
    return _view(order)


@dataclass(frozen=True)
class ReceivedAgainst:
    """An order after a receipt: its status and, per line, what was ordered, received, outstanding and over."""

    status: str
    lines: list[dict[str, int]]


async def receive_against(
    conn: Connection, *, order_id: int, location_id: int, received: dict[int, int]
) -> ReceivedAgainst:
    """Add received units (per product) to an order in the receipt's transaction; returns the order's new state.

    A product the order does not name gets a line of quantity 0 (an over-delivery, as is receiving beyond a
    line's quantity); what is still owed stays on order. Raises NotFound, Conflict(invalid_transition) for a
    draft or cancelled order, and Conflict(location_mismatch) when the order is for another location. The caller
    re-evaluates the alerts and records the returned lines (the under- and over-deliveries) in its audit event.
    """
    status, order_location = await _locked(conn, order_id)
    rules.check_receivable(order_id, status)
    if order_location != location_id:
        raise Conflict(
            f"Purchase order {order_id} is for location {order_location}, not {location_id}.",
            code="location_mismatch",
            order_id=order_id,
        )
    lines = await store.add_received(conn, order_id=order_id, received=received)
    states = [(product, rules.LineState(q, r)) for product, q, r in lines]
    after = rules.status_after_receipt([state for _, state in states])
    if after != status:
        await store.set_status(conn, order_id=order_id, status=after)
    return ReceivedAgainst(
        status=after,
        lines=[
            {
                "product_id": product,
                "ordered": state.quantity,
                "received": state.received,
                "outstanding": rules.outstanding(state),
                "over_delivered": rules.over_delivered(state),
            }
            for product, state in states
        ],
    )
