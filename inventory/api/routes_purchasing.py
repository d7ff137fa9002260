"""Routes for suppliers and purchase orders (writes: managers; reads: staff, who receive against orders)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, patch, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Operation
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import Meta, Struct

from inventory.api import schemas as s
from inventory.api.idempotent import IdempotencyKey, respond
from inventory.api.openapi import add_file_types
from inventory.api.params import ActorRequest, Limit, Offset, OptId, PathId
from inventory.api.security import manager, staff
from inventory.domain.errors import NotFound
from inventory.services import order_documents, purchasing
from inventory.services.purchasing import FromAlerts, OrderView, SupplierRow

Email = Annotated[str, Meta(min_length=3, max_length=254)]
Reference = Annotated[str, Meta(max_length=200)]


class SupplierIn(Struct, forbid_unknown_fields=True):
    """A new supplier."""

    name: s.Name
    email: Email | None = None


class SupplierProductIn(Struct, forbid_unknown_fields=True):
    """How a supplier sells a product: its pack (GTIN optional, single units per pack), lead time, reference."""

    pack_units: Annotated[int, Meta(ge=1, le=100_000)]
    lead_time_days: Annotated[int, Meta(ge=0, le=365)]
    pack_gtin: s.Gtin | None = None
    reference: Reference | None = None


class SupplierProductOut(Struct):
    """A product a supplier sells."""

    product_id: int
    product_name: str
    pack_gtin: str | None
    pack_units: int
    lead_time_days: int
    reference: str | None


class SupplierOut(Struct):
    """A supplier with what it sells."""

    id: int
    name: str
    email: str | None
    created_at: datetime
    products: list[SupplierProductOut]


class SuppliersOut(Struct):
    """Suppliers."""

    items: list[SupplierOut]


class RefOut(Struct):
    """A supplier or location, by id and name."""

    id: int
    name: str


class OrderLineOut(Struct):
    """A line in single units: ordered (`quantity`), received, still outstanding, and received beyond the order."""

    product_id: int
    product_name: str
    quantity: int
    received: int
    outstanding: int
    over_delivered: int
    pack_units: int
    packs: int


class OrderOut(Struct):
    """A purchase order; `late` when expected before the location's today and not fully received."""

    id: int
    supplier: RefOut
    location: RefOut
    status: str
    expected_on: date | None
    late: bool
    created_at: datetime
    sent_at: datetime | None
    cancelled_at: datetime | None
    lines: list[OrderLineOut]


class OrdersOut(Struct):
    """Purchase orders."""

    items: list[OrderOut]


class UnassignedOut(Struct):
    """A reorder need no supplier sells (assign one with PUT /api/suppliers/{id}/products/{product_id})."""

    product_id: int
    location_id: int
    quantity: int


class FromAlertsIn(Struct, forbid_unknown_fields=True):
    """Which location's alerts to order from (all locations when absent)."""

    location_id: s.Id | None = None


class FromAlertsOut(Struct):
    """The drafts made or added to, and the needs without a supplier."""

    items: list[OrderOut]
    unassigned: list[UnassignedOut]


class LineIn(Struct, forbid_unknown_fields=True):
    """A draft line's new quantity in single units (0 removes the line)."""

    quantity: Annotated[int, Meta(ge=0, le=1_000_000)]


def supplier_out(row: SupplierRow) -> SupplierOut:
    """The API's supplier."""
    return SupplierOut(
        id=row.id,
        name=row.name,
        email=row.email,
        created_at=row.created_at,
        products=[
            SupplierProductOut(
                product_id=p.product_id,
                product_name=p.product_name,
                pack_gtin=p.pack_gtin,
                pack_units=p.pack_units,
                lead_time_days=p.lead_time_days,
                reference=p.reference,
            )
            for p in row.products
        ],
    )


def order_out(view: OrderView) -> OrderOut:
    """The API's order (CONTRACT §8), from the service's one description of it."""
    return msgspec.convert(purchasing.order_document(view), OrderOut)


def _from_alerts_out(result: FromAlerts) -> dict[str, Any]:
    return {
        "items": [order_out(v) for v in result.orders],
        "unassigned": [
            {"product_id": u.product_id, "location_id": u.location_id, "quantity": u.quantity}
            for u in result.unassigned
        ],
    }


@dataclass
class OrderDocumentOperation(Operation):
    """The order operation: JSON for `{id}`, a PDF for `{id}.pdf`, a CSV for `{id}.csv`."""

    def __post_init__(self) -> None:
        """Document the PDF and the CSV beside the JSON."""
        add_file_types(
            self,
            {
                "application/pdf": "The order to send to the supplier (`{id}.pdf`).",
                "text/csv": "The order's lines (`{id}.csv`), UTF-8 with a BOM.",
            },
        )


class SupplierController(Controller):
    """Suppliers and what each sells."""

    path = "/api/suppliers"
    tags = ["purchasing"]
    guards = [staff]

    @post("/", operation_id="createSupplier", guards=[manager])
    async def create(self, request: ActorRequest, data: JSONBody[SupplierIn]) -> SupplierOut:
        """Create a supplier; a name already taken (ignoring case): 409 duplicate."""
        return supplier_out(await purchasing.create_supplier(actor=request.user, name=data.name, email=data.email))

    @get("/", operation_id="listSuppliers")
    async def list_(self) -> SuppliersOut:
        """Suppliers by name, with the products each sells."""
        return SuppliersOut(items=[supplier_out(r) for r in await purchasing.list_suppliers()])

    @put("/{supplier_id:int}/products/{product_id:int}", operation_id="setSupplierProduct", guards=[manager])
    async def set_product(
        self, request: ActorRequest, supplier_id: PathId, product_id: PathId, data: JSONBody[SupplierProductIn]
    ) -> SupplierOut:
        """Set the supplier's pack (GTIN checked, stored as 14 digits), lead time and reference for a product."""
        row = await purchasing.set_supplier_product(
            actor=request.user,
            supplier_id=supplier_id,
            product_id=product_id,
            pack_gtin=data.pack_gtin,
            pack_units=data.pack_units,
            lead_time_days=data.lead_time_days,
            reference=data.reference,
        )
        return supplier_out(row)


