"""Questrya's settings: one object read from QUESTRYA_* environment variables and `.env`.

`load_settings()` is the entry point: it turns pydantic's multi-line validation report into one
line that names each bad variable and never repeats a secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict
from redis import ConnectionPool

from questrya.common.text import shorten

ENV_PREFIX = "QUESTRYA_"
ECHOED_INPUT_LIMIT = 80

MetadataProvider = Literal["offline", "rawg", "igdb"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

ASYNC_DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
# The usual sync spellings, rewritten so a URL copied from a hosting dashboard just works.
SYNC_DATABASE_SCHEMES = {
    "postgresql://": "postgresql+asyncpg://",
    "postgres://": "postgresql+asyncpg://",
    "sqlite://": "sqlite+aiosqlite://",
}
REDIS_SCHEMES = ("redis", "rediss", "unix")
HTTP_SCHEMES = ("http", "https")
WEBSOCKET_SCHEMES = ("ws", "wss")
# Credentials a metadata provider cannot work without.
PROVIDER_CREDENTIALS = {
    "rawg_api_key": "rawg",
    "igdb_client_id": "igdb",
    "igdb_client_secret": "igdb",
}


class SettingsError(Exception):
    """The settings are invalid; the message is one line naming every bad variable."""


class Settings(BaseSettings):
    """Everything Questrya reads from QUESTRYA_* variables or `.env`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        extra="ignore",
        # `QUESTRYA_RAWG_API_KEY=` copied from .env.example means "unset", not "empty key".
        env_ignore_empty=True,
        str_strip_whitespace=True,
    )

    data_dir: Path = Path(".questrya")
    database_url: str | None = None
    redis_url: str | None = None
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_listen: str = "0.0.0.0"  # noqa: S104 - a webhook must accept outside calls
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_webhook_secret: SecretStr | None = None
    # Messages a second the bot sends overall: Telegram's limit; 0 for no limit of its own.
    telegram_max_rate: float = Field(default=30.0, ge=0)
    discord_token: SecretStr | None = None
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None
    discord_guild_id: int | None = None  # sync commands to this one server (development)
    metadata_provider: MetadataProvider = "offline"
    rawg_api_key: SecretStr | None = Field(default=None, validate_default=True)
    rawg_api_url: str = "https://api.rawg.io/api"
    igdb_client_id: str | None = Field(default=None, validate_default=True)
    igdb_client_secret: SecretStr | None = Field(default=None, validate_default=True)
    igdb_api_url: str = "https://api.igdb.com/v4"
    log_level: LogLevel = "INFO"
    nightly_refresh_time: time = time(3, 0)  # UTC
    console_wait_seconds: float = Field(default=20.0, ge=0, le=600)

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the SQLite file in the data dir."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'questrya.db'}"

    @field_validator("metadata_provider", "log_level", mode="before")
    @classmethod
    def _ignore_choice_case(cls, value: object, info: ValidationInfo) -> object:
        choices = get_args(cls.model_fields[str(info.field_name)].annotation)
        return _matching_choice(value, choices)

    @field_validator("database_url")
    @classmethod
    def _use_async_driver(cls, url: str | None) -> str | None:
        return None if url is None else async_database_url(url)

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, url: str | None) -> str | None:
        if url is not None:
            check_redis_url(url)
        return url

    @field_validator("telegram_api_url", "discord_api_url", "rawg_api_url", "igdb_api_url")
    @classmethod
    def _check_http_url(cls, url: str | None) -> str | None:
        if url is not None:
            check_url(url, HTTP_SCHEMES)
        return url

    @field_validator("discord_gateway_url")
    @classmethod
    def _check_websocket_url(cls, url: str | None) -> str | None:
        if url is not None:
            check_url(url, WEBSOCKET_SCHEMES)
        return url

    @field_validator(*PROVIDER_CREDENTIALS)
    @classmethod
    def _require_provider_credentials(
        cls, value: str | SecretStr | None, info: ValidationInfo
    ) -> str | SecretStr | None:
        provider = PROVIDER_CREDENTIALS[str(info.field_name)]
        if info.data.get("metadata_provider") == provider and _is_blank(value):
            raise ValueError(f"required when {env_name('metadata_provider')} is {provider}")
        return value

    def secret_values(self) -> list[str]:
        """Every configured secret, passwords inside URLs included, so logs can scrub them."""
        secrets = [getattr(self, name) for name in sorted(SECRET_FIELDS)]
        values = [secret.get_secret_value() for secret in secrets if secret is not None]
        passwords = [_url_password(url) for url in (self.database_url, self.redis_url) if url]
        return [value for value in (*values, *passwords) if value]

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Pydantic's repr arguments, with passwords inside URLs masked like SecretStr."""
        for name, value in super().__repr_args__():
            yield name, redact_url_password(value) if isinstance(value, str) else value


