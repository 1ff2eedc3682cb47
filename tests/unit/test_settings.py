"""Settings: defaults, where values come from, and one clear line when they are wrong."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from questrya.settings import Settings, SettingsError, load_settings

SECRET = "s3cr3t-value-never-shown"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run in an empty dir with no QUESTRYA_* variables, so the developer's .env cannot leak in."""
    for name in list(os.environ):
        if name.startswith("QUESTRYA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_env_file(directory: Path, *lines: str) -> None:
    (directory / ".env").write_text("\n".join(lines) + "\n")


def settings_error(**overrides: object) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(**overrides)
    return str(caught.value)


def test_defaults() -> None:
    settings = load_settings()

    assert settings.data_dir == Path(".questrya")
    assert settings.database_url is None
    assert settings.effective_database_url == "sqlite+aiosqlite:///.questrya/questrya.db"
    assert settings.redis_url is None
    assert settings.telegram_token is None
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.telegram_max_rate == 30
    assert settings.discord_token is None
    assert settings.discord_api_url is None
    assert settings.discord_gateway_url is None
    assert settings.metadata_provider == "offline"
    assert settings.rawg_api_url == "https://api.rawg.io/api"
    assert settings.igdb_api_url == "https://api.igdb.com/v4"
    assert settings.log_level == "INFO"


def test_effective_database_url_follows_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")

    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path}/data/questrya.db"


def test_reads_the_env_file(isolated_environment: Path) -> None:
    write_env_file(
        isolated_environment,
        "QUESTRYA_DATA_DIR=/srv/questrya",
        "QUESTRYA_REDIS_URL=redis://cache:6379/1",
        "QUESTRYA_TELEGRAM_TOKEN=123:abc",
    )

    settings = load_settings()

    assert settings.data_dir == Path("/srv/questrya")
    assert settings.redis_url == "redis://cache:6379/1"
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == "123:abc"


def test_environment_beats_env_file(
    isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env_file(isolated_environment, "QUESTRYA_LOG_LEVEL=ERROR", "QUESTRYA_DATA_DIR=/from/file")
    monkeypatch.setenv("QUESTRYA_LOG_LEVEL", "DEBUG")

    settings = load_settings()

    assert settings.log_level == "DEBUG"
    assert settings.data_dir == Path("/from/file")


def test_empty_value_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUESTRYA_TELEGRAM_TOKEN", "")

    assert load_settings().telegram_token is None


def test_unknown_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUESTRYA_TEST_POSTGRES_URL", "postgresql://localhost/test")

    assert load_settings().database_url is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@db:5432/q", "postgresql+asyncpg://u@db:5432/q"),
        ("postgres://u@db/q", "postgresql+asyncpg://u@db/q"),
        ("postgresql+asyncpg://u@db/q", "postgresql+asyncpg://u@db/q"),
        ("sqlite:///data/q.db", "sqlite+aiosqlite:///data/q.db"),
        ("sqlite+aiosqlite:////abs/q.db", "sqlite+aiosqlite:////abs/q.db"),
    ],
)
def test_database_url_uses_the_async_driver(given: str, expected: str) -> None:
    settings = load_settings(database_url=given)

    assert settings.database_url == expected
    assert settings.effective_database_url == expected


def test_bad_database_url_says_which_forms_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUESTRYA_DATABASE_URL", "mysql://root@db/q")

    message = settings_error()

    assert message.startswith("QUESTRYA_DATABASE_URL: must start with sqlite+aiosqlite://")
    assert "postgresql+asyncpg://" in message
    assert '(got "mysql://root@db/q")' in message


def test_database_password_is_masked_in_the_error() -> None:
    message = settings_error(database_url=f"mysql://root:{SECRET}@db/q")

    assert SECRET not in message
    assert "mysql://root:***@db/q" in message


