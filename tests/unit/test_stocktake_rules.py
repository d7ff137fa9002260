"""Stocktake arithmetic without a database: which counted lots approval adjusts, and which it only flags."""

from __future__ import annotations

from inventory.domain.stocktake import CountedLot, adjustments, not_here


def test_approval_adjusts_differing_lots_known_here_and_flags_those_the_location_never_held() -> None:
    same = CountedLot(lot_id=3, product_id=1, counted=5, expected=5, on_hand=5)
    short = CountedLot(lot_id=2, product_id=1, counted=3, expected=5, on_hand=4)
    found_here = CountedLot(lot_id=4, product_id=1, counted=2, expected=0, on_hand=0)  # held here, used up
    stranger = CountedLot(lot_id=1, product_id=9, counted=6, expected=0, on_hand=0, known_here=False)
    lots = [same, short, found_here, stranger]
    assert [lot.lot_id for lot in adjustments(lots)] == [2, 4]  # never the lot the location never held
    assert not_here(lots) == [stranger]
    assert stranger.variance == 6  # what a blind adjustment would have created out of nothing
