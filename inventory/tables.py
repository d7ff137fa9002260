"""Piccolo tables: the schema of record. Only `inventory.store` and migrations import this module."""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

# Quantities in a product's unit: exact decimals with two places (0.3 ml, 12.5 U), whole for `each`.
QUANTITY_DIGITS = (12, 2)


def _quantity(*, null: bool = False) -> Numeric:
    """A quantity column: numeric(12,2), never a float."""
    if null:
        return Numeric(digits=QUANTITY_DIGITS, null=True, default=None)
    return Numeric(digits=QUANTITY_DIGITS, default=Decimal(0))


class AppUser(Table, tablename="app_user"):
    """Someone who signs in: staff at the chair, managers, admins."""

    id: Serial
    email = Varchar(length=254, unique=True)
    full_name = Varchar(length=200, default="")
    password_hash = Text()
    role = Varchar(length=16)
    active = Boolean(default=True)
    created_at = Timestamptz()
    # Tokens issued before this moment are refused: set by a password reset and by deactivation.
    tokens_valid_after = Timestamptz(null=True, default=None)
    # The pages' language this user chose (en, fr); null follows the browser.
    locale = Varchar(length=8, null=True, default=None)


class LoginAttempt(Table):
    """A sign-in attempt, kept to limit guessing across all worker processes."""

    id: Serial
    email = Varchar(length=254, index=True)
    succeeded = Boolean(default=False)
    attempted_at = Timestamptz()
    # The client's network address; null for attempts of unknown origin (recorded before it was kept).
    client = Varchar(length=64, null=True, default=None)


class RevokedToken(Table):
    """A bearer token signed out before it expired."""

    id: Serial
    jti = Varchar(length=64, unique=True)
    expires_at = Timestamptz()


class IdempotencyRecord(Table):
    """The first response to a write sent with an Idempotency-Key, replayed on retries."""

    id: Serial
    user_id = Integer()
    key = Varchar(length=255)
    fingerprint = Varchar(length=64)
    response_status = Integer()
    response_body = Text()
    created_at = Timestamptz()


class Brand(Table):
    """A manufacturer such as SRS System or Filorga."""

    id: Serial
    name = Varchar(length=120)
    created_at = Timestamptz()


class Product(Table):
    """An ampoule product of a brand."""

    id: Serial
    brand = ForeignKey(references=Brand, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=200)
    ingredients = Array(base_column=Varchar(length=120))
    storage = Varchar(length=16, default="room")
    active = Boolean(default=True)
    created_at = Timestamptz()
    # A medical device implanted in the client (a filler): its uses keep the UDI and get an implant card.
    implant = Boolean(default=False)
    # each | ml | U: what stock, scans and counts of the product are counted in.
    unit = Varchar(length=8, default="each")
    # How much one container (ampoule, vial) holds in that unit: 1 for each.
    container_quantity = Numeric(digits=QUANTITY_DIGITS, default=Decimal(1))
    # How long an opened container may be used; null: single use (no container is tracked).
    in_use_hours = Integer(null=True, default=None)


class ProductGtin(Table):
    """A GTIN of a product and how many single units it holds (1 for the ampoule, 10 for a box of 10)."""

    id: Serial
    product = ForeignKey(references=Product, on_delete=OnDelete.restrict, index=True)
    gtin = Varchar(length=14, unique=True)
    units = Integer(default=1)


class Location(Table):
    """A place stock is kept: a clinic, a treatment room, a fridge; its IANA time zone decides its "today"."""

    id: Serial
    name = Varchar(length=120)
    timezone = Varchar(length=64, default="Europe/Paris")
    created_at = Timestamptz()


class StockRule(Table):
    """Reorder parameters for one product at one location."""

    id: Serial
    product = ForeignKey(references=Product, on_delete=OnDelete.restrict)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict)
    reorder_point = _quantity()
    par_level = _quantity()
    lead_time_days = Integer()
    updated_at = Timestamptz()


class Lot(Table):
    """A manufacturer's lot of a product; unique per product and normalised lot number."""

    id: Serial
    product = ForeignKey(references=Product, on_delete=OnDelete.restrict)
    lot_number = Varchar(length=64)
    lot_key = Varchar(length=64)
    similar_key = Varchar(length=64, index=True)
    expiry_date = Date()
    status = Varchar(length=16, default="active")
    not_received = Boolean(default=False)
    created_at = Timestamptz()


class Supplier(Table):
    """A company the clinic orders from; names are unique ignoring case."""

    id: Serial
    name = Varchar(length=200)
    email = Varchar(length=254, null=True, default=None)
    created_at = Timestamptz()