@pytest.mark.parametrize(
    "url", ["redis://cache:6379/0", "rediss://:pw@cache:6380/2", "unix:///run/redis.sock"]
)
def test_accepts_redis_urls(url: str) -> None:
    assert load_settings(redis_url=url).redis_url == url


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://cache:6379", "must be a redis://, rediss:// or unix:// URL"),
        ("cache:6379", "must be a redis://, rediss:// or unix:// URL"),
        ("redis://cache:port/0", "not a valid URL"),
        ("unix://", "needs the socket's path"),
    ],
)
def test_bad_redis_url(url: str, problem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUESTRYA_REDIS_URL", url)

    message = settings_error()

    assert message.startswith("QUESTRYA_REDIS_URL: ")
    assert problem in message


def test_telegram_max_rate_is_read_and_zero_means_no_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUESTRYA_TELEGRAM_MAX_RATE", "0")

    assert load_settings().telegram_max_rate == 0


def test_negative_telegram_max_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUESTRYA_TELEGRAM_MAX_RATE", "-5")

    assert settings_error() == (
        'QUESTRYA_TELEGRAM_MAX_RATE: input should be greater than or equal to 0 (got "-5")'
    )


def test_unknown_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUESTRYA_METADATA_PROVIDER", "foo")

    assert settings_error() == (
        'QUESTRYA_METADATA_PROVIDER: must be one of offline, rawg, igdb (got "foo")'
    )


def test_choices_ignore_case() -> None:
    settings = load_settings(metadata_provider="IGDB", igdb_client_id="id", igdb_client_secret="x")

    assert settings.metadata_provider == "igdb"
    assert load_settings(log_level="debug").log_level == "DEBUG"


def test_rawg_needs_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUESTRYA_METADATA_PROVIDER", "rawg")

    assert settings_error() == (
        "QUESTRYA_RAWG_API_KEY: required when QUESTRYA_METADATA_PROVIDER is rawg"
    )


def test_rawg_with_its_key() -> None:
    settings = load_settings(metadata_provider="rawg", rawg_api_key=SECRET)

    assert settings.rawg_api_key is not None
    assert settings.rawg_api_key.get_secret_value() == SECRET


def test_igdb_needs_id_and_secret() -> None:
    message = settings_error(metadata_provider="igdb")

    assert message == (
        "QUESTRYA_IGDB_CLIENT_ID: required when QUESTRYA_METADATA_PROVIDER is igdb; "
        "QUESTRYA_IGDB_CLIENT_SECRET: required when QUESTRYA_METADATA_PROVIDER is igdb"
    )


def test_several_errors_share_one_line() -> None:
    message = settings_error(
        telegram_api_url="ftp://bots", discord_gateway_url="https://gw", log_level="loud"
    )

    assert "\n" not in message
    assert message.split("; ") == [
        'QUESTRYA_TELEGRAM_API_URL: must be a http:// or https:// URL (got "ftp://bots")',
        'QUESTRYA_DISCORD_GATEWAY_URL: must be a ws:// or wss:// URL (got "https://gw")',
        'QUESTRYA_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR (got "loud")',
    ]


def test_secrets_never_appear_in_errors() -> None:
    message = settings_error(
        telegram_token=12345,
        discord_token=[SECRET],
        rawg_api_key={"key": SECRET},
        metadata_provider="rawg",
        redis_url=f"http://:{SECRET}@cache",
    )

    assert SECRET not in message
    assert "12345" not in message
    assert "QUESTRYA_TELEGRAM_TOKEN" in message
    assert "QUESTRYA_DISCORD_TOKEN" in message
    assert "QUESTRYA_RAWG_API_KEY" in message


def test_secrets_never_appear_in_repr() -> None:
    settings = load_settings(
        telegram_token=SECRET,
        discord_token=SECRET,
        metadata_provider="igdb",
        igdb_client_id="client",
        igdb_client_secret=SECRET,
        database_url=f"postgresql://questrya:{SECRET}@db/questrya",
        redis_url=f"redis://:{SECRET}@cache:6379/0",
    )

    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert "postgresql+asyncpg://questrya:***@db/questrya" in repr(settings)
    assert settings.database_url == f"postgresql+asyncpg://questrya:{SECRET}@db/questrya"


def test_settings_reads_the_environment_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUESTRYA_DISCORD_API_URL", "http://localhost:8080/api")

    assert Settings().discord_api_url == "http://localhost:8080/api"


def test_secret_values_lists_tokens_keys_and_url_passwords() -> None:
    settings = load_settings(
        telegram_token="telegram-secret",
        metadata_provider="rawg",
        rawg_api_key="rawg-secret",
        database_url="postgresql://questrya:db-secret@db/questrya",
        redis_url="redis://cache:6379/0",
    )

    assert sorted(settings.secret_values()) == ["db-secret", "rawg-secret", "telegram-secret"]
