"""The stages of one official's share of a recurring duty, as the reminders plan them.

A cycle's steps (DPRD: the semester's 9–12) are walked stage by stage
(:func:`bot.engine.duties.duty_stages`): consecutive steps of the official are one stage (they
measure and report with the evidence, 9–10), a step of the atasan is a stage of its own (the
evaluation, 11), then the official's follow-up (12). Each stage is recorded as a
:class:`~bot.storage.records.CycleTask` of its own id, done by button, reply or evidence as
any duty; the first stage keeps the share's historic id, so duties with one stage (triwulan,
tahunan) are stored exactly as before. A later stage is reminded from the moment the one
before it was done, to whoever acts on it.

A decision stage (the atasan's evaluation) may instead send the share back for revision, with
the reason (:func:`revise`): the revision is recorded under the decision's id (``action
"revise"``), and the stages from the one it goes back to are owed again in a new *round*, each
under an id of that round; the official revises and reports again, the atasan evaluates again,
and the follow-up is recorded in the same occurrence. :func:`walk` is the pure rule. No
Telegram here.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.engine.calendar import WorkCalendar
from bot.engine.duties import Who, duty_stages
from bot.engine.instance import ReasonRequired, WrongState
from bot.engine.model import Cycle, Flow
from bot.engine.reminders import ReminderKind, ReminderPoint
from bot.services.errors import Refused, UnknownInstance
from bot.storage.protocol import Repository
from bot.storage.records import CycleTask, Member, OutboxItem, StepMessage

if TYPE_CHECKING:
    from bot.services.reminders import Reminders

#: CycleTask.action of a decision that sent the share back (see :func:`revise`).
REVISED = "revise"
#: StepMessage.kind of the bot's question for a revision reason (its reply is the reason).
REASON_PROMPT = "cycle_reason"


@dataclass(frozen=True)
class Stage:
    """One stage: who acts and the SOP steps it stands for; a decision's stage says where
    a revision goes back to (`back_to`, a stage index)."""

    index: int
    who: Who
    steps: tuple[int, ...]
    decision: bool = False
    back_to: int | None = None


@dataclass(frozen=True)
class Act:
    """A recorded stage, as :func:`walk` needs it."""

    at: datetime
    revised: bool = False
    note: str | None = None
    by: str | None = None


@dataclass(frozen=True)
class Position:
    """Where a share stands: the stage waiting, in which round, since when, and the reason
    it was sent back (on the stage a revision went back to, until it is done again)."""

    stage: Stage
    round: int
    since: datetime | None
    revision: str | None = None
    revised_by: str | None = None


@dataclass(frozen=True)
class Current:
    """The stage an official's share waits on: its task id, who acts, since when."""

    stage: Stage
    task_id: str
    actor: str
    since: datetime | None  # None for the first stage (reminded from the occurrence)
    round: int = 0
    revision: str | None = None  # why the atasan sent it back (on the stage to redo)
    revised_by: str | None = None


def share_id(flow_id: str, occurrence: str, member_id: str, index: int = 0,
             round_no: int = 0) -> str:
    """The stable id of a stage of one official's share (stage 0 of round 0: the share's own
    id; a stage owed again after a revision has an id of its round)."""
    key = occurrence if index == 0 else f"{occurrence}#{index}"
    if round_no:
        key = f"{occurrence}#{index}@{round_no}"
    return hashlib.sha1(f"{flow_id}|{key}|{member_id}".encode()).hexdigest()[:12]


def stages(flow: Flow, cycle: Cycle) -> tuple[Stage, ...]:
    """The cycle's stages, consecutive tasks of the same actor merged."""
    merged: list[tuple[Who, tuple[int, ...], bool, int | None]] = []
    for st in duty_stages(flow, cycle):
        if merged and merged[-1][0] is st.who and not merged[-1][2] and not st.is_decision:
            merged[-1] = (st.who, merged[-1][1] + st.steps, False, None)
        else:
            merged.append((st.who, st.steps, st.is_decision, st.on_revise))
    index_of = {no: i for i, (_w, steps, _d, _r) in enumerate(merged) for no in steps}
    return tuple(Stage(i, who, steps, decision,
                       index_of.get(back) if decision and back is not None else None)
                 for i, (who, steps, decision, back) in enumerate(merged))


def walk(all_stages: tuple[Stage, ...],
         recorded: Callable[[int, int], Act | None]) -> Position | None:
    """Pure: the position of a share given what is recorded per (stage index, round); None
    once every stage is done. A revision at a decision stage opens the next round at the
    stage it goes back to; the stages before that stay done."""
    round_no, i = 0, 0
    since: datetime | None = None
    note: str | None = None
    by: str | None = None
    while i < len(all_stages):
        act = recorded(i, round_no)
        if act is None:
            return Position(all_stages[i], round_no, since, note, by)
        since = act.at
        back = all_stages[i].back_to
        if act.revised and back is not None:
            round_no, i, note, by = round_no + 1, back, act.note, act.by
            continue
        note = by = None
        i += 1
    return None


