"""The `inventory` command: serve, worker, migrate, demo, user create, alerts, purge."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inventory.config import Settings

STATE_DIR = Path(os.environ.get("INVENTORY_STATE_DIR", ".inventory"))
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # inventory.metrics' too; not imported here, see cmd_serve


def _ensure_database_url() -> str:
    """DATABASE_URL (the service's own role), or the embedded PostgreSQL under .inventory/ as the app role."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        from inventory import migrate
        from inventory.db import login_as

        password = STATE_DIR / "app_password"
        if not password.exists():
            raise SystemExit("inventory: the embedded PostgreSQL has no application role yet; run `inventory migrate`")
        url = login_as(_start_embedded(), migrate.app_role(), password.read_text().strip())
        os.environ["DATABASE_URL"] = url  # uvicorn's workers and children read it
    from inventory import db

    db.configure(url)
    return url


def _migrate_url() -> str:
    """The owner's URL: INVENTORY_MIGRATE_URL, else DATABASE_URL, else the embedded PostgreSQL's superuser.

    With the embedded one, the application role gets a password generated once into .inventory/app_password.
    """
    url = os.environ.get("INVENTORY_MIGRATE_URL", "").strip() or os.environ.get("DATABASE_URL", "").strip()
    if not url:
        url = _start_embedded()
        if not os.environ.get("INVENTORY_APP_PASSWORD"):
            os.environ["INVENTORY_APP_PASSWORD"] = _state_secret("app_password", 24)
    from inventory import db

    db.configure(url)
    return url


def _start_embedded() -> str:
    from inventory.db import start_embedded

    url = start_embedded(STATE_DIR / "pgdata")
    print(f"inventory: using the embedded PostgreSQL in {STATE_DIR / 'pgdata'}", file=sys.stderr)
    return url


def _state_secret(name: str, size: int) -> str:
    """A random secret kept in .inventory/NAME (created once, readable by this user only)."""
    path = STATE_DIR / name
    if not path.exists():
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(size))
        path.chmod(0o600)
    return path.read_text().strip()


def _ensure_secret() -> None:
    """INVENTORY_SECRET_KEY, or one generated once into .inventory/secret_key for local use."""
    if os.environ.get("INVENTORY_SECRET_KEY"):
        return
    os.environ["INVENTORY_SECRET_KEY"] = _state_secret("secret_key", 48)


def cmd_migrate(_: argparse.Namespace) -> int:
    """Apply all migrations as the tables' owner, then grant the application role what serving needs."""
    _migrate_url()
    from inventory import migrate

    try:
        role = asyncio.run(migrate.forwards())
    except RuntimeError as error:
        print(f"inventory: {error}", file=sys.stderr)
        return 1
    print(f"inventory: migrations applied; role {role} may serve")
    return 0


def _refuse_unmigrated() -> bool:
    """True (after saying why) when migrations are pending."""
    from inventory import migrate

    pending = asyncio.run(migrate.pending())
    if pending:
        print(
            f"inventory: the database is not migrated ({len(pending)} migration(s) pending: {', '.join(pending)}).\n"
            "Run `inventory migrate` first.",
            file=sys.stderr,
        )
    return bool(pending)


def _say_serving_role() -> None:
    """Name the database role the service runs as, and warn when it could rewrite the traceability record."""
    from inventory import migrate

    role, problem = asyncio.run(migrate.serving_role())
    print(f"inventory: serving as database role {role}", file=sys.stderr)
    if problem:
        print(f"inventory: warning: {problem}", file=sys.stderr)


