"""Translations: gettext catalogs under ``locales/``, Indonesian first, English second.

Message ids in the code are English; ``locales/id`` holds the Indonesian (the default
language) and ``locales/en`` the English catalog. Catalogs are read straight from the ``.po``
files with Babel and compiled in memory, so a fresh clone runs in both languages with no
manual compile step. Translate first, then ``.format()`` — never f-strings inside ``_()``.
"""

from __future__ import annotations

import gettext
import io
import os
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.i18n_message import N_, Message

DEFAULT_LANGUAGE = "id"
LANGUAGES: tuple[str, ...] = ("id", "en")
DOMAIN = "messages"


def locales_dir() -> Path:
    """Where the catalogs live: ``$SOPBOT_LOCALES_DIR`` or ``locales/`` beside the package."""
    env = os.environ.get("SOPBOT_LOCALES_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "locales"


def normalize_language(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Map a Telegram ``language_code`` ("en-US", "id") to a language we have, else default."""
    if code:
        base = code.replace("_", "-").split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return default


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog for a language (NullTranslations when there is none)."""
    po = locales_dir() / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class Translator:
    """Translation functions bound to one language."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = normalize_language(language)
        self._t = translations(self.language)

    def gettext(self, message: str) -> str:
        """Translate one message."""
        return self._t.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate a message whose form depends on the number `n`."""
        return self._t.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        """Translate a message in a context (for short words that differ by use)."""
        return self._t.pgettext(context, message)


def translator(language: str | None = None) -> Translator:
    """A translator for `language`, else ``$SOPBOT_LANGUAGE``, else Indonesian."""
    return Translator(language or os.environ.get("SOPBOT_LANGUAGE") or DEFAULT_LANGUAGE)


__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "N_", "Message", "Translator", "locales_dir",
           "normalize_language", "translations", "translator"]
