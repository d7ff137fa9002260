"""Routes for returns to a supplier (managers): record one, list them, and the return note PDF."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Operation
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import Meta, Struct

from inventory.api import schemas as s
from inventory.api.idempotent import IdempotencyKey, respond
from inventory.api.openapi import add_file_types
from inventory.api.params import ActorRequest, Limit, Offset, OptId
from inventory.api.security import manager
from inventory.domain.errors import NotFound
from inventory.services import return_documents, supplier_returns
from inventory.services.supplier_returns import Created, ReturnRow

Reason = Literal["recalled", "damaged", "expired", "other"]
Note = Annotated[str, Meta(max_length=500)]


class SupplierReturnIn(Struct, forbid_unknown_fields=True):
    """Units of a lot to send back from a location, and why (`supplier_id` optional)."""

    lot_id: s.Id
    location_id: s.Id
    quantity: s.Quantity
    reason: Reason
    supplier_id: s.Id | None = None
    note: Note | None = None


class ReturnLotOut(Struct):
    """The lot returned."""

    id: int
    lot_number: str
    expiry_date: date
    status: str


class ReturnProductOut(Struct):
    """The lot's product."""

    id: int
    name: str
    brand: str
    gtin: str | None


class NamedOut(Struct):
    """A location or supplier by id and name."""

    id: int
    name: str


class UserRefOut(Struct):
    """Who recorded it."""

    id: int
    email: str


class SupplierReturnOut(Struct):
    """A return to a supplier: its document number, what went back from where, why, who, and the ledger row."""

    id: int
    number: str
    lot: ReturnLotOut
    product: ReturnProductOut
    location: NamedOut
    supplier: NamedOut | None
    quantity: s.Amount
    reason: str
    note: str | None
    movement_id: int
    created_at: datetime
    created_by: UserRefOut


class SupplierReturnCreatedOut(SupplierReturnOut):
    """A return just recorded, with what is left of the lot at the location."""

    on_hand: s.Amount = 0


class SupplierReturnsOut(Struct):
    """Returns to suppliers, newest first."""

    items: list[SupplierReturnOut]


def return_out(row: ReturnRow) -> SupplierReturnOut:
    """The API's return."""
    return SupplierReturnOut(**_fields(row))


def _fields(row: ReturnRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number,
        "lot": ReturnLotOut(
            id=row.lot_id, lot_number=row.lot_number, expiry_date=row.expiry_date, status=row.lot_status
        ),
        "product": ReturnProductOut(id=row.product_id, name=row.product_name, brand=row.brand_name, gtin=row.gtin),
        "location": NamedOut(id=row.location_id, name=row.location_name),
        "supplier": None if row.supplier_id is None else NamedOut(id=row.supplier_id, name=row.supplier_name or ""),
        "quantity": row.quantity,
        "reason": row.reason,
        "note": row.note,
        "movement_id": row.movement_id,
        "created_at": row.created_at,
        "created_by": UserRefOut(id=row.created_by_id, email=row.created_by_email),
    }


def created_out(created: Created) -> SupplierReturnCreatedOut:
    """The answer to a new return: the return and the lot's on-hand left at the location."""
    return SupplierReturnCreatedOut(**_fields(created.record), on_hand=created.on_hand)


@dataclass
class ReturnDocumentOperation(Operation):
    """The return operation: JSON for `{id}`, the return note PDF for `{id}.pdf`."""

    def __post_init__(self) -> None:
        """Document the PDF beside the JSON."""
        add_file_types(self, {"application/pdf": "The return note to send with the goods (`{id}.pdf`)."})


ReturnDocument = Annotated[
    str,
    PathParameter(
        pattern=r"^[0-9]{1,10}(\.pdf)?$",
        description="The return's id for its JSON; `{id}.pdf` for its return note.",
    ),
]
_DOCUMENT = re.compile(r"([0-9]{1,10})(\.pdf)?")
ReasonQuery = Annotated[str | None, QueryParameter(pattern="^(recalled|damaged|expired|other)$")]


class SupplierReturnController(Controller):
    """Returns to suppliers: recalled, damaged or expired stock sent back, as `return` ledger rows."""

    path = "/api/supplier-returns"
    tags = ["purchasing"]
    guards = [manager]

    @post("/", operation_id="createSupplierReturn", responses={201: ResponseSpec(SupplierReturnCreatedOut)})
    async def create(
        self, request: ActorRequest, data: JSONBody[SupplierReturnIn], idempotency_key: IdempotencyKey = None
    ) -> Response[bytes]:
        """Take units of a lot off a location back to a supplier; more than on hand: 409 insufficient_stock."""

        async def make() -> SupplierReturnCreatedOut:
            created = await supplier_returns.create(
                actor=request.user,
                lot_id=data.lot_id,
                location_id=data.location_id,
                quantity=data.quantity,
                reason=data.reason,
                supplier_id=data.supplier_id,
                note=data.note,
            )
            return created_out(created)

        return await respond(request, idempotency_key, make, SupplierReturnCreatedOut)

    @get("/", operation_id="listSupplierReturns")
    async def list_(
        self,
        lot_id: OptId = None,
        location_id: OptId = None,
        supplier_id: OptId = None,
        reason: ReasonQuery = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> SupplierReturnsOut:
        """Returns, newest first, by lot, location, supplier and reason."""
        rows = await supplier_returns.list_returns(
            lot_id=lot_id, location_id=location_id, supplier_id=supplier_id, reason=reason, limit=limit, offset=offset
        )
        return SupplierReturnsOut(items=[return_out(r) for r in rows])

    @get(
        "/{document:str}",
        operation_id="getSupplierReturn",
        operation_class=ReturnDocumentOperation,
        responses={200: ResponseSpec(SupplierReturnOut, description="The return; `.pdf` gives its return note.")},
    )
    async def get_(self, document: ReturnDocument) -> Response[Any]:
        """One return as JSON, or its return note (`{id}.pdf`)."""
        found = _DOCUMENT.fullmatch(document)
        if found is None:  # the pattern refused it already; kept for type narrowing
            raise NotFound(f"Supplier return {document!r} does not exist.", code="not_found")
        return_id = int(found.group(1))
        if found.group(2):
            pdf = await return_documents.return_pdf(return_id)
            headers = {
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="return-{return_id}.pdf"',
            }
            return Response(pdf, media_type="application/pdf", headers=headers)
        return Response(return_out(await supplier_returns.get(return_id)), headers={"Cache-Control": "no-store"})


HANDLERS: list[Any] = [SupplierReturnController]
