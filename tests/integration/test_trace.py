"""Traceability look-ups on PostgreSQL: lot number to every client, client to every lot, all audited."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import asyncpg
import pytest

from inventory.domain.errors import GtinInvalid, NotFound, Unprocessable
from inventory.domain.labelcode import format_lot_code
from inventory.domain.models import Actor
from inventory.services import clinical, recall_cases, scanning, stock, trace
from tests.support import factories as f
from tests.support.clinic import Clinic, build


async def another_client_session(actors: dict[str, Actor], clinic: Clinic, name: str | None = None) -> int:
    """A new client with an open session at the clinic's location; returns the session id."""
    client = await clinical.create_client(
        actor=actors["manager"],
        full_name=name or f.unique("Client"),
        email="other@example.com",
        phone="+33 1 23 45 67 89",
    )
    session = await clinical.create_session(
        actor=actors["staff"], client_id=client["id"], location_id=clinic.location_id
    )
    return int(session["id"])


async def use(actors: dict[str, Actor], session_id: int, barcode: str, quantity: int = 1) -> dict[str, Any]:
    """Record a use through the real scan service."""
    # Repeated uses of one barcode on one session are deliberate here: confirm them (else 409 repeat_scan).
    return await scanning.record_use(
        actor=actors["staff"], session_id=session_id, barcode=barcode, quantity=quantity, repeat=True
    )


async def lot_of(
    actors: dict[str, Actor],
    clinic: Clinic,
    lot_number: str,
    *,
    quantity: int = 5,
    product_id: int | None = None,
) -> dict[str, Any]:
    """Receive another lot (of the clinic's product unless told) at the clinic's location."""
    line = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=product_id or clinic.product["id"],
        lot_number=lot_number,
        expiry=f.in_days(300),
        quantity=quantity,
    )
    lot: dict[str, Any] = line["lot"]
    return lot


