"""Settings: the only place the environment is read."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_URL = "https://api.telegram.org"
ENV_PREFIX = "EVENTS_"


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///events.db"
    telegram_api_url: str = TELEGRAM_API_URL
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_locale: Literal["id", "en"] = "id"
    default_timezone: str = "Asia/Jakarta"
    redis_url: str | None = None
    send_rate: float = Field(default=25.0, gt=0)
    metrics_token: SecretStr | None = None

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",")]
            return frozenset(int(part) for part in parts if part)
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("telegram_api_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _async_url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("must be an SQLAlchemy URL such as sqlite+aiosqlite:///events.db")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None  # empty: /metrics stays off
        if len(value.get_secret_value().strip()) < 16:
            raise ValueError("must be at least 16 characters (e.g. `openssl rand -hex 16`)")
        return SecretStr(value.get_secret_value().strip())

    @model_validator(mode="after")
    def _default_public_url(self) -> Settings:
        if self.public_url is None:
            self.public_url = f"http://{self.http_host}:{self.http_port}"
        return self

    @property
    def token(self) -> str:
        """The bot token; only `run` needs it, so it is checked when asked for."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise ConfigError(
                f"{ENV_PREFIX}BOT_TOKEN is not set: put the token from BotFather there"
            )
        return self.bot_token.get_secret_value().strip()


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning any validation problem into one ConfigError line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "settings"
        reason = error["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{ENV_PREFIX}{field.upper()} is invalid: {reason}") from None
