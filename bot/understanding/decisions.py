"""Decisions typed as text: approve, complete, revise (with its reason), withdraw, cancel.

The rule (issue 12): act only on the unmistakable. A message decides only when all of it is an
approval/completion/revision plus courtesies; any hedge, negation, condition, question or
deferral keeps it from deciding. In between, the chat asks a Ya/Tidak question.
"""

from __future__ import annotations

from bot.understanding.lexicon import (
    ACKNOWLEDGE,
    APPROVE,
    CANCEL_PHRASES,
    COMPLETE,
    CONDITION,
    CONTRAST,
    COURTESY,
    DEFERRAL,
    NEGATION,
    NO_OBJECTION,
    POSITIVE,
    RECEIPT,
    REVISE_EVALUATIVE,
    REVISE_EXPLICIT,
    REVISED_MARKS,
    THANKS,
    UNCERTAIN,
    UNDERTAKE,
    WITHDRAW,
)
from bot.understanding.model import UNCLEAR, Certainty, Intent, Understanding
from bot.understanding.words import Token, find_phrase

# May stand before a revision word without making it less direct: "Pak, mohon direvisi: …".
_REVISE_LEAD = frozenset({"pak", "bapak", "bu", "mas", "mohon", "tolong", "maaf", "harap",
                          "agar", "supaya", "segera", "nggih", "ya", "ini", "itu", "saya",
                          "kami", "dan", "konsep", "draft", "drafnya", "konsepnya", "dokumen",
                          "sudah", "silakan", "terimakasih", "ok", "baik", "siap"})
_REVISION_WORDS = frozenset(p[0] for p in REVISE_EXPLICIT if len(p) == 1)
# Address and politeness before the official's own words ("Pak, ini belum lengkap").
_ADDRESS = frozenset({"pak", "bapak", "bu", "mas", "maaf", "mohon", "tolong", "nggih", "ya",
                      "ini", "itu"})
# May follow a revision word before its reason starts: "direvisi dulu ya pak: …".
_AFTER_REVISE = frozenset({"dulu", "lagi", "kembali", "untuk", "utk", "for", "ya", "pak", "bu",
                           "mas", "nggih", "mohon", "dan", "sesuai", "catatan", "berikut",
                           "sebagai", "please", "with", "dengan", "ini", "nya", "isi", "note",
                           "notes", "reason", "alasan"})
# Hedges that stop any act; a contrast ("tapi") or a negation inside a revision reason does not.
STOPPERS = frozenset({"deferral", "uncertain", "condition"})
# At the start of what would be the reason, these put the revision itself off.
_PUT_OFF = frozenset({"nanti", "besok", "sebentar", "tunggu", "later", "tomorrow", "wait", "lusa",
                      "ditunda", "tunda", "jangan", "not", "no", "dont"})
_CONNECTIVES = frozenset({"perlu", "usah", "need", "to", "ada", "harus", "must", "bisa"})


def _positions(norms: list[str], phrases: tuple[tuple[str, ...], ...]) -> list[tuple[int, int]]:
    """(start, end) of each phrase found, earliest first, without overlaps."""
    found = []
    for phrase in phrases:
        at = find_phrase(norms, phrase)
        while at >= 0:
            found.append((at, at + len(phrase)))
            at = find_phrase(norms, phrase, at + len(phrase))
    found.sort()
    result: list[tuple[int, int]] = []
    for start, end in found:
        if not result or start >= result[-1][1]:
            result.append((start, end))
    return result


def _flags(norms: list[str], used: set[int]) -> set[str]:
    """Which kinds of hedge the words outside `used` contain."""
    flags = set()
    for i, w in enumerate(norms):
        if i in used:
            continue
        for name, words in (("negation", NEGATION), ("deferral", DEFERRAL),
                            ("condition", CONDITION), ("contrast", CONTRAST),
                            ("uncertain", UNCERTAIN)):
            if w in words:
                flags.add(name)
    return flags


def _reason_from(text: str, words: list[Token], at: int) -> str | None:
    """The text from word `at` on, trimmed: the reason as the official wrote it."""
    if at >= len(words):
        # No word follows: what is left counts only when it is more than a courtesy emoji or
        # two ("revisi: 👍👍👍👍👍…" is a reason as written; "revisi ya pak 🙏" has none).
        rest = text[words[-1].end:].strip().lstrip(":,;-–—").strip() if words else ""
        return rest if len(rest) >= 5 else None
    reason = text[words[at].start:].strip()
    return reason or None


