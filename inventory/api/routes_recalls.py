"""Routes for traceability look-ups, client histories, recall cases and lot quarantine (managers only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter
from msgspec import Meta, Struct

from inventory.api import schemas as s
from inventory.api.idempotent import IdempotencyKey, respond
from inventory.api.params import ActorRequest, PathId
from inventory.api.security import manager
from inventory.services import quarantine, recall_cases, recall_contacts, trace

Reason = Annotated[str, Meta(min_length=1, max_length=2000)]
ContactStatus = Literal["to_contact", "contacted", "acknowledged", "unreachable"]

# ------------------------------------------------------------------ shapes


class UserRef(Struct):
    """Who did something."""

    id: int
    email: str
    full_name: str


class ClientContact(Struct):
    """A client's name and contacts: only what a recall needs."""

    id: int
    full_name: str
    email: str | None
    phone: str | None


class TraceProduct(Struct):
    """A product as shown in traceability results."""

    id: int
    name: str
    brand_id: int
    brand: str
    gtin: str | None
    implant: bool = False


class TraceReceived(Struct):
    """A receipt line of the lot."""

    receipt_id: int
    received_at: datetime
    supplier: str | None
    reference: str | None
    quantity: s.Amount
    gtin: str | None
    location: s.LocationOut
    received_by: UserRef


class TraceStock(Struct):
    """What is left of the lot at a location."""

    location: s.LocationOut
    on_hand: s.Amount


class TraceUsage(Struct):
    """One use of the lot on a client; voided uses are listed and marked."""

    usage_id: int
    used_at: datetime
    voided: bool
    voided_at: datetime | None
    void_reason: str | None
    session_id: int
    client: ClientContact
    location: s.LocationOut
    user: UserRef
    quantity: s.Amount
    udi: Annotated[str | None, Meta(description="An implant's UDI as kept at use; null for other products.")] = None


class TraceMatch(Struct):
    """A lot with everything known about where it came from and went."""

    lot: s.LotOut
    product: TraceProduct
    brand: str
    received: list[TraceReceived]
    stock: list[TraceStock]
    usages: list[TraceUsage]


class TraceQuery(Struct):
    """How the look-up read its input."""

    lot_number: str
    lot_key: str
    similar_key: str | None
    gtin: str | None


class TraceOut(Struct):
    """Exact matches (ignoring case and surrounding white space) and look-alikes (separators, leading zeros)."""

    query: TraceQuery
    matches: list[TraceMatch]
    similar: list[TraceMatch]
    similar_truncated: bool


class HistoryClient(Struct):
    """The client whose history this is."""

    id: int
    full_name: str
    email: str | None
    phone: str | None
    date_of_birth: date | None


class HistoryUsage(Struct):
    """One use on the client."""

    usage_id: int
    used_at: datetime
    voided: bool
    voided_at: datetime | None
    void_reason: str | None
    session_id: int
    location: s.LocationOut
    user: UserRef
    quantity: s.Amount
    udi: Annotated[str | None, Meta(description="An implant's UDI as kept at use; null for other products.")] = None


class HistoryLot(Struct):
    """A lot used on the client, with its uses and the recalls that name it."""

    lot: s.LotOut
    product: TraceProduct
    brand: str
    recall_ids: list[int]
    quantity: s.Amount
    usages: list[HistoryUsage]


class HistoryOut(Struct):
    """Every lot used on a client."""

    client: HistoryClient
    lots: list[HistoryLot]


class RecallIn(Struct, forbid_unknown_fields=True):
    """A new recall case."""

    lot_ids: Annotated[list[s.Id], Meta(min_length=1, max_length=recall_cases.MAX_LOTS)]
    reason: Reason
    source: s.ShortText | None = None
    reference: s.ShortText | None = None


class RecallLotOut(Struct):
    """A lot of a case: units held when recalled, on hand now, disposed since."""

    lot: s.LotOut
    product: TraceProduct
    brand: str
    quarantined_units: s.Amount
    on_hand: s.Amount
    disposed_units: s.Amount


class RecallUseOut(Struct):
    """What a client received of a recalled lot."""

    usage_id: int
    session_id: int
    used_at: datetime
    lot_id: int
    lot_number: str
    product: str
    quantity: s.Amount


class RecallClientOut(Struct):
    """An affected client and where contacting them stands."""

    client: ClientContact
    contact_status: str
    note: str | None
    updated_at: datetime | None
    updated_by: UserRef | None
    quantity: s.Amount
    usages: list[RecallUseOut]


class RecallReport(Struct):
    """The case's counts."""

    clients_affected: int
    clients_to_contact: int
    clients_contacted: int
    clients_acknowledged: int
    clients_unreachable: int
    units_quarantined: s.Amount
    units_disposed: s.Amount
    units_on_hand: s.Amount


class RecallOut(Struct):
    """A recall case."""

    id: int
    reason: str
    source: str | None
    reference: str | None
    status: str
    created_at: datetime
    created_by: UserRef
    closed_at: datetime | None
    closed_by: UserRef | None
    closing_note: str | None
    lots: list[RecallLotOut]
    clients: list[RecallClientOut]
    report: RecallReport


class RecallSummaryOut(Struct):
    """A recall case in a list."""

    id: int
    reason: str
    source: str | None
    reference: str | None
    status: str
    created_at: datetime
    created_by: UserRef
    closed_at: datetime | None
    lot_count: int
    client_count: int
    clients_to_contact: int


class ContactIn(Struct, forbid_unknown_fields=True):
    """A change of a client's contact status."""

    contact_status: ContactStatus
    note: s.LongText | None = None


class CloseIn(Struct, forbid_unknown_fields=True):
    """Closing a case."""

    note: s.LongText | None = None


class ReasonIn(Struct, forbid_unknown_fields=True):
    """A reason for a quarantine or its release."""

    reason: Reason


class HoldOut(Struct):
    """A lot after quarantine or release."""

    lot: s.LotOut
    reason: str
    stock: list[s.LotStockOut]


# ------------------------------------------------------------------ controllers


class TraceController(Controller):
    """Traceability look-ups; every one is written to the audit log."""

    path = "/api"
    tags = ["trace"]
    guards = [manager]

    @get("/trace/lot", operation_id="traceLot")
    async def trace_lot(
        self,
        request: ActorRequest,
        lot_number: Annotated[
            str,
            QueryParameter(
                min_length=1, max_length=200, description="As printed; case and surrounding spaces ignored."
            ),
        ],
        gtin: Annotated[str | None, QueryParameter(max_length=32, description="Narrow to one product.")] = None,
    ) -> TraceOut:
        """Every lot with this number: receipts, stock per location, every usage with its client."""
        result = await trace.trace_lot(actor=request.user, lot_number=lot_number, gtin=gtin)
        return s.to(TraceOut, result)

    @get("/clients/{client_id:int}/history", operation_id="getClientHistory")
    async def client_history(self, request: ActorRequest, client_id: PathId) -> HistoryOut:
        """Every lot used on a client (for adverse reactions)."""
        result = await trace.client_history(actor=request.user, client_id=client_id)
        return s.to(HistoryOut, result)


async def _set_contact_status(
    request: ActorRequest, recall_id: int, client_id: int, data: ContactIn
) -> RecallClientOut:
    """Shared by PATCH and POST: update one client's contact status on a recall case."""
    entry = await recall_contacts.set_client_status(
        actor=request.user,
        recall_id=recall_id,
        client_id=client_id,
        contact_status=data.contact_status,
        note=data.note,
    )
    return s.to(RecallClientOut, entry)


