"""The stored trail of an instance, read back as steps that ran and rows that auditors read.

A disposition records a decision, not when its step began. The start of each activation of a
step (step number, round) is found again from the SOP: the step was activated by the decision
that led to it — the final completion or approval of its predecessor, a revision that sent
the work back to it, a trigger (event steps), or the start of the instance.

Pure: no clock, no I/O.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.engine.calendar import resolve_timezone
from bot.engine.instance import Action, Disposition, Instance
from bot.engine.model import Flow, Trigger
from bot.reports.worktime import mutu_baku_minutes, working_minutes

__all__ = [
    "DECISIONS",
    "DispositionRow",
    "StepRun",
    "StepStats",
    "Trail",
    "disposition_rows",
    "row_to_json",
    "step_runs",
    "step_stats",
]

#: Actions that finish (or send back) a step's work: the ones measured against mutu baku.
DECISIONS = frozenset({Action.COMPLETE, Action.APPROVE, Action.REVISE})


@dataclass(frozen=True)
class Trail:
    """One instance with its dispositions, and the names needed to show who acted."""

    flow: Flow
    instance: Instance
    dispositions: tuple[Disposition, ...]
    names: Mapping[str, str] = field(default_factory=dict)  # member id -> name
    holders: Mapping[str, Sequence[str]] = field(default_factory=dict)  # role -> member ids

    def name(self, member: str) -> str:
        """The official's name (the member id when unknown)."""
        return self.names.get(member, member)


@dataclass(frozen=True)
class StepRun:
    """One activation of a step: when it began and what was decided on it.

    ``activated_by`` is the action that began it (start, complete, approve, revise,
    trigger) or None when no SOP rule explains it (a step run out of order).
    """

    step_no: int
    round: int
    started: datetime
    activated_by: Action | None
    decisions: tuple[Disposition, ...]
    deadline: datetime | None


@dataclass(frozen=True)
class DispositionRow:
    """One disposition as the trail export shows it (``sopbot export``)."""

    unit: str
    unit_name: str
    flow: str
    flow_alias: str
    year: int
    step: int
    round: int
    title: str
    role: str
    role_title: str
    official: str
    acting_for: str | None
    acting_kind: str | None
    action: str
    note: str | None
    attachments: tuple[str, ...]
    started: datetime | None
    decided: datetime
    mutu_baku_minutes: int | None
    actual_working_minutes: int | None
    late: bool
    timezone: str
    instance_id: str
    subject: str | None = None  # per-official procedures: the official it runs for


def _index_runs(trail: Trail) -> dict[tuple[int, int], list[int]]:
    """(step, round) -> indexes of its dispositions, in stored order."""
    runs: dict[tuple[int, int], list[int]] = {}
    for i, d in enumerate(trail.dispositions):
        runs.setdefault((d.step_no, d.round), []).append(i)
    return runs


def _activates(flow: Flow, d: Disposition, step_no: int) -> bool:
    """Whether decision `d` makes `step_no` active by the SOP: the completion or approval of
    its predecessor, or a revision that sends the work back to it."""
    if not flow.has_step(d.step_no):
        return False
    decided = flow.step(d.step_no)
    if d.action is Action.REVISE:
        return decided.on_revise == step_no
    if d.action in (Action.COMPLETE, Action.APPROVE) and decided.trigger is Trigger.SEQUENCE:
        nxt = flow.successor(d.step_no)
        return nxt is not None and nxt.no == step_no
    return False


def _activation(trail: Trail, step_no: int, round_no: int,
                first: int) -> tuple[datetime, Action | None]:
    """When (step, round) began: its own start or trigger, else the latest decision before
    its first disposition that activates it by the SOP (for a fan-out predecessor, the last
    official's). None as the action: no SOP rule explains the run."""
    flow, disps = trail.flow, trail.dispositions
    own = disps[first]
    if own.action in (Action.START, Action.TRIGGER):
        return own.at, own.action
    by_sequence = flow.has_step(step_no) and flow.step(step_no).trigger is Trigger.SEQUENCE
    for d in reversed(disps[:first]) if by_sequence else ():
        if _activates(flow, d, step_no):
            return d.at, d.action
    if step_no == flow.first_step.no and round_no == 1:
        return trail.instance.created_at, Action.START
    return own.at, None


def step_runs(trail: Trail) -> list[StepRun]:
    """Every activation of a step that has a disposition, plus the ones still waiting."""
    flow, inst = trail.flow, trail.instance
    calendar = flow.unit.calendar()
    waiting = {(a.no, a.round): a for a in inst.active_steps()}
    runs = []
    for (step_no, round_no), idx in _index_runs(trail).items():
        started, by = _activation(trail, step_no, round_no, idx[0])
        active = waiting.pop((step_no, round_no), None)
        if active is not None:
            started = active.started_at  # the running step knows its own start
        waktu = flow.step(step_no).waktu if flow.has_step(step_no) else None
        decisions = tuple(trail.dispositions[i] for i in idx
                          if trail.dispositions[i].action in DECISIONS)
        deadline = calendar.due(started, waktu) if waktu is not None else None
        runs.append(StepRun(step_no, round_no, started, by, decisions, deadline))
    for active in waiting.values():
        runs.append(StepRun(active.no, active.round, active.started_at, None, (),
                            active.deadline))
    return sorted(runs, key=lambda r: (r.started, r.step_no))


