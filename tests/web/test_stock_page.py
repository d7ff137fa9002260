"""The stock page over HTTP: lots per location, the lots to reconcile, count/transfer/dispose and every refusal."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from inventory import clock
from inventory.domain.models import Actor
from inventory.services import catalog, discrepancies
from inventory.services.discrepancies import Reason
from tests.support import factories as f
from tests.support.clinic import build
from tests.support.db import row_counts
from tests.support.pages import Pages, field_error
from tests.support.shelf import Shelf, build_shelf

FR = {"Accept-Language": "fr"}
WRITTEN = ("stock_movement", "stock_level", "audit_event", "idempotency_record", "reorder_alert", "lot")


@pytest.fixture
async def shelf(actors: dict[str, Actor]) -> Shelf:
    """A shelf with an expired, a never-received (on hand -1) and a quarantined lot, in the test's transaction."""
    return await build_shelf(actors)


def flagged_lots(html: str) -> dict[int, set[str]]:
    """The lots under "To reconcile", each with the reasons it shows (data-reason)."""
    section = html.split('id="flagged"', 1)[1].split('id="lots"', 1)[0]
    found: dict[int, set[str]] = {}
    for chunk in section.split('<li class="flagged-lot"')[1:]:
        lot = re.search(r'data-lot="(\d+)"', chunk)
        assert lot is not None
        found[int(lot.group(1))] = set(re.findall(r'data-reason="([a-z_]+)"', chunk))
    return found


def table_lots(html: str) -> list[int]:
    """The lots of the stock table, in order."""
    table = html.split('id="lots"', 1)[1]
    return [int(n) for n in re.findall(r'<tr data-lot="(\d+)"', table)]


def row_of(html: str, lot_id: int) -> str:
    """The stock table's row of a lot."""
    found = re.search(rf'<tr data-lot="{lot_id}".*?</tr>', html.split('id="lots"', 1)[1], re.S)
    assert found is not None, lot_id
    return found.group(0)


def key_of(html: str, form_id: str) -> str:
    """The Idempotency-Key a rendered form carries."""
    form = html.split(f'<form id="{form_id}"', 1)[1].split("</form>", 1)[0]
    found = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert found is not None
    return found.group(1)


async def on_hand(conn: asyncpg.Connection, lot_id: int, location_id: int) -> int | None:
    """On-hand of a lot at a location, as the test's transaction sees it."""
    value = await conn.fetchval("SELECT on_hand FROM stock_level WHERE lot = $1 AND location = $2", lot_id, location_id)
    return None if value is None else int(value)


async def ledger(conn: asyncpg.Connection, lot_id: int) -> list[dict[str, Any]]:
    """The lot's ledger rows, oldest first."""
    rows = await conn.fetch(
        'SELECT location, quantity, kind, reason, "user" FROM stock_movement WHERE lot = $1 ORDER BY id', lot_id
    )
    return [dict(r) for r in rows]


async def shown_flash(pages: Pages, response: httpx.Response, **kwargs: Any) -> str:
    """Follow a form's redirect and read the one-time message the page shows."""
    assert response.status_code == 303, response.text[:500]
    page = await pages.get(response.headers["location"].split("#")[0], **kwargs)
    found = re.search(r'<p class="banner done" role="status" id="flash">([^<]+)</p>', page.text)
    assert found is not None
    return found.group(1)


# ------------------------------------------------------------------ reading


async def test_staff_sees_the_lots_with_expiry_status_and_on_hand_and_the_lots_to_reconcile_but_no_action(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf
) -> None:
    pages.sign_in_as(page_cookies["staff"])
    page = await pages.get(f"/ui/stock?location_id={shelf.location_id}")
    assert page.status_code == 200
    html = page.text
    good = shelf.clinic.lot
    # Soonest expiry first: expired, quarantined (90 days), never received (120), the good lot (200).
    assert table_lots(html) == [shelf.expired["id"], shelf.quarantined["id"], shelf.never_received["id"], good["id"]]
    row = row_of(html, good["id"])
    assert f"{shelf.clinic.product['name']}" in row and good["lot_number"] in row
    assert "Expires in 200 days" in row
    assert '<span class="badge status-active">Active</span>' in row
    assert re.search(r'class="num on-hand" data-label="On hand">10<', row)
    assert "Expired 3 days ago" in row_of(html, shelf.expired["id"])
    assert '<span class="badge status-quarantined">Quarantined</span>' in row_of(html, shelf.quarantined["id"])
    assert re.search(r'class="num on-hand negative" data-label="On hand">-1<', row_of(html, shelf.never_received["id"]))
    assert flagged_lots(html) == {
        shelf.expired["id"]: {"expired_on_shelf"},
        shelf.never_received["id"]: {"never_received", "below_zero"},
        shelf.quarantined["id"]: {"held_on_shelf"},
    }
    assert "A manager counts, moves or disposes of these lots." in html
    # No action form at all, only the filters (GET) and the layout's language and sign-out forms.
    assert not re.search(r'action="/ui/stock/(count|transfer|dispose)"', html)
    assert "idempotency_key" not in html


