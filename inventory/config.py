"""Settings from the environment, read once; fails fast (SettingsError, never a raw ValueError) on a bad value."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from inventory import clock
from inventory.domain.erasure import DEFAULT_RETENTION_YEARS, MAX_RETENTION_YEARS, MIN_RETENTION_YEARS

_WEAK_SECRETS = {"", "secret", "changeme", "change-me", "dev", "test"}
DEFAULT_TIMEZONE = "Europe/Paris"
_OFF = {"0", "off", "false", "no"}
# ASCII digits only: str.isdigit() also accepts "²", which int() then refuses with a raw ValueError.
_WHOLE = re.compile(r"-?[0-9]+")


class SettingsError(RuntimeError):
    """The environment does not describe a runnable service."""


@dataclass(frozen=True)
class Settings:
    """Runtime configuration of the service."""

    database_url: str
    secret_key: str
    webhook_url: str | None = None
    token_ttl_seconds: int = 8 * 3600
    # How long one sign-in may be kept alive by refreshing its token: a clinic day and then some.
    session_max_seconds: int = 16 * 3600
    pool_min_size: int = 2
    pool_max_size: int = 16
    # asyncpg closes a connection idle this long, so a quiet instance holds only pool_min_size per worker.
    pool_idle_seconds: float = 30.0
    login_max_failures: int = 5  # per e-mail and client address, within the window
    login_max_failures_per_address: int = 20  # per client address, across e-mails
    login_window_seconds: int = 15 * 60
    timezone: str = DEFAULT_TIMEZONE
    digest_hour: int = 7
    jobs: bool = True
    metrics_token: str | None = None  # bearer token for /metrics from other addresses than the loopback
    log_format: str = "json"
    log_level: str = "INFO"
    access_log: bool = True
    # Clients whose last session is older than this are pseudonymised by the nightly job (records kept 8-20 years).
    retention_years: int = DEFAULT_RETENTION_YEARS

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from environment variables; raises SettingsError when one is missing or weak."""
        database_url = os.environ.get("DATABASE_URL", "").strip()
        if not database_url:
            raise SettingsError("DATABASE_URL is not set (make run starts an embedded PostgreSQL for you)")
        secret = os.environ.get("INVENTORY_SECRET_KEY", "")
        if secret.strip().lower() in _WEAK_SECRETS or len(secret) < 32:
            raise SettingsError("INVENTORY_SECRET_KEY must be set to a random string of at least 32 characters")
        timezone = os.environ.get("INVENTORY_TIMEZONE", "").strip() or DEFAULT_TIMEZONE
        try:
            clock.zone(timezone)  # listed IANA names only: not "localtime", paths or other tz database files
        except clock.UnknownTimezone as error:
            raise SettingsError(f"INVENTORY_TIMEZONE: {timezone!r} is not an IANA time zone name") from error
        digest_hour = _whole("INVENTORY_DIGEST_HOUR", 7, low=0, high=23, what="an hour from 0 to 23")
        token_ttl = _seconds("INVENTORY_TOKEN_TTL_SECONDS", 8 * 3600)
        session_max = _seconds("INVENTORY_SESSION_MAX_SECONDS", 16 * 3600)
        if session_max < token_ttl:
            raise SettingsError(
                f"INVENTORY_SESSION_MAX_SECONDS ({session_max}) must be at least INVENTORY_TOKEN_TTL_SECONDS"
                f" ({token_ttl}): a sign-in cannot end before its first token"
            )
        pool_min, pool_max, pool_idle = _pool_sizes()
        log_format, log_level, access_log = _logging()
        return cls(
            database_url=database_url,
            secret_key=secret,
            timezone=timezone,
            digest_hour=digest_hour,
            jobs=os.environ.get("INVENTORY_JOBS", "on").strip().lower() not in _OFF,
            webhook_url=os.environ.get("INVENTORY_WEBHOOK_URL", "").strip() or None,
            token_ttl_seconds=token_ttl,
            session_max_seconds=session_max,
            pool_min_size=pool_min,
            pool_max_size=pool_max,
            pool_idle_seconds=pool_idle,
            metrics_token=_metrics_token(),
            log_format=log_format,
            log_level=log_level,
            access_log=access_log,
            login_max_failures=_whole("INVENTORY_LOGIN_MAX_FAILURES", 5, low=1, high=10**6, what="a count from 1"),
            login_max_failures_per_address=_whole(
                "INVENTORY_LOGIN_MAX_FAILURES_PER_ADDRESS", 20, low=1, high=10**6, what="a count from 1"
            ),
            retention_years=_whole(
                "INVENTORY_RETENTION_YEARS",
                DEFAULT_RETENTION_YEARS,
                low=MIN_RETENTION_YEARS,
                high=MAX_RETENTION_YEARS,
                what=f"a whole number of years from {MIN_RETENTION_YEARS} to {MAX_RETENTION_YEARS}",
            ),
            login_window_seconds=_whole(
                "INVENTORY_LOGIN_WINDOW_SECONDS", 15 * 60, low=1, high=366 * 86400, what="seconds, up to a year"
            ),
        )


