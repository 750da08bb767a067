"""Understanding what an official typed: pure, no Telegram, no storage, no clock.

    >>> understand("acc pak").intent, understand("acc pak").certainty
    (<Intent.APPROVE: 'approve'>, <Certainty.DECIDE: 'decide'>)

`understand(text, flows)` returns an `Understanding`: the intent (approve, complete, revise,
withdraw, cancel, status, start, tasks, help, command, unclear), a certainty (decide, ask,
none) and what the intent carries (the revision reason; flow alias, year and unit words).

What the chat does with it:
- DECIDE on APPROVE/COMPLETE (both mean the step's advance button: Setujui on a decision step,
  Selesai on a task): act, as if the button were pressed. REVISE with a reason: send back
  with that reason; REVISE with reason None: prompt for the reason (ForceReply).
- ASK: do nothing yet; ask "Apakah Bapak/Ibu menyetujui langkah N «…»?" with [Ya, …] [Tidak]
  buttons, showing `reason` for a revision. Also ask when the word does not fit the step
  (COMPLETE on a decision step, APPROVE on a task).
- NONE (intent UNCLEAR): never act; on a reply to a step, point to the buttons.
- `is_command` (STATUS, START, TASKS, HELP, CANCEL, WITHDRAW, COMMAND): run it as that command
  even while a revision reason is awaited, then remind that the reason is still awaited.
"""

from __future__ import annotations

import re

from bot.understanding.decisions import advance, revise, withdraw_or_cancel
from bot.understanding.lexicon import (
    ACKNOWLEDGE,
    COMPLETE,
    CONDITION,
    CONTRAST,
    COURTESY,
    DEFERRAL,
    NEGATION,
    RECEIPT,
    THANKS,
    UNCERTAIN,
    UNDERTAKE,
)
from bot.understanding.model import UNCLEAR, Certainty, Intent, Understanding
from bot.understanding.queries import Flows, match_flow, query
from bot.understanding.words import tokens

__all__ = ["Certainty", "Flows", "Intent", "Understanding", "is_acknowledgement", "is_thanks",
           "match_flow", "understand"]

_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")


def understand(text: str, flows: Flows = ()) -> Understanding:
    """Read one message. `flows`: (alias, name) of the flows the official can reach, e.g.
    ``[("PK", "Penyusunan Perjanjian Kinerja")]``; they let "status perjanjian kinerja 2026"
    and "PK 2026 sampai mana?" be recognised. Never raises on any text."""
    text = text.strip()
    if not text:
        return UNCLEAR
    words = tokens(text)
    found = query(text, words, flows)
    if found is not None:
        return found
    question = "?" in text or "¿" in text
    emoji = set(_EMOJI.findall(text))
    if not words:  # emoji only: 👍 ✅ acknowledge, nothing else says anything
        found = advance([], question, emoji)
        return found if found is not None else UNCLEAR
    return (withdraw_or_cancel(words, question) or revise(text, words, question)
            or advance(words, question, emoji) or UNCLEAR)


def is_thanks(text: str) -> bool:
    """Whether `text` only thanks ("terima kasih pak 🙏", "matur nuwun bu", "makasih ya"):
    words of thanks and courtesy, nothing else. Ask it of a message that is neither a
    decision nor a command (understand() first): "ok, terima kasih" approves."""
    return _only(text, THANKS, THANKS | COURTESY)


_PLEDGE = ACKNOWLEDGE | RECEIPT | UNDERTAKE
_PLEDGE_ONLY = (_PLEDGE | DEFERRAL | COURTESY | THANKS) - COMPLETE  # ("sudah": done)


def _only(text: str, needed: frozenset[str], allowed: frozenset[str]) -> bool:
    """Whether `text` has a word of `needed` and no word outside `allowed`."""
    words = tokens(text)
    return any(t.norm in needed for t in words) and all(t.norm in allowed for t in words)


#: Never in a plain acknowledgement: a hedge, a negation, or "done".
_NOT_PLEDGE = NEGATION | CONTRAST | CONDITION | UNCERTAIN | COMPLETE


def is_acknowledgement(text: str) -> bool:
    """Whether `text` only acknowledges or takes a task on ("siap bu, sy kerjakan dl ya",
    "noted pak, segera sy proses"): nothing in it says done or decided. A task taken on may
    name the task in one word of its own ("siap pak, sy susun formatnya dl"). Ask it of a
    message that is neither a decision nor a command (understand() first)."""
    norms = [t.norm for t in tokens(text)]
    if not any(w in _PLEDGE for w in norms) or any(w in _NOT_PLEDGE for w in norms):
        return False
    own = [w for w in norms if w not in _PLEDGE_ONLY]
    named = 1 if any(w in UNDERTAKE for w in norms) else 0
    # (a year names an instance, "sy kerjakan PK 2026 dl": not the plain task)
    return len(own) <= named and all(w.isalpha() for w in own)