async def test_the_reasons_are_said_in_plain_words_in_french(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    html = (await pages.get(f"/ui/stock?location_id={shelf.location_id}", headers=FR)).text
    assert '<html lang="fr">' in html
    assert "À régulariser" in html
    assert "Jamais réceptionné : un scan a enregistré ce lot ici" in html
    assert "Stock négatif : on a enregistré plus d’utilisations" in html
    assert "Périmé, mais des unités sont encore en rayon" in html
    assert "En quarantaine, mais des unités sont encore en rayon" in html
    assert "Périmé depuis 3 jours" in html
    assert "Périme dans 200 jours" in html
    assert "Compter le rayon" in html and "Mettre des unités au rebut" in html


async def test_the_first_location_is_shown_by_default_and_an_unknown_one_is_a_404(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf
) -> None:
    pages.sign_in_as(page_cookies["staff"])
    first = (await catalog.list_locations())[0]
    page = await pages.get("/ui/stock")
    assert page.status_code == 200
    assert re.search(rf'<option value="{first["id"]}" selected>', page.text)
    assert (await pages.get("/ui/stock?location_id=99999999")).status_code == 404
    assert (await pages.get("/ui/stock?location_id=abc")).status_code == 200  # means nothing: the first location


async def test_an_empty_location_says_so(pages: Pages, page_cookies: dict[str, str], shelf: Shelf) -> None:
    pages.sign_in_as(page_cookies["manager"])
    html = (await pages.get(f"/ui/stock?location_id={shelf.other_id}")).text
    assert "No stock at this location." in html
    assert "Nothing to reconcile here" in html


async def test_filters_by_text_status_and_to_reconcile(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf
) -> None:
    pages.sign_in_as(page_cookies["staff"])
    base = f"/ui/stock?location_id={shelf.location_id}"
    number = shelf.never_received["lot_number"]
    assert table_lots((await pages.get(f"{base}&q={number.lower()}")).text) == [shelf.never_received["id"]]
    assert table_lots((await pages.get(f"{base}&status=quarantined")).text) == [shelf.quarantined["id"]]
    only = table_lots((await pages.get(f"{base}&flagged=1")).text)
    assert only == [shelf.expired["id"], shelf.quarantined["id"], shelf.never_received["id"]]
    html = (await pages.get(f"{base}&q=nothing-like-this&status=bogus")).text
    assert table_lots(html) == []
    assert "No lot here matches these filters." in html
    # Filters narrow the table only: the lots to reconcile stay listed.
    assert len(flagged_lots(html)) == 3


async def test_expired_is_counted_from_each_locations_own_day(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    clock.set(datetime(2027, 2, 1, 12, 0, tzinfo=UTC))
    paris = await build(actors, timezone="Europe/Paris")
    new_york = await build(actors, timezone="America/New_York")
    lots = {}
    for place in (paris, new_york):
        line = await f.receive(
            actors["manager"],
            location_id=place.location_id,
            product_id=place.product["id"],
            lot_number="MARCH1",
            expiry=date(2027, 3, 1),
            quantity=2,
        )
        lots[place.location_id] = line["lot"]["id"]
    # 23:30 UTC on 1 March: already 2 March in Paris, still 1 March in New York.
    clock.set(datetime(2027, 3, 1, 23, 30, tzinfo=UTC))
    pages.sign_in_as(page_cookies["manager"])
    html = (await pages.get(f"/ui/stock?location_id={paris.location_id}")).text
    assert "Expired 1 day ago" in row_of(html, lots[paris.location_id])
    assert flagged_lots(html)[lots[paris.location_id]] == {"expired_on_shelf"}
    html = (await pages.get(f"/ui/stock?location_id={new_york.location_id}")).text
    assert "Expires today" in row_of(html, lots[new_york.location_id])
    assert lots[new_york.location_id] not in flagged_lots(html)


async def test_the_discrepancy_service_gives_each_flagged_lot_its_reasons_and_days(
    actors: dict[str, Actor], shelf: Shelf
) -> None:
    found = {lot.lot_id: lot for lot in await discrepancies.flagged(location_id=shelf.location_id)}
    assert set(found) == {shelf.expired["id"], shelf.never_received["id"], shelf.quarantined["id"]}
    assert found[shelf.expired["id"]].reasons == (Reason.EXPIRED_ON_SHELF,)
    assert found[shelf.expired["id"]].days_left == -3
    assert found[shelf.never_received["id"]].reasons == (Reason.NEVER_RECEIVED, Reason.BELOW_ZERO)
    assert found[shelf.never_received["id"]].on_hand == -1
    assert found[shelf.quarantined["id"]].reasons == (Reason.HELD_ON_SHELF,)
    # Everywhere: this shelf's lots are among them, each location's own.
    everywhere = await discrepancies.flagged()
    assert {(lot.lot_id, lot.location_id) for lot in everywhere} >= {(i, shelf.location_id) for i in found}


async def test_signed_out_goes_to_the_sign_in_form_and_back(pages: Pages) -> None:
    response = await pages.get("/ui/stock?location_id=3")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/?next=%2Fui%2Fstock%3Flocation_id%3D3"


# ------------------------------------------------------------------ the three actions


async def test_disposing_of_an_expired_lot_writes_the_disposal_and_the_lot_leaves_the_list(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf, conn: asyncpg.Connection, actors: dict[str, Actor]
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    lot = shelf.expired["id"]
    html = (await pages.get(f"/ui/stock?location_id={shelf.location_id}")).text
    assert '<option value="expired" selected>' in html.split(f'<form id="dispose-{lot}"')[1].split("</form>")[0]
    response = await pages.post(
        "/ui/stock/dispose",
        {
            "lot_id": lot,
            "location_id": shelf.location_id,
            "quantity": "3",
            "reason": "expired",
            "note": "",
            "idempotency_key": key_of(html, f"dispose-{lot}"),
        },
    )
    assert response.headers["location"] == f"/ui/stock?location_id={shelf.location_id}#flagged"
    flash = await shown_flash(pages, response)
    assert flash == f"Disposed of 3 of lot {shelf.expired['lot_number']} (expired); 0 left here."
    assert await on_hand(conn, lot, shelf.location_id) == 0
    assert (await ledger(conn, lot))[-1] == {
        "location": shelf.location_id,
        "quantity": -3,
        "kind": "dispose",
        "reason": "expired",
        "user": actors["manager"].id,
    }
    html = (await pages.get(f"/ui/stock?location_id={shelf.location_id}")).text
    assert lot not in flagged_lots(html)
    assert lot not in table_lots(html)  # nothing left here


async def test_a_disposal_keeps_the_details_added_to_its_reason(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf, conn: asyncpg.Connection
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    lot = shelf.quarantined["id"]
    response = await pages.post(
        "/ui/stock/dispose",
        {"lot_id": lot, "location_id": shelf.location_id, "quantity": "1", "reason": "other", "note": "Vial cracked"},
        headers=FR,
    )
    flash = await shown_flash(pages, response, headers=FR)
    assert flash == f"1 du lot {shelf.quarantined['lot_number']} mis au rebut (autre (préciser)) ; il en reste 3 ici."
    assert (await ledger(conn, lot))[-1]["reason"] == "other: Vial cracked"
    assert await on_hand(conn, lot, shelf.location_id) == 3


async def test_counting_a_negative_stock_makes_on_hand_the_count_with_one_adjustment(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf, conn: asyncpg.Connection
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    lot = shelf.never_received["id"]
    html = (await pages.get(f"/ui/stock?location_id={shelf.location_id}")).text
    before = len(await ledger(conn, lot))
    response = await pages.post(
        "/ui/stock/count",
        {
            "lot_id": lot,
            "location_id": shelf.location_id,
            "counted": "4",
            "reason": "Box found in the drawer",
            "idempotency_key": key_of(html, f"count-{lot}"),
        },
    )
    flash = await shown_flash(pages, response)
    assert flash == f"Lot {shelf.never_received['lot_number']} counted: on hand was -1, it is now 4."
    assert await on_hand(conn, lot, shelf.location_id) == 4
    rows = await ledger(conn, lot)
    assert len(rows) == before + 1
    assert (
        rows[-1]["kind"] == "adjust" and rows[-1]["quantity"] == 5 and rows[-1]["reason"] == "Box found in the drawer"
    )
    # Counted: neither below zero nor an unexplained never-received lot any more.
    assert lot not in flagged_lots((await pages.get(f"/ui/stock?location_id={shelf.location_id}")).text)


async def test_a_count_equal_to_the_records_writes_no_movement_and_says_so(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf, conn: asyncpg.Connection
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    lot = shelf.quarantined["id"]
    before = len(await ledger(conn, lot))
    response = await pages.post(
        "/ui/stock/count", {"lot_id": lot, "location_id": shelf.location_id, "counted": "4", "reason": "Count"}
    )
    assert (
        await shown_flash(pages, response) == f"Lot {shelf.quarantined['lot_number']} counted: 4 on hand, as recorded."
    )
    assert len(await ledger(conn, lot)) == before


async def test_a_transfer_moves_units_to_the_other_location(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf, conn: asyncpg.Connection
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    lot = shelf.quarantined["id"]
    other = next(p for p in await catalog.list_locations() if p["id"] == shelf.other_id)
    response = await pages.post(
        "/ui/stock/transfer",
        {
            "lot_id": lot,
            "location_id": shelf.location_id,
            "to_location_id": shelf.other_id,
            "quantity": "4",
            "note": "Quarantine shelf",
        },
        headers=FR,
    )
    flash = await shown_flash(pages, response, headers=FR)
    assert flash == f"4 du lot {shelf.quarantined['lot_number']} déplacé(s) vers {other['name']} ; il en reste 0 ici."
    assert await on_hand(conn, lot, shelf.location_id) == 0
    assert await on_hand(conn, lot, shelf.other_id) == 4
    rows = (await ledger(conn, lot))[-2:]
    assert [(r["location"], r["quantity"], r["kind"], r["reason"]) for r in rows] == [
        (shelf.location_id, -4, "transfer", "Quarantine shelf"),
        (shelf.other_id, 4, "transfer", "Quarantine shelf"),
    ]


async def test_a_double_submit_of_a_form_changes_nothing_twice(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf, conn: asyncpg.Connection
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    lot = shelf.expired["id"]
    html = (await pages.get(f"/ui/stock?location_id={shelf.location_id}")).text
    form = {
        "lot_id": str(lot),
        "location_id": str(shelf.location_id),
        "quantity": "1",
        "reason": "damaged",
        "note": "",
        "idempotency_key": key_of(html, f"dispose-{lot}"),
    }
    first = await shown_flash(pages, await pages.post("/ui/stock/dispose", form))
    second = await shown_flash(pages, await pages.post("/ui/stock/dispose", form))
    assert first == second == f"Disposed of 1 of lot {shelf.expired['lot_number']} (damaged or broken); 2 left here."
    assert [r["kind"] for r in await ledger(conn, lot)].count("dispose") == 1
    assert await on_hand(conn, lot, shelf.location_id) == 2
    # The same form sent back with other values (the browser's Back button) is refused, next to the form.
    counts = await row_counts(conn, WRITTEN)
    third = await pages.post("/ui/stock/dispose", {**form, "quantity": "2"})
    assert third.status_code == 422
    assert field_error(third.text, f"dispose-{lot}-form") == (
        "This form was already sent with other values; reload the page."
    )
    assert await row_counts(conn, WRITTEN) == counts
    # A count with a fresh key is its own write.
    again = {**form, "idempotency_key": "another-key"}
    await shown_flash(pages, await pages.post("/ui/stock/dispose", again))
    assert await on_hand(conn, lot, shelf.location_id) == 1


# ------------------------------------------------------------------ refusals: a message by the field, nothing written


@pytest.mark.parametrize(
    ("fields", "field", "english", "french", "status"),
    [
        ({"quantity": "4"}, "quantity", "Only 3 on hand here.", "Seulement 3 en stock ici.", 409),
        ({"quantity": "0"}, "quantity", "Enter a number above 0.", "Saisissez un nombre supérieur à 0.", 422),
        ({"quantity": "-2"}, "quantity", "Enter a number above 0.", "Saisissez un nombre supérieur à 0.", 422),
        (
            {"quantity": "1.5"},
            "quantity",
            "This product is counted in whole units: enter a whole number.",
            "Ce produit se compte en unités entières : saisissez un nombre entier.",
            422,
        ),
        (
            {"quantity": "two"},
            "quantity",
            "Enter a number (up to 2 decimal places).",
            "Saisissez un nombre (jusqu’à 2 décimales).",
            422,
        ),
        ({"quantity": ""}, "quantity", "This field is required.", "Ce champ est obligatoire.", 422),
        ({"reason": ""}, "reason", "This field is required.", "Ce champ est obligatoire.", 422),
        ({"reason": "bored"}, "reason", "Choose one of the options.", "Choisissez l’une des options.", 422),
        ({"reason": "other", "note": " "}, "note", "This field is required.", "Ce champ est obligatoire.", 422),
        ({"note": "x" * 501}, "note", "At most 500 characters.", "500 caractères au plus.", 422),
    ],
)
async def test_a_refused_disposal_says_why_next_to_the_field_and_writes_nothing(
    pages: Pages,
    page_cookies: dict[str, str],
    shelf: Shelf,
    conn: asyncpg.Connection,
    fields: dict[str, str],
    field: str,
    english: str,
    french: str,
    status: int,
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    lot = shelf.expired["id"]
    counts = await row_counts(conn, WRITTEN)
    form = {"lot_id": lot, "location_id": shelf.location_id, "quantity": "1", "reason": "expired", "note": ""}
    for language, message in (("en", english), ("fr", french)):
        key = f"refused-{language}"
        response = await pages.post(
            "/ui/stock/dispose", {**form, **fields, "idempotency_key": key}, headers={"Accept-Language": language}
        )
        assert response.status_code == status
        assert f'<html lang="{language}">' in response.text
        assert field_error(response.text, f"dispose-{lot}-{field}") == message
        # The form is shown again open, with what was typed and the same key (nothing was kept under it).
        assert re.search(
            rf'<details class="action action-dispose" open>\s*<summary>[^<]+</summary>\s*<form id="dispose-{lot}"',
            response.text,
        )
        assert key_of(response.text, f"dispose-{lot}") == key
        # The cursor is put in the field at fault (the browser scrolls to it).
        assert re.search(rf'id="dispose-{lot}-{field}"[^>]* autofocus', response.text)
        assert 'aria-invalid="true"' in response.text
    assert await row_counts(conn, WRITTEN) == counts


@pytest.mark.parametrize(
    ("fields", "field", "english", "french"),
    [
        ({"counted": "-1"}, "counted", "Enter a number of at least 0.", "Saisissez un nombre d’au moins 0."),
        ({"counted": ""}, "counted", "This field is required.", "Ce champ est obligatoire."),
        (
            {"counted": "2.5"},
            "counted",
            "This product is counted in whole units: enter a whole number.",
            "Ce produit se compte en unités entières : saisissez un nombre entier.",
        ),
        (
            {"counted": "100001"},
            "counted",
            "Enter a number of at most 100000.",
            "Saisissez un nombre d’au plus 100000.",
        ),
        ({"reason": "  "}, "reason", "This field is required.", "Ce champ est obligatoire."),
    ],
)
async def test_a_refused_count_says_why_next_to_the_field_and_writes_nothing(
    pages: Pages,
    page_cookies: dict[str, str],
    shelf: Shelf,
    conn: asyncpg.Connection,
    fields: dict[str, str],
    field: str,
    english: str,
    french: str,
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    lot = shelf.never_received["id"]
    counts = await row_counts(conn, WRITTEN)
    form = {"lot_id": lot, "location_id": shelf.location_id, "counted": "3", "reason": "Shelf count"}
    for language, message in (("en", english), ("fr", french)):
        response = await pages.post("/ui/stock/count", {**form, **fields}, headers={"Accept-Language": language})
        assert response.status_code == 422
        assert field_error(response.text, f"count-{lot}-{field}") == message
    assert await row_counts(conn, WRITTEN) == counts
    assert await on_hand(conn, lot, shelf.location_id) == -1


@pytest.mark.parametrize(
    ("fields", "field", "english", "status"),
    [
        ({"quantity": "5"}, "quantity", "Only 4 on hand here.", 409),
        ({"quantity": "0"}, "quantity", "Enter a number of at least 1.", 422),
        ({"to_location_id": ""}, "to_location_id", "This field is required.", 422),
        ({"to_location_id": "SAME"}, "to_location_id", "Choose one of the options.", 422),
        ({"to_location_id": "99999999"}, "to_location_id", "Choose one of the options.", 422),
    ],
)
async def test_a_refused_transfer_says_why_next_to_the_field_and_writes_nothing(
    pages: Pages,
    page_cookies: dict[str, str],
    shelf: Shelf,
    conn: asyncpg.Connection,
    fields: dict[str, str],
    field: str,
    english: str,
    status: int,
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    lot = shelf.quarantined["id"]
    counts = await row_counts(conn, WRITTEN)
    form = {"lot_id": lot, "location_id": shelf.location_id, "to_location_id": str(shelf.other_id), "quantity": "1"}
    sent = {**form, **fields}
    if sent["to_location_id"] == "SAME":
        sent["to_location_id"] = str(shelf.location_id)
    response = await pages.post("/ui/stock/transfer", sent)
    assert response.status_code == status
    assert field_error(response.text, f"transfer-{lot}-{field}") == english
    assert await row_counts(conn, WRITTEN) == counts


async def test_an_action_on_a_lot_whose_form_is_not_shown_is_refused_above_the_list(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf, conn: asyncpg.Connection
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    counts = await row_counts(conn, WRITTEN)
    # On hand -1: nothing to dispose of (the page offers only a count), and the service agrees.
    response = await pages.post(
        "/ui/stock/dispose",
        {"lot_id": shelf.never_received["id"], "location_id": shelf.location_id, "quantity": "1", "reason": "expired"},
        headers=FR,
    )
    assert response.status_code == 409
    banner = response.text.split('id="stray-error"', 1)[1].split("</div>", 1)[0]
    assert "Rien n’a été modifié." in banner and "Seulement -1 en stock ici." in banner
    # A lot that does not exist.
    response = await pages.post(
        "/ui/stock/count", {"lot_id": "99999999", "location_id": shelf.location_id, "counted": "1", "reason": "x"}
    )
    assert response.status_code == 404
    assert "This does not exist (any more)." in response.text.split('id="stray-error"', 1)[1]
    assert await row_counts(conn, WRITTEN) == counts


@pytest.mark.parametrize("hidden", [{"lot_id": "abc"}, {"location_id": ""}, {"lot_id": "0"}])
async def test_a_tampered_form_gets_the_error_page_and_writes_nothing(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf, conn: asyncpg.Connection, hidden: dict[str, str]
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    counts = await row_counts(conn, WRITTEN)
    form = {"lot_id": shelf.expired["id"], "location_id": shelf.location_id, "quantity": "1", "reason": "expired"}
    response = await pages.post("/ui/stock/dispose", {**form, **hidden}, headers=FR)
    assert response.status_code == 422
    assert "Une partie de ce qui a été envoyé n’est pas valable." in response.text
    assert await row_counts(conn, WRITTEN) == counts


@pytest.mark.parametrize("action", ["count", "transfer", "dispose"])
async def test_staff_may_not_reconcile_and_nothing_is_written(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf, conn: asyncpg.Connection, action: str
) -> None:
    pages.sign_in_as(page_cookies["staff"])
    counts = await row_counts(conn, WRITTEN)
    form = {
        "lot_id": shelf.expired["id"],
        "location_id": shelf.location_id,
        "to_location_id": shelf.other_id,
        "quantity": "1",
        "counted": "0",
        "reason": "expired",
    }
    response = await pages.post(f"/ui/stock/{action}", form, headers=FR)
    assert response.status_code == 403
    assert "Vous ne pouvez pas ouvrir cette page." in response.text
    assert await row_counts(conn, WRITTEN) == counts


async def test_a_form_without_the_sign_ins_token_is_refused(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf, conn: asyncpg.Connection
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    counts = await row_counts(conn, WRITTEN)
    form = {"lot_id": shelf.expired["id"], "location_id": shelf.location_id, "quantity": "1", "reason": "expired"}
    response = await pages.http.post("/ui/stock/dispose", data={**form, "csrf_token": "forged"})
    assert response.status_code == 403
    assert "csrf_failed" in response.text
    assert await row_counts(conn, WRITTEN) == counts


# ------------------------------------------------------------------ a lot's ledger


async def test_a_managers_lot_page_has_the_ledger_with_who_when_and_why_in_the_locations_time(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], shelf: Shelf
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    lot = shelf.expired["id"]
    await pages.post(
        "/ui/stock/dispose", {"lot_id": lot, "location_id": shelf.location_id, "quantity": "3", "reason": "expired"}
    )
    page = await pages.get(f"/ui/stock/lots/{lot}?location_id={shelf.location_id}", headers=FR)
    assert page.status_code == 200
    html = page.text
    assert f'<a href="/ui/stock?location_id={shelf.location_id}">Retour au stock</a>' in html
    kinds = re.findall(r'<tr data-kind="([a-z]+)"', html)
    assert kinds == ["dispose", "receive"]  # newest first
    disposal = re.search(r'<tr data-kind="dispose".*?</tr>', html, re.S)
    assert disposal is not None
    assert "Mis au rebut" in disposal.group(0) and "Périmé" in disposal.group(0)
    assert "manager@clinic.test" in disposal.group(0)
    assert re.search(r'class="num">-3<', disposal.group(0))
    assert re.search(r'class="num">0<', disposal.group(0))  # on hand after
    receipt = re.search(r'<tr data-kind="receive".*?</tr>', html, re.S)
    assert receipt is not None and "Test supplier" in receipt.group(0)


async def test_ledger_times_are_the_locations_local_time(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    clock.set(datetime(2027, 1, 10, 15, 0, tzinfo=UTC))
    place = await build(actors, timezone="America/New_York")
    pages.sign_in_as(page_cookies["manager"])
    html = (await pages.get(f"/ui/stock/lots/{place.lot['id']}")).text
    assert "10 Jan 2027, 10:00" in html  # 15:00 UTC is 10:00 in New York in winter
    assert '<a href="/ui/stock">Back to the stock</a>' in html


async def test_a_scan_and_its_void_show_in_the_ledger_with_the_session(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], shelf: Shelf
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    html = (await pages.get(f"/ui/stock/lots/{shelf.never_received['id']}")).text
    use = re.search(r'<tr data-kind="use".*?</tr>', html, re.S)
    assert use is not None
    assert f"Session {shelf.clinic.session['id']}" in use.group(0) and "staff@clinic.test" in use.group(0)
    assert "Never received: a scan recorded this lot, but no delivery brought it in." in html


async def test_staff_see_a_lot_and_where_it_is_but_not_its_ledger(
    pages: Pages, page_cookies: dict[str, str], shelf: Shelf
) -> None:
    pages.sign_in_as(page_cookies["staff"])
    page = await pages.get(f"/ui/stock/lots/{shelf.expired['id']}")
    assert page.status_code == 200
    assert "The movements of a lot are shown to managers." in page.text
    assert "data-kind=" not in page.text
    assert re.search(rf'<tr data-location="{shelf.location_id}">', page.text)
    assert (await pages.get("/ui/stock/lots/99999999")).status_code == 404


# ------------------------------------------------------------------ CSV


async def test_the_csv_export_opens_in_excel_with_names_intact_and_formulas_defused(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], shelf: Shelf
) -> None:
    manager = actors["manager"]
    brand = await f.brand(manager, name="Laboratoires Léa")
    product = await f.product(manager, brand_id=brand["id"], name="=HYPERLINK(1)")
    await f.receive(
        manager,
        location_id=shelf.location_id,
        product_id=product["id"],
        lot_number="LÉA-1",
        expiry=f.in_days(60),
        quantity=2,
    )
    pages.sign_in_as(page_cookies["staff"])
    response = await pages.get(f"/ui/stock/locations/{shelf.location_id}/export.csv", headers=FR)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="stock-location-')
    assert response.content.startswith("\ufeff".encode())
    text = response.content.decode("utf-8")
    lines = text.lstrip("\ufeff").split("\r\n")
    assert lines[0] == "Site,Marque,Produit,GTIN,Lot,Péremption,Statut,En stock,À régulariser"
    assert any("Laboratoires Léa,'=HYPERLINK(1)" in line and "LÉA-1" in line for line in lines)
    never = next(line for line in lines if shelf.never_received["lot_number"] in line)
    assert never.endswith(",Actif,-1,Jamais réceptionné; Stock négatif")
    assert len([line for line in lines if line]) == 1 + 5
    assert (await pages.get("/ui/stock/locations/99999999/export.csv")).status_code == 404
