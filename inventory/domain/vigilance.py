"""Vigilance rules (pure): the fixed lists of a reaction, the signal rule per lot and per product, age bands.

The signal rule: among the reactions whose onset lies in the last `window_days` (by the service clock), a lot or
a product signals when reactions come from at least `min_clients` distinct clients, or when any of them is
serious. Reactions older than the window do not count at all (a serious one included): a signal is about what
happens now. A reaction linked to two lots of one product counts once for that product.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

REACTION_KINDS = (
    "swelling",
    "bruising",
    "nodule",
    "infection",
    "allergic_reaction",
    "necrosis",
    "pain",
    "other",
)
SEVERITIES = ("mild", "moderate", "serious")
OUTCOMES = ("recovered", "recovering", "not_recovered", "unknown")
SEXES = ("female", "male", "other")

SIGNAL_MIN_CLIENTS = 3  # distinct clients with a reaction in the window
SIGNAL_WINDOW_DAYS = 90
ONSET_BEFORE_SESSION = timedelta(days=1)  # an onset may precede the session's start by this much (clock skew, notes)

SubjectKind = Literal["lot", "product"]


@dataclass(frozen=True)
class SignalRule:
    """The rule's parameters (defaults: 3 distinct clients within 90 days, or any serious reaction)."""

    min_clients: int = SIGNAL_MIN_CLIENTS
    window_days: int = SIGNAL_WINDOW_DAYS
    serious_signals: bool = True


@dataclass(frozen=True)
class ReactionLink:
    """One reaction as seen by one lot of its session (a reaction with no lot never reaches the rule)."""

    reaction_id: int
    client_id: int
    severity: str
    onset_at: datetime
    lot_id: int
    product_id: int


@dataclass(frozen=True)
class Signal:
    """A lot or a product whose recent reactions reach the rule."""

    kind: SubjectKind
    subject_id: int
    clients: int
    reactions: int
    serious: int
    first_onset: datetime
    last_onset: datetime
    reasons: tuple[str, ...]  # "clients", "serious"

    @property
    def id(self) -> str:
        """The route-friendly id: "lot-12" or "product-7"."""
        return signal_id(self.kind, self.subject_id)


def signal_id(kind: SubjectKind, subject_id: int) -> str:
    """ "lot-12" / "product-7"."""
    return f"{kind}-{subject_id}"


def parse_signal_id(text: str) -> tuple[SubjectKind, int] | None:
    """("lot", 12) from "lot-12"; None for anything else (so a route can answer 404)."""
    kind, sep, number = text.partition("-")
    if not sep or not number.isascii() or not number.isdigit() or number.startswith("0") or len(number) > 10:
        return None
    value = int(number)
    if value > 2_147_483_647:
        return None
    if kind == "lot":
        return "lot", value
    if kind == "product":
        return "product", value
    return None


def evaluate(
    kind: SubjectKind, subject_id: int, links: Iterable[ReactionLink], *, now: datetime, rule: SignalRule = SignalRule()
) -> Signal | None:
    """The signal of one subject from its reactions' links, or None when the rule is not reached."""
    since = now - timedelta(days=rule.window_days)
    reactions: dict[int, ReactionLink] = {}
    for link in links:
        if since <= link.onset_at <= now:
            reactions.setdefault(link.reaction_id, link)
    if not reactions:
        return None
    clients = len({r.client_id for r in reactions.values()})
    serious = sum(1 for r in reactions.values() if r.severity == "serious")
    reasons = tuple(
        reason
        for reason, met in (("clients", clients >= rule.min_clients), ("serious", rule.serious_signals and serious > 0))
        if met
    )
    if not reasons:
        return None
    onsets = [r.onset_at for r in reactions.values()]
    return Signal(
        kind=kind,
        subject_id=subject_id,
        clients=clients,
        reactions=len(reactions),
        serious=serious,
        first_onset=min(onsets),
        last_onset=max(onsets),
        reasons=reasons,
    )


def signals(links: Sequence[ReactionLink], *, now: datetime, rule: SignalRule = SignalRule()) -> list[Signal]:
    """Every lot and every product that signals: lots first, then products; the most clients first within each."""
    by_lot: dict[int, list[ReactionLink]] = {}
    by_product: dict[int, list[ReactionLink]] = {}
    for link in links:
        by_lot.setdefault(link.lot_id, []).append(link)
        by_product.setdefault(link.product_id, []).append(link)
    found: list[Signal] = []
    for kind, groups in (("lot", by_lot), ("product", by_product)):
        subject_kind: SubjectKind = "lot" if kind == "lot" else "product"
        for subject_id, group in groups.items():
            signal = evaluate(subject_kind, subject_id, group, now=now, rule=rule)
            if signal is not None:
                found.append(signal)
    found.sort(key=lambda s: (s.kind != "lot", -s.clients, -s.serious, s.subject_id))
    return found


def age_band(date_of_birth: date | None, on: date) -> str:
    """A ten-year band ("30-39") of the age on a day; "unknown" without a birth date (or one after that day)."""
    if date_of_birth is None or date_of_birth > on:
        return "unknown"
    age = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    low = age // 10 * 10
    return f"{low}-{low + 9}"


def new_signals(
    links: Sequence[ReactionLink], reaction_id: int, *, now: datetime, rule: SignalRule = SignalRule()
) -> list[Signal]:
    """The lots and products of reaction `reaction_id` that signal with it and did not without it (lots first).

    This is the moment a signal is raised: the webhook tells it once, and a later reaction on a subject that
    already signals raises nothing new.
    """
    mine = [link for link in links if link.reaction_id == reaction_id]
    subjects: list[tuple[SubjectKind, int]] = [
        *(("lot", i) for i in dict.fromkeys(link.lot_id for link in mine)),
        *(("product", i) for i in dict.fromkeys(link.product_id for link in mine)),
    ]
    raised: list[Signal] = []
    for kind, subject_id in subjects:
        group = [link for link in links if (link.lot_id if kind == "lot" else link.product_id) == subject_id]
        after = evaluate(kind, subject_id, group, now=now, rule=rule)
        before = evaluate(
            kind, subject_id, [link for link in group if link.reaction_id != reaction_id], now=now, rule=rule
        )
        if after is not None and before is None:
            raised.append(after)
    return raised
