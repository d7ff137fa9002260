"""Pool sizes from a per-instance connection budget, the idle limit, log and metrics settings; refusals of bad ones."""

from __future__ import annotations

import secrets

import pytest

from inventory.config import DEFAULT_DB_CONNECTIONS, Settings, SettingsError, pool_max_for

_NAMES = (
    "INVENTORY_POOL_MIN",
    "INVENTORY_POOL_MAX",
    "INVENTORY_POOL_IDLE_SECONDS",
    "INVENTORY_DB_CONNECTIONS",
    "INVENTORY_WORKERS",
    "INVENTORY_METRICS_TOKEN",
    "INVENTORY_LOG_FORMAT",
    "INVENTORY_LOG_LEVEL",
    "INVENTORY_ACCESS_LOG",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A runnable environment with none of these settings set."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/x")
    monkeypatch.setenv("INVENTORY_SECRET_KEY", secrets.token_urlsafe(48))
    for name in _NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_one_worker_gets_the_whole_budget_and_idle_connections_close_after_30_s(env: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env()
    assert (settings.pool_min_size, settings.pool_max_size) == (2, DEFAULT_DB_CONNECTIONS)
    assert settings.pool_idle_seconds == 30


@pytest.mark.parametrize(("workers", "expected"), [("1", 16), ("2", 8), ("4", 4), ("8", 4)])
def test_the_budget_is_shared_by_the_workers_with_at_least_four_each(
    env: pytest.MonkeyPatch, workers: str, expected: int
) -> None:
    env.setenv("INVENTORY_WORKERS", workers)
    assert Settings.from_env().pool_max_size == expected


def test_workers_times_pool_max_stays_within_the_budget_while_it_allows_four_each() -> None:
    for connections in (16, 40, 90):
        for workers in range(1, connections // 4 + 1):
            assert workers * pool_max_for(connections=connections, workers=workers) <= connections


def test_an_explicit_pool_max_and_budget_win(env: pytest.MonkeyPatch) -> None:
    env.setenv("INVENTORY_DB_CONNECTIONS", "40")
    env.setenv("INVENTORY_WORKERS", "4")
    assert Settings.from_env().pool_max_size == 10
    env.setenv("INVENTORY_POOL_MAX", "6")
    env.setenv("INVENTORY_POOL_MIN", "0")
    env.setenv("INVENTORY_POOL_IDLE_SECONDS", "45")
    settings = Settings.from_env()
    assert (settings.pool_min_size, settings.pool_max_size, settings.pool_idle_seconds) == (0, 6, 45)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("INVENTORY_POOL_MAX", "twenty", "whole number"),
        ("INVENTORY_POOL_MAX", "0", "from 1"),
        ("INVENTORY_POOL_MIN", "-1", "from 0"),
        ("INVENTORY_POOL_IDLE_SECONDS", "0", "from 1"),
        ("INVENTORY_POOL_IDLE_SECONDS", "86400", "to 3600"),
        ("INVENTORY_DB_CONNECTIONS", "0", "from 1"),
        ("INVENTORY_WORKERS", "many", "whole number"),
        ("INVENTORY_LOG_FORMAT", "xml", "json or text"),
        ("INVENTORY_LOG_LEVEL", "loud", "one of"),
        ("INVENTORY_METRICS_TOKEN", "short", "at least 16"),
    ],
)
def test_a_bad_value_stops_the_service_with_its_name(
    env: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    env.setenv(name, value)
    with pytest.raises(SettingsError, match=name) as error:
        Settings.from_env()
    assert message in str(error.value)


def test_a_pool_min_above_the_max_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("INVENTORY_POOL_MIN", "9")
    env.setenv("INVENTORY_POOL_MAX", "4")
    with pytest.raises(SettingsError, match="must not exceed"):
        Settings.from_env()


def test_logs_default_to_json_with_access_lines_and_can_be_text_or_quiet(env: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env()
    assert (settings.log_format, settings.log_level, settings.access_log, settings.metrics_token) == (
        "json",
        "INFO",
        True,
        None,
    )
    env.setenv("INVENTORY_LOG_FORMAT", "TEXT")
    env.setenv("INVENTORY_LOG_LEVEL", "warning")
    env.setenv("INVENTORY_ACCESS_LOG", "off")
    env.setenv("INVENTORY_METRICS_TOKEN", " " + "t" * 32 + " ")
    settings = Settings.from_env()
    assert (settings.log_format, settings.log_level, settings.access_log, settings.metrics_token) == (
        "text",
        "WARNING",
        False,
        "t" * 32,
    )


def test_serve_prints_a_bad_setting_and_exits_2(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from inventory import cli
    from inventory.config import get_settings

    env.setenv("INVENTORY_POOL_MAX", "lots")
    env.setenv("INVENTORY_WORKERS", "1")  # serve writes it for its workers; restored after the test
    env.setattr(cli, "_ensure_database_url", lambda: "postgresql://postgres@127.0.0.1:5432/x")  # no engine change
    get_settings.cache_clear()
    try:
        assert cli.main(["serve", "--port", "1"]) == 2
    finally:
        get_settings.cache_clear()
    assert "inventory: INVENTORY_POOL_MAX must be a whole number" in capsys.readouterr().err
