"""The scan decision, rule by rule, on plain objects: each refusal, their order, each warning and its message."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory import clock
from inventory.domain.errors import Conflict
from inventory.domain.scan_decision import (
    EarlierLot,
    LockedLot,
    LotFound,
    PriorUse,
    ScanDecision,
    ScanReading,
    ScanSession,
    StockedLot,
    check_session,
    decide_scan,
    infer_lot,
    serial_already_used,
    stock_discrepancy,
    unknown_lot_without_expiry,
)

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
OPEN = ScanSession(status="open")
LOT = LockedLot(
    id=7,
    lot_number="L0T-1",
    expiry_date=TODAY + timedelta(days=200),
    status="active",
    product_id=3,
    product_name="NCTF 135 HA",
    brand_name="Filorga",
    ingredients=("Hyaluronic acid", "Lidocaine hydrochloride"),
)
READING = ScanReading(gtin="03760001000013")
ITEM = {
    "product": {"id": 3, "name": "NCTF 135 HA", "brand": "Filorga", "gtin": "03760001000013", "unit": "each"},
    "lot": {"id": 7, "lot_number": "L0T-1", "expiry_date": (TODAY + timedelta(days=200)).isoformat()},
}


def decide(
    *,
    session: ScanSession = OPEN,
    lot: LockedLot = LOT,
    found: LotFound = LotFound.KNOWN,
    reading: ScanReading = READING,
    today: date = TODAY,
    now: datetime = NOW,
    override_reason: str | None = None,
    repeat: bool = False,
) -> ScanDecision:
    """decide_scan with a clean scan's defaults."""
    return decide_scan(
        session=session,
        lot=lot,
        found=found,
        reading=reading,
        today=today,
        now=now,
        override_reason=override_reason,
        repeat=repeat,
    )


def refusal(**kwargs: Any) -> Conflict:
    """The Conflict decide_scan raises for these inputs."""
    with pytest.raises(Conflict) as refused:
        decide(**kwargs)
    return refused.value


def codes(decision: ScanDecision) -> list[str]:
    """The decision's warning codes, in order."""
    return [w.code for w in decision.warnings]


# ------------------------------------------------------------------ a clean scan


def test_a_clean_scan_is_recorded_without_warnings() -> None:
    assert decide() == ScanDecision(warnings=(), override_reason=None, open_session=False)


def test_a_scan_on_a_planned_session_opens_it() -> None:
    assert decide(session=ScanSession(status="planned")).open_session is True


# ------------------------------------------------------------------ each refusal


def test_scan_on_a_closed_session_is_refused() -> None:
    with pytest.raises(Conflict) as refused:
        check_session(ScanSession(status="closed"))
    assert (refused.value.code, refused.value.detail) == (
        "session_closed",
        "The session is closed; open a new one to record more.",
    )
    assert refused.value.extra == {}
    assert refusal(session=ScanSession(status="closed")).code == "session_closed"
    check_session(OPEN)
    check_session(ScanSession(status="planned"))


def test_scan_on_an_erased_clients_session_is_refused_after_a_closed_one() -> None:
    assert refusal(session=ScanSession(status="open", client_erased=True)).code == "client_erased"
    assert refusal(session=ScanSession(status="closed", client_erased=True)).code == "session_closed"


def test_scan_of_recalled_lot_is_refused_naming_product_and_lot() -> None:
    error = refusal(lot=replace(LOT, status="recalled"))
    assert (error.code, error.detail) == ("lot_recalled", "Lot L0T-1 is recalled: do not use it.")
    assert error.extra == {"lot_id": 7, **ITEM}


def test_scan_of_quarantined_lot_is_refused_even_with_an_override_reason() -> None:
    error = refusal(lot=replace(LOT, status="quarantined"), override_reason="Doctor approved")
    assert (error.code, error.detail) == ("lot_quarantined", "Lot L0T-1 is quarantined: do not use it.")
    assert error.extra == {"lot_id": 7, **ITEM}


def test_scan_of_expired_lot_is_refused_from_the_day_after_expiry() -> None:
    expiry = TODAY - timedelta(days=1)
    error = refusal(lot=replace(LOT, expiry_date=expiry))
    assert (error.code, error.detail) == ("lot_expired", f"Lot L0T-1 expired on {expiry}: do not use it.")
    assert error.extra == {
        "lot_id": 7,
        "expiry_date": expiry.isoformat(),
        "product": ITEM["product"],
        "lot": {"id": 7, "lot_number": "L0T-1", "expiry_date": expiry.isoformat()},
    }
    assert codes(decide(lot=replace(LOT, expiry_date=TODAY))) == ["expires_soon"]


