"""Running instances of a flow, and the transitions between their states.

An :class:`Instance` is one case of a flow ("PK 2025" of one unit, or one official's
"Pengumpulan Data Kinerja"). :class:`Engine` moves instances: every transition takes the
current instance, who acts and ``now``; it returns a *new* instance, the events it caused and,
for a decision by an official, the :class:`Disposition` to record. Nothing here sends, stores,
sleeps or reads the clock. A transition that is not allowed raises a :class:`DomainError`
subclass and leaves the instance untouched.

Why this module is long (about 900 lines): the instance's state and the one transition
table over it (sequence, fan-out parts, waits outside the office, event steps that resume,
withdrawal, cancelling) belong together; each transition re-checks the invariants the others
rely on, and splitting them would spread one state machine across files.

The allowed transitions, by instance status and step kind::

    status     action            step kind      result
    ---------  ----------------  -------------  -----------------------------------------
    (none)     start             -              active at the first step
    active     complete          task           next step (fan-out: when all holders did)
    active     approve           decision       next step
    active     revise (reason)   decision       back to the step's on_revise target
    active     cancel            any            cancelled
    active,    trigger           event step     the event step runs beside the sequence
    completed  complete          event step     the event step is done; with continue_at
                                                the sequence resumes there (reopening a
                                                completed instance)
    active     complete/approve  step with wait waiting: the document is outside the office
    waiting    returned          -              next step (recorded by the wait's office role)
    active     revise (parts)    decision after only the named holders of the fan-out
                                 a fan-out      step redo their part
    active     withdraw          -              the withdrawn decision's step is active
                                                again (within the window, nothing acted since)

"waiting" is an active instance with no current step and a :class:`WaitState`: no one in the
office has a deadline while the document is outside, so no one is late for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bot.engine.calendar import WorkCalendar
from bot.engine.events import (  # re-exported: callers import them from here
    ACTING_KINDS,
    Action,
    Actor,
    AlreadyDone,
    DecisionWithdrawn,
    Disposition,
    DomainError,
    Event,
    ExternalReturned,
    ExternalWaitStarted,
    FanOutProgress,
    FlowCancelled,
    FlowCompleted,
    Holders,
    NotAllowed,
    ReasonRequired,
    RevisionRequested,
    SequenceResumed,
    Status,
    StepActivated,
    StepDone,
    WrongState,
    _disposition,
)
from bot.engine.model import ExternalWait, Flow, Step, Trigger

__all__ = [  # the engine's vocabulary (bot.engine.events) is re-exported from here
    "ACTING_KINDS", "INSTANCE_SCHEMA", "Action", "ActiveStep", "Actor", "AlreadyDone",
    "DecisionWithdrawn", "Disposition", "DomainError", "Engine", "Event", "ExternalReturned",
    "ExternalWaitStarted", "FanOutProgress", "FlowCancelled", "FlowCompleted", "Holders",
    "Instance", "NotAllowed", "ReasonRequired", "RevisionRequested", "SequenceResumed",
    "Status", "StepActivated", "StepDone", "Transition", "WaitState", "WrongState",
    "migrate_instance",
]

#: Version of the stored form of an instance (see :meth:`Instance.to_dict`).
INSTANCE_SCHEMA = 2


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
    by_member: dict[str, list[str]] = field(default_factory=dict)  # fan-out: each part's files

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
            "by_member": {k: list(v) for k, v in self.by_member.items()},
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
            by_member={k: list(v) for k, v in (data.get("by_member") or {}).items()},
        )


@dataclass
class WaitState:
    """The document is outside the office after step ``after_step`` (see ExternalWait)."""

    after_step: int
    since: datetime
    expected_by: datetime | None  # the SOP's expected duration, never a deadline
    note: str | None = None  # the note of the step that sent it out, passed on after return
    attachments: list[str] = field(default_factory=list)  # travel on to the next step

    def to_dict(self) -> dict[str, Any]:
        return {"after_step": self.after_step, "since": self.since.isoformat(),
                "expected_by": self.expected_by.isoformat() if self.expected_by else None,
                "note": self.note, "attachments": list(self.attachments)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WaitState:
        return cls(int(data["after_step"]), datetime.fromisoformat(data["since"]),
                   datetime.fromisoformat(data["expected_by"]) if data.get("expected_by")
                   else None, data.get("note"), list(data.get("attachments") or []))


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
    waiting: WaitState | None = None  # the document is outside the office
    # fan-out step no -> {member: their documents}, kept when a revision names only some parts
    parts: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    # the last decision, while it may still be withdrawn: who, when, which step, and the
    # instance as it was before it (stored form); cleared by any later transition
    undo: Mapping[str, Any] | None = None
    cancelled_by: str | None = None
    cancel_reason: str | None = None
    target_from: date | None = None  # the date the flow's target counts from (Flow.target)

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

    @property
    def is_waiting(self) -> bool:
        """Whether the document is outside the office (no one here has a deadline)."""
        return self.status is Status.ACTIVE and self.waiting is not None

    def is_overdue(self, now: datetime) -> bool:
        """Whether any active step is past its deadline (time outside never counts)."""
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
            "waiting": self.waiting.to_dict() if self.waiting else None,
            "parts": {str(k): {m: list(a) for m, a in v.items()} for k, v in self.parts.items()},
            "undo": self.undo,
            "cancelled_by": self.cancelled_by,
            "cancel_reason": self.cancel_reason,
            "target_from": self.target_from.isoformat() if self.target_from else None,
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
            waiting=WaitState.from_dict(data["waiting"]) if data.get("waiting") else None,
            parts={int(k): {m: list(a) for m, a in v.items()}
                   for k, v in (data.get("parts") or {}).items()},
            undo=data.get("undo"),
            cancelled_by=data.get("cancelled_by"),
            cancel_reason=data.get("cancel_reason"),
            target_from=(date.fromisoformat(data["target_from"])
                         if data.get("target_from") else None),
        )


def migrate_instance(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Upgrade a stored instance to the current schema (pure; one small step per version)."""
    version = int(data.get("schema", 1))
    if version > INSTANCE_SCHEMA:
        raise ValueError(f"instance {data.get('id')!r} has schema {version}, newer than this "
                         f"sopbot ({INSTANCE_SCHEMA}); upgrade sopbot")
    if version == 1:
        data = _instance_v1_to_v2(data)
    return data


