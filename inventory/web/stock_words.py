"""How the stock pages say things: statuses, expiry from the local day, reasons to reconcile, ledger rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from inventory.domain.quantities import Quantity
from inventory.services.discrepancies import Reason
from inventory.services.ledger import Movement
from inventory.web.i18n import N_, gettext, ngettext

STATUSES = ("active", "quarantined", "recalled")
_STATUS_NAMES = {"active": N_("Active"), "quarantined": N_("Quarantined"), "recalled": N_("Recalled")}
# Why units are thrown away; the code is what the ledger keeps.
DISPOSAL_REASONS = {
    "expired": N_("Expired"),
    "damaged": N_("Damaged or broken"),
    "recalled": N_("Recalled"),
    "quarantined": N_("Quarantined"),
    "other": N_("Other (say what)"),
}
# Why units go back to a supplier (domain.supplier_returns.REASONS), in the words of the disposal reasons.
RETURN_REASONS = {
    "recalled": N_("Recalled"),
    "damaged": N_("Damaged or broken"),
    "expired": N_("Expired"),
    "other": N_("Other (say what)"),
}
_REASON_LABELS = {
    Reason.NEVER_RECEIVED: N_("Never received"),
    Reason.BELOW_ZERO: N_("Below zero"),
    Reason.EXPIRED_ON_SHELF: N_("Expired on the shelf"),
}
_REASON_TEXTS = {
    Reason.NEVER_RECEIVED: N_(
        "Never received: a scan recorded this lot here, but no delivery brought it in. Count what is on the shelf."
    ),
    Reason.BELOW_ZERO: N_(
        "On hand is below zero: more was recorded as used than was recorded on the shelf. Count the shelf."
    ),
    Reason.EXPIRED_ON_SHELF: N_("Expired, but units are still on the shelf: dispose of them."),
}
_HELD_LABELS = {"recalled": N_("Recalled, still on the shelf"), "quarantined": N_("Quarantined, still on the shelf")}
_HELD_TEXTS = {
    "recalled": N_("Recalled, but units are still on the shelf: dispose of them, or move them out of use."),
    "quarantined": N_("In quarantine, but units are still on the shelf: move them apart, or dispose of them."),
}
_KINDS = {
    "receive": N_("Received"),
    "use": N_("Used"),
    "void": N_("Use voided"),
    "adjust": N_("Adjusted"),
    "dispose": N_("Disposed of"),
    "quarantine": N_("Put in quarantine"),
    "release": N_("Released from quarantine"),
    "return": N_("Returned to supplier"),
}


@dataclass(frozen=True)
class StockLine:
    """A lot's stock at the page's location, with its days to expiry there and why it is to reconcile."""

    lot_id: int
    lot_number: str
    expiry_date: date
    days_left: int
    status: str
    not_received: bool
    product_name: str
    brand_name: str
    gtin: str | None
    on_hand: Quantity
    unit: str
    reasons: tuple[Reason, ...]

    @classmethod
    def of(cls, item: dict[str, Any], today: date, reasons: tuple[Reason, ...]) -> StockLine:
        """From an item of `stock.list_stock`, the location's today and the lot's reasons to reconcile."""
        lot, product = item["lot"], item["product"]
        return cls(
            lot_id=lot["id"],
            lot_number=lot["lot_number"],
            expiry_date=lot["expiry_date"],
            days_left=(lot["expiry_date"] - today).days,
            status=lot["status"],
            not_received=lot["not_received"],
            product_name=product["name"],
            brand_name=product["brand"],
            gtin=product["gtin"],
            on_hand=item["on_hand"],
            unit=item["product"]["unit"],
            reasons=reasons,
        )


def status_name(status: str) -> str:
    """A lot's status in words."""
    return gettext(_STATUS_NAMES[status]) if status in _STATUS_NAMES else status


def expiry_note(days_left: int) -> str:
    """How far the expiry is from the location's today: expired, today, or in N days."""
    if days_left < 0:
        return ngettext("Expired %(num)s day ago", "Expired %(num)s days ago", -days_left) % {"num": -days_left}
    if days_left == 0:
        return gettext("Expires today")
    return ngettext("Expires in %(num)s day", "Expires in %(num)s days", days_left) % {"num": days_left}


def reason_label(reason: Reason, status: str) -> str:
    """A reason to reconcile in a few words."""
    if reason is Reason.HELD_ON_SHELF:
        return gettext(_HELD_LABELS.get(status, _HELD_LABELS["quarantined"]))
    return gettext(_REASON_LABELS[reason])


def reason_labels(reasons: tuple[Reason, ...], status: str) -> str:
    """Several reasons to reconcile in a few words each."""
    return ", ".join(reason_label(reason, status) for reason in reasons)


def reason_text(reason: Reason, status: str) -> str:
    """A reason to reconcile in a sentence that says what to do."""
    if reason is Reason.HELD_ON_SHELF:
        return gettext(_HELD_TEXTS.get(status, _HELD_TEXTS["quarantined"]))
    return gettext(_REASON_TEXTS[reason])


def kind_label(movement: Movement) -> str:
    """What a ledger row did."""
    if movement.kind == "transfer":
        return gettext("Transferred out") if movement.quantity < 0 else gettext("Transferred in")
    return gettext(_KINDS[movement.kind]) if movement.kind in _KINDS else movement.kind


def _reason_words(reason: str) -> str:
    code, _, note = reason.partition(": ")
    if code in DISPOSAL_REASONS:
        return f"{gettext(DISPOSAL_REASONS[code])}: {note}" if note else gettext(DISPOSAL_REASONS[code])
    return reason


def movement_details(movement: Movement) -> list[str]:
    """What a ledger row points at and why: the delivery, the session, the other location, the recall, the reason."""
    details = []
    if movement.kind == "receive" and (movement.supplier or movement.reference):
        details.append(" · ".join(part for part in (movement.supplier, movement.reference) if part))
    if movement.session_id is not None:
        details.append(gettext("Session %(id)s") % {"id": movement.session_id})
    if movement.other_location_name:
        template = gettext("To %(place)s") if movement.quantity < 0 else gettext("From %(place)s")
        details.append(template % {"place": movement.other_location_name})
    if movement.recall_id is not None:
        details.append(gettext("Recall %(id)s") % {"id": movement.recall_id})
    if movement.reason:
        details.append(_reason_words(movement.reason))
    return details


def who(movement: Movement) -> str:
    """Who wrote a ledger row (the service itself when nobody)."""
    return movement.user_full_name or movement.user_email or gettext("The service")
