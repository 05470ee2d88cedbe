"""Settings: the only place the environment is read."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_URL = "https://api.telegram.org"
ENV_PREFIX = "EVENTS_"
# Telegram's rule for setWebhook's secret_token.
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


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
    # How many times faster than real time the Bot API server counts its flood limits: 1 for
    # Telegram; a test server may run them sped up (the tests' emulator does).
    limits_scale: float = Field(default=1.0, gt=0, le=1000)
    delivery_lease: float = Field(default=60.0, ge=5, le=86400)  # seconds
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
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

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme == "http" and parts.hostname in LOOPBACK:
            return value.strip()
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(
                f"{value.strip()!r} is not an https:// URL (http:// only for a loopback address)"
            )
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            # The secret itself is never repeated: the message goes to the terminal and logs.
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - only")
        return value

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

    @property
    def webhook(self) -> tuple[str, str]:
        """The webhook's URL and secret; only `run --webhook` needs them, and needs both."""
        if self.webhook_url is None:
            raise ConfigError(
                f"{ENV_PREFIX}WEBHOOK_URL is not set: --webhook needs the public https:// URL "
                "Telegram posts updates to"
            )
        if self.webhook_secret is None:
            raise ConfigError(
                f"{ENV_PREFIX}WEBHOOK_SECRET is not set: --webhook needs a secret of 1-256 "
                "characters of A-Z, a-z, 0-9, _ and -"
            )
        return self.webhook_url, self.webhook_secret.get_secret_value()

    @property
    def webhook_path(self) -> str:
        """Where the webhook is served on the bot's own web server: the URL's path."""
        return urlsplit(self.webhook_url or "").path or "/"


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning any validation problem into one ConfigError line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "settings"
        reason = error["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{ENV_PREFIX}{field.upper()} is invalid: {reason}") from None