async def test_exact_match_ignores_case_and_surrounding_space_across_products(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    other = await f.product(actors["manager"])
    number = f.unique("Qx").replace(" ", "")
    first = await lot_of(actors, clinic, number)
    second = await lot_of(actors, clinic, number.lower(), product_id=other["id"])
    result = asdict(await trace.trace_lot(actor=actors["manager"], lot_number=f"  {number.lower()}\t"))
    assert sorted(m["lot"]["id"] for m in result["matches"]) == sorted([first["id"], second["id"]])
    assert {m["product"]["id"] for m in result["matches"]} == {clinic.product["id"], other["id"]}
    assert result["similar"] == []


async def test_trace_shows_receipts_stock_and_every_use_with_client_contacts_and_voided_marked(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=10)
    kept = await use(actors, clinic.session["id"], clinic.code(), quantity=2)
    voided = await use(actors, clinic.session["id"], clinic.code())
    await scanning.void_usage(actor=actors["staff"], usage_id=voided["usage_id"], reason="wrong client")
    result = asdict(await trace.trace_lot(actor=actors["manager"], lot_number=clinic.lot["lot_number"]))
    [match] = result["matches"]
    assert match["lot"]["id"] == clinic.lot["id"]
    assert match["brand"] == clinic.product["brand"]
    assert [(r["quantity"], r["supplier"], r["location"]["id"]) for r in match["received"]] == [
        (10, "Test supplier", clinic.location_id)
    ]
    assert match["stock"] == [
        {
            "location": {
                "id": clinic.location_id,
                "name": match["stock"][0]["location"]["name"],
                "timezone": "Europe/Paris",
            },
            "on_hand": 8,
        }
    ]
    by_id = {u["usage_id"]: u for u in match["usages"]}
    assert set(by_id) == {kept["usage_id"], voided["usage_id"]}
    assert by_id[voided["usage_id"]]["voided"] is True
    assert by_id[voided["usage_id"]]["void_reason"] == "wrong client"
    assert by_id[kept["usage_id"]]["voided"] is False
    assert by_id[kept["usage_id"]]["quantity"] == 2
    assert by_id[kept["usage_id"]]["client"] == {
        "id": clinic.client["id"],
        "full_name": clinic.client["full_name"],
        "email": "c@example.com",
        "phone": "+33 6 12 34 56 78",
    }
    assert by_id[kept["usage_id"]]["user"]["id"] == actors["staff"].id
    assert by_id[kept["usage_id"]]["session_id"] == clinic.session["id"]


async def test_stock_at_every_location_is_listed(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors, on_hand=10)
    room = await f.location(actors["manager"])
    await stock.transfer(
        actor=actors["manager"],
        lot_id=clinic.lot["id"],
        from_location_id=clinic.location_id,
        to_location_id=room["id"],
        quantity=3,
        reason=None,
    )
    [match] = asdict(await trace.trace_lot(actor=actors["manager"], lot_number=clinic.lot["lot_number"]))["matches"]
    assert {(s["location"]["id"], s["on_hand"]) for s in match["stock"]} == {
        (clinic.location_id, 7),
        (room["id"], 3),
    }


@pytest.mark.parametrize(
    ("recorded", "typed"),
    [
        ("AB-0012", "ab12"),
        ("AB 12/C", "ab12c"),
        ("0045X", "45-x"),
    ],
)
async def test_similar_lists_lots_differing_only_in_separators_or_leading_zeros(
    actors: dict[str, Actor], conn: asyncpg.Connection, recorded: str, typed: str
) -> None:
    clinic = await build(actors)
    tag = f.unique("S").replace(" ", "") + "Z"  # a letter keeps the tag's digits apart from the lot's
    lot = await lot_of(actors, clinic, f"{tag}-{recorded}")
    session_id = await another_client_session(actors, clinic)
    await use(actors, session_id, format_lot_code(lot["id"]))
    result = asdict(await trace.trace_lot(actor=actors["manager"], lot_number=f"{tag.lower()}{typed}"))
    assert result["matches"] == []
    [similar] = result["similar"]
    assert similar["lot"]["id"] == lot["id"]
    assert [u["client"]["id"] for u in similar["usages"]] != []


async def test_exact_and_similar_are_kept_apart(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    clinic = await build(actors)
    tag = f.unique("E").replace(" ", "") + "Z"
    exact = await lot_of(actors, clinic, f"{tag}007")
    loose = await lot_of(actors, clinic, f"{tag}-7")
    result = asdict(await trace.trace_lot(actor=actors["manager"], lot_number=f"{tag}007"))
    assert [m["lot"]["id"] for m in result["matches"]] == [exact["id"]]
    assert [m["lot"]["id"] for m in result["similar"]] == [loose["id"]]


async def test_gtin_narrows_to_its_product_by_unit_or_box_gtin(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    other = await f.product(actors["manager"], gtin=f.make_gtin(777_001))
    await lot_of(actors, clinic, clinic.lot["lot_number"], product_id=other["id"])
    everything = asdict(await trace.trace_lot(actor=actors["manager"], lot_number=clinic.lot["lot_number"]))
    assert len(everything["matches"]) == 2
    for gtin in (clinic.gtin, clinic.box_gtin, clinic.gtin[1:]):
        result = asdict(await trace.trace_lot(actor=actors["manager"], lot_number=clinic.lot["lot_number"], gtin=gtin))
        assert [m["product"]["id"] for m in result["matches"]] == [clinic.product["id"]], gtin


async def test_unknown_gtin_is_product_unknown_and_a_bad_one_is_gtin_invalid(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    with pytest.raises(NotFound) as unknown:
        await trace.trace_lot(actor=actors["manager"], lot_number="X1", gtin=f.make_gtin(999_123, prefix="999999"))
    assert unknown.value.code == "product_unknown"
    with pytest.raises(GtinInvalid):
        await trace.trace_lot(actor=actors["manager"], lot_number="X1", gtin="12345678")


@pytest.mark.parametrize("lot_number", ["", "   ", "x" * 65, "A\x00B"])
async def test_unusable_lot_numbers_are_refused(
    actors: dict[str, Actor], conn: asyncpg.Connection, lot_number: str
) -> None:
    with pytest.raises(Unprocessable) as error:
        await trace.trace_lot(actor=actors["manager"], lot_number=lot_number)
    assert error.value.code == "lot_number_invalid"


async def test_a_number_made_only_of_separators_finds_no_similar_lots(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    result = asdict(await trace.trace_lot(actor=actors["manager"], lot_number="--"))
    assert result == {
        "query": {"lot_number": "--", "lot_key": "--", "similar_key": None, "gtin": None},
        "matches": [],
        "similar": [],
        "similar_truncated": False,
    }


async def test_look_alikes_are_capped_and_flagged_but_exact_matches_never_are(
    actors: dict[str, Actor], conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trace, "MAX_SIMILAR", 2)
    clinic = await build(actors)
    tag = f.unique("C").replace(" ", "") + "Z"
    exact = [
        await lot_of(actors, clinic, f"{tag}9", product_id=(await f.product(actors["manager"]))["id"]) for _ in range(3)
    ]
    loose = [await lot_of(actors, clinic, f"{tag}{'0' * n}9") for n in range(1, 4)]
    result = asdict(await trace.trace_lot(actor=actors["manager"], lot_number=f"{tag}9"))
    assert sorted(m["lot"]["id"] for m in result["matches"]) == sorted(lot["id"] for lot in exact)
    assert [m["lot"]["id"] for m in result["similar"]] == [loose[0]["id"], loose[1]["id"]]
    assert result["similar_truncated"] is True


async def test_each_look_up_is_audited_with_the_clients_it_showed(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    await use(actors, clinic.session["id"], clinic.code())
    await trace.trace_lot(actor=actors["manager"], lot_number=clinic.lot["lot_number"])
    event = await conn.fetchrow(
        "SELECT actor, action, details FROM audit_event WHERE entity = 'lot' AND entity_id = $1"
        " AND action = 'trace.lookup' ORDER BY id DESC LIMIT 1",
        clinic.lot["id"],
    )
    assert event is not None
    assert event["actor"] == actors["manager"].id
    assert event["details"]["client_ids"] == [clinic.client["id"]]
    assert event["details"]["match"] == "exact"


async def test_a_look_up_that_finds_nothing_is_audited_too(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    number = f.unique("NONE").replace(" ", "")
    await trace.trace_lot(actor=actors["manager"], lot_number=number)
    details = await conn.fetchval(
        "SELECT details FROM audit_event WHERE action = 'trace.lookup' AND actor = $1 ORDER BY id DESC LIMIT 1",
        actors["manager"].id,
    )
    assert details["lot_number"] == number
    assert details["client_ids"] == []


async def test_client_history_lists_every_lot_used_voided_marked_with_its_recalls(
    actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors)
    second = await lot_of(actors, clinic, f.unique("H").replace(" ", ""))
    await use(actors, clinic.session["id"], clinic.code(), quantity=2)
    wrong = await use(actors, clinic.session["id"], clinic.code(second["lot_number"], expiry=second["expiry_date"]))
    await scanning.void_usage(actor=actors["manager"], usage_id=wrong["usage_id"], reason="scanned by mistake")
    case = await recall_cases.create_recall(actor=actors["manager"], lot_ids=[clinic.lot["id"]], reason="notice")
    history = asdict(await trace.client_history(actor=actors["manager"], client_id=clinic.client["id"]))
    assert history["client"]["id"] == clinic.client["id"]
    by_lot = {entry["lot"]["id"]: entry for entry in history["lots"]}
    assert set(by_lot) == {clinic.lot["id"], second["id"]}
    assert by_lot[clinic.lot["id"]]["quantity"] == 2
    assert by_lot[clinic.lot["id"]]["recall_ids"] == [case.id]
    assert by_lot[clinic.lot["id"]]["lot"]["status"] == "recalled"
    assert by_lot[second["id"]]["quantity"] == 0
    assert [u["voided"] for u in by_lot[second["id"]]["usages"]] == [True]
    event = await conn.fetchrow(
        "SELECT actor, details FROM audit_event WHERE action = 'client.history' AND entity = 'client'"
        " AND entity_id = $1 ORDER BY id DESC LIMIT 1",
        clinic.client["id"],
    )
    assert event is not None
    assert event["actor"] == actors["manager"].id
    assert sorted(event["details"]["lot_ids"]) == sorted([clinic.lot["id"], second["id"]])


async def test_history_of_unknown_client_is_not_found(actors: dict[str, Actor], conn: asyncpg.Connection) -> None:
    with pytest.raises(NotFound):
        await trace.client_history(actor=actors["manager"], client_id=2_000_000_000)
