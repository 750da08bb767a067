"""What a message was understood to say: an intent, how certain, and what it carries."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Intent(StrEnum):
    APPROVE = "approve"  # setujui / lanjutkan (the ✅ button of a decision step)
    COMPLETE = "complete"  # the task is done (Selesai)
    REVISE = "revise"  # send it back (Revisi), with the reason when given
    WITHDRAW = "withdraw"  # take back one's own last decision (tarik kembali)
    CANCEL = "cancel"  # stop what the bot is asking for (batal)
    STATUS = "status"  # where a flow stands ("status PK 2026", "PK 2026 sampai mana?")
    START = "start"  # start a flow for a year ("mulai PK 2026")
    TASKS = "tasks"  # steps waiting for me (tugas)
    HELP = "help"  # what the bot understands (bantuan)
    COMMAND = "command"  # another /command (e.g. /bahasa): Telegram's command handlers own it
    UNCLEAR = "unclear"  # none of the above, or a hedge


class Certainty(StrEnum):
    DECIDE = "decide"  # unmistakable: act on it
    ASK = "ask"  # probably this intent: ask a Ya/Tidak confirmation first
    NONE = "none"  # do not act; for a reply to a step, point to the buttons


DECISIONS = frozenset({Intent.APPROVE, Intent.COMPLETE, Intent.REVISE})
QUERIES = frozenset({Intent.STATUS, Intent.START, Intent.TASKS, Intent.HELP, Intent.CANCEL,
                     Intent.WITHDRAW, Intent.COMMAND})


@dataclass(frozen=True)
class Understanding:
    """The reading of one message.

    `reason`: for REVISE, the text that would be sent as the revision reason (None: none given,
    the chat asks for it). `flow`: the alias of the flow named (from the `flows` passed in), or
    None when none matched; `flow_words`: the words that named it, as typed; `year` and `unit`
    (the words after the year, e.g. a unit hint) for STATUS and START. `command`: the name of a
    /command without the slash and bot name.
    """

    intent: Intent
    certainty: Certainty
    reason: str | None = None
    flow: str | None = None
    flow_words: str = ""
    year: int | None = None
    unit: str = ""
    command: str | None = None

    @property
    def is_command(self) -> bool:
        """A command or query: never to be taken as a revision reason or a decision."""
        return self.intent in QUERIES

    @property
    def is_decision(self) -> bool:
        return self.intent in DECISIONS

    @property
    def query_words(self) -> str:
        """"PK 2026 sooko": the words the services' status/start parsers expect."""
        parts = [self.flow or self.flow_words, str(self.year) if self.year else "", self.unit]
        return " ".join(p for p in parts if p)


UNCLEAR = Understanding(Intent.UNCLEAR, Certainty.NONE)
