"""Languages: catalogues compiled when they are loaded, and how a person's locale is chosen.

The ``.po`` files in ``locales/`` are the only source. They are compiled in memory at start-up,
so a stale ``.mo`` can never be shipped or loaded.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as translate
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = ("id", "en")
DOMAIN = "messages"


class Html(str):
    """Text that is already Telegram HTML (built with aiogram.html): not escaped again."""

    __slots__ = ()


def html_(message: str, /, **values: object) -> Html:
    """A catalogue message for an HTML message: the translation and every value escaped.

    Translations are plain text; Telegram would refuse a stray ``&`` or ``<`` (or show it
    wrongly), and user-supplied values must never become markup.
    """
    escaped = {
        name: value if isinstance(value, Html) else html.quote(str(value))
        for name, value in values.items()
    }
    return Html(html.quote(translate(message)).format(**escaped))


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated later, where its locale is known."""
    return message


def locales_dir() -> Path:
    """The catalogues: inside the installed package, or at the top of a source checkout."""
    packaged = Path(__file__).parent / "locales"
    if packaged.is_dir():
        return packaged
    return Path(__file__).parent.parent / "locales"


class CatalogueI18n(I18n):
    """aiogram's I18n reading ``.po`` catalogues directly (fuzzy entries are left out)."""

    @contextmanager
    def context(self) -> Iterator[I18n]:
        # aiogram's gettext looks the instance up on I18n itself, not on a subclass.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return dict(catalogues())


@functools.cache
def catalogues() -> dict[str, gettext.GNUTranslations]:
    """Every locale's catalogue, compiled from its ``.po`` once per process."""
    translations: dict[str, gettext.GNUTranslations] = {}
    for locale in LOCALES:
        po_path = locales_dir() / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        with po_path.open("rb") as po:
            catalog = read_po(po, locale=locale, domain=DOMAIN)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        translations[locale] = gettext.GNUTranslations(compiled)
    return translations


def build_i18n(default_locale: str) -> CatalogueI18n:
    return CatalogueI18n(path=locales_dir(), default_locale=default_locale, domain=DOMAIN)


def locale_for(chosen: str | None, language_code: str | None, default: str) -> str:
    """A person's own choice first, then their Telegram app's language, then the default."""
    if chosen in LOCALES:
        return chosen
    code = (language_code or "").lower()
    for locale in LOCALES:
        if code == locale or code.startswith(f"{locale}-") or code.startswith(f"{locale}_"):
            return locale
    return default
