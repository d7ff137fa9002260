"""Routes for vigilance: reactions recorded at the chair (staff), signals and reports (managers)."""

from __future__ import annotations

import dataclasses
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
from inventory.api.params import ActorRequest, Limit, Offset, OptId, PathId
from inventory.api.routes_clinical import ClientOut
from inventory.api.security import admin, manager, staff
from inventory.services import erasure, implant_card, reaction_follow_ups, vigilance, vigilance_report

Kind = Literal["swelling", "bruising", "nodule", "infection", "allergic_reaction", "necrosis", "pain", "other"]
Severity = Literal["mild", "moderate", "serious"]
Outcome = Literal["recovered", "recovering", "not_recovered", "unknown"]
SignalId = Annotated[
    str,
    PathParameter(
        min_length=1,
        max_length=40,
        description='"lot-<lot id>" or "product-<product id>", as GET /api/vigilance/signals lists it.',
    ),
]


class ReactionIn(Struct, forbid_unknown_fields=True):
    """A reaction of the session's client."""

    kind: Kind
    severity: Severity
    onset_at: Annotated[
        datetime, Meta(description="When it began: not in the future, not more than a day before the session.")
    ]
    outcome: Outcome | None = None
    description: Annotated[str, Meta(max_length=2000)] | None = None


class ReactionLotOut(Struct):
    """A lot used in the reaction's session (linked when the reaction was recorded)."""

    id: int
    lot_number: str
    product_id: int
    expiry_date: date


class ReactionOut(Struct):
    """A recorded reaction and the lots of its session."""

    id: int
    session_id: int
    client_id: int
    kind: str
    severity: str
    onset_at: datetime
    outcome: str | None
    description: str | None
    recorded_by: int
    recorded_at: datetime
    lots: list[ReactionLotOut]


class FollowUpIn(Struct, forbid_unknown_fields=True):
    """A manager's follow-up of a reaction: a note, and the outcome now if it changed."""

    note: Annotated[str, Meta(min_length=1, max_length=2000)]
    outcome: Outcome | None = None


class FollowUpOut(Struct):
    """A follow-up of a reaction."""

    id: int
    reaction_id: int
    outcome: str | None
    note: str
    recorded_by: int
    recorded_at: datetime


class ReactionDetailOut(Struct):
    """A reaction, its lots, its follow-ups (oldest first) and its current outcome."""

    id: int
    session_id: int
    client_id: int
    kind: str
    severity: str
    onset_at: datetime
    outcome: Annotated[str | None, Meta(description="The outcome recorded with the reaction.")]
    current_outcome: Annotated[
        str | None, Meta(description="The latest follow-up's outcome, else the one recorded with the reaction.")
    ]
    description: str | None
    recorded_by: int
    recorded_at: datetime
    lots: list[ReactionLotOut]
    follow_ups: list[FollowUpOut]


def _detail(followed: reaction_follow_ups.FollowedReaction) -> ReactionDetailOut:
    values = {
        **dataclasses.asdict(followed.reaction),
        "current_outcome": followed.current_outcome,
        "follow_ups": followed.follow_ups,
    }
    return s.to(ReactionDetailOut, values)


class SignalProduct(Struct):
    """The product of a signal."""

    id: int
    name: str
    brand_id: int
    brand: str
    gtin: str | None


class SignalOut(Struct):
    """A lot or product whose recent reactions reach the rule (3 distinct clients in 90 days, or any serious)."""

    id: Annotated[str, Meta(description='"lot-12" or "product-7": the path of its quarantine action.')]
    kind: Literal["lot", "product"]
    lot: s.LotOut | None
    product: SignalProduct
    clients: int
    reactions: int
    serious: int
    uses: Annotated[int, Meta(description="Non-voided uses of the lot (or product), all time: the rate context.")]
    first_onset: datetime
    last_onset: datetime
    reasons: list[str]


class SignalReasonIn(Struct, forbid_unknown_fields=True):
    """Why the signal's lot is quarantined (the signal's id is prefixed to it)."""

    reason: Annotated[str, Meta(min_length=1, max_length=1800)]