def disposition_rows(trail: Trail) -> list[DispositionRow]:
    """Every disposition of the instance as an export row, oldest first.

    Decisions (complete, approve, revise) carry the step's mutu baku and the actual working
    time from the step's start to the decision; start, trigger, attach and cancel carry
    neither and are never late.
    """
    flow, inst = trail.flow, trail.instance
    calendar = flow.unit.calendar()
    starts = {(r.step_no, r.round): r.started for r in step_runs(trail)}
    subject = trail.name(inst.subject) if inst.subject else None
    rows = []
    for d in trail.dispositions:
        step = flow.step(d.step_no) if flow.has_step(d.step_no) else None
        started = starts.get((d.step_no, d.round))
        baku = actual = None
        late = False
        if d.action in DECISIONS and step is not None and started is not None:
            baku = mutu_baku_minutes(calendar, step.waktu, started)
            actual = working_minutes(calendar, started, d.at)
            due = calendar.due(started, step.waktu)
            late = due is not None and d.at > due
        acting_for = d.acting_for  # Plt/Plh
        rows.append(DispositionRow(
            unit=flow.unit.id, unit_name=flow.unit.name, flow=flow.id, flow_alias=flow.alias,
            year=inst.year, step=d.step_no, round=d.round,
            title=step.title if step else "", role=d.role,
            role_title=flow.role(d.role).title if flow.has_role(d.role) else d.role,
            official=trail.name(d.member),
            acting_for=trail.name(acting_for) if acting_for else None,
            acting_kind=d.acting_kind,
            action=d.action.value, note=d.note, attachments=tuple(d.attachments),
            started=started, decided=d.at, mutu_baku_minutes=baku,
            actual_working_minutes=actual, late=late, timezone=flow.unit.timezone,
            instance_id=inst.id, subject=subject,
        ))
    return rows


def row_to_json(row: DispositionRow) -> dict[str, object]:
    """The documented ``sopbot export --json`` form of a row (exactly these fields)."""
    return {
        "unit": row.unit,
        "flow": row.flow,
        "year": row.year,
        "step": row.step,
        "title": row.title,
        "role": row.role,
        "official": row.official,
        "acting_for": row.acting_for,
        "action": row.action,
        "note": row.note,
        "started": _iso(row.started, row.timezone),
        "decided": _iso(row.decided, row.timezone),
        "mutu_baku_minutes": row.mutu_baku_minutes,
        "actual_working_minutes": row.actual_working_minutes,
        "late": row.late,
    }


def _iso(dt: datetime | None, timezone: str) -> str | None:
    # In the unit's zone, as its officials read the time.
    return dt.astimezone(resolve_timezone(timezone)).isoformat() if dt else None


@dataclass(frozen=True)
class StepStats:
    """How one step of the SOP really ran over a set of instances."""

    step_no: int
    title: str
    role_title: str
    waktu: str  # as the SOP writes it
    runs: int  # decisions measured (a fan-out step counts each official's part)
    mutu_baku_minutes: int | None  # median of the standard over those runs
    median_minutes: float | None
    worst_minutes: int | None
    late: int
    revisions_sent: int  # revisions decided on this step (◇)
    reworked: int  # times this step's work was sent back to it
    delegated: int  # decisions taken by a Plt/Plh


def step_stats(flow: Flow, rows: Iterable[DispositionRow]) -> list[StepStats]:
    """Per step of ``flow``: median and worst actual working time against mutu baku."""
    mine = [r for r in rows if r.flow == flow.id]
    stats = []
    for step in sorted(flow.steps, key=lambda s: s.no):
        measured = [r for r in mine if r.step == step.no and r.actual_working_minutes is not None]
        actual = [r.actual_working_minutes for r in measured
                  if r.actual_working_minutes is not None]
        baku = [r.mutu_baku_minutes for r in measured if r.mutu_baku_minutes is not None]
        stats.append(StepStats(
            step_no=step.no,
            title=step.title,
            role_title=flow.role(step.actor).title,
            waktu=str(step.waktu),
            runs=len(measured),
            mutu_baku_minutes=int(statistics.median(baku)) if baku else None,
            median_minutes=statistics.median(actual) if actual else None,
            worst_minutes=max(actual) if actual else None,
            late=sum(r.late for r in measured),
            revisions_sent=sum(r.action == Action.REVISE.value for r in measured),
            reworked=sum(1 for r in mine if r.action == Action.REVISE.value
                         and flow.has_step(r.step) and flow.step(r.step).on_revise == step.no),
            delegated=sum(r.acting_for is not None for r in measured),
        ))
    return stats
