"""Protocol rules on plain objects: the checklist, protocol_incomplete, not_in_protocol."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from inventory.domain.errors import Unprocessable
from inventory.domain.protocols import ProtocolItem, check_items, checklist, incomplete, not_in_protocol
from inventory.domain.scan_decision import LockedLot, LotFound, ScanReading, ScanSession, decide_scan

ITEMS = (ProtocolItem(1, 2), ProtocolItem(2, Decimal("0.5")))


def test_the_checklist_adds_up_live_uses_per_product() -> None:
    items = checklist(ITEMS, [(1, 1), (2, Decimal("0.2")), (2, Decimal("0.3")), (9, 1)])
    assert [(i.product_id, i.quantity, i.used, i.done) for i in items] == [
        (1, 2, 1, False),
        (2, Decimal("0.5"), Decimal("0.5"), True),
    ]


def test_closing_with_unused_items_warns_protocol_incomplete_naming_them() -> None:
    warning = incomplete(checklist(ITEMS, [(2, 1)]))
    assert warning is not None and warning["code"] == "protocol_incomplete"
    assert [i["product_id"] for i in warning["items"]] == [1]
    assert incomplete(checklist(ITEMS, [(1, 2), (2, Decimal("0.5"))])) is None


def test_protocol_items_are_distinct_positive_and_not_empty() -> None:
    for items in ([], [(1, 1), (1, 2)], [(1, 0)]):
        with pytest.raises(Unprocessable):
            check_items(items)
    check_items([(1, 1), (2, Decimal("0.25"))])


def test_a_product_outside_the_protocol_is_flagged_only_when_there_is_one() -> None:
    assert not_in_protocol(5, (1, 2))
    assert not not_in_protocol(1, (1, 2))
    assert not not_in_protocol(5, None)


def test_the_scan_decision_warns_not_in_protocol() -> None:
    today = date(2026, 11, 25)
    lot = LockedLot(
        id=1,
        lot_number="L1",
        expiry_date=today + timedelta(days=90),
        status="active",
        product_id=5,
        product_name="Cocktail",
        brand_name="Lab",
    )

    def codes(session: ScanSession) -> list[str]:
        decision = decide_scan(
            session=session,
            lot=lot,
            found=LotFound.KNOWN,
            reading=ScanReading(),
            today=today,
            now=datetime(2026, 11, 25, 10, tzinfo=UTC),
        )
        return [w.code for w in decision.warnings]

    open_session = ScanSession(status="open")
    assert codes(replace(open_session, protocol_products=(1, 2))) == ["not_in_protocol"]
    assert codes(replace(open_session, protocol_products=(5,))) == []
    assert codes(open_session) == []