class SupplierProduct(Table, tablename="supplier_product"):
    """How a supplier sells a product: its pack (GTIN, single units per pack), lead time and reference."""

    id: Serial
    supplier = ForeignKey(references=Supplier, on_delete=OnDelete.restrict)
    product = ForeignKey(references=Product, on_delete=OnDelete.restrict, index=True)
    pack_gtin = Varchar(length=14, null=True, default=None)
    pack_units = Integer(default=1)
    lead_time_days = Integer(default=0)
    reference = Varchar(length=200, null=True, default=None)
    updated_at = Timestamptz()


class PurchaseOrder(Table, tablename="purchase_order"):
    """An order to one supplier for one location: draft, sent, partially received, received or cancelled."""

    id: Serial
    supplier = ForeignKey(references=Supplier, on_delete=OnDelete.restrict, index=True)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict)
    status = Varchar(length=24, default="draft")
    created_at = Timestamptz()
    created_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict)
    sent_at = Timestamptz(null=True, default=None)
    sent_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=True, default=None)
    # The location's local today plus the lead time, set when the order is sent.
    expected_on = Date(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    cancelled_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=True, default=None)


class PurchaseOrderLine(Table, tablename="purchase_order_line"):
    """A product on an order: single units ordered and received so far (received may exceed the quantity)."""

    id: Serial
    purchase_order = ForeignKey(references=PurchaseOrder, on_delete=OnDelete.restrict)
    product = ForeignKey(references=Product, on_delete=OnDelete.restrict, index=True)
    quantity = Integer()
    received = Integer(default=0)


class Receipt(Table):
    """A delivery received at a location."""

    id: Serial
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict)
    supplier = Varchar(length=200, null=True, default=None)
    reference = Varchar(length=200, null=True, default=None)
    received_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict)
    received_at = Timestamptz()
    # The purchase order this delivery was received against, if any.
    purchase_order = ForeignKey(references=PurchaseOrder, on_delete=OnDelete.restrict, null=True, default=None)


class ReceiptLine(Table):
    """One lot received on a receipt, in single units."""

    id: Serial
    receipt = ForeignKey(references=Receipt, on_delete=OnDelete.restrict, index=True)
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict, index=True)
    quantity = _quantity()
    gtin = Varchar(length=14, null=True, default=None)
    barcode = Varchar(length=512, null=True, default=None)


class Client(Table):
    """A person treated at the clinic."""

    id: Serial
    full_name = Varchar(length=200)
    email = Varchar(length=254, null=True, default=None)
    phone = Varchar(length=40, null=True, default=None)
    date_of_birth = Date(null=True, default=None)
    allergies = Array(base_column=Varchar(length=120))
    created_at = Timestamptz()
    # female, male or other; null when not given (vigilance reports need it, like the birth date's age band).
    sex = Varchar(length=8, null=True, default=None)
    # Set when the client was erased (on request or at the end of retention): name, contacts and birth date are
    # then a pseudonym and nulls.
    erased_at = Timestamptz(null=True, default=None)


class Protocol(Table):
    """A treatment template: the products and quantities a session of it is expected to use."""

    id: Serial
    name = Varchar(length=200)
    created_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict)
    created_at = Timestamptz()


class ProtocolItem(Table, tablename="protocol_item"):
    """A product of a protocol and the quantity (in the product's unit) one session uses."""

    id: Serial
    protocol = ForeignKey(references=Protocol, on_delete=OnDelete.restrict, index=True)
    product = ForeignKey(references=Product, on_delete=OnDelete.restrict)
    quantity = Numeric(digits=QUANTITY_DIGITS, default=Decimal(1))


class Course(Table):
    """A planned course of sessions (e.g. 4 sessions 21 days apart)."""

    id: Serial
    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict)
    treatment = Varchar(length=200)
    start_date = Date()
    sessions = Integer()
    interval_days = Integer()
    created_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    # The protocol each session of the course follows, if any (its items become the course's products).
    protocol = ForeignKey(references=Protocol, on_delete=OnDelete.restrict, null=True, default=None)


class CourseProduct(Table):
    """A product each session of a course is expected to use."""

    id: Serial
    course = ForeignKey(references=Course, on_delete=OnDelete.restrict, index=True)
    product = ForeignKey(references=Product, on_delete=OnDelete.restrict)
    quantity = _quantity()