def test_barcode_expiry_earlier_than_recorded_counts_and_refuses() -> None:
    printed = TODAY - timedelta(days=2)
    error = refusal(reading=replace(READING, expiry=printed))
    assert error.code == "lot_expired"
    assert error.detail == f"Lot L0T-1 expired on {printed}: do not use it."
    assert error.extra["expiry_date"] == printed.isoformat()
    assert error.extra["lot"]["expiry_date"] == printed.isoformat()


def test_scan_of_used_serial_is_refused() -> None:
    error = refusal(lot=replace(LOT, serial_used=True), reading=replace(READING, serial="SN1"))
    assert (error.code, error.detail) == ("serial_already_used", "Ampoule serial SN1 was already used.")
    assert error.extra == {"serial": "SN1", **ITEM}
    # Without a serial on the barcode there is nothing to reuse.
    assert decide(lot=replace(LOT, serial_used=True)).warnings == ()


def test_serial_taken_by_a_concurrent_use_is_the_same_refusal_without_the_item() -> None:
    error = serial_already_used("SN1")
    assert (error.code, error.detail, error.extra) == (
        "serial_already_used",
        "Ampoule serial SN1 was already used.",
        {"serial": "SN1"},
    )


def test_same_barcode_within_ten_seconds_is_a_repeat_scan() -> None:
    prior = PriorUse(id=41, used_at=NOW - timedelta(seconds=9, milliseconds=400))
    error = refusal(lot=replace(LOT, repeat_of=prior))
    assert error.code == "repeat_scan"
    assert error.detail == (
        "This barcode was recorded on this session 9 s ago; if this is another ampoule, scan it again with"
        " repeat confirmed."
    )
    assert error.extra == {"usage_id": 41, "seconds_ago": 9, "window_seconds": 10, **ITEM}


def test_repeat_confirmed_or_outside_the_window_is_recorded() -> None:
    recent = replace(LOT, repeat_of=PriorUse(id=41, used_at=NOW - timedelta(seconds=1)))
    assert decide(lot=recent, repeat=True).warnings == ()
    old = replace(LOT, repeat_of=PriorUse(id=41, used_at=NOW - timedelta(seconds=10)))
    assert decide(lot=old).warnings == ()


def test_a_use_stamped_slightly_in_the_future_is_a_repeat_just_now() -> None:
    ahead = replace(LOT, repeat_of=PriorUse(id=41, used_at=NOW + timedelta(seconds=2)))
    assert refusal(lot=ahead).extra["seconds_ago"] == 0


def test_allergy_conflict_is_refused_with_the_matching_ingredients() -> None:
    error = refusal(session=ScanSession(status="open", allergies=("LIDOCAÏNE",)))
    assert error.code == "allergy_conflict"
    assert error.detail == (
        "The client is allergic to Lidocaine hydrochloride. Give an override reason to use it anyway."
    )
    assert error.extra == {"ingredients": ["Lidocaine hydrochloride"], **ITEM}


def test_allergy_override_records_the_reason_and_warns() -> None:
    decision = decide(
        session=ScanSession(status="open", allergies=("lidocaine",)), override_reason="Patch test negative"
    )
    assert decision.override_reason == "Patch test negative"
    assert [w.as_dict() for w in decision.warnings] == [
        {
            "code": "allergy_overridden",
            "message": "Allergy to Lidocaine hydrochloride overridden.",
            "ingredients": ["Lidocaine hydrochloride"],
        }
    ]


def test_an_override_reason_without_a_conflict_is_not_recorded() -> None:
    decision = decide(override_reason="Doctor approved")
    assert (decision.override_reason, decision.warnings) == (None, ())


# ------------------------------------------------------------------ the order of the refusals

# Each entry makes one refusal apply; the decision must raise the first in this order.
ORDER: list[tuple[str, dict[str, Any]]] = [
    ("session_closed", {"session": {"status": "closed"}}),
    ("lot_recalled", {"lot": {"status": "recalled"}}),
    ("lot_quarantined", {"lot": {"status": "quarantined"}}),
    ("lot_expired", {"lot": {"expiry_date": TODAY - timedelta(days=1)}}),
    ("serial_already_used", {"lot": {"serial_used": True}, "reading": {"serial": "SN1"}}),
    ("repeat_scan", {"lot": {"repeat_of": PriorUse(id=1, used_at=NOW)}}),
    ("allergy_conflict", {"session": {"allergies": ("hyaluronic acid",)}}),
]


