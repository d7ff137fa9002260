"""Vigilance: recording reactions against the lots of a session, the signals they raise, and acting on them."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from inventory import clock, db
from inventory.domain import vigilance as rules
from inventory.domain.errors import NotFound, Unprocessable
from inventory.domain.models import Actor
from inventory.services import checks, quarantine, webhook
from inventory.store import audit
from inventory.store import vigilance as store
from inventory.store.records import LotRef, ProductRef
from inventory.store.vigilance import ReactionRecord

MAX_DESCRIPTION = 2000
SIGNAL_RULE = rules.SignalRule()  # the deployment's rule: 3 distinct clients within 90 days, or any serious
SIGNAL_EVENT = "vigilance.signal"  # the webhook event of a signal just raised


def _choice(value: str | None, allowed: tuple[str, ...], field: str, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if value not in allowed:
        raise Unprocessable(f"The {field} is one of: {', '.join(allowed)}.", code="validation_error", field=field)
    return value


async def record_reaction(
    *,
    actor: Actor,
    session_id: int,
    kind: str,
    severity: str,
    onset_at: datetime,
    outcome: str | None = None,
    description: str | None = None,
    webhook_url: str | None = None,
) -> ReactionRecord:
    """Record a reaction on a session's client and link every lot used (not voided) in that session; audited.

    A lot or product that starts to signal with this reaction is audited (`vigilance.signal`) and, with a usable
    `webhook_url` (Settings' INVENTORY_WEBHOOK_URL), a `vigilance.signal` event is queued in the same transaction
    and sent after commit by the webhook job, with its retries.

    Raises NotFound (session), Unprocessable: a kind, severity or outcome off the lists, a description over 2000
    characters, an onset in the future (onset_in_future) or more than a day before the session (onset_too_early).
    """
    _choice(kind, rules.REACTION_KINDS, "kind", required=True)
    _choice(severity, rules.SEVERITIES, "severity", required=True)
    _choice(outcome, rules.OUTCOMES, "outcome", required=False)
    text = (description or "").strip() or None
    if text is not None and (len(text) > MAX_DESCRIPTION or "\x00" in text):
        raise Unprocessable(
            f"The description has at most {MAX_DESCRIPTION} characters.", code="validation_error", field="description"
        )
    if onset_at.tzinfo is None:
        onset_at = onset_at.replace(tzinfo=UTC)
    now = clock.now()
    if onset_at > now:
        raise Unprocessable("The onset cannot be in the future.", code="onset_in_future", field="onset_at")
    async with db.transaction() as conn:
        session = await store.lock_session(conn, session_id)
        if session is None:
            raise NotFound.of("session", session_id)
        if onset_at < session.start - rules.ONSET_BEFORE_SESSION:
            raise Unprocessable(
                "The onset is more than a day before the session started.", code="onset_too_early", field="onset_at"
            )
        reaction_id = await store.insert_reaction(
            conn,
            session=session,
            kind=kind,
            severity=severity,
            onset_at=onset_at,
            outcome=outcome,
            description=text,
            recorded_by=actor.id,
            recorded_at=now,
            age_band=rules.age_band(session.date_of_birth, clock.today_in(session.timezone, onset_at)),
        )
        record = await store.get_reaction(conn, reaction_id)
        assert record is not None
        await _raise_signals(conn, record, location_id=session.location_id, now=now, webhook_url=webhook_url)
        await audit.record(
            conn,
            actor_id=actor.id,
            action="reaction.record",
            entity="reaction",
            entity_id=reaction_id,
            details={
                "session_id": session.id,
                "kind": kind,
                "severity": severity,
                "lot_ids": [lot.id for lot in record.lots],
            },
        )
    return record


async def get_reaction(*, reaction_id: int) -> ReactionRecord:
    """One reaction with its lots; raises NotFound."""
    async with db.connection() as conn:
        record = await store.get_reaction(conn, reaction_id)
    if record is None:
        raise NotFound.of("reaction", reaction_id)
    return record


async def list_reactions(
    *, lot_id: int | None = None, product_id: int | None = None, limit: int = 100, offset: int = 0
) -> list[ReactionRecord]:
    """Reactions (latest onset first), of one lot or of any lot of one product."""
    async with db.connection() as conn:
        return await store.list_reactions(conn, lot_id=lot_id, product_id=product_id, limit=limit, offset=offset)


# ------------------------------------------------------------------ signals


@dataclass(frozen=True)
class SignalView:
    """A signal with its lot (for a lot signal), its product and the non-voided uses of either."""

    id: str
    kind: str
    lot: LotRef | None
    product: ProductRef
    clients: int
    reactions: int
    serious: int
    uses: int
    first_onset: datetime
    last_onset: datetime
    reasons: tuple[str, ...]


async def _views(conn: db.Connection, found: list[rules.Signal]) -> list[SignalView]:
    lots = await store.lots(conn, [s.subject_id for s in found if s.kind == "lot"])
    product_ids = {s.subject_id for s in found if s.kind == "product"} | {used.lot.product_id for used in lots.values()}
    products = await store.products(conn, sorted(product_ids))
    views = []
    for signal in found:
        used_lot = lots.get(signal.subject_id) if signal.kind == "lot" else None
        used_product = products[used_lot.lot.product_id if used_lot is not None else signal.subject_id]
        views.append(
            SignalView(
                id=signal.id,
                kind=signal.kind,
                lot=used_lot.lot if used_lot is not None else None,
                product=used_product.product,
                clients=signal.clients,
                reactions=signal.reactions,
                serious=signal.serious,
                uses=(used_lot or used_product).uses,
                first_onset=signal.first_onset,
                last_onset=signal.last_onset,
                reasons=signal.reasons,
            )
        )
    return views


async def _signals(conn: db.Connection, rule: rules.SignalRule) -> list[SignalView]:
    now = clock.now()
    links = await store.reaction_links(conn, since=now - timedelta(days=rule.window_days))
    return await _views(conn, rules.signals(links, now=now, rule=rule))


def signal_event(view: SignalView, *, reaction_id: int, location_id: int, at: datetime) -> dict[str, Any]:
    """The webhook body of a signal just raised: the lot or product and its counts, never a client."""
    body = {
        "kind": SIGNAL_EVENT,
        "generated_at": at,
        "reaction_id": reaction_id,
        "location_id": location_id,
        "signal": dataclasses.asdict(view),
    }
    jsonable: dict[str, Any] = json.loads(json.dumps(body, default=_iso))
    return jsonable


def _iso(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


async def _raise_signals(
    conn: db.Connection, record: ReactionRecord, *, location_id: int, now: datetime, webhook_url: str | None
) -> list[SignalView]:
    """The signals this reaction raises, each audited and (with a webhook) queued as a `vigilance.signal` event."""
    product_ids = sorted({lot.product_id for lot in record.lots})
    if not product_ids:
        return []
    await store.lock_signal_subjects(conn, product_ids)
    since = now - timedelta(days=SIGNAL_RULE.window_days)
    links = await store.reaction_links(conn, since=since, product_ids=product_ids)
    raised = await _views(conn, rules.new_signals(links, record.id, now=now, rule=SIGNAL_RULE))
    for view in raised:
        delivery_id = await webhook.record_event(
            conn,
            location_id=location_id,
            payload=signal_event(view, reaction_id=record.id, location_id=location_id, at=now),
            url=webhook_url,
        )
        await audit.record(
            conn,
            actor_id=None,
            action="vigilance.signal",
            entity="reaction",
            entity_id=record.id,
            details={
                "signal": view.id,
                "reasons": list(view.reasons),
                "clients": view.clients,
                "delivery_id": delivery_id,
            },
        )
    return raised


async def list_signals(*, rule: rules.SignalRule = SIGNAL_RULE) -> list[SignalView]:
    """Every lot and product whose reactions reach the rule now (by the service clock)."""
    async with db.connection() as conn:
        return await _signals(conn, rule)


@dataclass(frozen=True)
class SignalHold:
    """A signal's lot after its quarantine, with the signal that asked for it."""

    lot: LotRef
    reason: str
    stock: list[quarantine.LocationStock]
    signal_id: str


async def quarantine_signal(*, actor: Actor, signal_id: str, reason: str) -> SignalHold:
    """Quarantine the lot of a current lot signal everywhere, the signal named in the reason and the audit.

    Raises NotFound (no such signal now), Unprocessable(signal_needs_lot) for a product signal (a quarantine
    holds one lot: pick the product's lots from GET /api/reactions?product_id=), Conflict from the quarantine.
    """
    parsed = rules.parse_signal_id(signal_id)
    if parsed is None:
        raise NotFound(f"Signal {signal_id[:40]!r} does not exist.", code="not_found", entity="signal")
    clean = checks.text(reason, "reason", required=True, limit=1800)
    assert clean is not None
    async with db.connection() as conn:
        current = next((s for s in await _signals(conn, SIGNAL_RULE) if s.id == signal_id), None)
    if current is None:
        raise NotFound(f"Signal {signal_id} is not raised now.", code="not_found", entity="signal")
    if current.lot is None:
        raise Unprocessable(
            "A product signal names no lot: quarantine its lots one by one (GET /api/reactions?product_id=).",
            code="signal_needs_lot",
        )
    summary = {
        "id": current.id,
        "clients": current.clients,
        "reactions": current.reactions,
        "serious": current.serious,
        "reasons": list(current.reasons),
    }
    held = await quarantine.quarantine_lot(
        actor=actor,
        lot_id=current.lot.id,
        reason=f"Vigilance signal {current.id}: {clean}",
        audit_details={"signal": summary},
    )
    return SignalHold(held.lot, held.reason, held.stock, current.id)
