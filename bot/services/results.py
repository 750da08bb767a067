"""What the use cases take and return: plain, frozen data the chat layer renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.engine.instance import Disposition, Instance
from bot.engine.model import Flow
from bot.storage.records import Member, OutboxItem, StepMessage


@dataclass(frozen=True)
class TelegramUser:
    """The part of a Telegram user the services need."""

    id: int
    chat_id: int
    name: str
    username: str | None = None
    language_code: str | None = None

    @property
    def member_id(self) -> str:
        return str(self.id)


@dataclass(frozen=True)
class Joined:
    """An official redeemed an invitation."""

    member: Member
    unit_id: str
    unit_name: str
    role: str
    role_title: str
    already: bool = False


@dataclass(frozen=True)
class Started:
    """Instances started by ``mulai``."""

    flow: Flow
    year: int
    instances: list[Instance]
    skipped: list[str] = field(default_factory=list)  # per-official: members with no atasan


@dataclass(frozen=True)
class Decided:
    """A decision was taken and recorded."""

    flow: Flow
    instance: Instance
    disposition: Disposition
    settled: list[StepMessage]  # the step's messages whose buttons must go
    completed: bool = False
    #: the outbox items the decision stored, in the order owed, each with its recipient:
    #: the sender may send them without reading them back
    queued: list[tuple[OutboxItem, Member | None]] = field(default_factory=list,
                                                          compare=False, repr=False)


@dataclass(frozen=True)
class ReasonAsked:
    """The official must now type the revision reason."""

    flow: Flow
    instance: Instance
    step_no: int


@dataclass(frozen=True)
class ActiveStepView:
    """One waiting step, for status and task lists."""

    step_no: int
    position: int
    title: str
    role_title: str
    holders: list[str]  # names
    waiting_for: list[str]  # names of those who still must act (fan-out)
    since: datetime
    deadline: datetime | None
    overdue: bool
    by_event: bool = False
    unreachable: list[str] = field(default_factory=list)  # holders who blocked the bot


@dataclass(frozen=True)
class InstanceStatus:
    """Where one instance stands."""

    flow: Flow
    instance: Instance
    active: list[ActiveStepView]
    total_steps: int
    done_steps: int
    last: list[tuple[Disposition, str]]  # recent dispositions with the official's name
    subject_name: str | None = None


@dataclass(frozen=True)
class PerOfficialStatus:
    """Where a per-official procedure stands for a year: counts and who is late."""

    flow: Flow
    year: int
    done: int
    in_progress: int
    overdue: int
    late: list[tuple[str, ActiveStepView]]  # official's name, their overdue step


@dataclass(frozen=True)
class UnitOverview:
    """``status`` alone: the running instances of the official's units."""

    items: list[InstanceStatus]


@dataclass(frozen=True)
class Task:
    """A step waiting for this official (``/tugas``)."""

    flow: Flow
    instance: Instance
    view: ActiveStepView
    subject_name: str | None = None

