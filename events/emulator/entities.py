"""Message entities: UTF-16 arithmetic, auto-detection, trimming and rendering back to HTML."""

from __future__ import annotations

import html as _html
import re
from typing import Any

Entity = dict[str, Any]

TRIMMED = " \t\r\n"

_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w@])")
_HASHTAG = re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_URL = re.compile(r"(?<![\w@/])(?:https?://|t\.me/)[^\s<>\"]+", re.IGNORECASE)
_URL_TAIL = ".,;:!?)'"


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the way Telegram counts."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of ``text`` at a UTF-16 ``offset`` and ``length``."""
    raw = text.encode("utf-16-le")
    return raw[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


def _utf16_offsets(text: str) -> list[int]:
    """UTF-16 offset of every code point index (plus the end)."""
    offsets = [0]
    for ch in text:
        offsets.append(offsets[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return offsets


def sort_entities(entities: list[Entity]) -> list[Entity]:
    """Order like Telegram: by offset, longer (outer) first; stable otherwise."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip leading and trailing whitespace and shift/clip the entities to match."""
    stripped_left = text.lstrip(TRIMMED)
    left = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(TRIMMED)
    total = utf16_len(result)
    fixed: list[Entity] = []
    for entity in entities:
        start = max(0, entity["offset"] - left)
        end = min(entity["offset"] + entity["length"] - left, total)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return result, fixed


def detect_entities(text: str, bot_username: str | None = None) -> list[Entity]:
    """Entities Telegram finds by itself: commands, mentions, hashtags, URLs, e-mails."""
    offsets = _utf16_offsets(text)
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, start: int, end: int) -> None:
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            return
        taken.append((start, end))
        found.append(
            {"type": kind, "offset": offsets[start], "length": offsets[end] - offsets[start]}
        )

    for match in _URL.finditer(text):
        end = match.end()
        while end > match.start() and text[end - 1] in _URL_TAIL:
            end -= 1
        add("url", match.start(), end)
    for match in _EMAIL.finditer(text):
        add("email", match.start(), match.end())
    for match in _COMMAND.finditer(text):
        add("bot_command", match.start(), match.end())
    for match in _MENTION.finditer(text):
        add("mention", match.start(), match.end())
    for match in _HASHTAG.finditer(text):
        add("hashtag", match.start(), match.end())
    return sort_entities(found)


def merge_detected(text: str, entities: list[Entity]) -> list[Entity]:
    """Add auto-detected entities that do not overlap code, pre or links already present."""
    blocking = [
        (e["offset"], e["offset"] + e["length"])
        for e in entities
        if e["type"] in {"code", "pre", "text_link", "text_mention", "url", "email"}
    ]
    extra = [
        e
        for e in detect_entities(text)
        if not any(
            e["offset"] < end and start < e["offset"] + e["length"] for start, end in blocking
        )
    ]
    return sort_entities([*entities, *extra])


def command_of(text: str, entities: list[Entity]) -> str | None:
    """The leading ``/command[@bot]`` of a message, if it starts with one."""
    for entity in entities:
        if entity["type"] == "bot_command" and entity["offset"] == 0:
            return utf16_slice(text, 0, entity["length"])
    return None


def _open_tag(entity: Entity) -> tuple[str, str] | None:
    kind = entity["type"]
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "spoiler": "tg-spoiler",
        "code": "code",
        "blockquote": "blockquote",
    }
    if kind in simple:
        tag = simple[kind]
        return f"<{tag}>", f"</{tag}>"
    if kind == "expandable_blockquote":
        return "<blockquote expandable>", "</blockquote>"
    if kind == "pre":
        language = entity.get("language")
        if language:
            lang = _html.escape(language)
            return f'<pre><code class="language-{lang}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "text_link":
        return f'<a href="{_html.escape(entity["url"])}">', "</a>"
    if kind == "text_mention":
        return f'<a href="tg://user?id={entity["user"]["id"]}">', "</a>"
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{_html.escape(entity["custom_emoji_id"])}">', "</tg-emoji>"
    return None


def to_html(text: str, entities: list[Entity]) -> str:
    """Render plain text plus entities as Telegram HTML (properly nested)."""
    offsets = _utf16_offsets(text)
    index_of = {u: i for i, u in enumerate(offsets)}
    spans: list[tuple[int, int, str, str]] = []
    for entity in sort_entities(entities):
        tags = _open_tag(entity)
        start = index_of.get(entity["offset"])
        end = index_of.get(entity["offset"] + entity["length"])
        if tags is not None and start is not None and end is not None and end > start:
            spans.append((start, end, *tags))
    out: list[str] = []
    stack: list[tuple[int, int, str, str]] = []
    pending = list(spans)
    for position in range(len(text) + 1):
        closing = [s for s in stack if s[1] == position]
        if closing:
            reopen: list[tuple[int, int, str, str]] = []
            while closing:
                top = stack.pop()
                out.append(top[3])
                if top in closing:
                    closing.remove(top)
                else:
                    reopen.append(top)
            for span in reversed(reopen):
                out.append(span[2])
                stack.append(span)
        while pending and pending[0][0] == position:
            span = pending.pop(0)
            out.append(span[2])
            stack.append(span)
        if position < len(text):
            out.append(_html.escape(text[position], quote=False))
    return "".join(out)