class RecallController(Controller):
    """Recall cases."""

    path = "/api/recalls"
    tags = ["recalls"]
    guards = [manager]

    @post("/", operation_id="createRecall", responses={201: ResponseSpec(RecallOut)})
    async def create(
        self, request: ActorRequest, data: JSONBody[RecallIn], idempotency_key: IdempotencyKey = None
    ) -> Response[bytes]:
        """Open a recall case: the lots are recalled at once and their stock quarantined.

        A lot already recalled by an earlier case is accepted and named again (a second notice is its own case).
        Unknown lot ids: 404 with `lot_ids`, nothing written.
        """
        return await respond(
            request,
            idempotency_key,
            lambda: recall_cases.create_recall(
                actor=request.user,
                lot_ids=list(data.lot_ids),
                reason=data.reason,
                source=data.source,
                reference=data.reference,
            ),
            RecallOut,
        )

    @get("/", operation_id="listRecalls")
    async def list_recalls(
        self,
        request: ActorRequest,
        status: Annotated[str | None, QueryParameter(pattern="^(open|closed)$")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
    ) -> s.Page[RecallSummaryOut]:
        """Recall cases, newest first."""
        items = await recall_cases.list_recalls(actor=request.user, status=status, limit=limit, offset=offset)
        return s.Page(items=s.to(list[RecallSummaryOut], items))

    @get("/{recall_id:int}", operation_id="getRecall")
    async def get_recall(self, request: ActorRequest, recall_id: PathId) -> RecallOut:
        """A case with its lots, clients, contact status and report counts."""
        return s.to(RecallOut, await recall_cases.get_recall(actor=request.user, recall_id=recall_id))

    @get(
        "/{recall_id:int}/clients.csv",
        operation_id="exportRecallClients",
        media_type="text/csv",
        responses={200: ResponseSpec(str, description="One row per affected client.", media_type="text/csv")},
    )
    async def clients_csv(self, request: ActorRequest, recall_id: PathId) -> Response[bytes]:
        """Affected clients as CSV (UTF-8 with a BOM, so Excel reads `Léa` right): contacts, dates, lots."""
        content = await recall_contacts.clients_csv(actor=request.user, recall_id=recall_id)
        return Response(
            content,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="recall-{recall_id}-clients.csv"',
                "Cache-Control": "no-store",
            },
        )

    @patch("/{recall_id:int}/clients/{client_id:int}", operation_id="updateRecallClient")
    async def update_client(
        self, request: ActorRequest, recall_id: PathId, client_id: PathId, data: JSONBody[ContactIn]
    ) -> RecallClientOut:
        """Record contact with a client: to_contact → contacted → acknowledged | unreachable."""
        return await _set_contact_status(request, recall_id, client_id, data)

    @post("/{recall_id:int}/clients/{client_id:int}", operation_id="updateRecallClientByPost", status_code=200)
    async def update_client_post(
        self, request: ActorRequest, recall_id: PathId, client_id: PathId, data: JSONBody[ContactIn]
    ) -> RecallClientOut:
        """The same as PATCH, for clients that cannot send PATCH."""
        return await _set_contact_status(request, recall_id, client_id, data)

    @post("/{recall_id:int}/close", operation_id="closeRecall", status_code=200)
    async def close(
        self,
        request: ActorRequest,
        recall_id: PathId,
        data: JSONBody[CloseIn | None] = None,
    ) -> RecallOut:
        """Close the case; its report keeps the counts."""
        case = await recall_cases.close_recall(
            actor=request.user, recall_id=recall_id, note=data.note if data is not None else None
        )
        return s.to(RecallOut, case)


class QuarantineController(Controller):
    """Holding a lot out of usable stock, and lifting the hold."""

    path = "/api/lots"
    tags = ["stock"]
    guards = [manager]

    @post(
        "/{lot_id:int}/quarantine",
        operation_id="quarantineLot",
        status_code=200,
        responses={200: ResponseSpec(HoldOut)},
    )
    async def quarantine(
        self,
        request: ActorRequest,
        lot_id: PathId,
        data: JSONBody[ReasonIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        """Quarantine a lot: scans are refused and its stock leaves usable stock."""
        return await respond(
            request,
            idempotency_key,
            lambda: quarantine.quarantine_lot(actor=request.user, lot_id=lot_id, reason=data.reason),
            HoldOut,
            200,
        )

    @post("/{lot_id:int}/release", operation_id="releaseLot", status_code=200, responses={200: ResponseSpec(HoldOut)})
    async def release(
        self,
        request: ActorRequest,
        lot_id: PathId,
        data: JSONBody[ReasonIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        """Lift a quarantine (never a recall)."""
        return await respond(
            request,
            idempotency_key,
            lambda: quarantine.release_lot(actor=request.user, lot_id=lot_id, reason=data.reason),
            HoldOut,
            200,
        )


HANDLERS: list[Any] = [TraceController, RecallController, QuarantineController]