OrderDocument = Annotated[
    str,
    PathParameter(
        pattern=r"^[0-9]{1,10}(\.(pdf|csv))?$",
        description="The order's id for its JSON; `{id}.pdf` or `{id}.csv` for the documents sent to the supplier.",
    ),
]
_DOCUMENT = re.compile(r"([0-9]{1,10})(?:\.(pdf|csv))?")
Status = Annotated[str | None, QueryParameter(pattern="^(draft|sent|partially_received|received|cancelled)$")]
Late = Annotated[
    bool | None,
    QueryParameter(description="true: only late orders (sent or partially received, expected before today)"),
]


class PurchaseOrderController(Controller):
    """Purchase orders: drafted from alerts, edited, sent, cancelled; receipts name them."""

    path = "/api/purchase-orders"
    tags = ["purchasing"]
    guards = [staff]

    @post(
        "/from-alerts",
        operation_id="createPurchaseOrdersFromAlerts",
        guards=[manager],
        responses={201: ResponseSpec(FromAlertsOut)},
    )
    async def from_alerts(
        self, request: ActorRequest, data: JSONBody[FromAlertsIn], idempotency_key: IdempotencyKey = None
    ) -> Response[bytes]:
        """Draft one order per supplier and location from the open reorder alerts, in whole packs."""

        async def make() -> dict[str, Any]:
            return _from_alerts_out(await purchasing.from_alerts(actor=request.user, location_id=data.location_id))

        return await respond(request, idempotency_key, make, FromAlertsOut)

    @get("/", operation_id="listPurchaseOrders")
    async def list_(
        self,
        status: Status = None,
        location_id: OptId = None,
        late: Late = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> OrdersOut:
        """Orders, newest first; `late=true` only those expected before their location's today and still owed."""
        views = await purchasing.list_orders(
            status=status, location_id=location_id, late=late, limit=limit, offset=offset
        )
        return OrdersOut(items=[order_out(v) for v in views])

    @get(
        "/{document:str}",
        operation_id="getPurchaseOrder",
        operation_class=OrderDocumentOperation,
        responses={
            200: ResponseSpec(OrderOut, description="The order; `.pdf` and `.csv` give its documents."),
        },
    )
    async def get_(self, document: OrderDocument) -> Response[Any]:
        """One order as JSON, or its PDF (`{id}.pdf`) or CSV (`{id}.csv`, UTF-8 with a BOM)."""
        found = _DOCUMENT.fullmatch(document)
        if found is None:  # the pattern refused it already; kept for type narrowing
            raise NotFound(f"Purchase order {document!r} does not exist.", code="not_found")
        order_id, kind = int(found.group(1)), found.group(2)
        headers = {"Cache-Control": "no-store"}
        if kind == "pdf":
            pdf = await order_documents.order_pdf(order_id)
            headers["Content-Disposition"] = f'attachment; filename="purchase-order-{order_id}.pdf"'
            return Response(pdf, media_type="application/pdf", headers=headers)
        if kind == "csv":
            body = await order_documents.order_csv(order_id)
            headers["Content-Disposition"] = f'attachment; filename="purchase-order-{order_id}.csv"'
            return Response(body, media_type="text/csv", headers=headers)  # Litestar adds "; charset=utf-8"
        return Response(order_out(await purchasing.get_order(order_id)))

    @patch("/{order_id:int}/lines/{product_id:int}", operation_id="setPurchaseOrderLine", guards=[manager])
    async def set_line(
        self, request: ActorRequest, order_id: PathId, product_id: PathId, data: JSONBody[LineIn]
    ) -> OrderOut:
        """Change a draft line's quantity (single units; 0 removes the line); once sent: 409 invalid_transition."""
        view = await purchasing.set_line(
            actor=request.user, order_id=order_id, product_id=product_id, quantity=data.quantity
        )
        return order_out(view)

    @post(
        "/{order_id:int}/send",
        operation_id="sendPurchaseOrder",
        guards=[manager],
        status_code=200,
        responses={200: ResponseSpec(OrderOut)},
    )
    async def send(
        self, request: ActorRequest, order_id: PathId, idempotency_key: IdempotencyKey = None
    ) -> Response[bytes]:
        """Send a draft: its quantities count as on order from now on; expected on today + the lead time.

        With INVENTORY_WEBHOOK_URL set, the order is POSTed there (`kind` purchase_order.sent) once the send
        commits, retried with back-off.
        """

        async def make() -> OrderOut:
            url = request.app.state.settings.webhook_url
            return order_out(await purchasing.send(actor=request.user, order_id=order_id, webhook_url=url))

        return await respond(request, idempotency_key, make, OrderOut, status=200)

    @post("/{order_id:int}/cancel", operation_id="cancelPurchaseOrder", guards=[manager], status_code=200)
    async def cancel(self, request: ActorRequest, order_id: PathId) -> OrderOut:
        """Cancel an order not fully received: what it still owed leaves on order."""
        return order_out(await purchasing.cancel(actor=request.user, order_id=order_id))


HANDLERS: list[Any] = [SupplierController, PurchaseOrderController]