# Fields whose input is never echoed back, even when it is invalid.
SECRET_FIELDS = frozenset(
    name
    for name, field in Settings.model_fields.items()
    if SecretStr in (field.annotation, *get_args(field.annotation))
)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings (keyword overrides beat env and `.env`); raise SettingsError if bad."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        # `from None`: pydantic's report quotes raw inputs, which may hold tokens or passwords.
        raise SettingsError(describe_validation_error(error)) from None


def describe_validation_error(error: ValidationError) -> str:
    """One line naming each bad variable and what is wrong with it, secrets left out."""
    return "; ".join(_describe(detail) for detail in error.errors(include_url=False))


def env_name(field_name: str) -> str:
    """The environment variable that sets `field_name`."""
    return f"{ENV_PREFIX}{field_name.upper()}"


def async_database_url(url: str) -> str:
    """`url` with a sync SQLAlchemy scheme rewritten to its async driver; ValueError if unknown."""
    for sync_scheme, async_scheme in SYNC_DATABASE_SCHEMES.items():
        if url.startswith(sync_scheme):
            url = async_scheme + url.removeprefix(sync_scheme)
            break
    if not url.startswith(ASYNC_DATABASE_SCHEMES):
        raise ValueError(
            "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            " (postgresql://, postgres:// and sqlite:// are also accepted)"
        )
    check_url(url, ("sqlite+aiosqlite", "postgresql+asyncpg"), needs_host=False)
    return url


def check_redis_url(url: str) -> None:
    """Raise ValueError unless `url` is a redis://, rediss:// or unix:// URL redis-py can use."""
    check_url(url, REDIS_SCHEMES, needs_host=False)
    if url.startswith("unix:") and not urlsplit(url).path:
        raise ValueError("a unix:// URL needs the socket's path, e.g. unix:///run/redis.sock")
    try:
        # Redis's own URL parser, so what passes here is what `redis.from_url` will accept.
        ConnectionPool.from_url(url)
    except ValueError as error:
        raise ValueError(f"not a valid Redis URL ({error})") from None


def check_url(url: str, schemes: tuple[str, ...], *, needs_host: bool = True) -> None:
    """Raise ValueError unless `url` parses, uses one of `schemes` and (if asked) names a host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading the port is what validates it
    except ValueError as error:
        raise ValueError(f"not a valid URL ({error})") from None
    if parts.scheme not in schemes or (needs_host and not parts.hostname):
        raise ValueError(f"must be a {_one_of([f'{scheme}://' for scheme in schemes])} URL")


def redact_url_password(text: str) -> str:
    """`text` with the password of a URL replaced by ***, so it is safe to print."""
    try:
        parts = urlsplit(text)
        password = parts.password
    except ValueError:
        return text if "@" not in text else "<unparseable URL>"
    if not password:
        return text
    user_info, _, host_info = parts.netloc.rpartition("@")
    user = user_info.partition(":")[0]
    return parts._replace(netloc=f"{user}:***@{host_info}").geturl()


def _url_password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def _describe(detail: ErrorDetails) -> str:
    if not detail["loc"]:
        return detail["msg"]
    field_name = str(detail["loc"][0])
    line = f"{env_name(field_name)}: {_problem(field_name, detail)}"
    if field_name in SECRET_FIELDS or detail["input"] is None:
        return line
    one_line_input = " ".join(redact_url_password(str(detail["input"])).split())
    return f'{line} (got "{shorten(one_line_input, ECHOED_INPUT_LIMIT)}")'


def _problem(field_name: str, detail: ErrorDetails) -> str:
    if detail["type"] == "literal_error":
        choices = get_args(Settings.model_fields[field_name].annotation)
        return "must be one of " + ", ".join(choices)
    cause = detail.get("ctx", {}).get("error")
    message = str(cause) if isinstance(cause, ValueError) else detail["msg"]
    return message[:1].lower() + message[1:]


def _matching_choice(value: object, choices: tuple[str, ...]) -> object:
    """The choice `value` names, ignoring case; else `value`, so an error quotes what was typed."""
    if isinstance(value, str):
        for choice in choices:
            if value.strip().casefold() == choice.casefold():
                return choice
    return value


def _one_of(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _is_blank(value: str | SecretStr | None) -> bool:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return not value
