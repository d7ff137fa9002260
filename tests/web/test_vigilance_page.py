"""Vigilance pages over HTTP: a reaction recorded from the chair's session or the client's page (staff), the
managers' page of signals, quarantine, reactions, follow-ups and reports; refusals next to their field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from inventory import clock
from inventory.domain.models import Actor
from inventory.services import clinical, scanning, vigilance
from tests.support import factories as f
from tests.support.clinic import Clinic, build
from tests.support.db import row_counts
from tests.support.pages import Pages, field_error

FR = {"Accept-Language": "fr"}
EMAIL, PHONE = "vigi@example.fr", "+33 6 12 12 12 12"


def _local(clinic_tz: str, hours_ago: float) -> str:
    return clock.local_now(clinic_tz, clock.now() - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M")


async def _two_lots(actors: dict[str, Actor]) -> tuple[Clinic, dict[str, Any]]:
    """A clinic whose session used two lots of its product (and one use voided, of a third lot)."""
    clinic = await build(actors, on_hand=6)
    second = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number=f.unique("B").replace(" ", ""),
        expiry=f.in_days(300),
        quantity=3,
    )
    session_id = clinic.session["id"]
    await scanning.record_use(actor=actors["staff"], session_id=session_id, barcode=clinic.code())
    await scanning.record_use(
        actor=actors["staff"],
        session_id=session_id,
        barcode=clinic.code(second["lot"]["lot_number"], expiry=f.in_days(300)),
    )
    return clinic, second["lot"]


@pytest.fixture
def staff(pages: Pages, page_cookies: dict[str, str]) -> Pages:
    return pages.sign_in_as(page_cookies["staff"])


@pytest.fixture
def manager(pages: Pages, page_cookies: dict[str, str]) -> Pages:
    return pages.sign_in_as(page_cookies["manager"])


async def test_staff_record_a_reaction_and_see_both_lots_of_the_session_linked(
    staff: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic, second = await _two_lots(actors)
    session_id = clinic.session["id"]
    chair = await staff.get(f"/ui/scan?session={session_id}")
    assert f'id="record-reaction" class="button" href="/ui/sessions/{session_id}/reaction"' in chair.text
    form = await staff.get(f"/ui/sessions/{session_id}/reaction")
    assert form.status_code == 200
    assert clinic.lot["lot_number"] in form.text and second["lot_number"] in form.text
    onset = _local(f.PARIS, 2)
    saved = await staff.post(
        f"/ui/sessions/{session_id}/reaction",
        {"kind": "nodule", "severity": "moderate", "onset_at": onset, "outcome": "recovering", "description": "Cheek"},
    )
    assert saved.status_code == 303, saved.text
    row = await conn.fetchrow(
        "SELECT id, kind, severity, onset_at, outcome FROM reaction WHERE session = $1", session_id
    )
    assert row is not None and (row["kind"], row["severity"], row["outcome"]) == ("nodule", "moderate", "recovering")
    # typed in Paris time: the instant is that wall-clock time in Paris (to the minute)
    assert clock.local_now(f.PARIS, row["onset_at"]).strftime("%Y-%m-%dT%H:%M") == onset
    assert saved.headers["location"] == f"/ui/sessions/{session_id}/reactions/{row['id']}"
    shown = await staff.get(saved.headers["location"])
    assert shown.status_code == 200
    assert "Reaction recorded." in shown.text and "2 lots linked" in shown.text
    for lot in (clinic.lot, second):
        assert f'data-lot="{lot["id"]}"' in shown.text
    assert "Nodule" in shown.text and "Moderate" in shown.text


async def test_the_same_form_sent_twice_records_one_reaction(staff: Pages, actors: dict[str, Actor], conn: Any) -> None:
    clinic, _ = await _two_lots(actors)
    path = f"/ui/sessions/{clinic.session['id']}/reaction"
    form = {"kind": "pain", "severity": "mild", "onset_at": _local(f.PARIS, 1), "idempotency_key": f.unique("k")}
    first, second = await staff.post(path, form), await staff.post(path, form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await conn.fetchval("SELECT count(*) FROM reaction WHERE session = $1", clinic.session["id"]) == 1


@pytest.mark.parametrize(
    ("headers", "required", "future"),
    [
        ({}, "This field is required.", "The onset cannot be in the future."),
        (FR, "Ce champ est obligatoire.", "Le début ne peut pas être dans le futur."),
    ],
)
async def test_a_bad_reaction_form_says_why_next_to_each_field_and_writes_nothing(
    staff: Pages,
    actors: dict[str, Actor],
    conn: asyncpg.Connection,
    headers: dict[str, str],
    required: str,
    future: str,
) -> None:
    clinic, _ = await _two_lots(actors)
    path = f"/ui/sessions/{clinic.session['id']}/reaction"
    before = await row_counts(conn, ["reaction", "reaction_lot", "audit_event"])
    empty = await staff.post(path, {"onset_at": "yesterday"}, headers=headers)
    assert empty.status_code == 422
    assert field_error(empty.text, "kind") == required and field_error(empty.text, "severity") == required
    assert field_error(empty.text, "onset_at") is not None
    later = await staff.post(
        path, {"kind": "pain", "severity": "mild", "onset_at": _local(f.PARIS, -2)}, headers=headers
    )
    assert later.status_code == 422 and field_error(later.text, "onset_at") == future
    assert 'value="pain" selected' in later.text  # what was typed comes back
    odd = await staff.post(path, {"kind": "itch", "severity": "fatal", "onset_at": _local(f.PARIS, 1)}, headers=headers)
    assert odd.status_code == 422 and field_error(odd.text, "kind") and field_error(odd.text, "severity")
    assert await row_counts(conn, ["reaction", "reaction_lot", "audit_event"]) == before
    assert (await staff.get("/ui/sessions/999999/reaction")).status_code == 404


async def test_the_client_page_offers_a_reaction_per_session_and_staff_pages_show_no_contacts(
    staff: Pages, actors: dict[str, Actor]
) -> None:
    clinic, _ = await _two_lots(actors)
    client = await clinical.create_client(actor=actors["manager"], full_name=f.unique("Vigi"), email=EMAIL, phone=PHONE)
    session = await clinical.create_session(
        actor=actors["staff"], client_id=client["id"], location_id=clinic.location_id
    )
    for _ in range(2):
        await scanning.record_use(actor=actors["staff"], session_id=session["id"], barcode=clinic.code(), repeat=True)
    page = await staff.get(f"/ui/clients/{client['id']}")
    link = f'href="/ui/sessions/{session["id"]}/reaction"'
    assert page.text.count(link) == 2  # once in the open sessions, once in the history (two uses, one link)
    reaction = await vigilance.record_reaction(
        actor=actors["staff"], session_id=session["id"], kind="pain", severity="mild", onset_at=clock.now()
    )
    for path in (f"/ui/sessions/{session['id']}/reaction", f"/ui/sessions/{session['id']}/reactions/{reaction.id}"):
        shown = await staff.get(path)
        assert shown.status_code == 200 and client["full_name"] in shown.text
        assert EMAIL not in shown.text and PHONE not in shown.text, path
    # a reaction shown under another session's path does not exist there
    assert (await staff.get(f"/ui/sessions/{clinic.session['id']}/reactions/{reaction.id}")).status_code == 404


async def test_the_vigilance_page_is_for_managers(staff: Pages, page_cookies: dict[str, str]) -> None:
    for path in ("/ui/vigilance", "/ui/vigilance/reactions/1/report.pdf", "/ui/vigilance/reactions/1/report.csv"):
        refused = await staff.get(path)
        assert refused.status_code == 403, path
        assert "Manager" in refused.text
    assert (
        await staff.post("/ui/vigilance/signals/lot-1/quarantine", {"reason": "x", "confirm": "yes"})
    ).status_code == 403
    assert (await staff.post("/ui/vigilance/reactions/1/follow-ups", {"note": "x"})).status_code == 403
    home = await staff.get("/ui/")
    assert 'href="/ui/vigilance"' not in home.text


async def _three_clients(actors: dict[str, Actor], clinic: Clinic) -> list[int]:
    """Reactions of three distinct clients on the clinic's lot: a lot signal."""
    ids = []
    for n in range(3):
        if n == 0:
            session_id = clinic.session["id"]
        else:
            other = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Client"))
            made = await clinical.create_session(
                actor=actors["staff"], client_id=other["id"], location_id=clinic.location_id
            )
            session_id = made["id"]
        await scanning.record_use(actor=actors["staff"], session_id=session_id, barcode=clinic.code(), repeat=True)
        reaction = await vigilance.record_reaction(
            actor=actors["staff"], session_id=session_id, kind="nodule", severity="mild", onset_at=clock.now()
        )
        ids.append(reaction.id)
    return ids


