"""The alerts page over HTTP: the reorder arithmetic in words, acknowledge and undo (audited), filters, refusals."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from inventory import clock
from inventory.domain.models import Actor
from inventory.services import catalog, clinical, scanning
from inventory.web import i18n
from inventory.web.reorder_why import MINUS as M
from inventory.web.reorder_why import why
from tests.support import factories as f
from tests.support.clinic import Clinic, build
from tests.support.pages import Pages, field_error

FR = {"Accept-Language": "fr-FR,fr;q=0.9"}


async def alerting(actors: dict[str, Actor], *, on_hand: int = 3, point: int = 5, par: int = 9) -> Clinic:
    """A clinic whose product sits at or below its reorder point (no lead time, boxes of 10)."""
    clinic = await build(actors, on_hand=on_hand)
    await catalog.set_rule(
        actor=actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        reorder_point=point,
        par_level=par,
        lead_time_days=0,
    )
    return clinic


async def with_trend_and_courses(actors: dict[str, Actor]) -> Clinic:
    """10 received, 7 used yesterday, 2 course sessions of 2 units booked within the 7-day lead time."""
    clinic = await build(actors, on_hand=10)
    await catalog.set_rule(
        actor=actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        reorder_point=5,
        par_level=9,
        lead_time_days=7,
    )
    await scanning.record_use(actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code(), quantity=7)
    clock.shift(timedelta(days=1))  # yesterday's use is in the 28-day trend, today's would not be
    await clinical.create_course(
        actor=actors["manager"],
        client_id=clinic.client["id"],
        location_id=clinic.location_id,
        treatment="Mesolift",
        start_date=f.in_days(0),
        sessions=2,
        interval_days=3,
        products=[(clinic.product["id"], 2)],
    )
    return clinic


async def alert_id(conn: asyncpg.Connection, clinic: Clinic) -> int:
    found = await conn.fetchval(
        "SELECT id FROM reorder_alert WHERE product = $1 AND location = $2 AND status = 'open'",
        clinic.product["id"],
        clinic.location_id,
    )
    assert isinstance(found, int)
    return found


def sentences(page: str) -> list[str]:
    """The "why" sentence of each reorder line, as text."""
    found = re.findall(r'<p class="why"><strong>[^<]*</strong>\s*([^<]*)</p>', page)
    return [html.unescape(text).strip() for text in found]


def lines(page: str) -> list[str]:
    """The alert ids of the reorder lines shown."""
    return re.findall(r'<tbody id="alert-(\d+)"', page)


async def audit_actions(conn: asyncpg.Connection, entity_id: int) -> list[tuple[str, int | None]]:
    rows = await conn.fetch(
        "SELECT action, actor FROM audit_event WHERE entity = 'reorder_alert' AND entity_id = $1"
        " AND action LIKE '%acknowledge' ORDER BY id",
        entity_id,
    )
    return [(r["action"], r["actor"]) for r in rows]


# ------------------------------------------------------------------ the arithmetic


async def test_manager_reads_why_the_product_alerts_with_the_figures_of_the_clinic(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    clinic = await with_trend_and_courses(actors)
    page = await pages.sign_in_as(page_cookies["manager"]).get(f"/ui/alerts?location={clinic.location_id}")
    assert page.status_code == 200
    assert clinic.product["name"] in page.text
    # 3 usable; 7 used over 28 days is 0.25 a day, 1.75 over 7 days; 2 sessions x 2 units booked.
    assert sentences(page.text) == [
        f"Usable on hand 3 {M} expected use 5.75 over 7 days (4 booked for course sessions + 1.75 at the pace of the"
        f" last 28 days) = {M}2.75 when an order placed today arrives, below the reorder point 5: order 20 (whole"
        " boxes of 10) to reach the par level 9."
    ]
    assert re.search(r'data-label="To order:">20<', page.text)


async def test_the_sentence_reads_in_french_with_french_numbers(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    clinic = await with_trend_and_courses(actors)
    page = await pages.sign_in_as(page_cookies["manager"]).get(f"/ui/alerts?location={clinic.location_id}", headers=FR)
    assert '<html lang="fr">' in page.text
    assert sentences(page.text) == [
        f"Stock utilisable 3 {M} consommation prévue 5,75 sur 7 jours (4 réservés pour des séances de cure + 1,75 au"
        f" rythme des 28 derniers jours) = {M}2,75 à l’arrivée d’une commande passée aujourd’hui, sous le point de"
        " commande 5 : commander 20 (boîtes entières de 10) pour revenir au niveau cible 9."
    ]


def test_the_sentence_names_the_supplier_whose_lead_time_it_used_in_english_and_french() -> None:
    alert: dict[str, Any] = {
        "usable_on_hand": 3,
        "reorder_point": 5,
        "par_level": 20,
        "suggested_quantity": 17,
        "box_size": 1,
        "lead_time_days": 4,
        "lead_time_source": "supplier",
        "lead_time_supplier": {"id": 7, "name": "Acme Pharma"},
        "expiring_unused": 0,
        "forecast_demand": 0,
        "forecast_courses": 0,
        "forecast_trend": 0,
        "projected_at_arrival": 3,
    }
    i18n.use("en")
    assert why(alert) == (
        f"Usable on hand 3 {M} expected use 0 over 4 days (the lead time of supplier Acme Pharma)"
        " = 3 when an order placed today arrives, below the reorder point 5: order 17 to reach the par level 20."
    )
    i18n.use("fr")
    try:
        assert "(le délai de livraison du fournisseur Acme Pharma)" in why(alert)
    finally:
        i18n.use("en")
    by_rule = {**alert, "lead_time_source": "rule", "lead_time_supplier": None}
    assert "supplier" not in why(by_rule)  # the rule's lead time is the one the sentence always meant


def test_stock_that_expires_before_use_is_its_own_term_and_single_units_need_no_boxes() -> None:
    alert: dict[str, Any] = {
        "usable_on_hand": 6,
        "reorder_point": 2,
        "par_level": 8,
        "suggested_quantity": 5,
        "box_size": 1,
        "lead_time_days": 1,
        "expiring_unused": 3,
        "forecast_demand": 0,
        "forecast_courses": 0,
        "forecast_trend": 0,
        "projected_at_arrival": 3,
    }
    i18n.use("en")
    assert why(alert) == (
        f"Usable on hand 6 {M} 3 that will expire before it can be used {M} expected use 0 over 1 day"
        " = 3 when an order placed today arrives, above the reorder point 2: order 5 to reach the par level 8."
    )
    older = {"usable_on_hand": 2, "reorder_point": 2, "par_level": 4, "suggested_quantity": 2}
    assert why(older) == "Usable on hand 2, at the reorder point 2: order 2 to reach the par level 4."


# ------------------------------------------------------------------ acknowledge and undo


async def test_acknowledge_then_undo_each_written_and_audited(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await alerting(actors)
    alert = await alert_id(conn, clinic)
    pages.sign_in_as(page_cookies["manager"])
    filters = f"location={clinic.location_id}"

    done = await pages.post(f"/ui/alerts/{alert}/acknowledge", {"filters": filters})
    assert done.status_code == 303
    assert done.headers["location"] == f"/ui/alerts?{filters}&changed={alert}"
    row = await conn.fetchrow("SELECT status, acknowledged_at, acknowledged_by FROM reorder_alert WHERE id = $1", alert)
    assert row["status"] == "open"
    assert row["acknowledged_at"] is not None
    assert row["acknowledged_by"] == actors["manager"].id
    assert await audit_actions(conn, alert) == [("reorder_alert.acknowledge", actors["manager"].id)]

    page = await pages.get(done.headers["location"])
    assert "Acknowledged: " in page.text  # the flash
    assert lines(page.text) == [str(alert)]  # kept in view although acknowledged ones are hidden
    assert "by manager@clinic.test" in page.text
    undo = re.search(rf'action="/ui/alerts/{alert}/unacknowledge">.*?<button([^>]*)>', page.text, re.S)
    assert undo is not None
    assert "autofocus" in undo.group(1)  # the keyboard is where it was

    undone = await pages.post(f"/ui/alerts/{alert}/unacknowledge", {"filters": filters})
    assert undone.status_code == 303
    row = await conn.fetchrow("SELECT acknowledged_at, acknowledged_by FROM reorder_alert WHERE id = $1", alert)
    assert (row["acknowledged_at"], row["acknowledged_by"]) == (None, None)
    assert await audit_actions(conn, alert) == [
        ("reorder_alert.acknowledge", actors["manager"].id),
        ("reorder_alert.unacknowledge", actors["manager"].id),
    ]
    details = await conn.fetchval(
        "SELECT details FROM audit_event WHERE action = 'reorder_alert.unacknowledge' AND entity_id = $1", alert
    )
    assert details["acknowledged_by"] == actors["manager"].id
    page = await pages.get(undone.headers["location"])
    assert "Acknowledgement undone" in page.text
    assert f'action="/ui/alerts/{alert}/acknowledge"' in page.text

    # Undoing again changes nothing and logs nothing.
    await pages.post(f"/ui/alerts/{alert}/unacknowledge", {"filters": filters})
    assert len(await audit_actions(conn, alert)) == 2


async def test_a_resolved_or_unknown_alert_is_refused_with_a_message_and_nothing_written(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await alerting(actors)
    alert = await alert_id(conn, clinic)
    await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number=f.unique("R").replace(" ", ""),
        expiry=f.in_days(200),
        quantity=20,
    )
    assert await conn.fetchval("SELECT status FROM reorder_alert WHERE id = $1", alert) == "resolved"
    pages.sign_in_as(page_cookies["manager"])
    refused = await pages.post(
        f"/ui/alerts/{alert}/acknowledge", {"filters": f"location={clinic.location_id}"}, headers=FR
    )
    assert refused.status_code == 303
    assert "changed" not in refused.headers["location"]
    page = await pages.get(refused.headers["location"], headers=FR)
    assert '<p class="banner error" role="status" id="flash">Cette alerte est déjà résolue.</p>' in page.text
    assert await conn.fetchval("SELECT acknowledged_at FROM reorder_alert WHERE id = $1", alert) is None
    assert await audit_actions(conn, alert) == []
    unknown = await pages.post("/ui/alerts/2147483000/unacknowledge")
    assert unknown.status_code == 303
    assert (await pages.post("/ui/alerts/99999999999/acknowledge")).status_code == 404  # no id that large


async def test_a_post_without_the_forms_token_is_refused_and_writes_nothing(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await alerting(actors)
    alert = await alert_id(conn, clinic)
    pages.sign_in_as(page_cookies["manager"])
    for data in ({}, {"csrf_token": "forged"}):
        refused = await pages.http.post(f"/ui/alerts/{alert}/acknowledge", data=data)
        assert refused.status_code == 403
        assert "csrf_failed" in refused.text
    assert await conn.fetchval("SELECT acknowledged_at FROM reorder_alert WHERE id = $1", alert) is None
    assert await audit_actions(conn, alert) == []


async def test_staff_gets_the_403_page_saying_it_needs_a_manager_in_their_language(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await alerting(actors)
    alert = await alert_id(conn, clinic)
    pages.sign_in_as(page_cookies["staff"])
    english = await pages.get("/ui/alerts")
    assert english.status_code == 403
    assert "This page needs the Manager role." in english.text
    french = await pages.get("/ui/alerts", headers=FR)
    assert french.status_code == 403
    assert '<html lang="fr">' in french.text
    assert "Cette page demande le rôle Responsable." in french.text
    assert clinic.product["name"] not in french.text
    refused = await pages.post(f"/ui/alerts/{alert}/acknowledge")
    assert refused.status_code == 403
    assert await conn.fetchval("SELECT acknowledged_at FROM reorder_alert WHERE id = $1", alert) is None


# ------------------------------------------------------------------ filters and expiry


async def test_filters_narrow_the_rows(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    first, second = await alerting(actors), await alerting(actors)
    first_alert, second_alert = await alert_id(conn, first), await alert_id(conn, second)
    pages.sign_in_as(page_cookies["manager"])
    everything = await pages.get("/ui/alerts")
    assert {str(first_alert), str(second_alert)} <= set(lines(everything.text))

    here = await pages.get(f"/ui/alerts?location={first.location_id}")
    assert lines(here.text) == [str(first_alert)]
    assert f'<option value="{first.location_id}" selected>' in here.text

    named = await pages.get("/ui/alerts", params={"product": second.product["name"].upper()})
    assert lines(named.text) == [str(second_alert)]
    by_gtin = await pages.get("/ui/alerts", params={"product": second.gtin})
    assert lines(by_gtin.text) == [str(second_alert)]

    await pages.post(f"/ui/alerts/{first_alert}/acknowledge")
    hidden = await pages.get(f"/ui/alerts?location={first.location_id}")
    assert lines(hidden.text) == []
    assert "1 acknowledged alert is not shown." in hidden.text
    shown = await pages.get(f"/ui/alerts?location={first.location_id}&acknowledged=1")
    assert lines(shown.text) == [str(first_alert)]
    assert 'id="acknowledged" name="acknowledged" type="checkbox" value="1" checked' in shown.text


async def test_the_expiry_views_show_expired_and_expiring_lots_from_the_locations_today(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    clinic = await build(actors, on_hand=4, expiry_days=2)
    later = await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number=f.unique("S").replace(" ", ""),
        expiry=f.in_days(12),
        quantity=3,
    )
    clock.shift(timedelta(days=3))  # the first lot expired yesterday; the second has 9 days left
    pages.sign_in_as(page_cookies["manager"])
    page = await pages.get(f"/ui/alerts?location={clinic.location_id}")
    expired = page.text.split('id="expired"')[1].split("</table>")[0]
    expiring = page.text.split('id="expiring"')[1].split("</table>")[0]
    assert clinic.lot["lot_number"] in expired
    assert "expired 1 day ago" in expired
    assert later["lot"]["lot_number"] in expiring
    assert "9 days left" in expiring
    assert 'href="/ui/stock#flagged"' in page.text

    narrower = await pages.get(f"/ui/alerts?location={clinic.location_id}&within_days=5", headers=FR)
    assert "Rien ne périme sur cette période." in narrower.text
    assert "périmé depuis 1 jour" in narrower.text


async def test_a_bad_filter_gets_its_message_next_to_the_field_in_french(
    pages: Pages, page_cookies: dict[str, str]
) -> None:
    pages.sign_in_as(page_cookies["manager"])
    page = await pages.get("/ui/alerts?within_days=soon&location=abc", headers=FR)
    assert page.status_code == 422
    assert field_error(page.text, "within_days") == "Saisissez un nombre entier."
    assert field_error(page.text, "location") is not None
    assert 'value="soon" aria-invalid="true"' in page.text
    too_far = await pages.get("/ui/alerts?within_days=9999")
    assert too_far.status_code == 422
    assert field_error(too_far.text, "within_days") == "Enter a number of at most 3650."


async def test_times_read_in_the_locations_time_zone_and_the_users_language(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor], conn: asyncpg.Connection
) -> None:
    clinic = await build(actors, on_hand=1, timezone="Asia/Tokyo")
    await catalog.set_rule(
        actor=actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        reorder_point=2,
        par_level=4,
        lead_time_days=0,
    )
    opened = await conn.fetchval(
        "SELECT opened_at FROM reorder_alert WHERE product = $1 AND status = 'open'", clinic.product["id"]
    )
    tokyo = opened.astimezone(ZoneInfo("Asia/Tokyo"))
    pages.sign_in_as(page_cookies["manager"])
    page = await pages.get(f"/ui/alerts?location={clinic.location_id}", headers=FR)
    months = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
    expected = f"ouverte depuis le {tokyo.day} {months[tokyo.month - 1]} {tokyo.year}, {tokyo:%H:%M}"
    assert expected in html.unescape(page.text)