def _whole(name: str, default: int, *, low: int, high: int, what: str) -> int:
    """A whole number from `low` to `high` from the environment (unset: `default`); raises SettingsError."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not _WHOLE.fullmatch(raw) or not low <= int(raw) <= high:
        raise SettingsError(f"{name} must be {what}, not {raw!r}")
    return int(raw)


def _seconds(name: str, default: int) -> int:
    """A positive whole number of seconds from the environment; raises SettingsError when it is not one."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not _WHOLE.fullmatch(raw):
        raise SettingsError(f"{name} must be a whole number of seconds, not {raw!r}")
    value = int(raw)
    if not 60 <= value <= 366 * 86400:
        raise SettingsError(f"{name} must be between 60 seconds and a year, not {value}")
    return value


DEFAULT_DB_CONNECTIONS = 16
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def pool_max_for(*, connections: int, workers: int) -> int:
    """Each worker's pool maximum: the instance's connection budget shared by its workers, at least 4."""
    # 4: the scheduled jobs keep one connection for LISTEN, and a scan needs one more while a page reads.
    return max(4, connections // max(1, workers))


def _pool_sizes() -> tuple[int, int, float]:
    """Pool settings: INVENTORY_POOL_MAX, else INVENTORY_DB_CONNECTIONS shared by the workers (`inventory serve`)."""
    connections = _whole(
        "INVENTORY_DB_CONNECTIONS", DEFAULT_DB_CONNECTIONS, low=1, high=10_000, what="a whole number from 1 to 10000"
    )
    workers = _whole("INVENTORY_WORKERS", 1, low=1, high=512, what="a whole number from 1 to 512")
    maximum = _whole(
        "INVENTORY_POOL_MAX",
        pool_max_for(connections=connections, workers=workers),
        low=1,
        high=1_000,
        what="a whole number from 1 to 1000",
    )
    minimum = _whole("INVENTORY_POOL_MIN", min(2, maximum), low=0, high=1_000, what="a whole number from 0 to 1000")
    if minimum > maximum:
        raise SettingsError(f"INVENTORY_POOL_MIN ({minimum}) must not exceed INVENTORY_POOL_MAX ({maximum})")
    idle = _whole("INVENTORY_POOL_IDLE_SECONDS", 30, low=1, high=3600, what="a whole number from 1 to 3600")
    return minimum, maximum, float(idle)


def _metrics_token() -> str | None:
    """INVENTORY_METRICS_TOKEN, or None; a short one is refused (it guards the metrics from the network)."""
    token = os.environ.get("INVENTORY_METRICS_TOKEN", "").strip()
    if not token:
        return None
    if len(token) < 16:
        raise SettingsError("INVENTORY_METRICS_TOKEN must be at least 16 characters (or unset: loopback only)")
    return token


def _logging() -> tuple[str, str, bool]:
    """INVENTORY_LOG_FORMAT (json|text), INVENTORY_LOG_LEVEL and INVENTORY_ACCESS_LOG (on|off)."""
    log_format = os.environ.get("INVENTORY_LOG_FORMAT", "").strip().lower() or "json"
    if log_format not in ("json", "text"):
        raise SettingsError(f"INVENTORY_LOG_FORMAT must be json or text, not {log_format!r}")
    level = os.environ.get("INVENTORY_LOG_LEVEL", "").strip().upper() or "INFO"
    if level not in _LOG_LEVELS:
        raise SettingsError(f"INVENTORY_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, not {level!r}")
    access_log = os.environ.get("INVENTORY_ACCESS_LOG", "on").strip().lower() not in _OFF
    return log_format, level, access_log


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached)."""
    return Settings.from_env()
