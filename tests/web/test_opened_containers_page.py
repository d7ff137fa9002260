"""Opened containers on the stock page (what, since when, use-by in local time, what is left) and on the alerts."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from inventory import clock
from inventory.domain.models import Actor
from inventory.services import catalog, scanning
from inventory.web import i18n
from tests.support.pages import Pages
from tests.support.vials import build_vials

FR = {"Accept-Language": "fr"}


def _container(html: str, container_id: int) -> str:
    found = re.search(rf'<li class="opened[^"]*" id="container-{container_id}".*?</li>', html, re.S)
    assert found is not None, html[:2000]
    return found.group(0)


def _local(value: object, timezone: str, locale: str) -> str:
    i18n.use(locale)
    try:
        return i18n.format_datetime(value, timezone)  # type: ignore[arg-type]
    finally:
        i18n.use("en")


async def test_the_stock_page_shows_what_is_open_until_when_and_what_is_left(
    pages: Pages, page_cookies: dict[str, str], actors: dict[str, Actor]
) -> None:
    clinic = await build_vials(actors, unit="ml", container_quantity=1, in_use_hours=24, vials=2)
    used = await scanning.record_use(
        actor=actors["staff"], session_id=clinic.session["id"], barcode=clinic.code(), quantity=Decimal("0.3")
    )
    container = used["container"]
    staff = pages.sign_in_as(page_cookies["staff"])
    where = clinic.location_id
    timezone = next(place["timezone"] for place in await catalog.list_locations() if place["id"] == where)
    en = _container((await staff.get(f"/ui/stock?location_id={where}")).text, container["id"])
    assert "0.7\u00a0ml of 1\u00a0ml" in en and "past-use-by" not in en
    assert _local(container["opened_at"], timezone, "en") in en
    assert _local(container["use_by"], timezone, "en") in en
    assert _local(container["opened_at"], "UTC", "en") not in en  # Paris time, not UTC
    fr = _container((await staff.get(f"/ui/stock?location_id={where}", headers=FR)).text, container["id"])
    assert "0,7\u00a0ml sur 1\u00a0ml" in fr and _local(container["use_by"], timezone, "fr") in fr
    manager = pages.sign_in_as(page_cookies["manager"])
    alerts = (await manager.get("/ui/alerts")).text
    assert f'data-container="{container["id"]}"' not in alerts
    assert "No opened container is past its use-by." in alerts

    clock.shift(timedelta(hours=25))
    late = _container((await manager.get(f"/ui/stock?location_id={where}")).text, container["id"])
    assert 'data-past-use-by="true"' in late and "Past its use-by: dispose of what is left." in late
    alerts = (await manager.get("/ui/alerts", headers=FR)).text
    row = re.search(rf'<tr class="expired" data-container="{container["id"]}">.*?</tr>', alerts, re.S)
    assert row is not None and "0,7\u00a0ml" in row.group(0)
    assert f'href="/ui/stock?location_id={where}#container-{container["id"]}"' in row.group(0)
    assert "Contenants ouverts après leur date limite d’utilisation" in alerts
