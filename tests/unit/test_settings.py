from pathlib import Path

import pytest

from goftogu.settings import (
    DEVELOPMENT_SECRET_KEY,
    Settings,
    UnsafeSettingsError,
    load_settings,
)

STRONG_SECRET = "x" * 48


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_unset_urls_select_the_embedded_defaults() -> None:
    settings = make(data_dir=Path("/srv/goftogu"))
    assert settings.effective_database_url == "sqlite+aiosqlite:////srv/goftogu/goftogu.db"
    assert settings.uses_embedded_database
    assert (settings.redis_url, settings.broker_url, settings.mongodb_url) == (None, None, None)


def test_a_blank_url_means_the_embedded_default() -> None:
    assert make(redis_url="", broker_url="").redis_url is None


def test_settings_come_from_goftogu_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOFTOGU_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("GOFTOGU_OPERATOR_CAPACITY", "5")
    settings = make()
    assert settings.redis_url == "redis://127.0.0.1:1/0"
    assert settings.operator_capacity == 5


def test_only_the_embedded_database_is_migrated_at_start_by_default() -> None:
    assert make().should_auto_migrate
    assert not make(database_url="postgresql+asyncpg://db/goftogu").should_auto_migrate
    assert make(database_url="postgresql+asyncpg://db/g", auto_migrate=True).should_auto_migrate


def test_production_refuses_the_development_secret_and_names_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOFTOGU_ENV", "production")
    with pytest.raises(UnsafeSettingsError, match="GOFTOGU_SECRET_KEY"):
        load_settings(_env_file=None)


def test_production_refuses_a_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOFTOGU_ENV", "production")
    monkeypatch.setenv("GOFTOGU_SECRET_KEY", "short")
    with pytest.raises(UnsafeSettingsError, match="shorter than 32"):
        load_settings(_env_file=None)


def test_production_starts_with_a_strong_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOFTOGU_ENV", "production")
    monkeypatch.setenv("GOFTOGU_SECRET_KEY", STRONG_SECRET)
    settings = load_settings(_env_file=None)
    assert settings.secret_key.get_secret_value() != DEVELOPMENT_SECRET_KEY


def test_the_secret_never_shows_in_the_settings_repr() -> None:
    assert STRONG_SECRET not in repr(make(secret_key=STRONG_SECRET))


def test_links_point_at_the_address_the_server_serves_on_unless_a_public_url_is_set() -> None:
    assert make().public_url == "http://127.0.0.1:8000"
    assert make(port=8123).public_url == "http://127.0.0.1:8123"
    assert make(host="chat.internal", port=9000).public_url == "http://chat.internal:9000"
    assert make(host="0.0.0.0", port=9000).public_url == "http://127.0.0.1:9000"  # noqa: S104
    assert make(host="::1", port=9000).public_url == "http://[::1]:9000"
    assert make(port=8123, public_url="https://chat.example/").public_url == "https://chat.example"


def test_serve_with_a_port_option_links_to_that_port(monkeypatch: pytest.MonkeyPatch) -> None:
    from goftogu.cli import _settings

    monkeypatch.delenv("GOFTOGU_PUBLIC_URL", raising=False)
    assert _settings(host=None, port=9123).public_url == "http://127.0.0.1:9123"