def _inputs(applying: list[int]) -> dict[str, Any]:
    """decide() keyword arguments under which exactly the refusals at these ORDER positions apply."""
    changes: dict[str, dict[str, Any]] = {"session": {}, "lot": {}, "reading": {}}
    for position in applying:
        for part, fields in ORDER[position][1].items():
            if part == "lot" and "status" in fields and "status" in changes["lot"]:
                continue  # one status at a time; the earlier (recalled) is already set
            changes[part].update(fields)
    return {
        "session": replace(OPEN, **changes["session"]),
        "lot": replace(LOT, **changes["lot"]),
        "reading": replace(READING, **changes["reading"]),
    }


@pytest.mark.parametrize("first", range(len(ORDER) - 1), ids=[code for code, _ in ORDER[:-1]])
def test_each_refusal_comes_before_every_later_one(first: int) -> None:
    assert refusal(**_inputs(list(range(first, len(ORDER))))).code == ORDER[first][0]


@given(st.sets(st.integers(min_value=0, max_value=len(ORDER) - 1), min_size=1))
def test_the_first_applicable_refusal_in_order_is_raised(applying: set[int]) -> None:
    with pytest.raises(Conflict) as refused:
        decide(**_inputs(sorted(applying)))
    assert refused.value.code == ORDER[min(applying)][0]


def test_an_override_reason_lifts_only_the_allergy_refusal() -> None:
    allergic = ScanSession(status="open", allergies=("hyaluronic acid",))
    assert refusal(session=allergic, lot=replace(LOT, status="recalled"), override_reason="Doctor ok").code == (
        "lot_recalled"
    )
    prior = replace(LOT, repeat_of=PriorUse(id=1, used_at=NOW))
    assert refusal(session=allergic, lot=prior, override_reason="Doctor ok").code == "repeat_scan"
    assert codes(decide(session=allergic, lot=prior, override_reason="Doctor ok", repeat=True)) == [
        "allergy_overridden"
    ]


# ------------------------------------------------------------------ each warning, and their order


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (LotFound.KNOWN, []),
        (LotFound.KNOWN_NOT_RECEIVED, [{"code": "lot_not_received", "message": "Lot L0T-1 was never received."}]),
        (
            LotFound.CREATED,
            [
                {
                    "code": "lot_not_received",
                    "message": "Lot L0T-1 was never received; it is recorded and flagged for a manager.",
                }
            ],
        ),
        (
            LotFound.INFERRED,
            [
                {
                    "code": "lot_inferred",
                    "message": "The barcode carries no lot; the only usable lot here, L0T-1, is used.",
                }
            ],
        ),
    ],
)
def test_how_the_lot_was_found_is_a_warning(found: LotFound, expected: list[dict[str, Any]]) -> None:
    assert [w.as_dict() for w in decide(found=found).warnings] == expected


def test_barcode_expiry_other_than_recorded_warns_and_the_earlier_counts() -> None:
    recorded = LOT.expiry_date
    later = recorded + timedelta(days=30)
    [warning] = decide(reading=replace(READING, expiry=later)).warnings
    assert warning.as_dict() == {
        "code": "expiry_mismatch",
        "message": f"The barcode says expiry {later}, the lot is recorded with {recorded}; the earlier counts.",
    }
    # An earlier printed date is the one expires-soon goes by.
    soon = TODAY + timedelta(days=5)
    assert codes(decide(reading=replace(READING, expiry=soon))) == ["expiry_mismatch", "expires_soon"]
    assert decide(reading=replace(READING, expiry=soon)).warnings[1].extra == {"expiry_date": soon.isoformat()}
    assert decide(reading=replace(READING, expiry=recorded)).warnings == ()


def test_expires_soon_warns_within_thirty_days() -> None:
    expiry = TODAY + timedelta(days=30)
    [warning] = decide(lot=replace(LOT, expiry_date=expiry)).warnings
    assert warning.as_dict() == {
        "code": "expires_soon",
        "message": f"Lot L0T-1 expires on {expiry}.",
        "expiry_date": expiry.isoformat(),
    }
    assert decide(lot=replace(LOT, expiry_date=TODAY + timedelta(days=31))).warnings == ()


