"""The vigilance signal rule, rule by rule, and the age band of a report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from inventory.domain.vigilance import (
    ReactionLink,
    SignalRule,
    age_band,
    evaluate,
    parse_signal_id,
    signal_id,
    signals,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
_ids = iter(range(1, 10_000))


def link(client: int, *, days_ago: float = 1, severity: str = "mild", lot: int = 1, product: int = 10) -> ReactionLink:
    return ReactionLink(
        reaction_id=next(_ids),
        client_id=client,
        severity=severity,
        onset_at=NOW - timedelta(days=days_ago),
        lot_id=lot,
        product_id=product,
    )


def test_two_clients_are_no_signal() -> None:
    assert evaluate("lot", 1, [link(1), link(2)], now=NOW) is None


def test_three_clients_are_a_signal() -> None:
    found = evaluate("lot", 1, [link(1, days_ago=80), link(2, days_ago=5), link(3)], now=NOW)
    assert found is not None
    assert (found.clients, found.reactions, found.serious, found.reasons) == (3, 3, 0, ("clients",))
    assert found.first_onset == NOW - timedelta(days=80) and found.last_onset == NOW - timedelta(days=1)
    assert found.id == "lot-1"


def test_three_reactions_of_one_client_are_no_signal() -> None:
    assert evaluate("lot", 1, [link(7), link(7, days_ago=2), link(7, days_ago=3)], now=NOW) is None


def test_one_serious_reaction_is_a_signal() -> None:
    found = evaluate("product", 10, [link(1, severity="serious")], now=NOW)
    assert found is not None
    assert (found.clients, found.serious, found.reasons) == (1, 1, ("serious",))


def test_both_reasons_are_named() -> None:
    found = evaluate("lot", 1, [link(1, severity="serious"), link(2), link(3)], now=NOW)
    assert found is not None and found.reasons == ("clients", "serious")


def test_reactions_older_than_the_window_do_not_count() -> None:
    old = [link(1, days_ago=91), link(2, days_ago=120), link(3)]
    assert evaluate("lot", 1, old, now=NOW) is None
    assert evaluate("lot", 1, [link(1, days_ago=90.5, severity="serious")], now=NOW) is None
    # exactly 90 days ago still counts
    assert evaluate("lot", 1, [link(1, days_ago=90), link(2), link(3)], now=NOW) is not None


def test_the_window_follows_the_clock() -> None:
    links = [link(1), link(2), link(3)]
    assert evaluate("lot", 1, links, now=NOW) is not None
    assert evaluate("lot", 1, links, now=NOW + timedelta(days=95)) is None


def test_the_rule_is_a_parameter() -> None:
    links = [link(1), link(2)]
    assert evaluate("lot", 1, links, now=NOW, rule=SignalRule(min_clients=2)) is not None
    serious = [link(1, severity="serious")]
    assert evaluate("lot", 1, serious, now=NOW, rule=SignalRule(serious_signals=False)) is None
    assert evaluate("lot", 1, [link(1, days_ago=100), link(2), link(3)], now=NOW, rule=SignalRule(window_days=120))


def test_per_lot_and_per_product() -> None:
    # three clients on one product, spread over two lots: the product signals, neither lot does
    links = [link(1, lot=1), link(2, lot=1), link(3, lot=2)]
    found = signals(links, now=NOW)
    assert [(s.kind, s.subject_id, s.clients) for s in found] == [("product", 10, 3)]


def test_a_reaction_on_two_lots_of_one_product_counts_once_for_the_product() -> None:
    twin = link(1, lot=1)
    same = ReactionLink(twin.reaction_id, twin.client_id, twin.severity, twin.onset_at, lot_id=2, product_id=10)
    found = evaluate("product", 10, [twin, same, link(2, lot=1)], now=NOW)
    assert found is None
    lots = signals([twin, same, link(2, lot=1), link(3, lot=1)], now=NOW)
    assert [(s.id, s.reactions) for s in lots] == [("lot-1", 3), ("product-10", 3)]


def test_signal_ids_round_trip_and_refuse_anything_else() -> None:
    assert parse_signal_id(signal_id("lot", 12)) == ("lot", 12)
    assert parse_signal_id("product-7") == ("product", 7)
    for bad in ("lot-0", "lot--1", "lot-", "lot-01", "lot-2147483648", "batch-3", "lot-\uff11", "12", "lot-1.5"):
        assert parse_signal_id(bad) is None, bad


def test_age_bands() -> None:
    assert age_band(date(1990, 6, 15), date(2026, 6, 14)) == "30-39"
    assert age_band(date(1990, 6, 15), date(2030, 6, 14)) == "30-39"
    assert age_band(date(1990, 6, 15), date(2030, 6, 15)) == "40-49"
    assert age_band(None, date(2026, 1, 1)) == "unknown"
    assert age_band(date(2027, 1, 1), date(2026, 1, 1)) == "unknown"
    assert age_band(date(2020, 1, 1), date(2026, 1, 1)) == "0-9"