class TreatmentSession(Table, tablename="treatment_session"):
    """A client's treatment at a location: planned, open, then closed."""

    id: Serial
    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict)
    course = ForeignKey(references=Course, on_delete=OnDelete.restrict, null=True, default=None)
    sequence = Integer(null=True, default=None)
    status = Varchar(length=16, default="open")
    treatment = Varchar(length=200, null=True, default=None)
    scheduled_for = Timestamptz(null=True, default=None)
    created_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)
    # The protocol the session follows, if any: its checklist, not_in_protocol and protocol_incomplete.
    protocol = ForeignKey(references=Protocol, on_delete=OnDelete.restrict, null=True, default=None)


class Container(Table):
    """An opened container (vial) of a multi-use lot at a location: doses are drawn from it until it is used up,
    disposed or past its use-by."""

    id: Serial
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict, index=True)
    product = ForeignKey(references=Product, on_delete=OnDelete.restrict)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict, index=True)
    status = Varchar(length=16, default="open")  # open | empty | disposed
    opened_at = Timestamptz()
    opened_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict)
    # The earlier of the lot's expiry (end of that local day) and opening time + the product's in-use hours.
    use_by = Timestamptz()
    # What it still holds, in the product's unit: its capacity plus the sum of its ledger rows.
    remaining = _quantity()
    closed_at = Timestamptz(null=True, default=None)


class Usage(Table):
    """One recorded use of a lot on a client in a session: the traceability record."""

    id: Serial
    session = ForeignKey(references=TreatmentSession, on_delete=OnDelete.restrict, index=True)
    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict, index=True)
    product = ForeignKey(references=Product, on_delete=OnDelete.restrict)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict)
    quantity = _quantity()
    serial = Varchar(length=64, null=True, default=None)
    barcode = Varchar(length=512)
    used_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict)
    used_at = Timestamptz()
    override_reason = Text(null=True, default=None)
    warnings = JSONB(default="[]")
    voided_at = Timestamptz(null=True, default=None)
    voided_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=True, default=None)
    void_reason = Text(null=True, default=None)
    # The device's UDI as a GS1 element string "(01)…(17)…(10)…(21)…", kept at use for implant products only.
    udi = Varchar(length=128, null=True, default=None)
    # The opened container the dose was drawn from (multi-use products only).
    container = ForeignKey(references=Container, on_delete=OnDelete.restrict, null=True, default=None)


class Reaction(Table):
    """An adverse reaction a client had after a session: append-only, like the usage it follows."""

    id: Serial
    session = ForeignKey(references=TreatmentSession, on_delete=OnDelete.restrict, index=True)
    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=32)
    severity = Varchar(length=16)
    onset_at = Timestamptz()
    outcome = Varchar(length=16, null=True, default=None)
    description = Text(null=True, default=None)
    recorded_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict)
    recorded_at = Timestamptz()
    # The client's ten-year age band at the onset, kept so a report needs no birth date once the client is erased.
    age_band = Varchar(length=8, default="unknown")


class ReactionLot(Table, tablename="reaction_lot"):
    """A lot used (by one non-voided usage) in the session of a reaction, linked when the reaction is recorded."""

    id: Serial
    reaction = ForeignKey(references=Reaction, on_delete=OnDelete.restrict, index=True)
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict, index=True)
    usage = ForeignKey(references=Usage, on_delete=OnDelete.restrict)


class ReactionFollowUp(Table, tablename="reaction_follow_up"):
    """A manager's follow-up of a reaction (a note, maybe a new outcome): append-only; the latest outcome counts."""

    id: Serial
    reaction = ForeignKey(references=Reaction, on_delete=OnDelete.restrict, index=True)
    outcome = Varchar(length=16, null=True, default=None)
    note = Text()
    recorded_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict)
    recorded_at = Timestamptz()


class StockMovement(Table):
    """The append-only stock ledger: one signed row per change of a lot's on-hand at a location."""

    id: Serial
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict)
    quantity = _quantity()
    kind = Varchar(length=16)
    reason = Text(null=True, default=None)
    user = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz()
    receipt_line = ForeignKey(references=ReceiptLine, on_delete=OnDelete.restrict, null=True, default=None)
    usage = ForeignKey(references=Usage, on_delete=OnDelete.restrict, null=True, default=None)
    transfer_group = Varchar(length=36, null=True, default=None)
    recall_id = Integer(null=True, default=None)
    # The opened container the change drew from or gave back to; its remainder follows these rows.
    container = ForeignKey(references=Container, on_delete=OnDelete.restrict, null=True, default=None)


