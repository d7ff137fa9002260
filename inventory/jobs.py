"""Scheduled jobs inside the service: pgqueuer's cron tick and job queue on the service's asyncpg pool.

Every minute one process's tick (pgqueuer's scheduler picks a due schedule row under FOR UPDATE SKIP LOCKED)
asks `services.schedule.claim_due` which periods have begun by the service's clock, claims the unclaimed ones
in `scheduled_run` (unique per job, scope and local day) and queues one pgqueuer job for each in the same
transaction. Queue workers in any process run them: the nightly alert refresh of a location, its daily
digest, the purge, and each webhook attempt (a failed one is queued again with back-off, as a job, never a
sleep). PostgreSQL is the only coordinator; the claim, not the tick, is what makes a period run once, so a
tick that two processes run at once, or a tick run by hand, changes nothing.

pgqueuer's own bookkeeping (when the next tick is due, when a retry may start, heartbeats) uses the database's
clock; no business decision depends on it: which day it is and whether an hour has passed come from
`inventory.clock` in the tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import asyncpg
from pgqueuer import AsyncpgPoolDriver, PgQueuer, Queries, RetryRequested
from pgqueuer.core.executors import DatabaseRetryEntrypointExecutor, EntrypointExecutorParameters
from pgqueuer.domain.models import Job, Schedule
from pgqueuer.domain.types import QueueExecutionMode

from inventory import db
from inventory.config import Settings
from inventory.db import Connection
from inventory.domain.schedule import DIGEST, PURGE, REFRESH, Period
from inventory.services import alert_refresh, digest, erasure, maintenance, schedule, webhook

log = logging.getLogger("inventory.jobs")

TICK = "inventory.tick"
TICK_CRON = "* * * * *"  # every minute: a digest hour or a local midnight is seen within a minute
WEBHOOK = webhook.WEBHOOK_JOB
# Between webhook attempts, as jobs: 1 min, 5 min, 30 min, 2 h; the fifth failure is final.
WEBHOOK_RETRY_DELAYS: tuple[float, ...] = (60.0, 300.0, 1800.0, 7200.0)
MAX_ATTEMPTS = 5  # any other job that raises is retried this often with exponential back-off, then held
STOP_TIMEOUT = 30.0  # seconds a stopping worker lets running jobs finish
RESTART_DELAY = 5.0  # seconds before a failed job loop starts again


def _payload(**values: Any) -> bytes:
    return json.dumps(values, default=str).encode()


def _read(job: Job) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(job.payload or b"{}")
    return data


def _retrying(parameters: EntrypointExecutorParameters) -> DatabaseRetryEntrypointExecutor:
    return DatabaseRetryEntrypointExecutor(parameters=parameters, max_attempts=MAX_ATTEMPTS)


async def _single_connection() -> asyncpg.Connection:
    connection: asyncpg.Connection = await asyncpg.connect(**db.get_engine().config)
    return connection


async def install_schema() -> None:
    """Create or upgrade pgqueuer's tables to this version's (idempotent; `inventory migrate` runs it)."""
    connection = await _single_connection()
    try:
        # One connection: pgqueuer's upgrade lock is a session advisory lock.
        await Queries.from_asyncpg_connection(connection).apply_upgrade()
    finally:
        await connection.close()


async def schema_is_current() -> bool:
    """Whether pgqueuer's tables are installed and need no upgrade."""
    connection = await _single_connection()
    try:
        plan = await Queries.from_asyncpg_connection(connection).plan_upgrade()
    finally:
        await connection.close()
    return not plan.statements


