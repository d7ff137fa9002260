"""Settings from the environment, read once; fails fast (SettingsError, never a raw ValueError) on a bad value."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from inventory import clock

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
    pool_max_size: int = 20
    login_max_failures: int = 5  # per e-mail and client address, within the window
    login_max_failures_per_address: int = 20  # per client address, across e-mails
    login_window_seconds: int = 15 * 60
    timezone: str = DEFAULT_TIMEZONE
    digest_hour: int = 7
    jobs: bool = True

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
        pool_min = _whole("INVENTORY_POOL_MIN", 2, low=0, high=1000, what="a number of connections from 0 to 1000")
        pool_max = _whole("INVENTORY_POOL_MAX", 20, low=1, high=1000, what="a number of connections from 1 to 1000")
        if pool_min > pool_max:
            raise SettingsError(f"INVENTORY_POOL_MIN ({pool_min}) must not exceed INVENTORY_POOL_MAX ({pool_max})")
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
            login_max_failures=_whole("INVENTORY_LOGIN_MAX_FAILURES", 5, low=1, high=10**6, what="a count from 1"),
            login_max_failures_per_address=_whole(
                "INVENTORY_LOGIN_MAX_FAILURES_PER_ADDRESS", 20, low=1, high=10**6, what="a count from 1"
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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached)."""
    return Settings.from_env()
