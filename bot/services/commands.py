"""Commands: what an official asks the workflow to do, as frozen values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.storage.records import Member, StepMessage


class Decision(StrEnum):
    """What a step's button or reply decides."""

    ADVANCE = "advance"  # Selesai (a task) / Setujui (a decision)
    REVISE = "revise"  # Revisi: back to the step's revise target, with the reason


@dataclass(frozen=True)
class Decide:
    """Decide a step: complete/approve it, or send it back with a reason (`note`).

    `round` is the round the button was made for (None: whatever round is open now);
    `origin` the pressed step message, in case it is not recorded yet; `ack_to` the
    official's message to answer in the chat.
    """

    member: Member
    instance_id: str
    step_no: int
    round: int | None
    decision: Decision
    now: datetime
    note: str | None = None
    attachments: tuple[str, ...] = ()
    origin: StepMessage | None = None
    ack_to: int | None = None
    parts: tuple[str, ...] = ()  # a revision of some parts of a fan-out: their holders
