"""Pure rules of issue 13's second half: an implant's UDI, the signal raised by one reaction, the pseudonym."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from inventory.domain.erasure import pseudonym, retention_cutoff, scrub
from inventory.domain.scan_decision import LockedLot, LotFound, ScanReading, ScanSession, decide_scan
from inventory.domain.udi import implant_udi
from inventory.domain.vigilance import ReactionLink, new_signals

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
GTIN = "03760000000017"


def _lot(*, implant: bool) -> LockedLot:
    return LockedLot(
        id=7,
        lot_number="F123",
        expiry_date=date(2028, 6, 30),
        status="active",
        product_id=3,
        product_name="Filler",
        brand_name="Brand",
        implant=implant,
    )


def test_an_implant_udi_is_the_gs1_element_string_in_canonical_order() -> None:
    udi = implant_udi(gtin=GTIN, expiry=date(2028, 6, 30), lot_number="F123", serial="S9")
    assert udi == f"(01){GTIN}(17)280630(10)F123(21)S9"


def test_an_implant_udi_leaves_out_what_gs1_cannot_encode_and_needs_a_gtin() -> None:
    assert implant_udi(gtin=GTIN, expiry=None, lot_number="F 123", serial=None) == f"(01){GTIN}"
    assert implant_udi(gtin=None, expiry=date(2028, 6, 30), lot_number="F123", serial=None) is None
    assert implant_udi(gtin="123", expiry=None, lot_number="F123", serial=None) is None


def test_the_scan_decision_keeps_a_udi_for_implants_only() -> None:
    reading = ScanReading(gtin=GTIN, expiry=None, serial="S9")
    common = {"session": ScanSession("open"), "found": LotFound.KNOWN, "reading": reading}
    implant = decide_scan(lot=_lot(implant=True), today=NOW.date(), now=NOW, **common)  # type: ignore[arg-type]
    assert implant.udi == f"(01){GTIN}(17)280630(10)F123(21)S9"  # no printed expiry: the lot's
    other = decide_scan(lot=_lot(implant=False), today=NOW.date(), now=NOW, **common)  # type: ignore[arg-type]
    assert other.udi is None


def _link(reaction: int, client: int, *, lot: int = 1, product: int = 10, severity: str = "mild") -> ReactionLink:
    return ReactionLink(reaction, client, severity, NOW - timedelta(days=1), lot, product)


def test_the_third_client_raises_the_lot_and_product_signals_once() -> None:
    links = [_link(1, 100), _link(2, 101), _link(3, 102)]
    raised = new_signals(links, 3, now=NOW)
    assert [(s.kind, s.subject_id, s.reasons) for s in raised] == [
        ("lot", 1, ("clients",)),
        ("product", 10, ("clients",)),
    ]
    assert new_signals(links[:2], 2, now=NOW) == []  # two clients: nothing
    assert new_signals([*links, _link(4, 103)], 4, now=NOW) == []  # already signalling: nothing new


def test_a_serious_reaction_raises_its_signal_but_not_a_second_one() -> None:
    assert [s.id for s in new_signals([_link(1, 100, severity="serious")], 1, now=NOW)] == ["lot-1", "product-10"]
    both = [_link(1, 100, severity="serious"), _link(2, 101, lot=2, severity="serious")]
    assert [s.id for s in new_signals(both, 2, now=NOW)] == ["lot-2"]  # the product already signalled


def test_the_pseudonym_is_stable_per_client_and_secret_and_says_nothing_of_the_id() -> None:
    first = pseudonym(12, "a" * 40)
    assert first == pseudonym(12, "a" * 40)
    assert first != pseudonym(13, "a" * 40) and first != pseudonym(12, "b" * 40)
    assert first.startswith("Erased client ") and len(first.removeprefix("Erased client ")) == 16


def test_scrub_removes_each_personal_value_ignoring_case() -> None:
    text = "Asked by LÉA Dupont (lea@x.fr, +33 6 11) on the phone; dupont confirmed"
    cleaned = scrub(text, ["Léa Dupont", "Dupont", "lea@x.fr", "+33 6 11", None], "P")
    assert cleaned == "Asked by P (P, P) on the phone; P confirmed"


def test_the_retention_cutoff_goes_back_whole_years() -> None:
    assert retention_cutoff(NOW, 20) == NOW.replace(year=2006)
    assert retention_cutoff(datetime(2028, 2, 29, tzinfo=UTC), 1) == datetime(2027, 2, 28, tzinfo=UTC)