def test_fefo_violation_names_the_earlier_lot() -> None:
    earlier = EarlierLot(id=5, lot_number="EARLY1", expiry_date=TODAY + timedelta(days=100))
    [warning] = decide(lot=replace(LOT, earlier=earlier)).warnings
    assert warning.as_dict() == {
        "code": "fefo_violation",
        "message": f"Lot EARLY1 expires earlier ({TODAY + timedelta(days=100)}) and is on the shelf here.",
        "lot_id": 5,
    }


def test_warnings_come_in_a_fixed_order() -> None:
    decision = decide(
        session=ScanSession(status="open", allergies=("lidocaine",)),
        lot=replace(
            LOT,
            expiry_date=TODAY + timedelta(days=20),
            earlier=EarlierLot(id=5, lot_number="EARLY1", expiry_date=TODAY + timedelta(days=3)),
        ),
        found=LotFound.KNOWN_NOT_RECEIVED,
        reading=replace(READING, expiry=TODAY + timedelta(days=25)),
        override_reason="Patch test negative",
    )
    assert codes(decision) == [
        "lot_not_received",
        "expiry_mismatch",
        "allergy_overridden",
        "expires_soon",
        "fefo_violation",
    ]


# ------------------------------------------------------------------ the local day


def test_the_local_day_decides_expiry_not_the_utc_day() -> None:
    lot = replace(LOT, expiry_date=date(2027, 3, 1))
    before_midnight = datetime(2027, 3, 1, 22, 59, tzinfo=UTC)  # 23:59 in Paris (winter, UTC+1)
    after_midnight = datetime(2027, 3, 1, 23, 0, tzinfo=UTC)  # 00:00 on 2 March in Paris
    on_the_day = decide(lot=lot, today=clock.today_in("Europe/Paris", before_midnight), now=before_midnight)
    assert codes(on_the_day) == ["expires_soon"]
    error = refusal(lot=lot, today=clock.today_in("Europe/Paris", after_midnight), now=after_midnight)
    assert error.code == "lot_expired"
    # The UTC day is still 1 March: only the location's day refuses.
    assert after_midnight.date() == date(2027, 3, 1)


# ------------------------------------------------------------------ after the write


def test_stock_discrepancy_is_worded_from_the_on_hand_the_write_leaves() -> None:
    assert stock_discrepancy(on_hand_after=0, quantity=1) is None
    assert stock_discrepancy(on_hand_after=5, quantity=2) is None
    warning = stock_discrepancy(on_hand_after=-1, quantity=2)
    assert warning is not None
    assert warning.as_dict() == {
        "code": "stock_discrepancy",
        "message": "Recorded stock here was 1; the use is recorded and on-hand goes to -1.",
    }


# ------------------------------------------------------------------ a barcode without a lot


def test_the_only_usable_lot_is_inferred() -> None:
    only = StockedLot(id=1, lot_number="A1", expiry_date=TODAY, on_hand=2)
    assert infer_lot([only]) == only


def test_no_usable_lot_is_lot_required() -> None:
    with pytest.raises(Conflict) as refused:
        infer_lot([])
    assert refused.value.code == "lot_required"
    assert refused.value.detail == (
        "The barcode carries no lot and no usable lot of this product is in stock here; scan the lot label or"
        " type the lot number."
    )


def test_several_usable_lots_are_lot_ambiguous_with_candidates() -> None:
    lots = [
        StockedLot(id=1, lot_number="A1", expiry_date=date(2027, 1, 1), on_hand=2),
        StockedLot(id=2, lot_number="B2", expiry_date=date(2027, 6, 1), on_hand=5),
    ]
    with pytest.raises(Conflict) as refused:
        infer_lot(lots)
    assert refused.value.code == "lot_ambiguous"
    assert refused.value.extra == {
        "candidates": [
            {"lot_id": 1, "lot_number": "A1", "expiry_date": "2027-01-01", "on_hand": 2},
            {"lot_id": 2, "lot_number": "B2", "expiry_date": "2027-06-01", "on_hand": 5},
        ]
    }


def test_an_unknown_lot_without_expiry_cannot_be_created() -> None:
    error = unknown_lot_without_expiry("NEW9")
    assert (error.code, error.detail) == (
        "lot_required",
        "Lot NEW9 was never received and the barcode carries no expiry date; receive it first.",
    )
