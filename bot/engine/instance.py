"""Running instances of a flow, and the transitions between their states.

An :class:`Instance` is one case of a flow ("PK 2025" of one unit, or one official's
"Pengumpulan Data Kinerja"). :class:`Engine` moves instances: every transition takes the
current instance, who acts and ``now``; it returns a *new* instance, the events it caused and,
for a decision by an official, the :class:`Disposition` to record. Nothing here sends, stores,
sleeps or reads the clock. A transition that is not allowed raises a :class:`DomainError`
subclass and leaves the instance untouched.

The allowed transitions, by instance status and step kind::

    status     action            step kind      result
    ---------  ----------------  -------------  -----------------------------------------
    (none)     start             -              active at the first step
    active     complete          task           next step (fan-out: when all holders did)
    active     approve           decision       next step
    active     revise (reason)   decision       back to the step's on_revise target
    active     cancel            any            cancelled
    active,    trigger           event step     the event step runs beside the sequence
    completed  complete          event step     the event step is done
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.engine.calendar import WorkCalendar
from bot.engine.model import Flow, Step, Trigger
from bot.engine.waktu import WaktuTotal

#: Version of the stored form of an instance (see :meth:`Instance.to_dict`).
INSTANCE_SCHEMA = 1


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


# --- errors ---------------------------------------------------------------------------------


class DomainError(Exception):
    """A transition that the flow's rules do not allow.

    The message says why in English (for logs and the command line); `code` and `params`
    say it as data, so that the chat layer can say it in the reader's language.
    """

    def __init__(self, message: str, code: str = "", **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


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
    """An official acting in a unit: their member id and the roles they hold there."""

    member: str
    roles: frozenset[str]

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


@dataclass(frozen=True)
class FlowCompleted(Event):
    """The last step is done."""

    elapsed: timedelta
    standard: WaktuTotal


@dataclass(frozen=True)
class FlowCancelled(Event):
    """The instance was stopped before its end."""

    by: str
    reason: str | None


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

    def to_dict(self) -> dict[str, Any]:
        """The stored form (JSON-friendly)."""
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
        )


# --- the instance ---------------------------------------------------------------------------


@dataclass
class ActiveStep:
    """A step that is waiting for work."""

    no: int
    started_at: datetime
    deadline: datetime | None
    pending: list[str]  # members still to act; empty list with `anyone` True = any holder
    anyone: bool = False
    done: list[str] = field(default_factory=list)
    note: str | None = None
    attachments: list[str] = field(default_factory=list)  # attached on this step; passed on
    incoming: list[str] = field(default_factory=list)  # received from the previous step
    round: int = 1  # how many times this step has been activated in this instance

    def to_dict(self) -> dict[str, Any]:
        return {
            "no": self.no,
            "started_at": self.started_at.isoformat(),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "pending": list(self.pending),
            "anyone": self.anyone,
            "done": list(self.done),
            "note": self.note,
            "attachments": list(self.attachments),
            "incoming": list(self.incoming),
            "round": self.round,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ActiveStep:
        return cls(
            no=int(data["no"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            deadline=datetime.fromisoformat(data["deadline"]) if data.get("deadline") else None,
            pending=list(data.get("pending") or []),
            anyone=bool(data.get("anyone")),
            done=list(data.get("done") or []),
            note=data.get("note"),
            attachments=list(data.get("attachments") or []),
            incoming=list(data.get("incoming") or []),
            round=int(data.get("round", 1)),
        )


@dataclass
class Instance:
    """One running (or finished) case of a flow."""

    id: str
    flow_id: str
    unit_id: str
    year: int
    status: Status
    created_at: datetime
    started_by: str
    current: ActiveStep | None = None
    side: list[ActiveStep] = field(default_factory=list)  # event-triggered steps
    bindings: dict[str, str] = field(default_factory=dict)  # role -> member (per-official)
    subject: str | None = None  # per-official: the official the instance runs for
    rounds: dict[int, int] = field(default_factory=dict)  # step no -> activations so far
    finished_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Whether the instance still runs its normal sequence."""
        return self.status is Status.ACTIVE

    def active_steps(self) -> list[ActiveStep]:
        """Every step waiting for work: the current one and any event-triggered ones."""
        return ([self.current] if self.current else []) + list(self.side)

    def active(self, step_no: int) -> ActiveStep | None:
        """The active step with that number, if it is active."""
        for step in self.active_steps():
            if step.no == step_no:
                return step
        return None

    def is_overdue(self, now: datetime) -> bool:
        """Whether any active step is past its deadline."""
        return any(s.deadline is not None and now > s.deadline for s in self.active_steps())

    def to_dict(self) -> dict[str, Any]:
        """The stored form (JSON-friendly, versioned)."""
        return {
            "schema": INSTANCE_SCHEMA,
            "id": self.id,
            "flow_id": self.flow_id,
            "unit_id": self.unit_id,
            "year": self.year,
            "status": self.status.value,
            "created_at": self.created_at.isoformat(),
            "started_by": self.started_by,
            "current": self.current.to_dict() if self.current else None,
            "side": [s.to_dict() for s in self.side],
            "bindings": dict(self.bindings),
            "subject": self.subject,
            "rounds": {str(k): v for k, v in self.rounds.items()},
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Instance:
        """Rebuild an instance from :meth:`to_dict` output (any supported schema version)."""
        data = migrate_instance(data)
        return cls(
            id=data["id"],
            flow_id=data["flow_id"],
            unit_id=data["unit_id"],
            year=int(data["year"]),
            status=Status(data["status"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            started_by=data["started_by"],
            current=ActiveStep.from_dict(data["current"]) if data.get("current") else None,
            side=[ActiveStep.from_dict(s) for s in data.get("side") or []],
            bindings=dict(data.get("bindings") or {}),
            subject=data.get("subject"),
            rounds={int(k): int(v) for k, v in (data.get("rounds") or {}).items()},
            finished_at=(datetime.fromisoformat(data["finished_at"])
                         if data.get("finished_at") else None),
        )


def migrate_instance(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Upgrade a stored instance to the current schema (pure; one small step per version)."""
    version = int(data.get("schema", 1))
    if version > INSTANCE_SCHEMA:
        raise ValueError(f"instance {data.get('id')!r} has schema {version}, newer than this "
                         f"sopbot ({INSTANCE_SCHEMA}); upgrade sopbot")
    return data


@dataclass(frozen=True)
class Transition:
    """The result of one transition: the new instance, what happened, what to record."""

    instance: Instance
    events: tuple[Event, ...]
    disposition: Disposition | None = None


# --- the engine -----------------------------------------------------------------------------


class Engine:
    """Moves instances of one flow, using the unit's working calendar for deadlines."""

    def __init__(self, flow: Flow, calendar: WorkCalendar | None = None) -> None:
        self.flow = flow
        self.calendar = calendar or flow.unit.calendar()

    # -- starting ------------------------------------------------------------------------

    def start(
        self,
        *,
        instance_id: str,
        year: int,
        by: Actor,
        now: datetime,
        holders: Holders,
        subject: str | None = None,
        atasan: str | None = None,
    ) -> Transition:
        """Start an instance at the flow's first step.

        For a per-official flow, ``subject`` (the official) and ``atasan`` (their direct
        superior) are bound to the flow's subject and atasan roles for this instance.
        """
        _aware(now)
        flow = self.flow
        if not set(flow.starters) & by.roles:
            titles = ", ".join(flow.role(r).title for r in flow.starters)
            raise NotAllowed(f"only {titles} may start {flow.alias} ({flow.name})",
                             "not_starter", roles=titles)
        bindings: dict[str, str] = {}
        if flow.per_official is not None:
            if not subject or not atasan:
                raise WrongState(f"{flow.alias} runs per official: name the official and "
                                 f"their atasan", "needs_pair")
            if subject == atasan:
                raise WrongState("an official cannot be their own atasan", "own_atasan")
            bindings = {flow.per_official.subject: subject, flow.per_official.atasan: atasan}
        elif subject or atasan:
            raise WrongState(f"{flow.alias} is not a per-official procedure", "not_per_official")
        inst = Instance(
            id=instance_id,
            flow_id=flow.id,
            unit_id=flow.unit.id,
            year=year,
            status=Status.ACTIVE,
            created_at=now,
            started_by=by.member,
            bindings=bindings,
            subject=subject,
        )
        events = [self._activate(inst, flow.first_step, now, holders)]
        role = _acting_role(flow.starters, by)
        disp = Disposition(inst.id, flow.first_step.no, Action.START, by.member, role, now)
        return Transition(inst, tuple(events), disp)

    # -- acting on the active step -----------------------------------------------------

    def complete(
        self,
        inst: Instance,
        *,
        by: Actor,
        now: datetime,
        holders: Holders,
        step_no: int | None = None,
        note: str | None = None,
        attachments: Sequence[str] = (),
    ) -> Transition:
        """Mark a task step done (for a fan-out step: this official's part of it)."""
        return self._advance(inst, Action.COMPLETE, by, now, holders, step_no, note, attachments)

    def approve(
        self,
        inst: Instance,
        *,
        by: Actor,
        now: datetime,
        holders: Holders,
        step_no: int | None = None,
        note: str | None = None,
        attachments: Sequence[str] = (),
    ) -> Transition:
        """Approve a decision step; the flow moves to the next step."""
        return self._advance(inst, Action.APPROVE, by, now, holders, step_no, note, attachments)

    def advance(
        self,
        inst: Instance,
        *,
        by: Actor,
        now: datetime,
        holders: Holders,
        step_no: int | None = None,
        note: str | None = None,
        attachments: Sequence[str] = (),
    ) -> Transition:
        """Complete a task or approve a decision, whichever the step is ("selesai"/"setuju")."""
        target = self._target(inst, step_no)
        action = Action.APPROVE if self.flow.step(target.no).is_decision else Action.COMPLETE
        return self._advance(inst, action, by, now, holders, step_no, note, attachments)

    def revise(
        self,
        inst: Instance,
        *,
        by: Actor,
        now: datetime,
        holders: Holders,
        reason: str,
        step_no: int | None = None,
        attachments: Sequence[str] = (),
    ) -> Transition:
        """Send a decision step's work back to its revise target, with a reason."""
        _aware(now)
        reason = (reason or "").strip()
        target = self._target(inst, step_no)
        step = self.flow.step(target.no)
        if not step.is_decision:
            raise WrongState(f"step {step.no} ({step.title}) is a task, not a decision: "
                             f"it cannot be sent back", "task_not_decision", step=step.no)
        role = self._check_may_act(inst, target, step, by)
        if not reason:
            raise ReasonRequired("a revision needs a reason (what must be corrected)",
                                 "revise_reason")
        inst = copy.deepcopy(inst)
        back = self.flow.step(step.on_revise)  # type: ignore[arg-type]  # validated at load
        disp = Disposition(inst.id, step.no, Action.REVISE, by.member, role, now, reason,
                           tuple(attachments), target.round)
        events: list[Event] = [RevisionRequested(inst.id, now, step.no, back.no, by.member, reason)]
        events.append(self._activate(inst, back, now, holders, note=reason,
                                     attachments=tuple(attachments)))
        return Transition(inst, tuple(events), disp)

    def cancel(
        self, inst: Instance, *, by: Actor, now: datetime, reason: str | None = None
    ) -> Transition:
        """Stop a running instance (only a role that may start the flow may stop it)."""
        _aware(now)
        if inst.status is not Status.ACTIVE:
            raise WrongState(f"{self.flow.alias} {inst.year} is already {inst.status.value}",
                             inst.status.value)
        if not set(self.flow.starters) & by.roles:
            raise NotAllowed(f"only those who may start {self.flow.alias} may cancel it",
                             "not_canceller")
        inst = copy.deepcopy(inst)
        step_no = inst.current.no if inst.current else self.flow.first_step.no
        round_no = inst.current.round if inst.current else 1
        inst.status = Status.CANCELLED
        inst.current = None
        inst.side = []
        inst.finished_at = now
        reason = (reason or "").strip() or None
        disp = Disposition(inst.id, step_no, Action.CANCEL, by.member,
                           _acting_role(self.flow.starters, by), now, reason, round=round_no)
        return Transition(inst, (FlowCancelled(inst.id, now, by.member, reason),), disp)

    def trigger(
        self,
        inst: Instance,
        step_no: int,
        *,
        by: Actor,
        now: datetime,
        holders: Holders,
        reason: str,
    ) -> Transition:
        """Start an event-triggered step (e.g. revise the PK after a mutasi) with its cause."""
        _aware(now)
        flow = self.flow
        if not flow.has_step(step_no) or flow.step(step_no).trigger is not Trigger.EVENT:
            events = [s.no for s in flow.steps if s.trigger is Trigger.EVENT]
            raise WrongState(f"step {step_no} is not an event-triggered step of {flow.alias}"
                             + (f" (those are: {', '.join(map(str, events))})" if events else ""),
                             "not_event_step", step=step_no)
        step = flow.step(step_no)
        if inst.status is Status.CANCELLED:
            raise WrongState(f"{flow.alias} {inst.year} was cancelled", "cancelled")
        if inst.active(step_no):
            raise WrongState(f"step {step_no} is already running", "already_running",
                             step=step_no)
        if not ({step.actor, *flow.starters} & by.roles):
            raise NotAllowed(f"only {flow.role(step.actor).title} or those who start "
                             f"{flow.alias} may trigger step {step_no}", "not_trigger",
                             role=flow.role(step.actor).title, step=step_no)
        reason = (reason or "").strip()
        if not reason:
            raise ReasonRequired(f"say what happened ({step.when or 'the cause'})",
                                 "trigger_reason", when=step.when or "")
        inst = copy.deepcopy(inst)
        event = self._activate(inst, step, now, holders, note=reason, side=True)
        role = _acting_role((step.actor, *flow.starters), by)
        disp = Disposition(inst.id, step_no, Action.TRIGGER, by.member, role, now, reason,
                           round=inst.rounds[step_no])
        return Transition(inst, (event,), disp)

    def attach(
        self,
        inst: Instance,
        *,
        by: Actor,
        now: datetime,
        attachments: Sequence[str],
        step_no: int | None = None,
        note: str | None = None,
    ) -> Transition:
        """Attach documents to an active step without deciding it; they travel onwards."""
        _aware(now)
        if not attachments:
            raise WrongState("nothing to attach", "nothing_to_attach")
        target = self._target(inst, step_no)
        step = self.flow.step(target.no)
        role = self._check_may_act(inst, target, step, by)
        inst = copy.deepcopy(inst)
        active = inst.active(target.no)
        assert active is not None
        active.attachments.extend(attachments)
        note = (note or "").strip() or None
        disp = Disposition(inst.id, step.no, Action.ATTACH, by.member, role, now, note,
                           tuple(attachments), active.round)
        return Transition(inst, (), disp)

    def authorize(self, inst: Instance, *, by: Actor, step_no: int | None = None) -> str:
        """The role `by` would act for on the active step; raises if they may not act."""
        target = self._target(inst, step_no)
        return self._check_may_act(inst, target, self.flow.step(target.no), by)

    # -- internals ---------------------------------------------------------------------

    def _target(self, inst: Instance, step_no: int | None) -> ActiveStep:
        """The active step an action addresses (the current one unless a number is given)."""
        if step_no is None:
            if inst.current is None:
                if inst.side and len(inst.side) == 1:
                    return inst.side[0]
                raise WrongState(self._not_running(inst), inst.status.value)
            return inst.current
        active = inst.active(step_no)
        if active is None:
            now_at = (f"; it is at step {inst.current.no}" if inst.current else "")
            raise WrongState(f"step {step_no} is not active{now_at}", "not_active", step=step_no)
        return active

    def _not_running(self, inst: Instance) -> str:
        return {
            Status.COMPLETED: f"{self.flow.alias} {inst.year} is already completed",
            Status.CANCELLED: f"{self.flow.alias} {inst.year} was cancelled",
        }.get(inst.status, "no step is active")

    def _check_may_act(self, inst: Instance, active: ActiveStep, step: Step, by: Actor) -> str:
        """The role `by` acts for on this step, or NotAllowed."""
        title = self.flow.role(step.actor).title
        bound = inst.bindings.get(step.actor)
        if bound is not None:
            if by.member != bound:
                raise NotAllowed(f"step {step.no} is for a particular {title}, not for you",
                                 "bound_other", step=step.no, role=title)
            return step.actor
        if step.actor not in by.roles:
            raise NotAllowed(f"step {step.no} is for {title}; you do not hold that role",
                             "not_role", step=step.no, role=title)
        if not active.anyone and by.member not in active.pending:
            if by.member in active.done:
                raise AlreadyDone(f"you already completed your part of step {step.no}",
                                  "already_done", step=step.no)
            raise NotAllowed(f"step {step.no} was not assigned to you", "not_assigned",
                             step=step.no)
        return step.actor

    def _advance(
        self,
        inst: Instance,
        action: Action,
        by: Actor,
        now: datetime,
        holders: Holders,
        step_no: int | None,
        note: str | None,
        attachments: Sequence[str],
    ) -> Transition:
        _aware(now)
        target = self._target(inst, step_no)
        step = self.flow.step(target.no)
        if action is Action.APPROVE and not step.is_decision:
            raise WrongState(f"step {step.no} ({step.title}) is a task: complete it, there is "
                             f"nothing to approve", "task_not_decision", step=step.no)
        if action is Action.COMPLETE and step.is_decision:
            raise WrongState(f"step {step.no} ({step.title}) is a decision: approve it or send "
                             f"it back for revision", "decision_not_task",
                             step=step.no)
        role = self._check_may_act(inst, target, step, by)
        note = (note or "").strip() or None
        inst = copy.deepcopy(inst)
        copied = inst.active(target.no)  # the copy's
        assert copied is not None
        target = copied
        disp = Disposition(inst.id, step.no, action, by.member, role, now, note,
                           tuple(attachments), target.round)
        target.attachments.extend(attachments)
        if not target.anyone and len(target.pending) > 1:
            target.pending.remove(by.member)
            target.done.append(by.member)
            progress = FanOutProgress(inst.id, now, step.no, by.member, tuple(target.pending))
            return Transition(inst, (progress,), disp)
        events: list[Event] = [StepDone(inst.id, now, step.no, by.member, action)]
        if step.trigger is Trigger.EVENT:
            inst.side = [s for s in inst.side if s.no != step.no]
            return Transition(inst, tuple(events), disp)
        passed_on = tuple(target.attachments)
        nxt = self.flow.successor(step.no)
        if nxt is None:
            inst.status = Status.COMPLETED
            inst.current = None
            inst.finished_at = now
            events.append(FlowCompleted(inst.id, now, now - inst.created_at,
                                        self.flow.total_waktu))
        else:
            events.append(self._activate(inst, nxt, now, holders, note=note,
                                         attachments=passed_on))
        return Transition(inst, tuple(events), disp)

    def _activate(
        self,
        inst: Instance,
        step: Step,
        now: datetime,
        holders: Holders,
        *,
        note: str | None = None,
        attachments: tuple[str, ...] = (),
        side: bool = False,
    ) -> StepActivated:
        """Make `step` the active one (mutates `inst`, which is already a private copy)."""
        bound = inst.bindings.get(step.actor)
        if bound is not None:
            members, anyone = [bound], False
        elif step.fan_out and holders.get(step.actor):
            members, anyone = list(dict.fromkeys(holders[step.actor])), False
        else:
            # No one holds the role yet (or it is a plain step): whoever holds it may act.
            members, anyone = [], True
        round_no = inst.rounds.get(step.no, 0) + 1
        inst.rounds[step.no] = round_no
        active = ActiveStep(
            no=step.no,
            started_at=now,
            deadline=self.calendar.due(now, step.waktu),
            pending=members,
            anyone=anyone,
            note=note,
            incoming=list(attachments),
            round=round_no,
        )
        if side:
            inst.side.append(active)
        else:
            inst.current = active
        return StepActivated(inst.id, now, step.no, step.actor, tuple(members), active.deadline,
                             note, tuple(attachments), by_event=side)


def _acting_role(candidates: Sequence[str], by: Actor) -> str:
    """The first of `candidates` that `by` holds (the role recorded in a disposition)."""
    for role in candidates:
        if role in by.roles:
            return role
    return sorted(by.roles)[0] if by.roles else ""


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be a timezone-aware datetime")
