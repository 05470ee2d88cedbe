"""Both catalogues are complete: every message of the code, translated, same placeholders."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from events.i18n import LOCALES
from tests.services import command

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    messages = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map
    ):
        messages.add(message if isinstance(message, str) else message[0])
    return messages


def translated(string: str | tuple[str, ...]) -> bool:
    """A translation, with every plural form filled in."""
    return all(string) if isinstance(string, tuple) else bool(string)


def catalogue(locale: str):
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(locale: str) -> None:
    messages = extracted()
    assert len(messages) > 10  # the extraction itself worked
    entries = {
        message.id[0] if isinstance(message.id, tuple) else message.id: message
        for message in catalogue(locale)
        if message.id
    }
    missing = sorted(messages - entries.keys())
    assert not missing, f"not in locales/{locale}: {missing}"
    untranslated = sorted(m for m in messages if not translated(entries[m].string))
    assert not untranslated, f"untranslated in locales/{locale}: {untranslated}"
    fuzzy = sorted(m for m in messages if entries[m].fuzzy)
    assert not fuzzy, f"fuzzy in locales/{locale}: {fuzzy}"


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_match(locale: str) -> None:
    for message in catalogue(locale):
        if not message.id or not translated(message.string):
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(ids[0]))
        for original in ids:
            assert sorted(PLACEHOLDER.findall(original)) == expected, f"{locale}: {ids!r}"
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == expected, (
                f"{locale}: {ids[0]!r} -> {string!r}"
            )


@pytest.mark.parametrize("locale", LOCALES)
def test_gettext_and_babel_checkers_are_happy(locale: str) -> None:
    path = ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po"
    problems = [(message.id, errors) for message, errors in catalogue(locale).check() if errors]
    assert not problems
    msgfmt = command("msgfmt", "gettext")
    result = subprocess.run(
        [msgfmt, "-c", "-o", "/dev/null", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr
