"""A date as an official writes it in a reply: "15-01-2026", "2/1/26", "2 Januari 2026",
"tgl 2 jan bu", "28 des".

Only a message that is a date and nothing else is read as one: before it, words that name
it ("tgl", "tanggal", "pada") or greet; after it, a greeting or "ya". Anything more ("kira-kira
2 jan", "2 jan atau 3 jan", "sebelum 2 jan") is not a date, and the bot asks again rather
than guess. Without a year, the date is the latest one not after `today` ("28 des" written on
5 January 2026 is 28 December 2025): the answer the bot gives shows the whole date.
"""

from __future__ import annotations

import re
from datetime import date

from bot.understanding.lexicon import THANKS
from bot.understanding.words import fold, tokens

#: Month names and their usual short forms, Indonesian and English ("peb", "agt", "nop":
#: as they are still written in offices).
MONTHS: dict[str, int] = {
    **dict.fromkeys(("januari", "january", "jan"), 1),
    **dict.fromkeys(("februari", "pebruari", "february", "feb", "peb"), 2),
    **dict.fromkeys(("maret", "march", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("juni", "june", "jun"), 6),
    **dict.fromkeys(("juli", "july", "jul"), 7),
    **dict.fromkeys(("agustus", "august", "agu", "agt", "ags", "aug"), 8),
    **dict.fromkeys(("september", "sept", "sep"), 9),
    **dict.fromkeys(("oktober", "october", "okt", "oct"), 10),
    **dict.fromkeys(("november", "nopember", "nov", "nop"), 11),
    **dict.fromkeys(("desember", "december", "des", "dec"), 12),
}
#: Address and particles that may stand around the date (canonical words, as
#: :func:`bot.understanding.words.tokens` reads them).
_POLITE = frozenset({"bu", "pak", "bapak", "mas", "mbak", "ok", "oke", "siap", "baik"})
#: Before the date: words naming it ("sdh disahkan tgl …": the answer to "on what date was
#: it approved?"), and the above.
BEFORE = _POLITE | {"tgl", "tanggal", "tg", "pada", "pd", "yaitu", "yakni", "date", "on",
                    "sudah", "sah", "pengesahan"}
#: After it: the above, "ya", and thanks in any of the forms the lexicon knows ("makasih",
#: "tks", "matur nuwun", "hatur nuhun").
AFTER = _POLITE | THANKS | {"ya", "yaa", "yah", "nggih", "njih", "matur", "hatur"}

_NUMERIC = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})")
_NAMED = re.compile(r"(\d{1,2})[\s\-/.]*([a-z]+)\.?(?:[\s\-/.,]*(\d{4}|\d{2})(?!\d))?")


def read_date(text: str, today: date | None = None) -> date | None:
    """The date `text` is, or None when it is not only a date (see the module's doc).
    Without `today`, a date must name its year."""
    low = fold(text).strip().lower()
    for pattern in (_NUMERIC, _NAMED):
        for match in pattern.finditer(low):
            if not (_only(low[:match.start()], BEFORE) and _only(low[match.end():], AFTER)):
                continue
            day, month, year = match.groups()
            number = int(month) if month.isdigit() else MONTHS.get(month)
            if number is None:
                continue
            return _date(int(day), number, year, today)
    return None


def _only(rest: str, allowed: frozenset[str]) -> bool:
    """Whether `rest` holds nothing but `allowed` words, punctuation and emoji (no other
    number, and no question mark: "2 jan?" asks)."""
    if re.search(r"[\d?]", rest):
        return False
    return all(t.low in allowed or t.norm in allowed for t in tokens(rest))


def _date(day: int, month: int, year: str | None, today: date | None) -> date | None:
    try:
        if year is not None:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        if today is None:
            return None
        found = date(today.year, month, day)
    except ValueError:
        return None
    if found > today:  # the latest one not after today
        try:
            return date(today.year - 1, month, day)
        except ValueError:  # 29 February
            return None
    return found