class Jobs:
    """The scheduler and queue worker of one process, on the service's pool (`db`), stoppable at any time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started = asyncio.Event()  # set once the first tick has run and the worker is about to listen
        self._stop = asyncio.Event()
        self.queue = self._build()

    # ------------------------------------------------------------------ scheduling

    async def tick(self) -> list[Period]:
        """Claim and queue every period that has begun by the service's clock; returns what this call claimed."""
        return await schedule.claim_due(
            default_zone=self.settings.timezone,
            digest_hour=self.settings.digest_hour,
            digest=webhook.webhook_problem(self.settings.webhook_url) is None,
            on_claim=self._queue_period,
        )

    async def _queue_period(self, conn: Connection, run_id: int, period: Period) -> int:
        payload = _payload(run_id=run_id, scope=period.scope, day=period.day.isoformat())
        [job_id] = await Queries.from_asyncpg_connection(conn).enqueue(period.job, payload)
        return int(job_id)

    async def _queue_webhook(self, conn: Connection, delivery_id: int) -> None:
        await webhook.queue(conn, delivery_id)

    # ------------------------------------------------------------------ the jobs

    async def refresh(self, job: Job) -> None:
        """Re-evaluate one location's reorder alerts after its local midnight."""
        data = _read(job)
        count = await alert_refresh.refresh_location(int(data["scope"]))
        await schedule.finish(int(data["run_id"]), f"{count} product/location pairs re-evaluated")

    async def digest(self, job: Job) -> None:
        """Build one location's digest of its local day and queue its sending to the webhook."""
        data = _read(job)
        run_id, location_id, day = int(data["run_id"]), int(data["scope"]), date.fromisoformat(data["day"])
        found = (
            None
            if webhook.webhook_problem(self.settings.webhook_url)
            else await digest.location_digest(location_id, day)
        )
        if webhook.webhook_problem(self.settings.webhook_url) is not None:
            outcome = "webhook not configured"
        elif found is None:
            outcome = "nothing to report"
        elif found["delivered_today"]:
            outcome = "already sent"
        else:
            delivery_id = await webhook.create_delivery(location_id, found["payload"], enqueue=self._queue_webhook)
            outcome = f"delivery {delivery_id} queued"
        await schedule.finish(run_id, outcome)

    async def purge(self, job: Job) -> None:
        """Forget what is past its retention, and pseudonymise the clients past the records' retention."""
        counts = await maintenance.purge()
        counts["clients_erased"] = await erasure.erase_past_retention(
            years=self.settings.retention_years, secret=self.settings.secret_key
        )
        await schedule.finish(int(_read(job)["run_id"]), ", ".join(f"{v} {k}" for k, v in counts.items()))

    async def deliver(self, job: Job) -> None:
        """One webhook attempt; a retryable failure queues the next attempt after its back-off."""
        url = self.settings.webhook_url
        if webhook.webhook_problem(url) is not None or url is None:
            raise RuntimeError("INVENTORY_WEBHOOK_URL is not set: the delivery stays queued")
        result = await webhook.attempt_delivery(int(_read(job)["delivery_id"]), url, delays=WEBHOOK_RETRY_DELAYS)
        if result["retry_in"] is not None:
            raise RetryRequested(delay=timedelta(seconds=result["retry_in"]), reason=result["error"])

    # ------------------------------------------------------------------ running

    def _build(self) -> PgQueuer:
        pool = db.get_engine().pool
        if pool is None:
            raise RuntimeError("the database pool is not started")
        queue = PgQueuer(AsyncpgPoolDriver(pool))
        queue.entrypoint(REFRESH, executor_factory=_retrying, on_failure="hold")(self.refresh)
        queue.entrypoint(DIGEST, executor_factory=_retrying, on_failure="hold")(self.digest)
        queue.entrypoint(PURGE, executor_factory=_retrying, on_failure="hold")(self.purge)
        queue.entrypoint(WEBHOOK, executor_factory=_retrying, on_failure="hold")(self.deliver)

        async def tick(_: Schedule) -> None:
            await self.tick()

        queue.schedule(TICK, TICK_CRON)(tick)
        return queue

    async def run(self) -> None:
        """Tick once (catching up with what began while no worker ran), then tick and work until `stop()`.

        A failure (the database gone, say) is logged and the loop starts again after RESTART_DELAY, so a
        serving process never silently stops running its jobs.
        """
        try:
            if not self._stop.is_set():
                await self.tick()
        except Exception:
            log.exception("the first tick failed; the next one comes with the schedule")
        self.started.set()
        while not self._stop.is_set():
            try:
                await self.queue.run()
            except Exception:
                log.exception("scheduled jobs failed; starting again in %s s", RESTART_DELAY)
            if self._stop.is_set():
                break
            self.queue.shutdown.clear()  # PgQueuer.run sets it on its way out
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), RESTART_DELAY)

    async def drain(self) -> None:
        """Run every queued job that is ready, retries included, then return (tests and one-off runs)."""
        self.queue.shutdown.clear()
        await self.queue.qm.run(mode=QueueExecutionMode.drain, dequeue_timeout=timedelta(seconds=0.1))

    def stop(self) -> None:
        """Ask the loop to stop: no new tick or job starts; running jobs finish."""
        self._stop.set()
        self.queue.shutdown.set()


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Jobs]:
    """Run the jobs in a background task of this event loop while the block runs (the app's lifespan)."""
    jobs = Jobs(settings)
    task = asyncio.create_task(jobs.run(), name="inventory-jobs")
    task.add_done_callback(_log_failure)
    try:
        yield jobs
    finally:
        jobs.stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        except Exception:  # already logged by _log_failure
            pass


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("scheduled jobs stopped", exc_info=task.exception())
