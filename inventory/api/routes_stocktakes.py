"""Routes for stocktakes: a manager opens and approves, staff count blind."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter
from msgspec import Meta, Struct

from inventory.api import schemas as s
from inventory.api.idempotent import IdempotencyKey, respond
from inventory.api.params import ActorRequest, Limit, OptId, PathId
from inventory.api.security import manager, staff
from inventory.services import stocktake

# ------------------------------------------------------------------ shapes


class StocktakeIn(Struct, forbid_unknown_fields=True):
    """Open a stocktake at a location."""

    location_id: s.Id


class CountIn(Struct, forbid_unknown_fields=True):
    """One count: a scanned code (exactly what the scanner typed) or a lot id, and how many."""

    quantity: Annotated[
        s.Amount, Meta(description="In the product's unit: whole for `each`, up to 2 decimal places for ml and U.")
    ]
    barcode: s.Barcode | None = None
    lot_id: s.Id | None = None


class StocktakeOut(Struct):
    """A stocktake."""

    id: int
    location: s.LocationOut
    status: str
    started_by: int
    started_at: datetime
    approved_by: int | None
    approved_at: datetime | None
    cancelled_by: int | None
    cancelled_at: datetime | None


class CountedProduct(Struct):
    """The product a count or a review line is about."""

    id: int
    name: str
    brand_id: int
    brand: str
    gtin: str | None
    unit: str = "each"


class CountedLotRef(Struct):
    """The lot counted; `id` is null for a lot the system does not know."""

    id: int | None
    lot_number: str
    expiry_date: date | None


class CountOut(Struct):
    """A blind count: what was counted, and how much this person has counted of it; never the expected figure."""

    id: int
    stocktake_id: int
    counted_at: datetime
    product: CountedProduct
    lot: CountedLotRef
    unknown_lot: bool
    quantity: s.Amount
    your_total: s.Amount


class ReviewLot(Struct):
    """A lot in the review."""

    id: int
    lot_number: str
    expiry_date: date
    status: str
    not_received: bool


class ReviewLine(Struct):
    """A counted lot: expected at its first count, counted, variance, and where approval leaves it."""

    lot: ReviewLot
    product: CountedProduct
    counted: s.Amount
    expected: s.Amount
    variance: s.Amount
    on_hand: s.Amount
    movements_since_count: s.Amount
    on_hand_after_approval: s.Amount
    counts: int
    first_counted_at: datetime
    last_counted_at: datetime


class NotCounted(Struct):
    """A lot with stock at the location that nobody counted (approval leaves it as it is)."""

    lot: ReviewLot
    product: CountedProduct
    on_hand: s.Amount


class UnknownLot(Struct):
    """Counts of a lot the system does not know: flagged, never stock."""

    product: CountedProduct
    gtin: str | None
    lot_number: str
    expiry_date: date | None
    counted: s.Amount
    counts: int
    first_counted_at: datetime


class NotAtLocation(Struct):
    """A known lot counted at a location that never held it: flagged, and approval does not make it stock there."""

    lot: ReviewLot
    product: CountedProduct
    counted: s.Amount
    counts: int
    first_counted_at: datetime


class ReviewOut(StocktakeOut):
    """The manager's review of a stocktake."""

    lines: list[ReviewLine]
    not_counted: list[NotCounted]
    unknown_lots: list[UnknownLot]
    lots_differing: int
    not_at_location: list[NotAtLocation] = msgspec.field(default_factory=list)


class Adjustment(Struct):
    """One adjust ledger row an approval wrote."""

    lot_id: int
    before: s.Amount
    delta: s.Amount
    on_hand: s.Amount


class ApprovalOut(StocktakeOut):
    """An approved stocktake and the adjustments it wrote (ledger reason `reason`)."""

    adjustments: list[Adjustment]
    reason: str
    # Lots counted here that the location never held: not adjusted.
    not_at_location: list[int] = msgspec.field(default_factory=list)


class StocktakesOut(Struct):
    """Stocktakes, newest first (no expected figures: staff read this to join an open count)."""

    items: list[StocktakeOut]


Status = Annotated[str | None, QueryParameter(pattern="^(open|approved|cancelled)$")]

# ------------------------------------------------------------------ routes


class StocktakeController(Controller):
    """Stocktakes."""

    path = "/api/stocktakes"
    tags = ["stocktakes"]

    @post("/", operation_id="startStocktake", guards=[manager], responses={201: ResponseSpec(StocktakeOut)})
    async def start(
        self, request: ActorRequest, data: JSONBody[StocktakeIn], idempotency_key: IdempotencyKey = None
    ) -> Response[bytes]:
        """Open a stocktake at a location (one open at a time per location: 409 stocktake_open)."""
        return await respond(
            request,
            idempotency_key,
            lambda: stocktake.start(actor=request.user, location_id=data.location_id),
            StocktakeOut,
        )

    @get("/", operation_id="listStocktakes", guards=[staff])
    async def list_(self, location_id: OptId = None, status: Status = None, limit: Limit = 100) -> StocktakesOut:
        """Stocktakes, newest first, at a location and in a status when given (blind: heads only)."""
        items = await stocktake.list_stocktakes(location_id=location_id, status=status, limit=limit)
        return StocktakesOut(items=[s.to(StocktakeOut, item) for item in items])

    @post(
        "/{stocktake_id:int}/counts",
        operation_id="addStocktakeCount",
        guards=[staff],
        responses={201: ResponseSpec(CountOut)},
    )
    async def add_count(
        self,
        request: ActorRequest,
        stocktake_id: PathId,
        data: JSONBody[CountIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        """Add a count; several people may count at once and counts add. The answer is blind."""
        return await respond(
            request,
            idempotency_key,
            lambda: stocktake.count(
                actor=request.user,
                stocktake_id=stocktake_id,
                quantity=data.quantity,
                barcode=data.barcode,
                lot_id=data.lot_id,
            ),
            CountOut,
        )

    @get("/{stocktake_id:int}", operation_id="reviewStocktake", guards=[manager])
    async def review(self, stocktake_id: PathId) -> ReviewOut:
        """Per lot expected (as of its first count), counted and variance; lots not counted; unknown lots."""
        return s.to(ReviewOut, await stocktake.review(stocktake_id=stocktake_id))

    @post(
        "/{stocktake_id:int}/approve",
        operation_id="approveStocktake",
        guards=[manager],
        status_code=200,
        responses={200: ResponseSpec(ApprovalOut)},
    )
    async def approve(
        self, request: ActorRequest, stocktake_id: PathId, idempotency_key: IdempotencyKey = None
    ) -> Response[bytes]:
        """Write one adjust ledger row per differing lot, in one transaction (a second approval: 409)."""
        return await respond(
            request,
            idempotency_key,
            lambda: stocktake.approve(actor=request.user, stocktake_id=stocktake_id),
            ApprovalOut,
            status=200,
        )

    @post(
        "/{stocktake_id:int}/cancel",
        operation_id="cancelStocktake",
        guards=[manager],
        status_code=200,
        responses={200: ResponseSpec(StocktakeOut)},
    )
    async def cancel(
        self, request: ActorRequest, stocktake_id: PathId, idempotency_key: IdempotencyKey = None
    ) -> Response[bytes]:
        """Close an open stocktake without changing stock."""
        return await respond(
            request,
            idempotency_key,
            lambda: stocktake.cancel(actor=request.user, stocktake_id=stocktake_id),
            StocktakeOut,
            status=200,
        )


HANDLERS: list[Any] = [StocktakeController]
