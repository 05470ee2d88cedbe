"""Settings are read from the environment (and .env) in one place; mistakes are one clear line."""

from __future__ import annotations

import pytest

from events.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///events.db"
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.public_url == "http://127.0.0.1:8080"
    assert settings.admin_ids == frozenset()
    assert settings.default_locale == "id"
    assert settings.default_timezone == "Asia/Jakarta"
    assert settings.redis_url is None


def test_admin_ids_are_written_as_people_write_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_ADMIN_IDS", "1, 2,3")
    assert load_settings().admin_ids == frozenset({1, 2, 3})


def test_public_url_follows_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_HTTP_HOST", "0.0.0.0")
    monkeypatch.setenv("EVENTS_HTTP_PORT", "9000")
    assert load_settings().public_url == "http://0.0.0.0:9000"


def test_dotenv_file_is_read(tmp_path) -> None:
    (tmp_path / ".env").write_text("EVENTS_BOT_TOKEN=42:abc\nEVENTS_DEFAULT_LOCALE=en\n")
    settings = load_settings()
    assert settings.token == "42:abc"
    assert settings.default_locale == "en"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_IDS", "1,two"),
        ("DEFAULT_LOCALE", "fr"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("HTTP_PORT", "eighty"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("DATABASE_URL", "events.db"),
    ],
)
def test_a_malformed_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(f"EVENTS_{name}", value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(f"EVENTS_{name} is invalid")
    assert "\n" not in message


def test_the_token_is_required_only_when_asked_for() -> None:
    settings = load_settings()
    with pytest.raises(ConfigError, match="EVENTS_BOT_TOKEN is not set"):
        _ = settings.token


def test_the_webhook_needs_its_url_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    with pytest.raises(ConfigError, match=r"^EVENTS_WEBHOOK_URL is not set"):
        settings.webhook  # noqa: B018
    monkeypatch.setenv("EVENTS_WEBHOOK_URL", "https://events.example.org/telegram/hook")
    with pytest.raises(ConfigError, match=r"^EVENTS_WEBHOOK_SECRET is not set"):
        load_settings().webhook  # noqa: B018
    monkeypatch.setenv("EVENTS_WEBHOOK_SECRET", "A-z_09" * 4)
    settings = load_settings()
    assert settings.webhook == ("https://events.example.org/telegram/hook", "A-z_09" * 4)
    assert settings.webhook_path == "/telegram/hook"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://events.example.org/hook", True),
        ("http://127.0.0.1:8080/hook", True),
        ("http://localhost:8080/hook", True),
        ("http://[::1]:8080/hook", True),
        ("http://events.example.org/hook", False),
        ("ftp://events.example.org/hook", False),
        ("events.example.org/hook", False),
        ("https:///hook", False),
    ],
)
def test_the_webhook_url_is_https_unless_loopback(
    monkeypatch: pytest.MonkeyPatch, url: str, ok: bool
) -> None:
    monkeypatch.setenv("EVENTS_WEBHOOK_URL", url)
    if ok:
        assert load_settings().webhook_url == url
        return
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("EVENTS_WEBHOOK_URL is invalid:")
    assert url in message
    assert "\n" not in message


@pytest.mark.parametrize("secret", ["has space", "ünïcode", "x" * 257, "semi;colon"])
def test_a_webhook_secret_outside_telegrams_alphabet_is_refused(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("EVENTS_WEBHOOK_SECRET", secret)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("EVENTS_WEBHOOK_SECRET is invalid: must be 1-256 characters")
    assert secret not in message  # a secret is never repeated


def test_the_metrics_token_is_off_empty_or_long_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().metrics_token is None
    monkeypatch.setenv("EVENTS_METRICS_TOKEN", "")
    assert load_settings().metrics_token is None
    monkeypatch.setenv("EVENTS_METRICS_TOKEN", "short")
    with pytest.raises(ConfigError, match="EVENTS_METRICS_TOKEN is invalid: must be at least 16"):
        load_settings()
    monkeypatch.setenv("EVENTS_METRICS_TOKEN", " 0123456789abcdef0123 ")
    token = load_settings().metrics_token
    assert token is not None
    assert token.get_secret_value() == "0123456789abcdef0123"
    assert "0123456789abcdef" not in repr(load_settings())
