"""Reading Bot API parameters from query strings, forms, multipart bodies and JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .errors import bad_request

JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "allowed_updates",
        "commands",
        "scope",
    }
)
INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "message_thread_id",
        "reply_to_message_id",
        "cache_time",
        "max_connections",
    }
)
BOOL_FIELDS = frozenset(
    {
        "protect_content",
        "disable_notification",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "allow_paid_broadcast",
    }
)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart body."""

    filename: str
    content: bytes
    content_type: str | None = None

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {len(self.content)} bytes)"


@dataclass
class Params:
    """Decoded parameters of one call, with typed accessors that fail like Telegram."""

    values: dict[str, Any] = field(default_factory=dict)
    invalid_json: set[str] = field(default_factory=set)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def get_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)

    def get_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in _TRUE
        return bool(value)

    def obj(self, name: str, what: str) -> Any:
        """A nested JSON object (None when absent); ``what`` names it in the error."""
        if name in self.invalid_json:
            raise bad_request(f"can't parse {what} JSON object")
        return self.values.get(name)

    def chat_ref(self, name: str = "chat_id") -> int | str:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        return value if isinstance(value, int) else str(value)


def _decode(name: str, value: Any, invalid: set[str]) -> Any:
    if not isinstance(value, str):
        return value
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            invalid.add(name)
            return value
    if name in INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value
    if name in BOOL_FIELDS:
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return value


async def read_params(request: web.Request) -> Params:
    """All parameters of a request: query string first, then the body."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
            raw.update(body)
        elif content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = Upload(value.filename, value.file.read(), value.content_type)
                else:
                    raw[key] = value
    params = Params()
    attached: set[str] = set()
    for key, value in raw.items():
        if isinstance(value, str) and value.startswith("attach://"):
            name = value[len("attach://") :]
            attached.add(name)
            params.values[key] = files.get(name, value)
        else:
            params.values[key] = _decode(key, value, params.invalid_json)
    for key, upload in files.items():
        if key not in attached and key not in params.values:
            params.values[key] = upload
    return params
