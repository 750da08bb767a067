"""The stages of one official's share of a recurring duty, as the reminders plan them.

A cycle's steps (DPRD: the semester's 9–12) are walked stage by stage
(:func:`bot.engine.duties.duty_stages`): consecutive steps of the official are one stage (they
measure and report with the evidence, 9–10), a step of the atasan is a stage of its own (the
evaluation, 11), then the official's follow-up (12). Each stage is recorded as a
:class:`~bot.storage.records.CycleTask` of its own id, done by button, reply or evidence as
any duty; the first stage keeps the share's historic id, so duties with one stage (triwulan,
tahunan) are stored exactly as before. A later stage is reminded from the moment the one
before it was done, to whoever acts on it. No Telegram here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from bot.engine.calendar import WorkCalendar
from bot.engine.duties import Who, duty_stages
from bot.engine.model import Cycle, Flow
from bot.engine.reminders import ReminderKind, ReminderPoint
from bot.storage.protocol import Repository


@dataclass(frozen=True)
class Stage:
    """One stage: who acts and the SOP steps it stands for."""

    index: int
    who: Who
    steps: tuple[int, ...]


@dataclass(frozen=True)
class Current:
    """The stage an official's share waits on: its task id, who acts, since when."""

    stage: Stage
    task_id: str
    actor: str
    since: datetime | None  # None for the first stage (reminded from the occurrence)


def share_id(flow_id: str, occurrence: str, member_id: str, index: int = 0) -> str:
    """The stable id of a stage of one official's share (stage 0: the share's own id)."""
    key = occurrence if index == 0 else f"{occurrence}#{index}"
    return hashlib.sha1(f"{flow_id}|{key}|{member_id}".encode()).hexdigest()[:12]


def stages(flow: Flow, cycle: Cycle) -> tuple[Stage, ...]:
    """The cycle's stages, consecutive tasks of the same actor merged."""
    merged: list[tuple[Who, tuple[int, ...], bool]] = []
    for st in duty_stages(flow, cycle):
        if merged and merged[-1][0] is st.who and not merged[-1][2] and not st.is_decision:
            merged[-1] = (st.who, merged[-1][1] + st.steps, False)
        else:
            merged.append((st.who, st.steps, st.is_decision))
    return tuple(Stage(i, who, steps) for i, (who, steps, _d) in enumerate(merged))


def current(repo: Repository, flow: Flow, cycle: Cycle, occurrence: str, member_id: str,
            atasan: str | None, done: set[str]) -> Current | None:
    """The stage waiting for work, or None when the share is done (or its actor unknown)."""
    since: datetime | None = None
    for stage in stages(flow, cycle):
        tid = share_id(flow.id, occurrence, member_id, stage.index)
        if tid in done:
            task = repo.cycle_task(tid)
            since = task.done_at if task else since
            continue
        actor = member_id if stage.who is Who.OFFICIAL else atasan
        return Current(stage, tid, actor, since) if actor else None
    return None


def stage_points(points: list[ReminderPoint], since: datetime,
                 calendar: WorkCalendar) -> list[ReminderPoint]:
    """A later stage's reminders: at once (next opening), then the occurrence's own due and
    overdue points that come after it."""
    start = ReminderPoint(ReminderKind.BEFORE, calendar.next_opening(since), key="stage")
    later = [p for p in points if p.kind in (ReminderKind.DUE, ReminderKind.OVERDUE)
             and p.at > start.at]
    return [start, *later]
