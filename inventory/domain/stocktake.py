"""Stocktake arithmetic (pure): what a lot's count means while the shelf keeps moving.

The rule. Counting takes time, and uses, receipts, transfers and adjustments keep happening at the location while
staff count. Each count row records the lot's on-hand at the location at the moment the count was written
(`on_hand_at_count`, never shown to the counter). For a lot:

- expected  = its on-hand when it was *first* counted in this stocktake (the first count row's figure);
- counted   = the sum of every count of it in this stocktake (several people, several shelves: counts add);
- variance  = counted - expected;
- movements since the count = on-hand now - expected (every ledger row at the location after the first count);
- approval writes one `adjust` ledger row of `variance` per lot whose variance is not zero, so that afterwards
  on-hand = expected + movements since + variance = counted + movements since the count.

So a use recorded after the ampoules were counted does not show as a variance (they were on the shelf when
counted) and it still leaves the shelf: counted 10 with 10 expected, then 2 used, gives variance 0 and final
on-hand 8. A lot counted in several passes takes its expected figure from the first pass. Lots with stock at the
location that nobody counted are listed and left as they are; codes naming a lot the system does not know are
flagged (with the GTIN, lot number and expiry they carry) and never become stock. A lot the system knows but has
never held at this location (no stock level there) is flagged too (`known_here` false) and approval does not
adjust it either: it came from somewhere the ledger does not say (a transfer or a receipt not recorded), so the
manager records that movement rather than have the count create stock out of nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from inventory.domain.quantities import Quantity


@dataclass(frozen=True)
class CountedLot:
    """A known lot counted in a stocktake: the figures a manager reviews."""

    lot_id: int
    product_id: int
    counted: Quantity
    expected: Quantity  # on-hand at the lot's first count
    on_hand: Quantity  # on-hand now
    known_here: bool = True  # the location holds (or held) a stock level of the lot

    @property
    def variance(self) -> Quantity:
        """Counted minus expected: what approval adjusts by."""
        return self.counted - self.expected

    @property
    def movements_since_count(self) -> Quantity:
        """The net ledger movement at the location since the lot's first count."""
        return self.on_hand - self.expected

    @property
    def on_hand_after_approval(self) -> Quantity:
        """Counted plus the movements since the count."""
        return self.on_hand + self.variance


def adjustments(lots: Iterable[CountedLot]) -> list[CountedLot]:
    """The lots approval adjusts (known here, variance not zero), in lot order: the order their rows are locked in."""
    return sorted((lot for lot in lots if lot.known_here and lot.variance != 0), key=lambda lot: lot.lot_id)


def not_here(lots: Iterable[CountedLot]) -> list[CountedLot]:
    """Counted lots the location never held: flagged for the manager, never adjusted into stock."""
    return sorted((lot for lot in lots if not lot.known_here), key=lambda lot: lot.lot_id)
