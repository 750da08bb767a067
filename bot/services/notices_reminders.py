"""The reminders: a step's deadline and a recurring duty (triwulan, semester …).

Typed notices of outbox kind ``reminder``; the stored payload names its class under
``"type"`` (``"step"`` or ``"cycle"``) and the reminder's moment under ``"kind"`` (``before``,
``due``, ``overdue``, ``escalate``, ``recap``: :class:`bot.engine.reminders.ReminderKind`).
A planned point's payload is the same document without `at` and `owner`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class StepReminder:
    """A step's deadline comes, came or passed; an escalation names who is `late`."""

    kind: ClassVar[str] = "reminder"
    instance_id: str
    flow_id: str
    year: int
    step_no: int
    round: int
    deadline: str  # ISO date-time
    moment: str  # stored as "kind"
    n: int = 0  # which overdue reminder
    subject: str | None = None
    late: tuple[str, ...] = ()  # names, in an escalation
    at: str | None = None  # when it was planned (ISO); absent in a planned point
    owner: str | None = None  # the recipient's name


@dataclass(frozen=True)
class CycleReminder:
    """A recurring duty: before, due, overdue, or the atasan's (collector's) recap."""

    kind: ClassVar[str] = "reminder"
    flow_id: str
    cycle_id: str
    occurrence: str
    period: str
    index: int
    year: int
    due: str  # ISO date-time
    moment: str  # stored as "kind"
    n: int = 0
    task_id: str | None = None  # the official's share (None in a recap)
    stage_steps: tuple[int, ...] = ()  # a later stage of the duty: its steps
    official: str | None = None
    official_name: str | None = None
    reports: tuple[str, ...] = ()  # a recap: who owes it (member ids)
    done: tuple[str, ...] = ()  # a recap: names
    not_done: tuple[str, ...] = ()
    decision: bool = False  # the atasan's evaluation: Setujui / Revisi (issue 13)
    revision: str | None = None  # the stage was sent back: why
    at: str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class DigestReminder:
    """What one official is owed at one moment, as one message (issue 12): the reminders
    missed while the bot was down, or duties due the same day. `items` are the reminders'
    own stored payloads (step or cycle documents, each with its deadline)."""

    kind: ClassVar[str] = "reminder"
    flow_id: str  # the first item's: the sender looks the flow up by it
    moment: str  # stored as "kind": always "digest"
    items: tuple[dict[str, Any], ...]
    missed: bool = False  # they fell due while the bot was down
    task_id: str | None = None  # the duties it names ("a+b"), for a reply to it
    at: str | None = None
    owner: str | None = None


Reminder = StepReminder | CycleReminder | DigestReminder
REMINDERS: dict[str, type[Reminder]] = {"step": StepReminder, "cycle": CycleReminder,
                                        "digest": DigestReminder}
