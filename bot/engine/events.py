"""The vocabulary of transitions: statuses, actions, domain errors, who acts, the events a
transition causes and the disposition it records.

Split from :mod:`bot.engine.instance` (which re-exports every name here) so that the values
that cross into the chat layer live apart from the state machine. Pure: no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.engine.refusals import CANNOT, REFUSALS
from bot.engine.waktu import WaktuTotal
from bot.i18n_message import Message


class Status(enum.StrEnum):
    """Where an instance is in its life."""

    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Action(enum.StrEnum):
    """What an official did on a step; recorded in each disposition."""

    START = "start"
    COMPLETE = "complete"
    APPROVE = "approve"
    REVISE = "revise"
    CANCEL = "cancel"
    TRIGGER = "trigger"
    ATTACH = "attach"
    RETURN = "return"  # the document came back from outside the office ("Sudah kembali")
    WITHDRAW = "withdraw"  # a decision taken back by its official (tarik kembali)


#: Acting capacities of a disposition taken for someone else (Pelaksana Tugas / Harian).
ACTING_KINDS: frozenset[str] = frozenset({"plt", "plh"})


# --- errors ---------------------------------------------------------------------------------


class DomainError(Exception):
    """A transition that the flow's rules do not allow.

    ``str()`` says why in English, for the logs; `code` and `params` say it as data, and
    `message` is what the official is told: the :class:`~bot.i18n.Message` of the code
    (:mod:`bot.engine.refusals`), which every layer renders in the reader's language.
    """

    def __init__(self, message: str, code: str = "", **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params
        self.message = Message(REFUSALS.get(code, CANNOT), **params)


class NotAllowed(DomainError):
    """The official does not hold the role the step needs."""


class WrongState(DomainError):
    """The instance is not in a state where that action makes sense."""


class ReasonRequired(DomainError):
    """A revision (or cancellation) without a reason."""


class AlreadyDone(DomainError):
    """This official already did their part of a fan-out step."""


# --- who acts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """An official acting in a unit: their member id and the roles they hold there.

    ``acting_for`` / ``acting_kind`` say that the official acts as Plt/Plh of another member
    (the role's own holder); every disposition this actor takes records it.
    """

    member: str
    roles: frozenset[str]
    acting_for: str | None = None
    acting_kind: str | None = None  # "plt" | "plh"

    def __post_init__(self) -> None:
        if (self.acting_for is None) != (self.acting_kind is None):
            raise ValueError("acting_for and acting_kind go together")
        if self.acting_kind is not None and self.acting_kind not in ACTING_KINDS:
            raise ValueError(f"acting_kind must be one of {sorted(ACTING_KINDS)}, "
                             f"not {self.acting_kind!r}")

    @classmethod
    def of(cls, member: str, *roles: str) -> Actor:
        """Shorthand used by tests and services: ``Actor.of("m1", "kepala")``."""
        return cls(member, frozenset(roles))


#: Who holds each role in the unit right now: role id -> member ids.
Holders = Mapping[str, Sequence[str]]


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """Something a transition caused; later layers turn events into messages and reminders."""

    instance_id: str
    at: datetime


@dataclass(frozen=True)
class StepActivated(Event):
    """A step has landed on a role (and, for fan-out or bound roles, on named members)."""

    step_no: int
    role: str
    members: tuple[str, ...]  # who must act; empty: any holder of the role
    deadline: datetime | None
    note: str | None = None  # the previous disposition's note (above all a revision reason)
    attachments: tuple[str, ...] = ()
    by_event: bool = False  # an event-triggered step, outside the normal sequence
    restored: bool = False  # active again because the decision after it was withdrawn


@dataclass(frozen=True)
class StepDone(Event):
    """A step was completed or approved."""

    step_no: int
    by: str
    action: Action


@dataclass(frozen=True)
class FanOutProgress(Event):
    """One holder finished their part of a fan-out step; others are still working."""

    step_no: int
    by: str
    remaining: tuple[str, ...]


@dataclass(frozen=True)
class RevisionRequested(Event):
    """A decision sent the work back to an earlier step."""

    step_no: int
    back_to: int
    by: str
    reason: str
    parts: tuple[str, ...] = ()  # fan-out: only these holders redo their part; () = all


@dataclass(frozen=True)
class ExternalWaitStarted(Event):
    """After ``step_no`` the document went outside the office (to the Bupati, the Setda …)."""

    step_no: int
    waits_for: tuple[str, ...]  # external role ids
    recorded_by: str  # the office role that records its return
    expected_by: datetime | None  # from the SOP's expected duration; never a deadline
    label: str | None = None


@dataclass(frozen=True)
class ExternalReturned(Event):
    """The document came back; the flow continues (a StepActivated follows)."""

    step_no: int  # the step after which it had gone out
    by: str
    waited: timedelta


@dataclass(frozen=True)
class DecisionWithdrawn(Event):
    """An official took back a decision; its step is active again (a StepActivated follows)."""

    step_no: int
    by: str
    action: Action  # what was withdrawn (complete / approve / revise)
    withdrawn: tuple[int, ...]  # steps the decision had activated, now no longer active
    notify: tuple[str, ...]  # members who had been told of those steps ("" none known)
    reason: str | None = None


@dataclass(frozen=True)
class SequenceResumed(Event):
    """An event step with continue_at is done: the sequence runs again from ``resume_at``."""

    step_no: int  # the event step
    resume_at: int
    abandoned: tuple[int, ...]  # steps that were active (or waited on) and are superseded
    reopened: bool  # the instance had been completed


@dataclass(frozen=True)
class FlowCompleted(Event):
    """The last step is done."""

    elapsed: timedelta
    standard: WaktuTotal


@dataclass(frozen=True)
class FlowCancelled(Event):
    """The instance was stopped before its end.

    ``active`` are the steps that were waiting for work and ``notify`` every member holding
    them (to be told it was cancelled, by whom and why); ``waiting_on`` the external roles
    the document was with, if any.
    """

    by: str
    reason: str | None
    role: str = ""
    active: tuple[int, ...] = ()
    notify: tuple[str, ...] = ()
    waiting_on: tuple[str, ...] = ()


# --- the record of decisions ------------------------------------------------------------------


@dataclass(frozen=True)
class Disposition:
    """A recorded decision (disposisi): who did what on which step, when and why."""

    instance_id: str
    step_no: int
    action: Action
    member: str
    role: str
    at: datetime
    note: str | None = None
    attachments: tuple[str, ...] = ()
    round: int = 1  # which activation of the step this decision was taken on
    acting_for: str | None = None  # Plt/Plh: the member whose role was acted for
    acting_kind: str | None = None  # "plt" | "plh"
    parts: tuple[str, ...] = ()  # a partial revision: the fan-out holders sent back

    def to_dict(self) -> dict[str, Any]:
        """The stored form (JSON-friendly). The last three keys are optional when read."""
        return {
            "instance_id": self.instance_id,
            "step_no": self.step_no,
            "round": self.round,
            "action": self.action.value,
            "member": self.member,
            "role": self.role,
            "at": self.at.isoformat(),
            "note": self.note,
            "attachments": list(self.attachments),
            "acting_for": self.acting_for,
            "acting_kind": self.acting_kind,
            "parts": list(self.parts),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Disposition:
        """Rebuild a disposition from :meth:`to_dict` output."""
        return cls(
            instance_id=data["instance_id"],
            step_no=int(data["step_no"]),
            action=Action(data["action"]),
            member=data["member"],
            role=data["role"],
            at=datetime.fromisoformat(data["at"]),
            note=data.get("note"),
            attachments=tuple(data.get("attachments") or ()),
            round=int(data.get("round", 1)),
            acting_for=data.get("acting_for"),
            acting_kind=data.get("acting_kind"),
            parts=tuple(data.get("parts") or ()),
        )


def _disposition(inst_id: str, step_no: int, action: Action, by: Actor, role: str,
                 now: datetime, note: str | None = None, attachments: Sequence[str] = (),
                 round_no: int = 1, parts: Sequence[str] = ()) -> Disposition:
    """A disposition taken by `by`, with their acting capacity (Plt/Plh) when they have one."""
    return Disposition(inst_id, step_no, action, by.member, role, now, note, tuple(attachments),
                       round_no, by.acting_for, by.acting_kind, tuple(parts))
