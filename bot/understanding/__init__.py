"""Understanding what an official typed: pure, no Telegram, no storage, no clock.

    >>> understand("acc pak").intent, understand("acc pak").certainty
    (<Intent.APPROVE: 'approve'>, <Certainty.DECIDE: 'decide'>)

`understand(text, flows)` returns an `Understanding`: the intent (approve, complete, revise,
withdraw, cancel, status, start, tasks, help, command, unclear), a certainty (decide, ask,
none) and what the intent carries (the revision reason; flow alias, year and unit words).
"""

from __future__ import annotations

import re

from bot.understanding.decisions import advance, revise, withdraw_or_cancel
from bot.understanding.model import UNCLEAR, Certainty, Intent, Understanding
from bot.understanding.queries import Flows, match_flow, query
from bot.understanding.words import tokens

__all__ = ["Certainty", "Flows", "Intent", "Understanding", "match_flow", "understand"]

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
