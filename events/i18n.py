"""Languages: catalogues compiled when they are loaded, and how a person's locale is chosen.

The ``.po`` files in ``locales/`` are the only source. They are compiled in memory at start-up,
so a stale ``.mo`` can never be shipped or loaded.
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = ("id", "en")
DOMAIN = "messages"


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

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for locale in LOCALES:
            po_path = self.path / locale / "LC_MESSAGES" / f"{self.domain}.po"
            with po_path.open("rb") as po:
                catalog = read_po(po, locale=locale, domain=self.domain)
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