def current(repo: Repository, flow: Flow, cycle: Cycle, occurrence: str, member_id: str,
            atasan: str | None, done: set[str]) -> Current | None:
    """The stage waiting for work, or None when the share is done (or its actor unknown)."""

    def recorded(index: int, round_no: int) -> Act | None:
        tid = share_id(flow.id, occurrence, member_id, index, round_no)
        if tid not in done:
            return None
        task = repo.cycle_task(tid)
        if task is None:
            return None
        return Act(task.done_at, task.action == REVISED, task.note, task.done_by)

    position = walk(stages(flow, cycle), recorded)
    if position is None:
        return None
    stage = position.stage
    actor = member_id if stage.who is Who.OFFICIAL else atasan
    if not actor:
        return None
    tid = share_id(flow.id, occurrence, member_id, stage.index, position.round)
    return Current(stage, tid, actor, position.since, position.round, position.revision,
                   position.revised_by)


def stage_points(points: list[ReminderPoint], since: datetime,
                 calendar: WorkCalendar) -> list[ReminderPoint]:
    """A later stage's reminders: at once (next opening), then the occurrence's own due and
    overdue points that come after it."""
    start = ReminderPoint(ReminderKind.BEFORE, calendar.next_opening(since), key="stage")
    later = [p for p in points if p.kind in (ReminderKind.DUE, ReminderKind.OVERDUE)
             and p.at > start.at]
    return [start, *later]


def revise(reminders: Reminders, member: Member, tid: str, reason: str | None,
           now: datetime, *, ack_to: int | None = None) -> CycleTask:
    """The atasan sends an official's share back for revision at a decision stage (the
    semester evaluation, step 11), with the reason: the official redoes the stages from the
    one the decision names (measure and report again), then the atasan evaluates again.

    Raises UnknownInstance when `tid` is not a stage owed to `member`, Refused (code
    ``task_not_decision``) when the stage is not a decision, Refused (``revise_reason``)
    without a reason.
    """
    with reminders.services.store.transaction() as repo:
        if repo.cycle_task(tid) is not None:
            raise UnknownInstance(tid)  # already decided: nothing is owed on it any more
        payload = _owed(reminders, repo, member, tid, now)
        if payload is None:
            raise UnknownInstance(tid)
        if not payload.get("decision"):
            steps = payload.get("stage_steps") or [0]
            raise Refused(WrongState("this stage is not a decision", "task_not_decision",
                                     step=steps[0]))
        note = (reason or "").strip()
        if not note:
            raise Refused(ReasonRequired("a revision needs a reason", "revise_reason"))
        official = payload.get("official") or member.id
        task = CycleTask(tid, payload["flow_id"], payload["occurrence"], official, now,
                         member.id, None, action=REVISED, note=note)
        repo.save_cycle_task(task)
        repo.enqueue(OutboxItem(
            id=secrets.token_hex(8), member_id=member.id, chat_id=member.chat_id,
            kind="ack", created_at=now, payload={
                "ack": "cycle_revised", "reply_to": ack_to, "flow_id": task.flow_id,
                "period": payload["period"], "index": payload["index"],
                "year": payload["year"], "cycle_id": payload["cycle_id"],
                "official_name": payload.get("official_name") or official,
                "reason": note}))
        return task


def _owed(reminders: Reminders, repo: Repository, member: Member, tid: str,
          now: datetime) -> dict[str, Any] | None:
    """The payload of the stage `tid` if it is owed by `member` now (the plan decides)."""
    from bot.services.reminder_plan import Snapshot
    from bot.services.reminders import HORIZON

    for point in reminders.planner.points(Snapshot(repo), now, now + HORIZON):
        if point.payload.get("task_id") == tid and member.id in point.recipients:
            return point.payload
    return None


def is_decision(reminders: Reminders, member: Member, tid: str, now: datetime) -> bool:
    """Whether `tid` is a decision stage `member` owes now (the atasan's evaluation)."""
    payload = _owed(reminders, reminders.services.store.read(), member, tid, now)
    return bool(payload and payload.get("decision"))


def remember_reason_prompt(reminders: Reminders, member: Member, chat_id: int,
                           message_id: int, tid: str) -> None:
    """The bot asked for the reason of a revision of `tid` (after the Revisi button): a reply
    to that question is the reason."""
    with reminders.services.store.transaction(record_update=False) as repo:
        repo.add_step_message(StepMessage(chat_id, message_id, member.id, tid, 0, 0, "",
                                          kind=REASON_PROMPT))