async def test_a_manager_sees_the_signal_and_quarantines_its_lot_after_confirming(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=8)
    await _three_clients(actors, clinic)
    signal = f"lot-{clinic.lot['id']}"
    page = await manager.get("/ui/vigilance")
    assert page.status_code == 200 and 'href="/ui/vigilance"' in page.text
    card = page.text[page.text.index(f'data-signal="{signal}"') :]
    assert clinic.lot["lot_number"] in card and "3 distinct clients within 90 days" in card
    assert 'data-count="clients">3<' in card and 'data-count="uses">3<' in card
    path = f"/ui/vigilance/signals/{signal}/quarantine"
    unconfirmed = await manager.post(path, {"reason": "Three nodules"}, headers=FR)
    assert unconfirmed.status_code == 422
    assert field_error(unconfirmed.text, f"signal-{signal}-confirm") is not None
    no_reason = await manager.post(path, {"confirm": "yes"})
    assert field_error(no_reason.text, f"signal-{signal}-reason") == "This field is required."
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", clinic.lot["id"]) == "active"
    done = await manager.post(path, {"reason": "Three nodules", "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"] == f"/ui/vigilance#signal-{signal}"
    assert await conn.fetchval("SELECT status FROM lot WHERE id = $1", clinic.lot["id"]) == "quarantined"
    after = await manager.get("/ui/vigilance")
    card = after.text[after.text.index(f'data-signal="{signal}"') :]
    assert 'data-status="quarantined"' in card.split("</article>")[0]
    assert path not in after.text  # no second quarantine offered
    assert "is in quarantine at every location" in after.text
    gone = await manager.post("/ui/vigilance/signals/lot-999999/quarantine", {"reason": "x", "confirm": "yes"})
    assert gone.status_code == 303 and gone.headers["location"] == "/ui/vigilance"


async def test_a_follow_up_changes_the_outcome_shown_and_the_reports_download(
    manager: Pages, actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=4)
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code())
    reaction = await vigilance.record_reaction(
        actor=actors["staff"],
        session_id=clinic.session["id"],
        kind="swelling",
        severity="serious",
        onset_at=clock.now(),
        outcome="not_recovered",
    )
    page = await manager.get("/ui/vigilance", params={"severity": "serious"})
    item = page.text[page.text.index(f'data-reaction="{reaction.id}"') :]
    assert 'data-outcome="not_recovered"' in item
    assert f'<a href="/ui/clients/{clinic.client["id"]}">{clinic.client["full_name"]}</a>' in item
    path = f"/ui/vigilance/reactions/{reaction.id}/follow-ups"
    empty = await manager.post(path, {"note": " ", "outcome": "recovered"}, headers=FR)
    assert (
        empty.status_code == 422
        and field_error(empty.text, f"reaction-{reaction.id}-note") == "Ce champ est obligatoire."
    )
    assert await conn.fetchval("SELECT count(*) FROM reaction_follow_up WHERE reaction = $1", reaction.id) == 0
    saved = await manager.post(path, {"note": "Seen again: resolved", "outcome": "recovered"})
    assert saved.status_code == 303
    page = await manager.get("/ui/vigilance", headers=FR)
    item = page.text[page.text.index(f'data-reaction="{reaction.id}"') :].split("</article>")[0]
    assert 'data-outcome="recovered"' in item and "Rétabli" in item and "Seen again: resolved" in item
    mild = await manager.get("/ui/vigilance", params={"severity": "mild"})
    assert f'data-reaction="{reaction.id}"' not in mild.text
    bad = await manager.get("/ui/vigilance", params={"severity": "fatal"})
    assert bad.status_code == 422
    pdf = await manager.get(f"/ui/vigilance/reactions/{reaction.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv = await manager.get(f"/ui/vigilance/reactions/{reaction.id}/report.csv")
    assert csv.status_code == 200 and ",recovered," in csv.text and clinic.lot["lot_number"] in csv.text
    assert (await manager.get("/ui/vigilance/reactions/999999/report.pdf")).status_code == 404
