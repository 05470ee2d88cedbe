"""Telegram's HTML parse mode: text plus entities, or a parse error like Telegram's."""

from __future__ import annotations

from dataclasses import dataclass, field

from .entities import Entity, sort_entities, trim

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = frozenset(" \t\r\n\f\v")


class HtmlParseError(ValueError):
    """The reason Telegram gives after ``can't parse entities:``."""


@dataclass
class ParsedText:
    """Plain text as a person sees it plus its entities (UTF-16 offsets)."""

    text: str
    entities: list[Entity] = field(default_factory=list)


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int


def decode_entity(source: str, start: int) -> tuple[str, int] | None:
    """Decode ``&...;`` at ``start``; return (character, index after it) or None."""
    n = len(source)
    i = start + 1
    if i < n and source[i] == "#":
        i += 1
        base = 10
        if i < n and source[i] in "xX":
            base = 16
            i += 1
        digits_start = i
        allowed = "0123456789abcdefABCDEF" if base == 16 else "0123456789"
        while i < n and source[i] in allowed:
            i += 1
        if i == digits_start or i >= n or source[i] != ";":
            return None
        code = int(source[digits_start:i], base)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code), i + 1
    name_start = i
    while i < n and source[i].isascii() and source[i].isalnum():
        i += 1
    if i >= n or source[i] != ";":
        return None
    char = _NAMED.get(source[name_start:i])
    return (char, i + 1) if char is not None else None


class _Parser:
    def __init__(self, source: str, strict_ampersand: bool) -> None:
        self.s = source
        self.n = len(source)
        self.strict_ampersand = strict_ampersand
        self.out: list[str] = []
        self.utf16 = 0
        self.stack: list[_Open] = []
        self.entities: list[Entity] = []

    def byte(self, index: int) -> int:
        return len(self.s[:index].encode("utf-8"))

    def emit(self, chars: str) -> None:
        self.out.append(chars)
        self.utf16 += len(chars) + sum(1 for ch in chars if ord(ch) > 0xFFFF)

    def run(self) -> ParsedText:
        s, i = self.s, 0
        while i < self.n:
            ch = s[i]
            if ch == "&":
                decoded = decode_entity(s, i)
                if decoded is not None:
                    self.emit(decoded[0])
                    i = decoded[1]
                    continue
                if self.strict_ampersand:
                    raise HtmlParseError(
                        f'Character "&" at byte offset {self.byte(i)} must be escaped as "&amp;"'
                    )
                self.emit("&")
                i += 1
            elif ch != "<":
                self.emit(ch)
                i += 1
            elif i + 1 < self.n and s[i + 1] == "/":
                i = self.end_tag(i)
            else:
                i = self.start_tag(i)
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        text, entities = trim("".join(self.out), self.entities)
        return ParsedText(text, sort_entities(entities))

    def skip_spaces(self, i: int) -> int:
        while i < self.n and self.s[i] in _SPACES:
            i += 1
        return i

    def start_tag(self, begin: int) -> int:
        s, n = self.s, self.n
        i = begin + 1
        while i < n and s[i] not in _SPACES and s[i] != ">":
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte(begin)}")
        tag = s[begin + 1 : i].lower()
        if tag not in SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {self.byte(begin)}')
        argument = ""
        while True:
            i = self.skip_spaces(i)
            if i >= n:
                raise HtmlParseError(
                    f'Unclosed start tag "{tag}" at byte offset {self.byte(begin)}'
                )
            if s[i] == ">":
                break
            name_start = i
            while i < n and s[i] not in _SPACES and s[i] not in "=>":
                i += 1
            name = s[name_start:i].lower()
            i = self.skip_spaces(i)
            if i >= n or s[i] != "=":
                if tag == "blockquote" and name == "expandable":
                    argument = "expandable"
                    continue
                raise HtmlParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {self.byte(begin)}'
                )
            i = self.skip_spaces(i + 1)
            if i >= n:
                raise HtmlParseError(
                    f'Unclosed start tag "{tag}" at byte offset {self.byte(begin)}'
                )
            value, i = self.attribute_value(i)
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte(begin)}")
            if (tag == "a" and name == "href") or (tag == "tg-emoji" and name == "emoji-id"):
                argument = value
            elif tag == "code" and name == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and name == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
        if tag == "span" and argument != "spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte(begin)}'
            )
        if tag == "tg-emoji" and not argument:
            raise HtmlParseError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {self.byte(begin)}'
            )
        self.stack.append(_Open(tag, argument, self.utf16))
        return i + 1

    def attribute_value(self, i: int) -> tuple[str, int]:
        s, n = self.s, self.n
        if s[i] not in "'\"":
            start = i
            while i < n and ((s[i].isascii() and s[i].isalnum()) or s[i] in ".-"):
                i += 1
            if i < n and s[i] not in _SPACES and s[i] != ">":
                raise HtmlParseError(
                    f"Unexpected end of name token at byte offset {self.byte(start)}"
                )
            return s[start:i].lower(), i
        quote = s[i]
        i += 1
        value: list[str] = []
        while i < n and s[i] != quote:
            if s[i] == "&":
                decoded = decode_entity(s, i)
                if decoded is not None:
                    value.append(decoded[0])
                    i = decoded[1]
                    continue
            value.append(s[i])
            i += 1
        if i < n:
            i += 1
        return "".join(value), i

    def end_tag(self, begin: int) -> int:
        s, n = self.s, self.n
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self.byte(begin)}")
        i = begin + 2
        while i < n and s[i] not in _SPACES and s[i] != ">":
            i += 1
        name = s[begin + 2 : i].lower()
        i = self.skip_spaces(i)
        if i >= n or s[i] != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {self.byte(begin)}")
        opened = self.stack[-1]
        if name and name != opened.tag:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self.byte(begin)}, "
                f'expected "</{opened.tag}>", found "</{name}>"'
            )
        self.stack.pop()
        self.close(opened)
        return i + 1

    def close(self, opened: _Open) -> None:
        length = self.utf16 - opened.offset
        if length <= 0:
            return
        entity: Entity = {"offset": opened.offset, "length": length}
        tag, argument = opened.tag, opened.argument
        if tag in _SIMPLE:
            entity["type"] = _SIMPLE[tag]
        elif tag == "a":
            if not argument:
                return
            entity["type"] = "text_link"
            entity["url"] = argument
        elif tag == "tg-emoji":
            entity["type"] = "custom_emoji"
            entity["custom_emoji_id"] = argument
        elif tag == "blockquote":
            entity["type"] = "expandable_blockquote" if argument else "blockquote"
        elif tag == "code":
            entity["type"] = "code"
            if argument:
                entity["language"] = argument
        elif tag == "pre":
            entity["type"] = "pre"
            last = self.entities[-1] if self.entities else None
            if (
                last is not None
                and last["type"] == "code"
                and last["offset"] == opened.offset
                and last["length"] == length
            ):
                self.entities.pop()
                if last.get("language"):
                    entity["language"] = last["language"]
        self.entities.append(entity)


def parse_html(source: str, *, strict_ampersand: bool = True) -> ParsedText:
    """Parse Telegram HTML; raise HtmlParseError with Telegram's kind of reason.

    With ``strict_ampersand`` a ``&`` that starts no valid entity is an error (Telegram
    itself keeps it literally; the bot must escape it anyway).
    """
    parser = _Parser(source, strict_ampersand)
    result = parser.run()
    for entity in result.entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return result


def plain(text: str) -> ParsedText:
    """Text without parse mode, trimmed like Telegram trims it."""
    trimmed, _ = trim(text, [])
    return ParsedText(trimmed, [])
