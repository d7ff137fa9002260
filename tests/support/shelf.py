"""A location whose shelf disagrees with its records in every way a manager reconciles, built through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from inventory import clock
from inventory.domain.models import Actor
from inventory.services import quarantine, scanning
from tests.support import factories as f
from tests.support.clinic import Clinic, build


@dataclass
class Shelf:
    """The clinic (its lot is fine, 10 on hand), and at its location: an expired lot with 3 on hand, a lot only a
    scan has seen (on hand -1), a quarantined lot with 4 on hand; `other_id` is a second, empty location."""

    clinic: Clinic
    expired: dict[str, Any]
    never_received: dict[str, Any]
    quarantined: dict[str, Any]
    other_id: int

    @property
    def location_id(self) -> int:
        """The shelf's location."""
        return self.clinic.location_id


async def expired_lot(actors: dict[str, Actor], clinic: Clinic, *, quantity: int, days_ago: int = 3) -> dict[str, Any]:
    """A lot of the clinic's product received a while ago that expired `days_ago` days ago (local day in Paris)."""
    # A delivery of an already expired lot is refused: receive it back when it was still good.
    clock.shift(timedelta(days=-(days_ago + 10)))
    try:
        line = await f.receive(
            actors["manager"],
            location_id=clinic.location_id,
            product_id=clinic.product["id"],
            lot_number=f.unique("EXP").replace(" ", ""),
            expiry=f.in_days(10),
            quantity=quantity,
        )
    finally:
        clock.shift(timedelta(days=days_ago + 10))
    lot: dict[str, Any] = line["lot"]
    return lot


async def never_received_lot(actors: dict[str, Actor], clinic: Clinic) -> dict[str, Any]:
    """A lot no delivery brought in, created by a staff scan of its box code on the clinic's session (on hand -1)."""
    # Letters only: digits such as "21" after the lot could be read as another AI of an element string.
    number = "NEW" + "".join(chr(ord("A") + int(digit)) for digit in f.unique("").strip())
    result = await scanning.record_use(
        actor=actors["staff"],
        session_id=clinic.session["id"],
        barcode=clinic.code(number, expiry=f.in_days(120)),
    )
    lot: dict[str, Any] = result["lot"]
    assert "lot_not_received" in [w["code"] for w in result["warnings"]]
    assert result["on_hand_after"] == -1
    return lot


async def build_shelf(actors: dict[str, Actor]) -> Shelf:
    """Create the shelf inside the current transaction (or committed, in the race database)."""
    clinic = await build(actors, on_hand=10)
    expired = await expired_lot(actors, clinic, quantity=3)
    never = await never_received_lot(actors, clinic)
    held = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number=f.unique("Q").replace(" ", ""),
        expiry=f.in_days(90),
        quantity=4,
    )
    await quarantine.quarantine_lot(actor=actors["manager"], lot_id=held["lot"]["id"], reason="Cold chain broken")
    other = await f.location(actors["manager"])
    return Shelf(
        clinic=clinic,
        expired=expired,
        never_received=never,
        quarantined={**held["lot"], "status": "quarantined"},
        other_id=other["id"],
    )
