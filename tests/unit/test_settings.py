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
    for name in ("INVENTORY_TIMEZONE", "INVENTORY_DIGEST_HOUR", "INVENTORY_JOBS", "INVENTORY_WEBHOOK_URL"):
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