def _settings() -> Settings:
    from inventory.config import get_settings

    return get_settings()


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the app with uvicorn (and the scheduled jobs in each worker, unless turned off)."""
    # First of all: prometheus_client chooses between in-process and multiprocess values when it is imported.
    with _metrics_directory():
        return _serve_checked(args)


def _serve_checked(args: argparse.Namespace) -> int:
    """Check the settings and the database, then serve here or beside the embedded PostgreSQL."""
    embedded = not os.environ.get("DATABASE_URL", "").strip()
    _ensure_database_url()
    _ensure_secret()
    # uvicorn's workers read their settings from the environment; the pool size is shared out among them.
    os.environ["INVENTORY_WORKERS"] = str(args.workers)
    if args.no_jobs:
        os.environ["INVENTORY_JOBS"] = "off"
    settings = _settings()  # a bad setting stops here, with its sentence, before any worker starts
    if _refuse_unmigrated():
        return 2
    _say_serving_role()
    if embedded:
        return _serve_beside_embedded(args)
    return _serve(args, settings)


# Slow clients: an idle keep-alive connection is closed after this; a request's head may not exceed 16 KiB (h11).
KEEP_ALIVE_SECONDS = 5
MAX_HEAD_BYTES = 16 * 1024
GRACEFUL_SHUTDOWN_SECONDS = 20


class _Stopped(Exception):
    """SIGTERM after uvicorn's graceful shutdown."""


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run uvicorn here with the service's logging and timeouts."""
    import signal

    import uvicorn

    from inventory import logs

    def stopped(_signum: int, _frame: object) -> None:
        raise _Stopped

    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler the process would end
    # without unwinding, leaving the metrics directory behind.
    signal.signal(signal.SIGTERM, stopped)
    with contextlib.suppress(_Stopped, KeyboardInterrupt):
        uvicorn.run(
            "inventory.asgi:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_config=logs.dict_config(log_format=settings.log_format, level=settings.log_level),
            access_log=False,  # the app writes its own access line, with the route template and request id
            # Behind a reverse proxy on this machine: X-Forwarded-For from 127.0.0.1 names the real client.
            proxy_headers=args.proxy_headers,
            forwarded_allow_ips="127.0.0.1",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
    return 0


@contextlib.contextmanager
def _metrics_directory() -> Iterator[None]:
    """PROMETHEUS_MULTIPROC_DIR for the workers: a fresh temporary one removed on exit, or the given one emptied.

    Each worker writes its metric values there and a scrape answered by any worker sums them all.
    """
    given = os.environ.get(MULTIPROC_ENV, "").strip()
    if given:
        # prometheus_client's rule: the directory starts empty, or the last run's counters would be added in.
        Path(given).mkdir(parents=True, exist_ok=True)
        for stale in Path(given).glob("*.db"):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        yield
        return
    with tempfile.TemporaryDirectory(prefix="inventory-metrics-") as folder:
        os.environ[MULTIPROC_ENV] = folder
        try:
            yield
        finally:
            del os.environ[MULTIPROC_ENV]


def _serve_beside_embedded(args: argparse.Namespace) -> int:
    """Serve from a child process, so this one, which owns the embedded PostgreSQL, always lives to stop it.

    uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown, which ends a process without running its exit
    handlers; in the child that is harmless, and here the signal is only passed on.
    """
    import signal
    import subprocess

    # DATABASE_URL is set now, so the child serves as `inventory serve` does against any server.
    command = [
        sys.executable, "-m", "inventory.cli", "serve", "--host", args.host, "--port", str(args.port),
        "--workers", str(args.workers), *(["--no-jobs"] if args.no_jobs else []),
        *(["--proxy-headers"] if args.proxy_headers else []),
    ]  # fmt: skip
    child = subprocess.Popen(command, env=os.environ.copy(), start_new_session=True)

    def pass_on(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    signal.signal(signal.SIGINT, pass_on)
    signal.signal(signal.SIGTERM, pass_on)
    code = child.wait()
    # A child ended by the signal we passed on has shut down as asked.
    return 0 if code in (0, -signal.SIGINT, -signal.SIGTERM) else code


def cmd_worker(_: argparse.Namespace) -> int:
    """Run the scheduled jobs (alert refresh, digest, purge, webhook retries) until SIGINT or SIGTERM."""
    _ensure_database_url()
    _ensure_secret()
    if _refuse_unmigrated():
        return 2
    _say_serving_role()
    import signal

    from inventory import db, jobs

    settings = _settings()

    async def run() -> None:
        await db.start_pool(min_size=1, max_size=settings.pool_max_size, idle_seconds=settings.pool_idle_seconds)
        try:
            worker = jobs.Jobs(settings)
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, worker.stop)
            task = asyncio.create_task(worker.run())
            started = asyncio.create_task(worker.started.wait())
            await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
            if worker.started.is_set():
                print("inventory: worker running (Ctrl-C or SIGTERM stops it)", file=sys.stderr, flush=True)
            started.cancel()
            await task
        finally:
            await db.close_pool()

    asyncio.run(run())
    print("inventory: worker stopped", file=sys.stderr)
    return 0


def cmd_demo(_: argparse.Namespace) -> int:
    """Load the demo clinic (idempotent)."""
    _ensure_database_url()
    from inventory import demo

    created = asyncio.run(demo.load())
    print("inventory: demo data loaded" if created else "inventory: demo data already present")
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    """Create a user; the password comes from standard input."""
    _ensure_database_url()
    if not args.password_stdin:
        print("inventory: pass --password-stdin and the password on standard input", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    from inventory import db
    from inventory.domain.errors import InventoryError
    from inventory.services import auth

    async def run() -> None:
        await db.start_pool(min_size=1, max_size=2)
        try:
            await auth.create_user(actor=None, email=args.email, role=args.role, password=password)
        finally:
            await db.close_pool()

    try:
        asyncio.run(run())
    except InventoryError as error:
        print(f"inventory: {error.detail}", file=sys.stderr)
        return 1
    print(f"inventory: user {args.email} created with role {args.role}")
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    """Refresh reorder alerts, or send the daily digest."""
    _ensure_database_url()
    _ensure_secret()
    settings = _settings()
    from inventory import db
    from inventory.services import alert_refresh, digest

    async def run() -> str:
        await db.start_pool(min_size=1, max_size=4)
        try:
            if args.alerts_command == "refresh":
                count = await alert_refresh.refresh_all()
                return f"inventory: {count} product/location pairs re-evaluated"
            digests = await digest.digest(
                location_id=args.location,
                send=args.send,
                webhook_url=settings.webhook_url,
                default_zone=settings.timezone,
            )
            return digest.format_digests(digests)
        finally:
            await db.close_pool()

    from inventory.domain.errors import InventoryError

    try:
        print(asyncio.run(run()))
    except InventoryError as error:
        print(f"inventory: {error.detail}", file=sys.stderr)
        return 1
    return 0


def cmd_purge(_: argparse.Namespace) -> int:
    """Forget expired idempotency keys, old sign-in attempts and stale token revocations."""
    _ensure_database_url()
    from inventory import db
    from inventory.services import maintenance

    async def run() -> dict[str, int]:
        await db.start_pool(min_size=1, max_size=2)
        try:
            return await maintenance.purge()
        finally:
            await db.close_pool()

    counts = asyncio.run(run())
    print("inventory: purged " + ", ".join(f"{count} {what.replace('_', ' ')}" for what, count in counts.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    parser = argparse.ArgumentParser(prog="inventory", description="meso-inventory service")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--no-jobs", action="store_true", help="run no scheduled jobs here (an `inventory worker` runs them)"
    )
    serve.add_argument(
        "--proxy-headers",
        action="store_true",
        help="behind a reverse proxy on this machine: take client addresses from its X-Forwarded-For",
    )
    serve.set_defaults(func=cmd_serve)
    sub.add_parser(
        "worker", help="run the scheduled jobs (alert refresh, digest, purge, webhook retries) until stopped"
    ).set_defaults(func=cmd_worker)

    sub.add_parser(
        "migrate", help="apply migrations as the owner (INVENTORY_MIGRATE_URL) and grant INVENTORY_APP_ROLE"
    ).set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load the demo clinic (idempotent)").set_defaults(func=cmd_demo)
    sub.add_parser("purge", help="nightly: forget expired idempotency keys and sign-in records").set_defaults(
        func=cmd_purge
    )

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser("create", help="create a user")
    create.add_argument("email")
    create.add_argument("--role", required=True, choices=["staff", "manager", "admin"])
    create.add_argument("--password-stdin", action="store_true")
    create.set_defaults(func=cmd_user_create)

    alerts = sub.add_parser("alerts", help="reorder and expiry alerts")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", required=True)
    alerts_sub.add_parser("refresh", help="re-evaluate every reorder alert now").set_defaults(func=cmd_alerts)
    digest = alerts_sub.add_parser("digest", help="the daily digest per location")
    digest.add_argument("--location", type=int, default=None)
    digest.add_argument("--send", action="store_true", help="POST it to INVENTORY_WEBHOOK_URL")
    digest.set_defaults(func=cmd_alerts)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    from inventory.config import SettingsError
    from inventory.db import PoolStartError

    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (SettingsError, PoolStartError) as error:
        print(f"inventory: {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
