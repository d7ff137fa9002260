"""Scheduled jobs on PostgreSQL: once per period across workers, the Python clock decides, webhook back-off.

Each test runs in a database of its own (cloned from a migrated template), since workers commit from several
connections. The scheduler's tick is driven directly and the queue is drained, so nothing waits for a minute
to pass; where two workers must overlap, a lock probe on `pg_locks` says when they do.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from inventory import clock, db, jobs
from inventory.config import Settings
from inventory.db import Connection
from inventory.domain.erasure import pseudonym
from inventory.domain.models import Actor
from inventory.domain.schedule import DIGEST, PURGE, REFRESH, SERVICE_SCOPE, Period
from inventory.services import clinical, digest, purchasing, scanning, vigilance, webhook
from tests.conftest import SECRET, Databases
from tests.support import factories as f
from tests.support.clinic import build, with_rule
from tests.support.webhook import Hook

pytestmark = pytest.mark.race

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
async def jobs_db(databases: Databases, pool: None) -> AsyncIterator[str]:
    """A fresh migrated database of this test's own, the engine's pool on it; dropped afterwards."""
    name = f"inventory_jobs_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(databases.admin)
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{databases.jobs_template}"')
    url = urlunsplit(urlsplit(databases.admin)._replace(path=f"/{name}"))
    engine = db.get_engine()
    saved_pool, saved_config = engine.pool, engine.config
    engine.config = {"dsn": url}
    engine.pool = await asyncpg.create_pool(url, min_size=2, max_size=20, **db.pool_options())
    try:
        yield url
    finally:
        await engine.pool.close()
        engine.pool, engine.config = saved_pool, saved_config
        clock.reset()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _settings(url: str, *, webhook_url: str | None = None, digest_hour: int = 7) -> Settings:
    return Settings(database_url=url, secret_key=SECRET, webhook_url=webhook_url, digest_hour=digest_hour)


def _set_paris_clock(day: date, wall: time) -> datetime:
    """Move the service clock to `wall` local time in Paris on `day`; returns that instant."""
    instant = datetime.combine(day, wall, tzinfo=PARIS)
    clock.reset()
    clock.shift(instant - clock.now())
    return instant


def _paris_today() -> date:
    return clock.now().astimezone(PARIS).date()


async def _actors() -> dict[str, Actor]:
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT id, email, role FROM app_user WHERE email LIKE '%@clinic.test'")
    by_email = {r["email"]: Actor(id=r["id"], role=r["role"], email=r["email"]) for r in rows}
    return {name: by_email[f"{name}@clinic.test"] for name in ("staff", "staff2", "manager", "admin")}


async def _fetch(query: str, *args: object) -> list[asyncpg.Record]:
    async with db.connection() as conn:
        rows: list[asyncpg.Record] = await conn.fetch(query, *args)
    return rows


async def _runs() -> set[Period]:
    return {Period(r["job"], r["scope"], r["day"]) for r in await _fetch("SELECT job, scope, day FROM scheduled_run")}


async def _waiting_for_a_lock(url: str) -> bool:
    """Whether some backend of this database waits for a lock another one holds."""
    rows = await _fetch(
        "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = $1",
        urlsplit(url).path.lstrip("/"),
    )
    return bool(rows)


# ------------------------------------------------------------------ once per period, whoever ticks


async def test_two_workers_ticking_and_working_at_once_run_each_period_exactly_once(jobs_db: str) -> None:
    actors = await _actors()
    busy = await build(actors, on_hand=3, expiry_days=10)  # something to report: stock expiring soon
    quiet = await f.location(actors["manager"])
    today = _paris_today()
    _set_paris_clock(today, time(8, 0))
    with Hook([200]) as hook:
        settings = _settings(jobs_db, webhook_url=hook.url)
        first, second = jobs.Jobs(settings), jobs.Jobs(settings)
        for _ in range(3):
            claimed = await asyncio.gather(first.tick(), second.tick())
            assert not set(claimed[0]) & set(claimed[1])
        expected = {
            *(Period(job, loc, today) for job in (REFRESH, DIGEST) for loc in (busy.location_id, quiet["id"])),
            Period(PURGE, SERVICE_SCOPE, today),
        }
        assert await _runs() == expected
        assert len(await _fetch("SELECT id FROM pgqueuer")) == len(expected)
        await asyncio.gather(first.drain(), second.drain())
        await first.drain()  # a webhook job queued by a digest that finished last
        assert len(hook.bodies) == 1
    assert hook.bodies[0]["location"]["id"] == busy.location_id
    assert hook.bodies[0]["date"] == today.isoformat()
    rows = await _fetch("SELECT job, outcome, job_id, finished_at FROM scheduled_run ORDER BY job, scope")
    assert all(r["finished_at"] is not None and r["job_id"] is not None for r in rows)
    outcomes = {(r["job"], r["outcome"]) for r in rows}
    assert (DIGEST, "nothing to report") in outcomes
    assert [r["outcome"] for r in rows if r["job"] == REFRESH] == [
        "0 product/location pairs re-evaluated",
        "0 product/location pairs re-evaluated",
    ]
    deliveries = await _fetch("SELECT status, attempts FROM notification_delivery")
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("delivered", 1)]
    successful = await _fetch("SELECT entrypoint FROM pgqueuer_log WHERE status = 'successful'")
    assert sorted(r["entrypoint"] for r in successful) == sorted([*(p.job for p in expected), jobs.WEBHOOK])


async def test_a_claim_in_flight_makes_the_other_worker_wait_on_its_row_then_skip_it(
    jobs_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = await f.location((await _actors())["manager"])
    today = _paris_today()
    _set_paris_clock(today, time(12, 0))
    settings = _settings(jobs_db)
    holder, other = jobs.Jobs(settings), jobs.Jobs(settings)
    holding, release = asyncio.Event(), asyncio.Event()
    queue_period = holder._queue_period

    async def held(conn: Connection, run_id: int, period: Period) -> int:
        holding.set()
        await release.wait()  # the claim's row is written, its transaction still open
        return await queue_period(conn, run_id, period)

    monkeypatch.setattr(holder, "_queue_period", held)
    first = asyncio.create_task(holder.tick())
    await holding.wait()
    second = asyncio.create_task(other.tick())
    for _ in range(500):  # a probe, not a timing: until the other worker's INSERT waits on the held row
        if await _waiting_for_a_lock(jobs_db):
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the second claim never waited on the first")
    assert not second.done()
    release.set()
    held_periods, other_periods = await first, await second
    held_first = Period(REFRESH, location["id"], today)  # periods are claimed in sorted order: alerts.* first
    assert held_periods[0] == held_first
    assert held_first not in other_periods
    assert set(held_periods) | set(other_periods) == {held_first, Period(PURGE, SERVICE_SCOPE, today)}
    assert not set(held_periods) & set(other_periods)


async def test_a_digest_already_delivered_by_hand_that_local_day_is_not_sent_again(jobs_db: str) -> None:
    clinic = await build(await _actors(), on_hand=3, expiry_days=10)
    today = _paris_today()
    _set_paris_clock(today, time(12, 0))
    with Hook([200]) as hook:
        [manual] = await digest.digest(location_id=clinic.location_id, send=True, webhook_url=hook.url)
        assert manual["delivery"]["status"] == "delivered"
        worker = jobs.Jobs(_settings(jobs_db, webhook_url=hook.url))
        assert Period(DIGEST, clinic.location_id, today) in await worker.tick()
        await worker.drain()
    assert len(hook.bodies) == 1
    [row] = await _fetch("SELECT outcome FROM scheduled_run WHERE job = $1", DIGEST)
    assert row["outcome"] == "already sent"


# ------------------------------------------------------------------ the Python clock decides


async def test_local_midnight_and_the_digest_hour_are_read_on_the_shifted_python_clock(jobs_db: str) -> None:
    location = await f.location((await _actors())["manager"])
    loc = location["id"]
    day = _paris_today() + timedelta(days=3)
    worker = jobs.Jobs(_settings(jobs_db, webhook_url="http://127.0.0.1:9/hook", digest_hour=9))
    _set_paris_clock(day, time(8, 59))
    assert set(await worker.tick()) == {Period(REFRESH, loc, day), Period(PURGE, SERVICE_SCOPE, day)}
    _set_paris_clock(day, time(9, 0))
    assert await worker.tick() == [Period(DIGEST, loc, day)]
    _set_paris_clock(day, time(23, 59))
    assert await worker.tick() == []
    # 00:00:30 in Paris is still the previous day in UTC (23:00:30): the location's day has begun all the same.
    instant = _set_paris_clock(day + timedelta(days=1), time(0, 0, 30))
    assert instant.astimezone(ZoneInfo("UTC")).date() == day
    assert await worker.tick() == [Period(REFRESH, loc, day + timedelta(days=1))]
    assert await worker.tick() == []


async def test_the_nightly_refresh_counts_a_lot_that_expired_overnight_out_of_usable_stock(jobs_db: str) -> None:
    actors = await _actors()
    clinic = await build(actors, on_hand=6, expiry_days=0)  # usable through today
    await f.receive(
        actors["manager"],
        location_id=clinic.location_id,
        product_id=clinic.product["id"],
        lot_number="LATER1",
        expiry=f.in_days(300),
        quantity=2,
    )
    await with_rule(actors, clinic, reorder_point=5, par_level=20, lead_time_days=0)
    today = clock.today()
    worker = jobs.Jobs(_settings(jobs_db))
    _set_paris_clock(today + timedelta(days=1), time(2, 0))  # after local (and UTC) midnight
    assert Period(REFRESH, clinic.location_id, today + timedelta(days=1)) in await worker.tick()
    assert await _fetch("SELECT id FROM reorder_alert") == []  # nothing read the alerts: the job will open it
    await worker.drain()
    [alert] = await _fetch("SELECT status, details FROM reorder_alert WHERE location = $1", clinic.location_id)
    assert alert["status"] == "open"
    assert alert["details"]["usable_on_hand"] == 2


# ------------------------------------------------------------------ webhook retries as jobs


async def test_a_failing_webhook_is_retried_as_jobs_with_back_off_then_recorded_as_failed(
    jobs_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays = (0.001, 0.002, 0.004, 0.008)  # the shape of the real schedule, in milliseconds
    monkeypatch.setattr(jobs, "WEBHOOK_RETRY_DELAYS", delays)
    clinic = await build(await _actors(), on_hand=3, expiry_days=10)
    day = _paris_today()
    with Hook([503]) as hook:
        worker = jobs.Jobs(_settings(jobs_db, webhook_url=hook.url))
        found = await digest.location_digest(clinic.location_id, day)
        assert found is not None
        delivery_id = await webhook.create_delivery(clinic.location_id, found["payload"], enqueue=worker._queue_webhook)
        await worker.drain()
    assert len(hook.bodies) == len(delays) + 1
    [row] = await _fetch("SELECT status, attempts, last_error, delivered_at FROM notification_delivery")
    assert (row["status"], row["attempts"], row["last_error"], row["delivered_at"]) == ("failed", 5, "HTTP 503", None)
    retries = await _fetch("SELECT traceback FROM pgqueuer_log WHERE status = 'queued' AND traceback IS NOT NULL")
    asked = [json.loads(r["traceback"])["additional_context"]["retry_delay"] for r in retries]
    assert asked == [str(timedelta(seconds=d)) for d in delays]  # each attempt waited longer than the last
    [audit] = await _fetch(
        "SELECT details FROM audit_event WHERE action = 'digest.failed' AND entity_id = $1", delivery_id
    )
    assert audit["details"]["attempts"] == 5


async def test_a_sent_purchase_order_reaches_the_webhook_after_commit_retried_with_back_off(
    jobs_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays = (0.001, 0.002, 0.004, 0.008)
    monkeypatch.setattr(jobs, "WEBHOOK_RETRY_DELAYS", delays)
    actors = await _actors()
    clinic = await with_rule(actors, await build(actors, on_hand=3), reorder_point=5, par_level=20)
    supplier = await purchasing.create_supplier(actor=actors["manager"], name="Hook supplier", email="o@s.test")
    await purchasing.set_supplier_product(
        actor=actors["manager"],
        supplier_id=supplier.id,
        product_id=clinic.product["id"],
        pack_gtin=None,
        pack_units=1,
        lead_time_days=2,
        reference=None,
    )
    (draft,) = (await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)).orders
    with Hook([503, 500, 200]) as hook:
        worker = jobs.Jobs(_settings(jobs_db, webhook_url=hook.url))
        sent = await purchasing.send(actor=actors["manager"], order_id=draft.order.id, webhook_url=hook.url)
        await worker.drain()
    assert len(hook.bodies) == 3  # two failures, then delivered
    assert all(b["kind"] == "purchase_order.sent" and b["order"]["id"] == sent.order.id for b in hook.bodies)
    assert hook.bodies[0]["order"]["expected_on"] == sent.order.expected_on.isoformat()  # type: ignore[union-attr]
    [row] = await _fetch("SELECT status, attempts, delivered_at FROM notification_delivery")
    assert (row["status"], row["attempts"]) == ("delivered", 3) and row["delivered_at"] is not None
    retries = await _fetch("SELECT traceback FROM pgqueuer_log WHERE status = 'queued' AND traceback IS NOT NULL")
    asked = [json.loads(r["traceback"])["additional_context"]["retry_delay"] for r in retries]
    assert asked == [str(timedelta(seconds=d)) for d in delays[:2]]
    [audit] = await _fetch("SELECT details FROM audit_event WHERE action = 'webhook.delivered'")
    assert audit["details"]["kind"] == "purchase_order.sent"


async def test_a_send_that_rolls_back_posts_nothing(jobs_db: str) -> None:
    actors = await _actors()
    clinic = await with_rule(actors, await build(actors, on_hand=3), reorder_point=5, par_level=20)
    supplier = await purchasing.create_supplier(actor=actors["manager"], name="Quiet supplier", email=None)
    await purchasing.set_supplier_product(
        actor=actors["manager"],
        supplier_id=supplier.id,
        product_id=clinic.product["id"],
        pack_gtin=None,
        pack_units=1,
        lead_time_days=2,
        reference=None,
    )
    (draft,) = (await purchasing.from_alerts(actor=actors["manager"], location_id=clinic.location_id)).orders
    with Hook([200]) as hook:
        worker = jobs.Jobs(_settings(jobs_db, webhook_url=hook.url))

        async def send_then_fail() -> None:
            async with db.transaction():
                await purchasing.send(actor=actors["manager"], order_id=draft.order.id, webhook_url=hook.url)
                raise RuntimeError("the transaction fails after the send")

        with pytest.raises(RuntimeError):
            await send_then_fail()
        await worker.drain()
    assert hook.bodies == []
    assert await _fetch("SELECT id FROM notification_delivery") == []


def test_webhook_back_off_grows_between_attempts() -> None:
    delays = jobs.WEBHOOK_RETRY_DELAYS
    assert all(later > earlier for earlier, later in pairwise(delays))


# ------------------------------------------------------------------ where they run


async def test_running_in_the_app_lifespan_ticks_once_then_stops_cleanly(jobs_db: str) -> None:
    location = await f.location((await _actors())["manager"])
    async with jobs.running(_settings(jobs_db)) as running:
        await running.started.wait()
        assert Period(REFRESH, location["id"], _paris_today()) in await _runs()
    assert running.queue.shutdown.is_set()
    leftover = [t for t in asyncio.all_tasks() if t.get_name() == "inventory-jobs"]
    assert leftover == []


async def _read_until(stream: asyncio.StreamReader, text: str, seen: list[str]) -> None:
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError(f"the worker ended before saying {text!r}:\n{''.join(seen)}")
        seen.append(line)
        if text in line:
            return


async def _stop_with(signum: int, url: str, on_started: Callable[[], Awaitable[None]]) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": url, "INVENTORY_SECRET_KEY": secrets.token_urlsafe(48)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "inventory.cli", "worker", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    seen: list[str] = []
    try:
        await asyncio.wait_for(_read_until(process.stderr, "worker running", seen), 60)
        await on_started()
        process.send_signal(signum)
        rest = await asyncio.wait_for(process.stderr.read(), 60)
        code = await asyncio.wait_for(process.wait(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return code, "".join(seen) + rest.decode()


async def test_a_failed_job_loop_starts_again_until_stopped(jobs_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "RESTART_DELAY", 0.0)
    worker = jobs.Jobs(_settings(jobs_db))
    runs: list[bool] = []

    async def flaky() -> None:
        runs.append(worker.queue.shutdown.is_set())
        if len(runs) == 1:
            worker.queue.shutdown.set()  # as PgQueuer.run leaves it when it fails
            raise ConnectionError("the database went away")
        worker.stop()

    monkeypatch.setattr(worker.queue, "run", flaky)
    await worker.run()
    assert runs == [False, False]  # started again, with its shutdown flag cleared


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_inventory_worker_starts_ticks_and_stops_on_a_signal(jobs_db: str, signum: int) -> None:
    location = await f.location((await _actors())["manager"])

    async def claimed_today() -> None:
        days = {r["day"] for r in await _fetch("SELECT day FROM scheduled_run WHERE scope = $1", location["id"])}
        assert days == {datetime.now(PARIS).date()}  # the worker's own (unshifted) clock

    code, output = await _stop_with(signum, jobs_db, claimed_today)
    assert code == 0, output
    assert "worker stopped" in output


# ------------------------------------------------------------------ vigilance: retention and signals


async def test_the_nightly_purge_pseudonymises_clients_past_the_retention_on_the_shifted_clock(jobs_db: str) -> None:
    actors = await _actors()
    clinic = await build(actors, on_hand=1)
    clock.shift(-timedelta(days=366 * 9))
    try:
        old = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Long Ago"), phone="+33 1 23")
        await clinical.create_session(actor=actors["staff"], client_id=old["id"], location_id=clinic.location_id)
    finally:
        clock.reset()
    day = _paris_today() + timedelta(days=1)
    _set_paris_clock(day, time(3, 0))
    settings = Settings(database_url=jobs_db, secret_key=SECRET, webhook_url=None, retention_years=8)
    worker = jobs.Jobs(settings)
    assert Period(PURGE, SERVICE_SCOPE, day) in set(await worker.tick())
    await worker.drain()
    [client] = await _fetch("SELECT full_name, phone, erased_at FROM client WHERE id = $1", old["id"])
    assert (client["full_name"], client["phone"]) == (pseudonym(old["id"], SECRET), None)
    [kept] = await _fetch("SELECT erased_at FROM client WHERE id = $1", clinic.client["id"])
    assert kept["erased_at"] is None  # its session is today's
    [run] = await _fetch("SELECT outcome FROM scheduled_run WHERE job = $1 AND day = $2", PURGE, day)
    assert "1 clients_erased" in run["outcome"]
    [event] = await _fetch("SELECT actor FROM audit_event WHERE action = 'client.erase' AND entity_id = $1", old["id"])
    assert event["actor"] is None


async def test_a_signal_raised_by_a_reaction_goes_to_the_webhook_once_after_commit_and_into_the_digest(
    jobs_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "WEBHOOK_RETRY_DELAYS", (0.001, 0.002))
    actors = await _actors()
    clinic = await build(actors, on_hand=10)
    sessions = []
    for _ in range(4):
        person = await clinical.create_client(actor=actors["staff"], full_name=f.unique("Reacting"))
        session = await clinical.create_session(
            actor=actors["staff"], client_id=person["id"], location_id=clinic.location_id
        )
        await scanning.record_use(actor=actors["staff"], session_id=session["id"], barcode=clinic.code(), repeat=True)
        sessions.append(session)
    with Hook([503, 200]) as hook:
        worker = jobs.Jobs(_settings(jobs_db, webhook_url=hook.url))

        async def react(session_id: int) -> None:
            await vigilance.record_reaction(
                actor=actors["staff"],
                session_id=session_id,
                kind="nodule",
                severity="mild",
                onset_at=clock.now(),
                webhook_url=hook.url,
            )

        for session in sessions[:2]:
            await react(session["id"])
        await worker.drain()
        assert hook.bodies == []  # two clients: no signal
        await react(sessions[2]["id"])
        assert hook.bodies == []  # queued in the reaction's transaction; sent by the job, after commit
        await worker.drain()
        await react(sessions[3]["id"])  # already signalling: nothing new
        await worker.drain()
    signals = [body for body in hook.bodies if body["kind"] == "vigilance.signal"]
    sent = {body["signal"]["id"] for body in signals}
    assert sent == {f"lot-{clinic.lot['id']}", f"product-{clinic.product['id']}"}
    assert len(signals) == 3  # one of the two was refused once (503) and sent again
    assert all(b["signal"]["clients"] == 3 and b["location_id"] == clinic.location_id for b in signals)
    assert all("client_id" not in json.dumps(b["signal"]) for b in signals)
    deliveries = await _fetch("SELECT status, attempts FROM notification_delivery ORDER BY id")
    assert sorted((d["status"], d["attempts"]) for d in deliveries) == [("delivered", 1), ("delivered", 2)]

    found = await digest.location_digest(clinic.location_id, _paris_today())
    assert found is not None
    payload = found["payload"]
    assert payload["summary"]["open_vigilance_signals"] == 2
    assert {s["id"] for s in payload["vigilance_signals"]} == sent
    assert "SIGNAL" in digest.format_digests([found])
