"""Commands: what an official (or the admin at the command line) asks the services to do,
as frozen values.

The chat layer and the CLI build one from the user's intent and pass it to the one service
entry point that carries it out (``services.decide(Decide(...))``, ``services.start(Start(...))``
…). `now` is always given: the services never read the clock. `ack_to` is the official's
message the acknowledgement replies to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.engine.model import Flow
from bot.services.results import TelegramUser
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


@dataclass(frozen=True)
class Join:
    """``/start <code>``: redeem an invitation and bind the Telegram user to its role."""

    code: str
    user: TelegramUser
    now: datetime
    ack_to: int | None = None


@dataclass(frozen=True)
class Start:
    """``mulai PK 2025`` (and ``mulai PK 2026 DPA 15-01-2026``): start a flow for a year."""

    member: Member
    words: str
    now: datetime
    ack_to: int | None = None


@dataclass(frozen=True)
class AskReason:
    """Revisi pressed: check the official may send the step back, then await the reason.

    `chat_id`/`message_id` are the pressed step message (its buttons go once decided).
    """

    member: Member
    instance_id: str
    step_no: int
    round: int | None
    now: datetime
    chat_id: int | None = None
    message_id: int | None = None
    ack_to: int | None = None


@dataclass(frozen=True)
class AskPartsReason:
    """The decider chose the part(s) of a fan-out to send back: await the reason."""

    member: Member
    instance_id: str
    step_no: int
    round: int | None
    parts: tuple[str, ...]
    now: datetime
    chat_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class DropPendingReason:
    """``/batal``: no longer await a revision reason."""

    member: Member
    now: datetime
    ack_to: int | None = None


@dataclass(frozen=True)
class Attach:
    """A file sent as a reply to a step message: attach it to the step."""

    member: Member
    instance_id: str
    step_no: int
    round: int | None
    attachments: tuple[str, ...]
    now: datetime
    note: str | None = None
    ack_to: int | None = None


@dataclass(frozen=True)
class RecordReturn:
    """"Sudah kembali": the document is back in the office (of `instance_id`, or the one the
    `words` name, or the only one outside)."""

    member: Member
    now: datetime
    instance_id: str | None = None
    words: str = ""
    ack_to: int | None = None


@dataclass(frozen=True)
class TriggerStep:
    """Start an event step (``revisi PK 2026 <cause>``); `member` None: the admin."""

    member: Member | None
    instance_id: str
    step_no: int
    reason: str
    now: datetime
    ack_to: int | None = None


@dataclass(frozen=True)
class Cancel:
    """Cancel an instance (``batalkan PK 2099 <reason>``); `member` None: the admin."""

    member: Member | None
    instance_id: str
    reason: str
    now: datetime
    ack_to: int | None = None


@dataclass(frozen=True)
class AdminTrigger:
    """``sopbot instances trigger``: start an event step of the flow's instance of `year`."""

    flow: Flow
    year: int
    step_no: int
    reason: str
    now: datetime


@dataclass(frozen=True)
class AdminCancel:
    """``sopbot instances cancel``: cancel the flow's instance of `year`."""

    flow: Flow
    year: int
    reason: str
    now: datetime


@dataclass(frozen=True)
class Withdraw:
    """"Tarik kembali": take back the official's own decision within `window`."""

    member: Member
    instance_id: str
    step_no: int
    round: int
    now: datetime
    window: timedelta