def _instance_v1_to_v2(data: Mapping[str, Any]) -> dict[str, Any]:
    """v2 added external waits, fan-out parts, the undo point and the cancel record."""
    return {"waiting": None, "parts": {}, "undo": None, "cancelled_by": None,
            "cancel_reason": None, **data, "schema": 2}


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
        disp = _disposition(inst.id, flow.first_step.no, Action.START, by, role, now)
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
        parts: Sequence[str] | None = None,
    ) -> Transition:
        """Send a decision step's work back to its revise target, with a reason.

        ``parts`` (member ids), for a decision whose revise target is a fan-out step: only
        those holders redo their part, with a new deadline; the other parts stay done and
        keep their documents. None or empty: every part is sent back.
        """
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
        back = self.flow.step(step.on_revise)  # type: ignore[arg-type]  # validated at load
        parts = tuple(dict.fromkeys(parts or ()))
        if parts:
            self._check_parts(inst, back, parts)
        before = inst
        inst = _fresh_copy(inst)
        disp = _disposition(inst.id, step.no, Action.REVISE, by, role, now, reason,
                            attachments, target.round, parts)
        events: list[Event] = [RevisionRequested(inst.id, now, step.no, back.no, by.member,
                                                 reason, parts)]
        activated = self._activate(inst, back, now, holders, note=reason,
                                   attachments=tuple(attachments))
        if parts:
            activated = self._narrow_to_parts(inst, back, parts, activated)
        events.append(activated)
        _remember_undo(inst, before, disp, (back.no,))
        return Transition(inst, tuple(events), disp)

    def returned(
        self,
        inst: Instance,
        *,
        by: Actor,
        now: datetime,
        holders: Holders,
        note: str | None = None,
        attachments: Sequence[str] = (),
    ) -> Transition:
        """The document came back from outside the office ("Sudah kembali"): continue."""
        _aware(now)
        if not inst.is_waiting:
            raise WrongState(f"{self.flow.alias} {inst.year} is not waiting on anyone outside "
                             f"the office", "not_waiting")
        assert inst.waiting is not None
        sent = self.flow.step(inst.waiting.after_step)
        wait = sent.wait
        assert wait is not None  # only steps with a wait put an instance into waiting
        if wait.recorded_by not in by.roles:
            title = self.flow.role(wait.recorded_by).title
            raise NotAllowed(f"only {title} records that the document came back",
                             "not_recorder", role=title)
        inst = _fresh_copy(inst)
        waiting = inst.waiting
        assert waiting is not None
        inst.waiting = None
        nxt = self.flow.successor(sent.no)
        assert nxt is not None  # validated at load: a wait is followed by a step
        note = (note or "").strip() or None
        disp = _disposition(inst.id, sent.no, Action.RETURN, by, wait.recorded_by, now, note,
                            attachments, inst.rounds.get(sent.no, 1))
        passed_on = tuple(waiting.attachments) + tuple(attachments)
        events: list[Event] = [
            ExternalReturned(inst.id, now, sent.no, by.member, now - waiting.since),
            self._activate(inst, nxt, now, holders, note=note or waiting.note,
                           attachments=passed_on),
        ]
        return Transition(inst, tuple(events), disp)

    def wait_of(self, inst: Instance) -> ExternalWait | None:
        """What the instance waits on outside the office (None when it does not wait).

        With ``inst.waiting.since`` (and ``expected_by``) this is "menunggu Bupati sejak …".
        """
        if not inst.is_waiting:
            return None
        assert inst.waiting is not None
        return self.flow.step(inst.waiting.after_step).wait

    def may_cancel(self, inst: Instance, by: Actor, *, admin: bool = False) -> bool:
        """Whether `by` may cancel: the member who started it, a holder of a starter role or
        of the unit's secretary role, or an admin of the unit (``admin=True``)."""
        allowed = set(self.flow.starters) | set(self.flow.secretary_roles)
        return admin or by.member == inst.started_by or bool(allowed & by.roles)

    def cancel(
        self,
        inst: Instance,
        *,
        by: Actor,
        now: datetime,
        reason: str | None = None,
        holders: Holders | None = None,
        admin: bool = False,
    ) -> Transition:
        """Stop a running instance (see :meth:`may_cancel` for who may).

        The event names the steps that were active and, with ``holders``, every member who
        held them, so that each can be told it was cancelled, by whom and why.
        """
        _aware(now)
        if inst.status is not Status.ACTIVE:
            raise WrongState(f"{self.flow.alias} {inst.year} is already {inst.status.value}",
                             inst.status.value)
        if not self.may_cancel(inst, by, admin=admin):
            raise NotAllowed(f"only whoever started {self.flow.alias}, those who may start it, "
                             f"the secretary or an admin may cancel it", "not_canceller")
        notify = self._holders_of_active(inst, holders or {})
        active = tuple(a.no for a in inst.active_steps())
        waiting_on: tuple[str, ...] = ()
        if inst.waiting is not None:
            wait = self.flow.step(inst.waiting.after_step).wait
            waiting_on = wait.waits_for if wait else ()
        inst = _fresh_copy(inst)
        step_no = (inst.current.no if inst.current else
                   inst.waiting.after_step if inst.waiting else self.flow.first_step.no)
        round_no = inst.rounds.get(step_no, 1)
        inst.status = Status.CANCELLED
        inst.current = None
        inst.side = []
        inst.waiting = None
        inst.finished_at = now
        reason = (reason or "").strip() or None
        role = _acting_role((*self.flow.starters, *self.flow.secretary_roles), by)
        inst.cancelled_by = by.member
        inst.cancel_reason = reason
        disp = _disposition(inst.id, step_no, Action.CANCEL, by, role, now, reason,
                            round_no=round_no)
        event = FlowCancelled(inst.id, now, by.member, reason, role, active, notify, waiting_on)
        return Transition(inst, (event,), disp)

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
        inst = _fresh_copy(inst)
        event = self._activate(inst, step, now, holders, note=reason, side=True)
        role = _acting_role((step.actor, *flow.starters), by)
        disp = _disposition(inst.id, step_no, Action.TRIGGER, by, role, now, reason,
                            round_no=inst.rounds[step_no])
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
        inst = _fresh_copy(inst)
        active = inst.active(target.no)
        assert active is not None
        active.attachments.extend(attachments)
        if not active.anyone:
            active.by_member.setdefault(by.member, []).extend(attachments)
        note = (note or "").strip() or None
        disp = _disposition(inst.id, step.no, Action.ATTACH, by, role, now, note,
                            attachments, active.round)
        return Transition(inst, (), disp)

    def authorize(self, inst: Instance, *, by: Actor, step_no: int | None = None) -> str:
        """The role `by` would act for on the active step; raises if they may not act."""
        target = self._target(inst, step_no)
        return self._check_may_act(inst, target, self.flow.step(target.no), by)

    # -- taking a decision back ----------------------------------------------------------

    def withdrawable(self, inst: Instance, *, by: Actor, now: datetime,
                     window: timedelta) -> bool:
        """Whether `by` may still withdraw the last decision (see :meth:`withdraw`)."""
        try:
            self._check_withdraw(inst, by, now, window)
        except DomainError:
            return False
        return True

    def withdraw(
        self,
        inst: Instance,
        *,
        by: Actor,
        now: datetime,
        window: timedelta,
        reason: str | None = None,
    ) -> Transition:
        """Take back one's last decision (tarik kembali): its step is active again.

        Allowed to the official who decided, within ``window`` of the decision, while nothing
        has been done on the instance since (no one acted on the next step). The withdrawal
        is a disposition of its own; the trail keeps both.
        """
        _aware(now)
        undo = self._check_withdraw(inst, by, now, window)
        restored = Instance.from_dict(undo["before"])
        restored.rounds = {**restored.rounds, **inst.rounds}  # rounds only ever grow
        withdrawn = tuple(int(n) for n in undo["activated"])
        notify = tuple(m for a in inst.active_steps() if a.no in withdrawn for m in a.pending)
        step_no, action = int(undo["step_no"]), Action(undo["action"])
        reason = (reason or "").strip() or None
        disp = _disposition(inst.id, step_no, Action.WITHDRAW, by, undo["role"], now, reason,
                            round_no=int(undo["round"]))
        events: list[Event] = [DecisionWithdrawn(inst.id, now, step_no, by.member, action,
                                                 withdrawn, notify, reason)]
        active = restored.active(step_no)
        if active is not None:
            events.append(StepActivated(inst.id, now, step_no, self.flow.step(step_no).actor,
                                        tuple(active.pending), active.deadline, active.note,
                                        tuple(active.incoming), by_event=active in
                                        restored.side, restored=True))
        return Transition(restored, tuple(events), disp)

    def _check_withdraw(self, inst: Instance, by: Actor, now: datetime,
                        window: timedelta) -> Mapping[str, Any]:
        undo = inst.undo
        if inst.status is Status.CANCELLED or not undo:
            raise WrongState("there is no decision to withdraw (something has happened since)",
                             "nothing_to_withdraw")
        if undo["by"] != by.member:
            raise NotAllowed("only the official who decided may withdraw the decision",
                             "not_decider")
        if now - datetime.fromisoformat(undo["at"]) > window:
            raise WrongState("too late to withdraw: the time for it has passed",
                             "withdraw_too_late", minutes=int(window.total_seconds() // 60))
        return undo

    # -- internals ---------------------------------------------------------------------

    def _target(self, inst: Instance, step_no: int | None) -> ActiveStep:
        """The active step an action addresses (the current one unless a number is given)."""
        if step_no is None:
            if inst.current is None:
                if inst.side and len(inst.side) == 1:
                    return inst.side[0]
                raise WrongState(self._not_running(inst),
                                 "waiting" if inst.is_waiting else inst.status.value)
            return inst.current
        active = inst.active(step_no)
        if active is None:
            now_at = (f"; it is at step {inst.current.no}" if inst.current else "")
            raise WrongState(f"step {step_no} is not active{now_at}", "not_active", step=step_no)
        return active

    def _not_running(self, inst: Instance) -> str:
        if inst.is_waiting:
            assert inst.waiting is not None
            wait = self.flow.step(inst.waiting.after_step).wait
            who = ", ".join(self.flow.role(r).title for r in (wait.waits_for if wait else ()))
            return f"{self.flow.alias} {inst.year} is waiting on {who} (outside the office)"
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
        # Complete/approve/revise of one step: the checks and the three outcomes (next
        # step, fan-out part, back to on_revise) are one table; about 60 lines, kept whole.
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
        before = inst
        inst = _fresh_copy(inst)
        copied = inst.active(target.no)  # the copy's
        assert copied is not None
        target = copied
        disp = _disposition(inst.id, step.no, action, by, role, now, note, attachments,
                            target.round)
        target.attachments.extend(attachments)
        if not target.anyone:
            target.by_member.setdefault(by.member, []).extend(attachments)
        if not target.anyone and len(target.pending) > 1:
            target.pending.remove(by.member)
            target.done.append(by.member)
            progress = FanOutProgress(inst.id, now, step.no, by.member, tuple(target.pending))
            _remember_undo(inst, before, disp, ())
            return Transition(inst, (progress,), disp)
        if step.fan_out and not target.anyone:
            inst.parts[step.no] = {m: list(target.by_member.get(m, []))
                                   for m in [*target.done, by.member]}
        events: list[Event] = [StepDone(inst.id, now, step.no, by.member, action)]
        if step.trigger is Trigger.EVENT:
            inst.side = [s for s in inst.side if s.no != step.no]
            if step.continue_at is not None:
                events.extend(self._resume(inst, step, now, holders, note or target.note,
                                           tuple(target.attachments)))
            return Transition(inst, tuple(events), disp)
        passed_on = tuple(target.attachments)
        nxt = self.flow.successor(step.no)
        if nxt is None:
            inst.status = Status.COMPLETED
            inst.current = None
            inst.finished_at = now
            events.append(FlowCompleted(inst.id, now, now - inst.created_at,
                                        self.flow.total_waktu))
        elif step.wait is not None:
            events.append(self._send_out(inst, step, step.wait, now, note, passed_on))
        else:
            events.append(self._activate(inst, nxt, now, holders, note=note,
                                         attachments=passed_on))
        activated = tuple(e.step_no for e in events if isinstance(e, StepActivated))
        _remember_undo(inst, before, disp, activated)
        return Transition(inst, tuple(events), disp)

    def _send_out(self, inst: Instance, step: Step, wait: ExternalWait, now: datetime,
                  note: str | None, attachments: tuple[str, ...]) -> ExternalWaitStarted:
        """The document leaves the office after `step`: no current step, no deadline."""
        inst.current = None
        expected = self.calendar.due(now, wait.waktu) if wait.waktu.unit is not None else None
        inst.waiting = WaitState(step.no, now, expected, note, list(attachments))
        return ExternalWaitStarted(inst.id, now, step.no, wait.waits_for, wait.recorded_by,
                                   expected, wait.label)

    def _resume(self, inst: Instance, step: Step, now: datetime, holders: Holders,
                note: str | None, attachments: tuple[str, ...]) -> list[Event]:
        """An event step with continue_at is done: run the sequence again from there.

        A completed instance reopens; a running one that is already past that step (or waits
        on someone outside) goes back to it; one that has not reached it yet goes on as it is.
        """
        assert step.continue_at is not None
        resume = self.flow.step(step.continue_at)
        reopened = inst.status is Status.COMPLETED
        current = inst.current
        behind = (current is not None
                  and self.flow.position(current.no) <= self.flow.position(resume.no))
        if not reopened and behind and inst.waiting is None:
            return []
        abandoned = tuple([current.no] if current else []) + (
            (inst.waiting.after_step,) if inst.waiting else ())
        inst.status = Status.ACTIVE
        inst.finished_at = None
        inst.waiting = None
        return [SequenceResumed(inst.id, now, step.no, resume.no, abandoned, reopened),
                self._activate(inst, resume, now, holders, note=note, attachments=attachments)]

    def _check_parts(self, inst: Instance, back: Step, parts: tuple[str, ...]) -> None:
        if not back.fan_out:
            raise WrongState(f"step {back.no} is done by one official; it has no parts to name",
                             "no_parts", step=back.no)
        known = inst.parts.get(back.no, {})
        unknown = [m for m in parts if m not in known]
        if unknown:
            raise WrongState(f"not a part of step {back.no}: {', '.join(unknown)}",
                             "not_a_part", step=back.no, parts=", ".join(unknown))

    def _narrow_to_parts(self, inst: Instance, back: Step, parts: tuple[str, ...],
                         event: StepActivated) -> StepActivated:
        """Only `parts` redo their share; the others stay done with their documents."""
        active = inst.current
        assert active is not None and active.no == back.no
        kept = {m: docs for m, docs in inst.parts.get(back.no, {}).items() if m not in parts}
        active.pending = list(parts)
        active.anyone = False
        active.done = list(kept)
        active.by_member = {m: list(d) for m, d in kept.items()}
        active.attachments = [d for docs in kept.values() for d in docs]
        return StepActivated(event.instance_id, event.at, event.step_no, event.role, parts,
                             event.deadline, event.note, event.attachments)

    def _holders_of_active(self, inst: Instance, holders: Holders) -> tuple[str, ...]:
        """Every member who holds an active step of `inst` (pending, bound or any holder)."""
        found: list[str] = []
        for active in inst.active_steps():
            step = self.flow.step(active.no)
            bound = inst.bindings.get(step.actor)
            found += ([bound] if bound else active.pending if not active.anyone
                      else list(holders.get(step.actor, ())))
        if inst.waiting is not None:
            wait = self.flow.step(inst.waiting.after_step).wait
            if wait is not None:
                found += list(holders.get(wait.recorded_by, ()))
        return tuple(dict.fromkeys(found))

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


def _fresh_copy(inst: Instance) -> Instance:
    """A private copy to change; any transition ends the window to withdraw the last one.

    Made from the stored form, as every transaction reads an instance: a third of the
    time of ``copy.deepcopy`` (which also copied the previous undo point only to drop it),
    on the path of every decision (issue 15)."""
    return Instance.from_dict({**inst.to_dict(), "undo": None})


def _remember_undo(inst: Instance, before: Instance, disp: Disposition,
                   activated: tuple[int, ...]) -> None:
    """Keep what is needed to withdraw `disp`: the instance as it was before it."""
    snapshot = before.to_dict()
    snapshot["undo"] = None
    inst.undo = {"by": disp.member, "role": disp.role, "at": disp.at.isoformat(),
                 "step_no": disp.step_no, "action": disp.action.value, "round": disp.round,
                 "activated": list(activated), "before": snapshot}


def _acting_role(candidates: Sequence[str], by: Actor) -> str:
    """The first of `candidates` that `by` holds (the role recorded in a disposition)."""
    for role in candidates:
        if role in by.roles:
            return role
    return sorted(by.roles)[0] if by.roles else ""


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be a timezone-aware datetime")
