"""Settings of the scheduled jobs from the environment: defaults, switches, and refusals of bad values."""

from __future__ import annotations

import secrets

import pytest

from inventory.config import Settings, SettingsError


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A runnable environment with none of the job settings set."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/x")
    monkeypatch.setenv("INVENTORY_SECRET_KEY", secrets.token_urlsafe(48))
    for name in (
        "INVENTORY_TIMEZONE",
        "INVENTORY_DIGEST_HOUR",
        "INVENTORY_JOBS",
        "INVENTORY_WEBHOOK_URL",
        "INVENTORY_POOL_MIN",
        "INVENTORY_POOL_MAX",
        "INVENTORY_LOGIN_MAX_FAILURES",
        "INVENTORY_LOGIN_MAX_FAILURES_PER_ADDRESS",
        "INVENTORY_LOGIN_WINDOW_SECONDS",
        "INVENTORY_TOKEN_TTL_SECONDS",
        "INVENTORY_SESSION_MAX_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_jobs_run_by_default_with_the_digest_at_seven_in_paris_and_no_webhook(env: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env()
    assert (settings.jobs, settings.digest_hour, settings.timezone, settings.webhook_url) == (
        True,
        7,
        "Europe/Paris",
        None,
    )


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false", "no"])
def test_inventory_jobs_off_turns_them_off(env: pytest.MonkeyPatch, value: str) -> None:
    env.setenv("INVENTORY_JOBS", value)
    assert Settings.from_env().jobs is False


def test_the_webhook_url_digest_hour_and_zone_come_from_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("INVENTORY_WEBHOOK_URL", " https://hooks.example/digest ")
    env.setenv("INVENTORY_DIGEST_HOUR", "06")
    env.setenv("INVENTORY_TIMEZONE", "America/Montreal")
    settings = Settings.from_env()
    assert (settings.webhook_url, settings.digest_hour, settings.timezone) == (
        "https://hooks.example/digest",
        6,
        "America/Montreal",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("INVENTORY_DIGEST_HOUR", "24"),
        ("INVENTORY_DIGEST_HOUR", "7am"),
        ("INVENTORY_TIMEZONE", "Mars/Olympus"),
        ("INVENTORY_TIMEZONE", "../etc"),
    ],
)
def test_a_bad_digest_hour_or_zone_stops_the_service_at_start(env: pytest.MonkeyPatch, name: str, value: str) -> None:
    env.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        Settings.from_env()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("INVENTORY_POOL_MIN", "two"),
        ("INVENTORY_POOL_MAX", "0"),
        ("INVENTORY_POOL_MAX", "²"),
        ("INVENTORY_LOGIN_MAX_FAILURES", "5.5"),
        ("INVENTORY_LOGIN_MAX_FAILURES_PER_ADDRESS", "-1"),
        ("INVENTORY_LOGIN_WINDOW_SECONDS", "15m"),
        ("INVENTORY_DIGEST_HOUR", "²"),
        ("INVENTORY_TOKEN_TTL_SECONDS", "--5"),
        ("INVENTORY_SESSION_MAX_SECONDS", "٣٦٠٠"),
    ],
)
def test_a_number_that_is_not_one_is_a_settings_error_naming_the_variable(
    env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    env.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        Settings.from_env()


def test_a_pool_whose_minimum_exceeds_its_maximum_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("INVENTORY_POOL_MIN", "30")
    env.setenv("INVENTORY_POOL_MAX", "20")
    with pytest.raises(SettingsError, match="INVENTORY_POOL_MIN"):
        Settings.from_env()


def test_pool_and_sign_in_limits_come_from_the_environment(env: pytest.MonkeyPatch) -> None:
    for name, value in (
        ("INVENTORY_POOL_MIN", "1"),
        ("INVENTORY_POOL_MAX", "8"),
        ("INVENTORY_LOGIN_MAX_FAILURES", "3"),
        ("INVENTORY_LOGIN_MAX_FAILURES_PER_ADDRESS", "9"),
        ("INVENTORY_LOGIN_WINDOW_SECONDS", "600"),
    ):
        env.setenv(name, value)
    settings = Settings.from_env()
    assert (settings.pool_min_size, settings.pool_max_size, settings.login_max_failures) == (1, 8, 3)
    assert (settings.login_max_failures_per_address, settings.login_window_seconds) == (9, 600)
