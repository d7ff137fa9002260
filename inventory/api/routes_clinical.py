"""Routes for clients, treatment sessions, courses, and the scan at the chair."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter
from msgspec import Meta, Struct

from inventory.api.idempotent import IdempotencyKey, respond
from inventory.api.params import ActorRequest, OptId, PathId
from inventory.api.schemas import Amount, Id, Name, ShortText, to
from inventory.api.security import CHECKED_BY_SERVICE, staff
from inventory.services import clinical, scanning


class ClientIn(Struct, forbid_unknown_fields=True):
    """A new client."""

    full_name: Name
    allergies: Annotated[list[Annotated[str, Meta(min_length=1, max_length=120)]], Meta(max_length=50)] = []
    email: Annotated[str, Meta(max_length=254)] | None = None
    phone: Annotated[str, Meta(max_length=40)] | None = None
    date_of_birth: date | None = None
    sex: Annotated[
        Literal["female", "male", "other"] | None, Meta(description="Optional; vigilance reports show it.")
    ] = None


class ClientOut(Struct):
    """A client; e-mail and phone are shown to managers only."""

    id: int
    full_name: str
    email: str | None
    phone: str | None
    date_of_birth: date | None
    allergies: list[str]
    sex: str | None = None
    erased_at: Annotated[
        datetime | None,
        Meta(description="When the client was erased: the name is then a pseudonym, contacts and birth date gone."),
    ] = None


class SessionIn(Struct, forbid_unknown_fields=True):
    """A new treatment session."""

    client_id: Id
    location_id: Id
    scheduled_for: datetime | None = None
    treatment: ShortText | None = None
    protocol_id: Annotated[Id | None, Meta(description="The protocol the session follows: its checklist.")] = None


class SessionOut(Struct):
    """A treatment session."""

    id: int
    client_id: int
    client_name: Annotated[str, Meta(description="The client's full name (never contacts): what a chair picks by.")]
    location_id: int
    course_id: int | None
    sequence: int | None
    status: str
    treatment: str | None
    scheduled_for: datetime | None
    created_at: datetime
    closed_at: datetime | None
    protocol_id: int | None = None


class ChecklistItemOut(Struct):
    """A protocol item on a session: the quantity it should use and what its live uses add up to."""

    product_id: int
    product_name: str
    unit: str
    quantity: Amount
    used: Amount
    done: bool


class SessionClosedOut(SessionOut):
    """A closed session, with `protocol_incomplete` when protocol items were not used in full."""

    warnings: list[dict[str, Any]] = []


class SessionUsageOut(Struct):
    """A use recorded in a session."""

    usage_id: int
    lot_id: int
    lot_number: str
    expiry_date: date
    product_id: int
    product_name: str
    quantity: Amount
    used_at: datetime
    user_id: int
    warnings: list[dict[str, Any]]
    override_reason: str | None
    voided: bool
    void_reason: str | None


class SessionDetailOut(SessionOut):
    """A session with its uses."""

    usages: list[SessionUsageOut] = []
    checklist: list[ChecklistItemOut] = []


class CourseProductIn(Struct, forbid_unknown_fields=True):
    """A product each session of a course is expected to use."""

    product_id: Id
    quantity: Annotated[int, Meta(ge=1, le=100)] = 1


class CourseIn(Struct, forbid_unknown_fields=True):
    """A course of sessions."""

    client_id: Id
    location_id: Id
    treatment: Name
    start_date: date
    sessions: Annotated[int, Meta(ge=1, le=52)]
    interval_days: Annotated[int, Meta(ge=1, le=365)]
    products: Annotated[list[CourseProductIn], Meta(max_length=50)] = []
    protocol_id: Annotated[
        Id | None,
        Meta(description="Each planned session follows this protocol; without products, its items are the forecast."),
    ] = None


class CourseProductOut(Struct):
    """A product of a course."""

    product_id: int
    quantity: Amount


class CourseOut(Struct):
    """A course with its planned sessions."""

    id: int
    client_id: int
    location_id: int
    treatment: str
    start_date: date
    sessions: int
    interval_days: int
    products: list[CourseProductOut]
    planned_sessions: list[SessionOut]
    protocol_id: int | None = None


class ScanIn(Struct, forbid_unknown_fields=True):
    """Exactly what the scanner typed."""

    barcode: Annotated[str, Meta(min_length=1, max_length=512)]
    quantity: Annotated[
        Amount, Meta(description="In the product's unit: whole for `each`, up to 2 decimal places for ml and U.")
    ] = 1
    override_reason: Annotated[str, Meta(max_length=2000)] | None = None
    repeat: Annotated[
        bool,
        Meta(
            description="Confirms another use of a barcode recorded on this session less than 10 s ago"
            " (otherwise 409 repeat_scan)."
        ),
    ] = False
    open_new: Annotated[
        bool,
        Meta(
            description="Open a new container when the open one is past its use-by or holds too little (its"
            " remainder is disposed); otherwise 409 container_expired / container_insufficient."
        ),
    ] = False


class WarningOut(Struct, omit_defaults=True):
    """A warning attached to a recorded use."""

    code: str
    message: str
    # container_opened after open_new: the container whose remainder was disposed, and why.
    disposed_container_id: int | None = None
    disposed_reason: str | None = None


class ScanProductOut(Struct):
    """The product a scan resolved to."""

    id: int
    name: str
    brand: str
    gtin: str | None
    unit: str = "each"


class ScanLotOut(Struct):
    """The lot a scan resolved to."""

    id: int
    lot_number: str
    expiry_date: date
    status: str


class ContainerOut(Struct):
    """The opened container a dose was drawn from: when it was opened, until when it may be used, what is left."""

    id: int
    opened_at: datetime
    use_by: datetime
    remaining: Amount


class ScanOut(Struct):
    """A recorded use."""

    usage_id: int
    session_id: int
    client_id: int
    product: ScanProductOut
    lot: ScanLotOut
    location_id: int
    quantity: Amount
    on_hand_after: Amount
    used_at: datetime
    warnings: list[WarningOut]
    override_reason: str | None = None
    udi: Annotated[
        str | None,
        Meta(description='An implant\'s UDI kept with the use, "(01)…(17)…(10)…(21)…"; null for other products.'),
    ] = None
    container: ContainerOut | None = None


class VoidIn(Struct, forbid_unknown_fields=True):
    """Why a use is voided."""

    reason: Annotated[str, Meta(min_length=1, max_length=2000)]


class VoidOut(Struct):
    """A voided use."""

    usage_id: int
    session_id: int
    lot_id: int
    location_id: int
    quantity: Amount
    voided: bool
    voided_at: datetime
    void_reason: str
    on_hand_after: Amount
    # The opened container the dose went back to (null: single use, or the container is no longer open).
    container: ContainerOut | None = None


class ClinicalController(Controller):
    """Clients, sessions, courses and scans (staff and above)."""

    path = "/api"
    tags = ["clinical"]
    guards = [staff]

    @post("/clients", operation_id="createClient")
    async def create_client(self, request: ActorRequest, data: JSONBody[ClientIn]) -> ClientOut:
        """Register a client with their allergies."""
        client = await clinical.create_client(
            actor=request.user,
            full_name=data.full_name,
            email=data.email,
            phone=data.phone,
            date_of_birth=data.date_of_birth,
            allergies=list(data.allergies),
            sex=data.sex,
        )
        return to(ClientOut, client)

    @get("/clients", operation_id="listClients")
    async def list_clients(
        self,
        request: ActorRequest,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> list[ClientOut]:
        """Find clients by name."""
        clients = await clinical.list_clients(actor=request.user, query=q, limit=limit, offset=offset)
        return to(list[ClientOut], clients)

    @get("/clients/{client_id:int}", operation_id="getClient")
    async def get_client(self, request: ActorRequest, client_id: PathId) -> ClientOut:
        """One client."""
        return to(ClientOut, await clinical.get_client(actor=request.user, client_id=client_id))

    @post("/sessions", operation_id="createSession")
    async def create_session(self, request: ActorRequest, data: JSONBody[SessionIn]) -> SessionOut:
        """Open a treatment session."""
        session = await clinical.create_session(
            actor=request.user,
            client_id=data.client_id,
            location_id=data.location_id,
            scheduled_for=data.scheduled_for,
            treatment=data.treatment,
            protocol_id=data.protocol_id,
        )
        return to(SessionOut, session)

    @get("/sessions", operation_id="listSessions")
    async def list_sessions(
        self,
        location_id: OptId = None,
        client_id: OptId = None,
        status: Annotated[Literal["planned", "open", "closed"] | None, QueryParameter()] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
        day: Annotated[
            date | None,
            QueryParameter(
                name="date",
                description="A local day (YYYY-MM-DD) at location_id: that day's sessions, planned first, then open,"
                " then closed, each by scheduled time. Needs location_id.",
            ),
        ] = None,
    ) -> list[SessionOut]:
        """Sessions, most recent first; with `date` and `location_id`, that local day's sessions for the chair."""
        sessions = await clinical.list_sessions(
            location_id=location_id, client_id=client_id, status=status, limit=limit, day=day
        )
        return to(list[SessionOut], sessions)

    @get("/sessions/{session_id:int}", operation_id="getSession")
    async def get_session(self, session_id: PathId) -> SessionDetailOut:
        """A session with its recorded uses."""
        return to(SessionDetailOut, await clinical.get_session(session_id=session_id))

    @post("/sessions/{session_id:int}/close", operation_id="closeSession", status_code=200)
    async def close_session(self, request: ActorRequest, session_id: PathId) -> SessionClosedOut:
        """Close a session; later scans are refused. Unused protocol items: warning protocol_incomplete."""
        return to(SessionClosedOut, await clinical.close_session(actor=request.user, session_id=session_id))

    @post("/courses", operation_id="createCourse")
    async def create_course(self, request: ActorRequest, data: JSONBody[CourseIn]) -> CourseOut:
        """Book a course: its planned sessions and expected products."""
        course = await clinical.create_course(
            actor=request.user,
            client_id=data.client_id,
            location_id=data.location_id,
            treatment=data.treatment,
            start_date=data.start_date,
            sessions=data.sessions,
            interval_days=data.interval_days,
            products=[(p.product_id, p.quantity) for p in data.products],
            protocol_id=data.protocol_id,
        )
        return to(CourseOut, course)

    @get("/courses/{course_id:int}", operation_id="getCourse")
    async def get_course(self, course_id: PathId) -> CourseOut:
        """A course with its planned sessions."""
        return to(CourseOut, await clinical.get_course(course_id=course_id))

    @post(
        "/sessions/{session_id:int}/scans",
        operation_id="recordScan",
        responses={201: ResponseSpec(ScanOut)},
        opt={CHECKED_BY_SERVICE: True},  # scanning.record_use checks the token in its session lock
    )
    async def scan(
        self,
        request: ActorRequest,
        session_id: PathId,
        data: JSONBody[ScanIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        """Record the use of a scanned ampoule on the session's client, or refuse with a reason."""
        return await respond(
            request,
            idempotency_key,
            lambda: scanning.record_use(
                actor=request.user,
                session_id=session_id,
                barcode=data.barcode,
                quantity=data.quantity,
                override_reason=data.override_reason,
                repeat=data.repeat,
                open_new=data.open_new,
            ),
            ScanOut,
        )

    @post(
        "/usages/{usage_id:int}/void", operation_id="voidUsage", status_code=200, responses={200: ResponseSpec(VoidOut)}
    )
    async def void(
        self,
        request: ActorRequest,
        usage_id: PathId,
        data: JSONBody[VoidIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        """Void a recorded use with a reason; its stock comes back and it stays visible."""
        return await respond(
            request,
            idempotency_key,
            lambda: scanning.void_usage(actor=request.user, usage_id=usage_id, reason=data.reason),
            VoidOut,
            status=200,
        )


HANDLERS: list[Any] = [ClinicalController]
