"""Keyboards: validating ``reply_markup`` like Telegram and the buttons a person sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import bad_request

InlineRows = list[list[dict[str, Any]]]

_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "web_app",
    "callback_game",
    "pay",
)


@dataclass(frozen=True)
class Button:
    """An inline button as a person sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ReplyKeyboard:
    """A custom reply keyboard shown under the input field."""

    rows: list[list[str]]
    one_time: bool = False
    resize: bool = False
    persistent: bool = False
    placeholder: str | None = None


@dataclass
class ParsedMarkup:
    """What a ``reply_markup`` parameter asked for."""

    inline: InlineRows | None = None
    reply_keyboard: ReplyKeyboard | None = None
    remove_keyboard: bool = False
    force_reply: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme in {"http", "https"} and parts.netloc:
        return
    if parts.scheme == "tg" and (parts.netloc or parts.path):
        return
    raise bad_request("BUTTON_URL_INVALID")


def _inline_button(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not raw["text"].strip():
        raise bad_request("text buttons are unallowed in the inline keyboard")
    actions = [key for key in _INLINE_ACTIONS if key in raw]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in raw:
        data = raw["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in raw:
        if not isinstance(raw["url"], str):
            raise bad_request("BUTTON_URL_INVALID")
        _check_url(raw["url"])
    return dict(raw)


def _keyboard_text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict) and isinstance(raw.get("text"), str):
        return str(raw["text"])
    raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')


def parse_reply_markup(value: Any) -> ParsedMarkup:
    """Validate a decoded ``reply_markup`` object; raise ApiError like Telegram."""
    if value is None:
        return ParsedMarkup()
    if not isinstance(value, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value:
        rows = value["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard markup JSON object")
        parsed = [[_inline_button(button) for button in row] for row in rows]
        parsed = [row for row in parsed if row]
        if sum(len(row) for row in parsed) > 100:
            raise bad_request("reply markup is too long")
        return ParsedMarkup(inline=parsed or None, raw=value)
    if "keyboard" in value:
        rows = value["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse keyboard markup JSON object")
        keyboard = ReplyKeyboard(
            rows=[[_keyboard_text(button) for button in row] for row in rows if row],
            one_time=bool(value.get("one_time_keyboard")),
            resize=bool(value.get("resize_keyboard")),
            persistent=bool(value.get("is_persistent")),
            placeholder=value.get("input_field_placeholder"),
        )
        return ParsedMarkup(reply_keyboard=keyboard, raw=value)
    if value.get("remove_keyboard"):
        return ParsedMarkup(remove_keyboard=True, raw=value)
    if value.get("force_reply"):
        return ParsedMarkup(force_reply=True, raw=value)
    raise bad_request("can't parse reply keyboard markup JSON object")


def buttons_of(rows: InlineRows | None) -> list[list[Button]]:
    """The inline keyboard as rows of :class:`Button`."""
    return [
        [Button(b["text"], b.get("callback_data"), b.get("url")) for b in row] for row in rows or []
    ]
