"""Words of a message: tokens with their place in the text, normalised, stemmed, typo-corrected.

Two maintained libraries do the linguistic work:
- PySastrawi (the Sastrawi stemmer: a dictionary of Indonesian root words and the
  Nazief-Adriani/ECS affix rules) takes "direvisi", "diperbaiki", "dikembalikan",
  "menyetujui" back to their roots. A dictionary-based stemmer is right here: a plain
  affix-stripping rule set would also take "baik" out of "bapak"-like words it does not know.
- rapidfuzz computes the edit distance (optimal string alignment, so a swap of two letters
  counts as one edit) for typos such as "stauts", "stetuju", "setjuu".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.understanding.lexicon import ABBREVIATIONS, AFFIXED_STEMS, FUZZY_TARGETS

# A word: letters and digits, with inner hyphens or apostrophes ("di-acc", "don't", "IKU-nya").
WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_YEAR_DIGITS = r"(?:19|20|21)\d\d"
YEAR = re.compile(f"^{_YEAR_DIGITS}$")
_REPEATS = re.compile(r"(.)\1{2,}")


@dataclass(frozen=True)
class Token:
    """One word of the message: where it stands, as typed (lowered) and as understood."""

    start: int
    end: int
    low: str  # lower case, accents removed, hyphens kept: "pk", "iku-nya"
    norm: str  # canonical meaning: "pak" for "pk", "setuju" for "disetujui"
    fuzzy: bool = False  # norm was reached by typo correction

    @property
    def is_year(self) -> bool:
        return bool(YEAR.match(self.low))


def fold(text: str) -> str:
    """Lower case without accents ("Engké" → "engke")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory  # type: ignore[import-untyped]

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """The Indonesian root of `word`, also for the Javanese/Sundanese/colloquial suffixes
    -ken, -keun and -in that the stemmer does not know ("dilanjutken", "diperbaikin")."""
    root = _stemmer().stem(word)
    if root == word:
        for suffix in ("keun", "aken", "ken", "in"):
            if word.endswith(suffix) and len(word) > len(suffix) + 3:
                shorter = _stemmer().stem(word[: -len(suffix)])
                if shorter != word[: -len(suffix)] or shorter in AFFIXED_STEMS:
                    return shorter
    return root


def _max_edits(word: str) -> int:
    return 0 if len(word) < 5 else 1 if len(word) < 8 else 2


@lru_cache(maxsize=4096)
def canonical(low: str) -> tuple[str, bool]:
    """(canonical word, whether a typo was corrected) for one folded word."""
    word = _REPEATS.sub(r"\1", low)  # "setujuuu", "okeee"
    word = word.replace("-", "") if word.startswith("di-") else word  # "di-acc"
    if word in ABBREVIATIONS:
        return ABBREVIATIONS[word], False
    if word.endswith("nya") and word[:-3] in ABBREVIATIONS:
        return ABBREVIATIONS[word[:-3]], False
    if word.isalpha() and len(word) > 3:
        root = stem(word)
        if root != word and root in AFFIXED_STEMS:
            return AFFIXED_STEMS[root], False
        edits = _max_edits(word)
        if edits and word not in _KNOWN:
            hit = process.extractOne(word, FUZZY_TARGETS, scorer=OSA.distance,
                                     score_cutoff=edits)
            if hit is not None and hit[0] == word:  # a target itself, not a typo of one
                return word, False
            if hit is not None:
                return canonical(hit[0])[0], True
    return word, False


# Correct words that must never be "corrected" into a nearby decision word.
_KNOWN = frozenset({"selasa", "sesuai", "setiap", "setelah", "status", "statis", "mulia",
                    "revisi", "posisi", "situasi", "sampah", "sampai", "terima", "semua",
                    "sesuatu", "setuju", "selesai", "lanjut", "belum", "bantu", "bantuan"})


#: A word run into a year ("pk2025", "PDK2026"): read as the two words it stands for.
_GLUED_YEAR = re.compile(rf"[^\W\d_]+(?={_YEAR_DIGITS}$)")


def _words(text: str) -> Iterator[re.Match[str]]:
    """The words of `text`; a word run into a year comes as the word and the year."""
    for match in WORD.finditer(text):
        glued = _GLUED_YEAR.match(match.group())
        if glued is None:
            yield match
        else:
            split = match.start() + glued.end()
            yield from WORD.finditer(text, match.start(), split)
            yield from WORD.finditer(text, split, match.end())


def tokens(text: str) -> list[Token]:
    """The words of `text` in order, each with its span and canonical meaning."""
    result: list[Token] = []
    for match in _words(text):
        low = fold(match.group())
        norm, fuzzy = canonical(low)
        if low == "kasih" and result and result[-1].norm == "terima":  # thanks, not received
            result[-1] = Token(result[-1].start, result[-1].end, result[-1].low, "terimakasih")
            norm = "terimakasih"
        result.append(Token(match.start(), match.end(), low, norm, fuzzy))
    return result


def find_phrase(words: list[str], phrase: tuple[str, ...], start: int = 0) -> int:
    """Index of the first occurrence of `phrase` in `words` at or after `start`, or -1."""
    n = len(phrase)
    for i in range(start, len(words) - n + 1):
        if tuple(words[i:i + n]) == phrase:
            return i
    return -1
