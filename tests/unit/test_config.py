"""Settings from the environment: the sign-in limits are read and refused when they make no sense."""

from __future__ import annotations

import secrets

import pytest

from inventory.config import Settings, SettingsError


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A runnable environment to vary."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/db")
    monkeypatch.setenv("INVENTORY_SECRET_KEY", secrets.token_urlsafe(40))
    monkeypatch.delenv("INVENTORY_TOKEN_TTL_SECONDS", raising=False)
    monkeypatch.delenv("INVENTORY_SESSION_MAX_SECONDS", raising=False)
    return monkeypatch


def test_a_sign_in_lasts_sixteen_hours_of_eight_hour_tokens_by_default(env: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env()
    assert (settings.token_ttl_seconds, settings.session_max_seconds) == (8 * 3600, 16 * 3600)


def test_session_max_seconds_comes_from_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("INVENTORY_SESSION_MAX_SECONDS", " 43200 ")
    assert Settings.from_env().session_max_seconds == 43200


@pytest.mark.parametrize("value", ["sixteen hours", "12.5", "-1", "0", "59", str(400 * 86400)])
def test_a_session_max_that_is_not_a_sane_number_of_seconds_is_refused(env: pytest.MonkeyPatch, value: str) -> None:
    env.setenv("INVENTORY_SESSION_MAX_SECONDS", value)
    with pytest.raises(SettingsError, match="INVENTORY_SESSION_MAX_SECONDS"):
        Settings.from_env()


def test_a_sign_in_shorter_than_its_first_token_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("INVENTORY_TOKEN_TTL_SECONDS", "7200")
    env.setenv("INVENTORY_SESSION_MAX_SECONDS", "3600")
    with pytest.raises(SettingsError, match="at least INVENTORY_TOKEN_TTL_SECONDS"):
        Settings.from_env()


def test_records_are_kept_twenty_years_unless_told(env: pytest.MonkeyPatch) -> None:
    env.delenv("INVENTORY_RETENTION_YEARS", raising=False)
    assert Settings.from_env().retention_years == 20
    env.setenv("INVENTORY_RETENTION_YEARS", " 8 ")
    assert Settings.from_env().retention_years == 8


@pytest.mark.parametrize("value", ["twenty", "0", "-5", "2.5", "101", "²"])
def test_a_retention_that_is_not_a_sane_number_of_years_is_refused(env: pytest.MonkeyPatch, value: str) -> None:
    env.setenv("INVENTORY_RETENTION_YEARS", value)
    with pytest.raises(SettingsError, match="INVENTORY_RETENTION_YEARS"):
        Settings.from_env()
