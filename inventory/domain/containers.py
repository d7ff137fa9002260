"""Opened containers of multi-use products: which one a dose is drawn from, when one must be opened or disposed.

A multi-use product (`in_use_hours` set) is drawn from the open container of the lot at the location. Its use-by is
the earlier of the end of the lot's expiry day (local) and opening time + in-use hours. The rules, in order:

    no open container            open one (warning container_opened)
    open one past its use-by     409 container_expired, unless open_new: dispose its remainder (in_use_expired),
                                 open a new one
    open one holding too little  409 container_insufficient, unless open_new: dispose its remainder
                                 (container_remainder), open a new one
    more than a full container   409 container_insufficient whatever open_new says
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from inventory.domain.errors import Conflict
from inventory.domain.quantities import Quantity, plain

IN_USE_EXPIRED = "in_use_expired"
REMAINDER_DISCARDED = "container_remainder"


@dataclass(frozen=True)
class OpenContainer:
    """An opened container as locked for the scan."""

    id: int
    opened_at: datetime
    use_by: datetime
    remaining: Quantity

    def as_dict(self) -> dict[str, Any]:
        """The container as the API shows it."""
        return {
            "id": self.id,
            "opened_at": self.opened_at.isoformat(),
            "use_by": self.use_by.isoformat(),
            "remaining": self.remaining,
        }


@dataclass(frozen=True)
class Disposal:
    """The remainder of an old container thrown away before a new one is opened."""

    container: OpenContainer
    reason: str  # in_use_expired | container_remainder


@dataclass(frozen=True)
class Draw:
    """What a dose does to containers: draw from `container`, or open a new one (after an optional disposal)."""

    quantity: Quantity
    container: OpenContainer | None  # the open container drawn from; None: a new one is opened
    opens: bool
    new_use_by: datetime | None
    remaining_after: Quantity
    disposal: Disposal | None = None


def use_by(*, opened_at: datetime, in_use_hours: int, lot_end: datetime) -> datetime:
    """Until when an opened container may be used: the earlier of `lot_end` (the end of the lot's expiry day,
    local) and opening time + in-use hours."""
    return min(lot_end, opened_at + timedelta(hours=in_use_hours))


def is_past_use_by(container: OpenContainer, now: datetime) -> bool:
    """Whether the container may no longer be used at `now` (use-by is an exclusive bound)."""
    return now >= container.use_by


def plan_draw(
    *,
    container: OpenContainer | None,
    capacity: Quantity,
    quantity: Quantity,
    now: datetime,
    new_use_by: datetime,
    open_new: bool,
    unit: str,
) -> Draw:
    """Which container the dose comes from and what is left in it, or the refusal (see the module docstring).

    Raises Conflict container_expired (with `container`) or container_insufficient (with `container`, when one is
    open, `remaining` and `requested`).
    """
    if quantity > capacity:
        raise Conflict(
            f"One container holds {capacity} {unit}; {quantity} {unit} cannot be drawn in one scan.",
            code="container_insufficient",
            capacity=capacity,
            requested=quantity,
            **({"container": container.as_dict(), "remaining": container.remaining} if container else {}),
        )
    fresh = Draw(quantity, None, True, new_use_by, plain(capacity - quantity))
    if container is None:
        return fresh
    if is_past_use_by(container, now):
        if not open_new:
            raise Conflict(
                f"The open container was to be used by {container.use_by.isoformat()}; dispose of it and open a new"
                " one (open_new).",
                code="container_expired",
                container=container.as_dict(),
            )
        return _replace(fresh, Disposal(container, IN_USE_EXPIRED))
    if quantity > container.remaining:
        if not open_new:
            raise Conflict(
                f"The open container holds {container.remaining} {unit}; {quantity} {unit} requested. Open a new"
                " one (open_new) to discard what is left.",
                code="container_insufficient",
                container=container.as_dict(),
                remaining=container.remaining,
                requested=quantity,
            )
        return _replace(fresh, Disposal(container, REMAINDER_DISCARDED))
    return Draw(quantity, container, False, None, plain(container.remaining - quantity))


def _replace(draw: Draw, disposal: Disposal) -> Draw:
    return Draw(draw.quantity, None, True, draw.new_use_by, draw.remaining_after, disposal)


def gives_back(*, status: str, use_by: datetime, now: datetime) -> bool:
    """Whether a voided dose goes back into its container: only while it is still open and usable.

    A container used up, disposed or past its use-by is gone from the shelf; what was drawn from it cannot return.
    """
    return status == "open" and now < use_by
