"""Commands and queries in the forms people type: "Status PK 2026?", "cek status pk 2026",
"posisi PK 2026", "PK 2026 sudah sampai mana?", "mulai PK 2027", "tugas saya", "/status PK"."""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz import fuzz

from bot.understanding.lexicon import (
    COURTESY,
    HELP_WORDS,
    QUERY_FILLER,
    SLASH_COMMANDS,
    START_WORDS,
    STATUS_LEAD,
    STATUS_WORDS,
    TASK_WORDS,
)
from bot.understanding.model import Certainty, Intent, Understanding
from bot.understanding.words import Token, tokens

Flows = Sequence[tuple[str, str]]  # (alias, name) of the flows the official can reach
LEAD = frozenset({"mohon", "tolong", "pak", "bu", "mas", "saya", "minta", "coba", "ok",
                  "siap", "maaf", "ya", "nggih", "bapak", "kami", "ingin", "mau", "want",
                  "to", "i", "terimakasih", "dong", "deh", "the", "info", "informasi",
                  # a greeting first ("pagi, mulai PK 2026 ya")
                  "selamat", "pagi", "siang", "sore", "malam", "assalamualaikum", "salam",
                  "halo", "hai", "good", "morning"})
_SKIP_BEFORE_FLOW = frozenset({"tahun", "untuk", "alur", "proses", "sop", "flow", "dari", "of",
                               "the", "for", "dokumen"})
_KIND = {"start": Intent.START, "status": Intent.STATUS, "tasks": Intent.TASKS,
         "help": Intent.HELP, "cancel": Intent.CANCEL}


def match_flow(words: list[Token], flows: Flows) -> str | None:
    """The alias of the one flow that `words` name: its alias ("pk", "PK") or words of its name
    ("perjanjian kinerja", with small typos). None when none or several different flows match."""
    if not words:
        return None
    said = [w.low for w in words]
    found = {alias for alias, _name in flows if " ".join(said) == alias.casefold()}
    if not found:
        for alias, name in flows:
            name_words = name.casefold().split()
            if all(any(fuzz.ratio(w, n) >= 85 for n in name_words) for w in said):
                found.add(alias)
    return found.pop() if len(found) == 1 else None


def _flow_year_unit(text: str, rest: list[Token], flows: Flows,
                    ) -> tuple[str | None, str, int | None, str] | None:
    """Split the words after the command into (alias, flow words, year, unit words)."""
    while rest and rest[0].norm in _SKIP_BEFORE_FLOW | STATUS_WORDS:
        rest = rest[1:]
    at = next((i for i, t in enumerate(rest) if t.is_year), None)
    if at is None:
        if len(rest) > 3:
            return None  # a sentence, not a command
        words = [t for t in rest if t.norm not in COURTESY or t.low == "pk"]
        return (match_flow(words, flows), _span(text, words), None, "")
    flow_words = [t for t in rest[:at] if t.norm not in _SKIP_BEFORE_FLOW]
    unit = [t for t in rest[at + 1:] if t.norm not in COURTESY | STATUS_WORDS | QUERY_FILLER]
    if len(flow_words) > 5 or len(unit) > 3:
        return None
    return (match_flow(flow_words, flows), _span(text, flow_words), int(rest[at].low),
            _span(text, unit))


def _span(text: str, words: list[Token]) -> str:
    return text[words[0].start:words[-1].end] if words else ""


def slash_command(text: str, flows: Flows) -> Understanding:
    """`/status PK 2026`, `/tugas@sopbot`, `/bahasa`: a command, whatever follows."""
    head, _sep, args = text.strip()[1:].partition(" ")
    name = head.split("@", 1)[0].casefold()
    kind = SLASH_COMMANDS.get(name)
    if kind is None:
        return Understanding(Intent.COMMAND, Certainty.DECIDE, command=name)
    intent = _KIND[kind]
    if intent in (Intent.STATUS, Intent.START):
        found = _flow_year_unit(args, tokens(args), flows) or (None, args.strip(), None, "")
        alias, words, year, unit = found
        return Understanding(intent, Certainty.DECIDE, flow=alias, flow_words=words,
                             year=year, unit=unit, command=name)
    return Understanding(intent, Certainty.DECIDE, command=name)


def _lead(words: list[Token]) -> list[Token]:
    i = 0
    while i < len(words) - 1 and words[i].norm in LEAD:
        i += 1
    return words[i:]


def _status_or_start(text: str, words: list[Token], flows: Flows) -> Understanding | None:
    words = _lead(words)
    if not words:
        return None
    head = words[0]
    if head.norm in STATUS_LEAD:
        rest = words[1:]
        if head.norm in ("cek", "lihat") and not (
                rest and (rest[0].norm in STATUS_WORDS or any(t.is_year for t in rest))):
            return None
        intent = Intent.STATUS
    elif head.norm in START_WORDS:
        rest = words[1:]
        if head.norm != "mulai" and not any(t.is_year for t in rest):
            return None
        intent = Intent.START
    else:
        return None
    found = _flow_year_unit(text, rest, flows)
    if found is None:
        return None
    alias, flow_words, year, unit = found
    sure = intent is Intent.STATUS or (head.norm == "mulai" and not head.fuzzy)
    return Understanding(intent, Certainty.DECIDE if sure else Certainty.ASK, flow=alias,
                         flow_words=flow_words, year=year, unit=unit)


def _flow_first_status(text: str, words: list[Token], flows: Flows) -> Understanding | None:
    """"PK 2026 sudah sampai mana?", "Bagaimana PK 2026?", "PK 2026" alone (a known flow)."""
    at = next((i for i, t in enumerate(words) if t.is_year), None)
    if at is None:
        return None
    allowed = COURTESY | STATUS_WORDS | QUERY_FILLER
    before = [t for t in words[:at] if t.norm not in allowed or t.low == "pk"]
    after = words[at + 1:]
    if not before or any(t.norm not in allowed for t in after):
        return None
    alias = match_flow(before, flows)
    if alias is None:
        return None
    return Understanding(Intent.STATUS, Certainty.DECIDE, flow=alias,
                         flow_words=_span(text, before), year=int(words[at].low))


def _simple(words: list[Token], keys: frozenset[str], intent: Intent) -> Understanding | None:
    allowed = keys | QUERY_FILLER | COURTESY
    if (any(t.norm in keys for t in words) and len(words) <= 6
            and all(t.norm in allowed for t in words)):
        return Understanding(intent, Certainty.DECIDE)
    return None


def query(text: str, words: list[Token], flows: Flows) -> Understanding | None:
    """The command or query that `text` is, or None when it is not one."""
    if text.lstrip().startswith("/"):
        return slash_command(text.lstrip(), flows)
    return (_status_or_start(text, words, flows) or _flow_first_status(text, words, flows)
            or _simple(words, TASK_WORDS, Intent.TASKS)
            or _simple(words, HELP_WORDS, Intent.HELP))