class SignalHoldOut(Struct):
    """The signal's lot, quarantined."""

    signal_id: str
    lot: s.LotOut
    reason: str
    stock: list[s.LotStockOut]


class ReactionRecordController(Controller):
    """Recording a reaction at the chair (staff and above)."""

    path = "/api/sessions"
    tags = ["vigilance"]
    guards = [staff]

    @post(
        "/{session_id:int}/reactions",
        operation_id="recordReaction",
        responses={201: ResponseSpec(ReactionOut)},
    )
    async def record(
        self,
        request: ActorRequest,
        session_id: PathId,
        data: JSONBody[ReactionIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        """Record a reaction of the session's client; every lot used (not voided) in the session is linked."""
        return await respond(
            request,
            idempotency_key,
            lambda: vigilance.record_reaction(
                actor=request.user,
                session_id=session_id,
                kind=data.kind,
                severity=data.severity,
                onset_at=data.onset_at,
                outcome=data.outcome,
                description=data.description,
                webhook_url=request.app.state.settings.webhook_url,
            ),
            ReactionOut,
        )


@dataclass
class ReportOperation(Operation):
    """The report operation: a PDF by default, CSV with `format=csv`."""

    def __post_init__(self) -> None:
        """Document the CSV beside the PDF."""
        add_file_types(self, {"text/csv": "The report as one CSV row per lot, UTF-8 with a BOM."})


class VigilanceController(Controller):
    """Reactions, signals and reports (managers)."""

    path = "/api"
    tags = ["vigilance"]
    guards = [manager]

    @get("/reactions/{reaction_id:int}", operation_id="getReaction")
    async def get_reaction(self, reaction_id: PathId) -> ReactionDetailOut:
        """One reaction with its lots, its follow-ups and its current outcome."""
        return _detail(await reaction_follow_ups.get_followed(reaction_id=reaction_id))

    @post(
        "/reactions/{reaction_id:int}/follow-ups",
        operation_id="addReactionFollowUp",
        responses={201: ResponseSpec(FollowUpOut)},
    )
    async def add_follow_up(
        self,
        request: ActorRequest,
        reaction_id: PathId,
        data: JSONBody[FollowUpIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        """Append a follow-up; with an outcome, it becomes the reaction's current outcome."""
        return await respond(
            request,
            idempotency_key,
            lambda: reaction_follow_ups.add_follow_up(
                actor=request.user, reaction_id=reaction_id, note=data.note, outcome=data.outcome
            ),
            FollowUpOut,
        )

    @get("/reactions", operation_id="listReactions")
    async def list_reactions(
        self, lot_id: OptId = None, product_id: OptId = None, limit: Limit = 100, offset: Offset = 0
    ) -> s.Page[ReactionDetailOut]:
        """Reactions, latest onset first, with their follow-ups and current outcome; of one lot, or of one product."""
        items = await reaction_follow_ups.list_followed(
            lot_id=lot_id, product_id=product_id, limit=limit, offset=offset
        )
        return s.Page(items=[_detail(item) for item in items])

    @get(
        "/reactions/{reaction_id:int}/report",
        operation_id="getReactionReport",
        media_type="application/pdf",
        operation_class=ReportOperation,
        responses={
            200: ResponseSpec(
                bytes,
                description="A pre-filled vigilance report (PDF, or CSV in UTF-8 with a BOM).",
                media_type="application/pdf",
            )
        },
    )
    async def report(
        self,
        reaction_id: PathId,
        report_format: Annotated[Literal["pdf", "csv"], QueryParameter(name="format")] = "pdf",
    ) -> Response[bytes]:
        """Product, brand, GTIN, lot, expiry, use date, onset, severity, outcome, age band, sex and clinic.

        Never the client's name, contacts or birth date (nor the free-text description, which may name them).
        """
        report = await vigilance_report.reaction_report(reaction_id=reaction_id)
        headers = {"Cache-Control": "no-store"}
        if report_format == "csv":
            return Response(
                vigilance_report.report_csv(report),
                media_type="text/csv",  # Litestar adds "; charset=utf-8"
                headers={**headers, "Content-Disposition": f'attachment; filename="reaction-{reaction_id}.csv"'},
            )
        return Response(
            vigilance_report.report_pdf(report),
            media_type="application/pdf",
            headers={**headers, "Content-Disposition": f'inline; filename="reaction-{reaction_id}.pdf"'},
        )

    @get("/vigilance/signals", operation_id="listSignals")
    async def list_signals(self) -> s.Page[SignalOut]:
        """Lots, then products, whose reactions of the last 90 days come from 3 distinct clients or are serious."""
        return s.Page(items=s.to(list[SignalOut], await vigilance.list_signals()))

    @post(
        "/vigilance/signals/{signal:str}/quarantine",
        operation_id="quarantineSignal",
        status_code=200,
        responses={200: ResponseSpec(SignalHoldOut)},
    )
    async def quarantine(
        self,
        request: ActorRequest,
        signal: SignalId,
        data: JSONBody[SignalReasonIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        """Quarantine a lot signal's lot everywhere, the signal named in the reason and the audit.

        A product signal is refused (422 signal_needs_lot): a quarantine holds one lot, chosen by the manager.
        A signal no longer raised: 404.
        """
        return await respond(
            request,
            idempotency_key,
            lambda: vigilance.quarantine_signal(actor=request.user, signal_id=signal, reason=data.reason),
            SignalHoldOut,
            200,
        )


class ImplantCardController(Controller):
    """The implant card handed to the client (staff and above: it is printed at the chair)."""

    path = "/api/usages"
    tags = ["vigilance"]
    guards = [staff]

    @get(
        "/{usage_id:int}/implant-card",
        operation_id="getImplantCard",
        media_type="application/pdf",
        responses={200: ResponseSpec(bytes, description="The implant card (PDF).", media_type="application/pdf")},
    )
    async def implant_card(
        self,
        request: ActorRequest,
        usage_id: PathId,
        card_format: Annotated[Literal["pdf"], QueryParameter(name="format")] = "pdf",
    ) -> Response[bytes]:
        """Device, manufacturer, lot, serial, UDI, date of use, clinic and the client's name; audited.

        409 not_implant for a use of another product, udi_missing for an implant use that kept no UDI,
        usage_voided for a voided use.
        """
        card = await implant_card.implant_card(actor=request.user, usage_id=usage_id)
        return Response(
            implant_card.implant_card_pdf(card),
            media_type="application/pdf",
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'inline; filename="implant-card-{usage_id}.{card_format}"',
            },
        )


class EraseIn(Struct, forbid_unknown_fields=True):
    """Why the client is erased (kept in the audit log with the client's name and contacts scrubbed out)."""

    reason: Annotated[str, Meta(min_length=1, max_length=1000)]


class ErasureController(Controller):
    """Erasing a client on request (admins)."""

    path = "/api/clients"
    tags = ["vigilance"]
    guards = [admin]

    @post(
        "/{client_id:int}/erase",
        operation_id="eraseClient",
        status_code=200,
        responses={200: ResponseSpec(ClientOut)},
    )
    async def erase(
        self,
        request: ActorRequest,
        client_id: PathId,
        data: JSONBody[EraseIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        """Pseudonymise the client: the name becomes a stable pseudonym, contacts, birth date and allergies go.

        Usages, trace, recalls and reactions keep the link to the pseudonym. A second erasure is refused
        (409 client_erased): the first one's audit event is the record (retry a lost answer with Idempotency-Key).
        """
        return await respond(
            request,
            idempotency_key,
            lambda: erasure.erase_client(
                actor=request.user,
                client_id=client_id,
                reason=data.reason,
                secret=request.app.state.settings.secret_key,
            ),
            ClientOut,
            200,
        )


HANDLERS: list[Any] = [ReactionRecordController, VigilanceController, ImplantCardController, ErasureController]