def revise(text: str, words: list[Token], question: bool) -> Understanding | None:
    """A revision, with its reason; None when the message does not ask for one."""
    norms = [w.norm for w in words]
    explicit = [(s, e) for s, e in _positions(norms, REVISE_EXPLICIT)
                if not _revised_already(norms, s)]
    evaluative = _positions(norms, REVISE_EVALUATIVE)
    if not explicit and not evaluative:
        return None
    first = (explicit or evaluative)[0]
    before = norms[:first[0]]
    # "jangan direvisi", "tidak perlu revisi", "belum perlu diperbaiki": not a revision.
    lead = [w for w in before[-3:] if w not in _CONNECTIVES]
    if explicit and lead and lead[-1] in NEGATION:
        return None
    used = {i for s, e in explicit + evaluative for i in range(s, e)}
    flags_before = _flags(before, set())
    if flags_before & STOPPERS or (explicit and not evaluative and "negation" in flags_before):
        return UNCLEAR  # "nanti saya revisi", "kalau perlu diperbaiki", "tidak, revisi …"
    evaluative_before = {i for s, e in evaluative if e <= first[0] for i in range(s, e)}
    direct = explicit and all(w in _REVISE_LEAD or i in evaluative_before
                              for i, w in enumerate(before))
    if direct:
        at = first[1]
        # Skip what only links the revision word to its reason ("dulu ya pak: …",
        # "dikembalikan untuk revisi: …"); after a ":" or "." the reason starts as written,
        # even an evaluation ("revisi: kurang lengkap") or a revision word ("revisi: Perbaiki.").
        explicit_used = {i for s, e in explicit for i in range(s, e)}
        while at < len(words) and (norms[at] in _AFTER_REVISE or (
                at in explicit_used and not _clause_break(text, words, at))):
            at += 1
        reason = _reason_from(text, words, at)
        if set(norms[at:at + 2]) & _PUT_OFF:
            return UNCLEAR  # "Revisi nanti saja", "revisi besok ya", "revisi jangan dulu"
        if question:
            short = reason is None or len(norms) - at < 3 or "atau" in norms[at:]
            return UNCLEAR if short else Understanding(Intent.REVISE, Certainty.ASK, reason)
        return Understanding(Intent.REVISE, Certainty.DECIDE, reason)
    # Said in other words, or after other content: ask, showing the whole message as reason.
    if question or _flags(norms, used) & STOPPERS:
        return UNCLEAR
    start = 0
    while start < len(words) - 1 and norms[start] in _ADDRESS:
        start += 1
    return Understanding(Intent.REVISE, Certainty.ASK, _reason_from(text, words, start))


def _clause_break(text: str, words: list[Token], at: int) -> bool:
    """Whether a ":" or "." stands between word `at` and the word before it."""
    gap = text[words[at - 1].end:words[at].start] if at > 0 else ""
    return ":" in gap or "." in gap


def _revised_already(norms: list[str], at: int) -> bool:
    """"sudah (saya) diperbaiki", "hasil revisi", "file revisinya": the revision is done."""
    before = [w for w in norms[max(0, at - 3):at] if w not in ("saya", "kami", "pak", "bu")]
    return bool(before) and before[-1] in REVISED_MARKS


def _only(norms: list[str], phrase_sets: tuple[tuple[str, ...], ...]) -> tuple[bool, bool]:
    """(any of `phrase_sets` found in `norms`, nothing else there but courtesies)."""
    spots = _positions(norms, phrase_sets)
    if not spots:
        return False, False
    used = {i for s, e in spots for i in range(s, e)}
    rest = [w for i, w in enumerate(norms) if i not in used]
    return True, all(w in COURTESY for w in rest)


def withdraw_or_cancel(words: list[Token], question: bool) -> Understanding | None:
    """"Tarik kembali", "batalkan persetujuan", "salah pencet" / "batal", "tidak jadi"."""
    norms = [w.norm for w in words]
    found, alone = _only(norms, WITHDRAW)
    if found:
        sure = alone and not question
        return Understanding(Intent.WITHDRAW, Certainty.DECIDE if sure else Certainty.ASK)
    found, alone = _only(norms, CANCEL_PHRASES)
    if found and alone and not question:
        return Understanding(Intent.CANCEL, Certainty.DECIDE)
    return None


#: Words of taking a task on that are not also courtesy ("segera" is both: "ok, segera" stays
#: an approval to confirm).
_UNDERTAKEN = UNDERTAKE - COURTESY

#: Approval words that are also particles: after thanks ("makasih ya") they decide nothing.
_PARTICLES = frozenset({"ya", "nggih"})


def advance(words: list[Token], question: bool, emoji: set[str]) -> Understanding | None:
    """Approval or completion; None when the message holds neither."""
    norms = [w.norm for w in words]
    spared = _positions(norms, NO_OBJECTION)
    used = {i for s, e in spared for i in range(s, e)}
    deciding = [w for w in norms if w in APPROVE or w in COMPLETE]
    strong = [w for w in deciding if w in ("setuju", "lanjut", "sah", "selesai")]
    acknowledged = [w for w in norms if w in ACKNOWLEDGE] + sorted(emoji & ACKNOWLEDGE)
    if not strong and not spared and not (deciding or acknowledged):
        return None
    if not strong and not spared and any(w in RECEIPT for w in norms):
        return UNCLEAR  # "sudah saya terima", "siap, saya periksa": received, not decided
    if not deciding and not spared and any(w in _UNDERTAKEN for w in norms):
        return UNCLEAR  # "siap bu, sy kerjakan": a task taken on, neither done nor approved
    if not strong and not spared and set(deciding) <= _PARTICLES \
            and any(w in THANKS for w in norms):
        return UNCLEAR  # "makasih ya pak", "terima kasih nggih": thanks, "ya" a particle
    flags = _flags(norms, used)
    if question or flags & (STOPPERS | {"negation"}):
        return UNCLEAR
    intent = _advance_kind(set(deciding), set(norms))
    content = [w for i, w in enumerate(norms) if i not in used
               and w not in COURTESY and w not in APPROVE and w not in COMPLETE]
    if flags or content or spared or not deciding or any(w.fuzzy and len(w.low) < 6
                                                         for w in words):
        return Understanding(intent, Certainty.ASK)
    return Understanding(intent, Certainty.DECIDE)


def _advance_kind(said: set[str], norms: set[str]) -> Intent:
    """APPROVE for "setuju/lanjut/acc" and for a judgement ("sudah sesuai"); COMPLETE for
    "selesai/sudah" ("sudah saya perbaiki sesuai catatan" is a task done, not a judgement)."""
    if said & {"setuju", "lanjut", "sah"} or not said & {"selesai", "sudah"}:
        return Intent.APPROVE
    judged = norms & (POSITIVE | {"ok"}) and not norms & _REVISION_WORDS and "selesai" not in said
    return Intent.APPROVE if judged else Intent.COMPLETE
