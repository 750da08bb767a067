"""Catalogs: every message in the code is translated in both languages, placeholders intact."""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, Translator, normalize_language
from tests.support.paths import ROOT

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
            "N_": None}
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([a-z_]+\)s")


def code_messages() -> set[str | tuple[str, ...]]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=[("bot/**.py", "python")], keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalog(lang: str):
    with (ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated(lang: str) -> None:
    cat = catalog(lang)
    translated = {}
    for m in cat:
        if not m.id:
            continue
        key = m.id if isinstance(m.id, str) else tuple(m.id)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if all(strings) and "fuzzy" not in m.flags:
            translated[key] = strings
    missing = sorted(map(str, code_messages() - set(translated)))
    assert not missing, f"{lang}: untranslated or missing from the catalog: {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_placeholders(lang: str) -> None:
    for m in catalog(lang):
        if not m.id:
            continue
        ids = (m.id,) if isinstance(m.id, str) else m.id
        strings = (m.string,) if isinstance(m.string, str) else m.string
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for s in strings:
            if not s:
                continue  # untranslated: the test above reports it
            assert set(PLACEHOLDER.findall(s)) == expected, f"{lang}: {ids[0]!r} -> {s!r}"


def test_plural_forms() -> None:
    assert catalog("id").num_plurals == 1  # Indonesian has no grammatical plural
    assert catalog("en").num_plurals == 2
    en, id_ = Translator("en"), Translator("id")
    one, many = "{n} problem found:", "{n} problems found:"
    assert en.ngettext(one, many, 1).format(n=1) == "1 problem found:"
    assert en.ngettext(one, many, 3).format(n=3) == "3 problems found:"
    assert id_.ngettext(one, many, 1).format(n=1) == "Ditemukan 1 masalah:"
    assert id_.ngettext(one, many, 3).format(n=3) == "Ditemukan 3 masalah:"


def test_language_resolution() -> None:
    assert normalize_language("en-US") == "en"
    assert normalize_language("id") == "id"
    assert normalize_language("fr") == "id"
    assert normalize_language(None, default="en") == "en"
    assert Translator("id").gettext("Total time: {total}") == "Jumlah waktu: {total}"