class SupplierReturn(Table, tablename="supplier_return"):
    """Units of a lot sent back to a supplier from a location, why, and the ledger row taking them off (append-only)."""

    id: Serial
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict, index=True)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict, index=True)
    supplier = ForeignKey(references=Supplier, on_delete=OnDelete.restrict, null=True, default=None)
    quantity = Integer()
    reason = Varchar(length=16)
    note = Text(null=True, default=None)
    movement = ForeignKey(references=StockMovement, on_delete=OnDelete.restrict, unique=True)
    created_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict)
    created_at = Timestamptz()


class StockLevel(Table):
    """On-hand of a lot at a location, kept in the same transaction as each ledger row."""

    id: Serial
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict, index=True)
    on_hand = _quantity()
    updated_at = Timestamptz()


class ReorderAlert(Table):
    """A product at a location whose usable stock, less forecast demand, reached its reorder point."""

    id: Serial
    product = ForeignKey(references=Product, on_delete=OnDelete.restrict)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict)
    status = Varchar(length=16, default="open")
    details = JSONB(default="{}")
    opened_at = Timestamptz()
    updated_at = Timestamptz()
    resolved_at = Timestamptz(null=True, default=None)
    acknowledged_at = Timestamptz(null=True, default=None)
    acknowledged_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=True, default=None)


class Recall(Table):
    """A recall case: lots withdrawn by a manufacturer or a regulator, and who must be told."""

    id: Serial
    reason = Text()
    source = Varchar(length=200, null=True, default=None)
    reference = Varchar(length=200, null=True, default=None)
    status = Varchar(length=16, default="open")
    created_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)
    closed_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=True, default=None)
    closing_note = Text(null=True, default=None)


class RecallLot(Table):
    """A lot named by a recall case."""

    id: Serial
    recall = ForeignKey(references=Recall, on_delete=OnDelete.restrict, index=True)
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict, index=True)
    quarantined_units = _quantity()


class RecallClient(Table):
    """A client who received a recalled lot, and where contacting them stands."""

    id: Serial
    recall = ForeignKey(references=Recall, on_delete=OnDelete.restrict, index=True)
    client = ForeignKey(references=Client, on_delete=OnDelete.restrict)
    contact_status = Varchar(length=16, default="to_contact")
    note = Text(null=True, default=None)
    updated_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=True, default=None)
    updated_at = Timestamptz(null=True, default=None)


class NotificationDelivery(Table):
    """A digest sent (or attempted) to the alert webhook."""

    id: Serial
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict, null=True, default=None)
    payload = JSONB()
    status = Varchar(length=16)
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
    created_at = Timestamptz()
    delivered_at = Timestamptz(null=True, default=None)


class ScheduledRun(Table):
    """One period of a scheduled job, claimed once across every process (unique per job, scope and day)."""

    id: Serial
    job = Varchar(length=32)
    scope = Integer()  # a location's id, or 0 for the whole service
    day = Date()  # the scope's local day
    claimed_at = Timestamptz()
    job_id = BigInt(null=True, default=None)  # the pgqueuer job that runs it
    finished_at = Timestamptz(null=True, default=None)
    outcome = Text(null=True, default=None)


class Stocktake(Table):
    """A count of a location's shelves: open while staff count, then approved (stock adjusted) or cancelled."""

    id: Serial
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict, index=True)
    status = Varchar(length=16, default="open")
    started_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict)
    started_at = Timestamptz()
    approved_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    cancelled_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)


class StocktakeCount(Table):
    """One count during a stocktake (append-only: counts add up, none is ever changed).

    `lot` is null for a code naming a lot the system does not know (flagged, never created as stock); then
    `gtin`, `lot_number` and `expiry_date` keep what the code said. `on_hand_at_count` is the lot's on-hand at the
    location when the count was recorded (never shown to the counter): the first count's figure is the expected one.
    """

    id: Serial
    stocktake = ForeignKey(references=Stocktake, on_delete=OnDelete.restrict, index=True)
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict, null=True, default=None)
    product = ForeignKey(references=Product, on_delete=OnDelete.restrict)
    quantity = _quantity()
    on_hand_at_count = _quantity(null=True)
    gtin = Varchar(length=14, null=True, default=None)
    lot_number = Varchar(length=64, null=True, default=None)
    expiry_date = Date(null=True, default=None)
    barcode = Varchar(length=512, null=True, default=None)
    counted_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict)
    counted_at = Timestamptz()


class AuditEvent(Table):
    """The append-only audit log: who did what to which entity, when."""

    id: Serial
    actor = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    action = Varchar(length=64)
    entity = Varchar(length=32)
    entity_id = Integer(null=True, default=None)
    details = JSONB(default="{}")
    created_at = Timestamptz()
