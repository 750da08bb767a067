"""Reminders as a use case: what is owed to whom and when, derived from the database.

The plan is recomputed from the stored state every time (active steps, recurring duties,
what was already sent); the scheduler only turns planned points into jobs with the points'
deterministic ids. Firing a point re-checks it against the current state and records it as
sent in the same write as the messages it queues, so a reminder is never sent twice, and a
decided step or a duty marked done is never reminded again. No Telegram here.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.engine.cycles import Occurrence, occurrences_between
from bot.engine.instance import Status
from bot.engine.model import Cycle, Flow
from bot.engine.reminders import ReminderKind, ReminderPoint, cycle_reminders, step_reminders
from bot.ops import metrics
from bot.services import duty_stages
from bot.services.assignment import atasan_of, who_must_act
from bot.services.errors import UnknownInstance
from bot.storage.protocol import Repository
from bot.storage.records import CycleTask, Member, OutboxItem

if TYPE_CHECKING:
    from bot.services import Services

#: How far ahead jobs are planned; the periodic sync extends the window as time passes.
HORIZON = timedelta(days=14)
#: Recurring duties looked at behind "now" (a late report is reminded until it is done).
LOOKBACK = timedelta(days=120)
#: A duty's first reminder comes at most this long before its due date.
LEAD_WINDOW = timedelta(days=45)


@dataclass(frozen=True)
class Planned:
    """A reminder to send at `at` to `recipients` (member ids)."""

    id: str  # deterministic: the scheduler's job id
    series: str  # the id without the point's key: missed points collapse per series
    at: datetime
    kind: ReminderKind
    recipients: tuple[str, ...]
    payload: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


def task_id(flow_id: str, occurrence: str, member_id: str) -> str:
    """The short, stable id of one official's share of a recurring duty."""
    return hashlib.sha1(f"{flow_id}|{occurrence}|{member_id}".encode()).hexdigest()[:12]


class Reminders:
    """Plans and fires the reminders of every unit."""

    def __init__(self, services: Services, *, escalate_after: int = 2,
                 lead_working_days: int = 5) -> None:
        self.services = services
        self.escalate_after = escalate_after
        self.lead_working_days = lead_working_days

    # -- who reports to whom -----------------------------------------------------------

    def atasan_of(self, repo: Repository, unit: str, member_id: str) -> str | None:
        """The direct superior: said in the invitation, else from the units' reporting lines."""
        member = repo.member(member_id)
        if member is None:
            return None
        return atasan_of(member, member_id, unit, repo.holders(unit),
                         self.services.flows.values())

    # -- the plan ----------------------------------------------------------------------

    def plan(self, now: datetime, *, horizon: timedelta = HORIZON) -> list[Planned]:
        """Every reminder not yet sent that is due before ``now + horizon`` (missed included)."""
        with self.services.store.transaction() as repo:
            return self._plan(repo, now, horizon)

    def _plan(self, repo: Repository, now: datetime, horizon: timedelta) -> list[Planned]:
        if not isinstance(repo, _Snapshot):
            repo = _Snapshot(repo)
        sent = repo.sent_reminders()
        until = now + horizon
        points = [p for p in self._step_points(repo) + self._cycle_points(repo, now, until)
                  if p.id not in sent and p.at <= until]
        return sorted(points, key=lambda p: (p.at, p.id))

    def _step_points(self, repo: Repository) -> list[Planned]:
        result: list[Planned] = []
        for inst in repo.instances(status=Status.ACTIVE):
            flow = self.services.flows.get(inst.flow_id)
            if flow is None:
                continue
            holders = repo.holders(inst.unit_id)
            calendar = flow.unit.calendar()
            subject = repo.member(inst.subject) if inst.subject else None
            for active in inst.active_steps():
                step = flow.step(active.no)
                waiting = who_must_act(flow, inst, active, holders)
                if not waiting or active.deadline is None:
                    continue
                series = f"s:{inst.id}:{step.no}:{active.round}"
                base = {"type": "step", "instance_id": inst.id, "flow_id": flow.id,
                        "year": inst.year, "step_no": step.no, "round": active.round,
                        "deadline": active.deadline.isoformat(),
                        "subject": subject.name if subject else None}
                for point in step_reminders(active.started_at, active.deadline, step.waktu,
                                            calendar, escalate_after=self.escalate_after):
                    # The atasan's escalations are a series of their own: they must not
                    # collapse into the holder's overdue reminders of the same moment.
                    own = series
                    if point.kind is ReminderKind.ESCALATE:
                        late = [self._name(repo, m) for m in waiting]
                        above = {self.atasan_of(repo, inst.unit_id, m) or inst.started_by
                                 for m in waiting} - set(waiting)
                        recipients = tuple(sorted(above))
                        payload = base | {"late": late}
                        own = f"{series}:escalate"
                    else:
                        recipients, payload = tuple(waiting), base
                    if recipients:
                        result.append(Planned(f"{series}:{point.key}", own, point.at,
                                              point.kind, recipients,
                                              payload | {"kind": point.kind.value,
                                                         "n": point.n}))
        return result

    def officials_of(self, repo: Repository, flow: Flow, applies_to: str,
                     due: datetime) -> list[str]:
        """Who owes a recurring duty due at `due`: every official at the procedure's levels,
        or every holder of a role — who held it by then (a newcomer owes no old periods)."""
        if applies_to == "subject" and flow.per_official is not None:
            roles = set(flow.per_official.levels)
        else:
            roles = {applies_to}
        owing = []
        for member in repo.members():
            since = [m.since for m in member.roles if m.unit == flow.unit.id and m.role in roles]
            if since and min(since) <= due:
                owing.append((min(since), member.id))
        return [member_id for _since, member_id in sorted(owing)]

    def _cycle_points(self, repo: Repository, now: datetime, until: datetime) -> list[Planned]:
        result: list[Planned] = []
        done = repo.cycle_tasks_done()
        for flow in self.services.flows.values():
            if not flow.cycles:
                continue
            calendar = flow.unit.calendar()
            # Duties due a little after `until` are reminded before it (the lead time).
            for occ in occurrences_between(flow, (now - LOOKBACK).date(),
                                           until.date() + LEAD_WINDOW, calendar):
                cycle = next(c for c in flow.cycles if c.id == occ.cycle_id)
                officials = self.officials_of(repo, flow, cycle.applies_to, occ.due)
                points = cycle_reminders(occ, calendar,
                                         lead_working_days=self.lead_working_days)
                by_atasan: dict[str, list[str]] = {}
                for member_id in officials:
                    atasan = self.atasan_of(repo, flow.unit.id, member_id)
                    if atasan:
                        by_atasan.setdefault(atasan, []).append(member_id)
                    result.extend(self._share_points(repo, flow, cycle, occ, points, member_id,
                                                     atasan, done))
                recaps = [(f"r:{flow.id}:{occ.key}:{a}", a, r) for a, r in by_atasan.items()]
                if cycle.collector:  # the collector (Kasubag TU) gets everyone's recap too
                    recaps += [(f"rc:{flow.id}:{occ.key}:{c}", c, officials)
                               for c in repo.holders(flow.unit.id).get(cycle.collector, [])]
                for series, to, reports in recaps:
                    for point in points:
                        if point.kind is ReminderKind.RECAP:
                            payload = self._cycle_payload(flow, occ, point, None)
                            payload["reports"] = reports
                            result.append(Planned(f"{series}:{point.key}", series, point.at,
                                                  point.kind, (to,), payload))
        return result

    def _share_points(self, repo: Repository, flow: Flow, cycle: Cycle, occ: Occurrence,
                      points: list[ReminderPoint], member_id: str, atasan: str | None,
                      done: set[str]) -> list[Planned]:
        """One official's share: the reminders of the stage it waits on (the semester's
        evaluation goes to the atasan, the follow-up back to the official)."""
        waiting = duty_stages.current(repo, flow, cycle, occ.key, member_id, atasan, done)
        if waiting is None:
            return []
        own = [p for p in points if p.kind is not ReminderKind.RECAP]
        extra: dict[str, Any] = {}
        if waiting.since is not None:
            own = duty_stages.stage_points(points, waiting.since, flow.unit.calendar())
            extra = {"stage_steps": list(waiting.stage.steps), "official": member_id,
                     "official_name": self._name(repo, member_id),
                     "decision": waiting.stage.decision, "revision": waiting.revision}
        series = f"c:{waiting.task_id}"
        return [Planned(f"{series}:{p.key}", series, p.at, p.kind, (waiting.actor,),
                        self._cycle_payload(flow, occ, p, waiting.task_id) | extra)
                for p in own]

    @staticmethod
    def _cycle_payload(flow: Flow, occ: Occurrence, point: ReminderPoint,
                       tid: str | None) -> dict[str, Any]:
        return {"type": "cycle", "flow_id": flow.id, "cycle_id": occ.cycle_id,
                "occurrence": occ.key, "period": occ.period.value, "index": occ.index,
                "year": occ.year, "due": occ.due.isoformat(), "kind": point.kind.value,
                "n": point.n, "task_id": tid}

    # -- firing ------------------------------------------------------------------------

    def collapse_missed(self, now: datetime) -> list[Planned]:
        """After a downtime: of each series' missed points only the newest is still owed.

        The older ones are recorded as skipped (never sent later); the newest is returned
        and goes out once — not dropped, not repeated.
        """
        with self.services.store.transaction(record_update=False) as repo:
            missed = [p for p in self._plan(repo, now, timedelta(0)) if p.at <= now]
            newest: dict[str, Planned] = {}
            for p in missed:  # sorted by time: the last one per series wins
                newest[p.series] = p
            for p in missed:
                if newest[p.series] is not p:
                    repo.mark_reminder(p.id, now, skipped=True)
            return list(newest.values())

    def fire(self, point_id: str, now: datetime) -> bool:
        """Send a planned point if it is still owed; True if messages were queued."""
        return bool(self.fire_many([point_id], now))

    def fire_many(self, point_ids: list[str], now: datetime) -> list[str]:
        """Send every planned point of `point_ids` still owed, in one write and one
        recomputation of the plan (a round of N reminders costs O(N), not O(N²));
        returns the ids sent."""
        wanted = set(point_ids)
        with self.services.store.transaction(record_update=False) as raw:
            repo: Repository = _Snapshot(raw)
            points = [p for p in self._plan(repo, now, HORIZON)
                      if p.id in wanted and p.at <= now]
            if not points:
                return []
            done = repo.cycle_tasks_done()
            for point in points:
                self._fire(repo, point, now, done)
            repo.prune_reminders(now - LOOKBACK - timedelta(days=30))
            return [p.id for p in points]

    def _fire(self, repo: Repository, point: Planned, now: datetime, done: set[str]) -> None:
        payload = dict(point.payload)
        if point.kind is ReminderKind.RECAP:
            payload["done"] = [self._name(repo, m) for m in payload["reports"]
                               if task_id(payload["flow_id"], payload["occurrence"], m)
                               in done]
            payload["not_done"] = [self._name(repo, m) for m in payload["reports"]
                                   if self._name(repo, m) not in payload["done"]]
        for member_id in point.recipients:
            member = repo.member(member_id)
            if member is None:
                continue
            repo.enqueue(OutboxItem(
                id=secrets.token_hex(8), member_id=member.id, chat_id=member.chat_id,
                kind="reminder", created_at=now,
                payload=payload | {"at": point.at.isoformat(), "owner": member.name}))
        repo.mark_reminder(point.id, now)
        metrics.reminder_sent(point.kind.value, (now - point.at).total_seconds())

    # -- what officials see and do ---------------------------------------------------

    def upcoming(self, member: Member, now: datetime, limit: int = 10) -> list[Planned]:
        """``/pengingat``: the next reminders and deadlines for this official."""
        points = [p for p in self.plan(now, horizon=timedelta(days=120))
                  if member.id in p.recipients and p.at > now]
        return points[:limit]

    def mark_done(self, member: Member, tid: str, now: datetime, *,
                  evidence: str | None = None, ack_to: int | None = None) -> CycleTask:
        """An official reports a recurring duty done (button, or evidence as a reply)."""
        with self.services.store.transaction() as repo:
            existing = repo.cycle_task(tid)
            if existing is not None and existing.action == "revise":
                raise UnknownInstance(tid)  # sent back: the evaluation is owed anew
            if existing is not None:
                if evidence and not existing.evidence:
                    existing.evidence = evidence
                    repo.save_cycle_task(existing)
                return existing
            owed = {p.payload.get("task_id"): p for p in self._cycle_points(
                _Snapshot(repo), now, now + HORIZON)
                if p.payload.get("task_id")}
            point = owed.get(tid)
            if point is None or member.id not in point.recipients:
                raise UnknownInstance(tid)
            task = CycleTask(tid, point.payload["flow_id"], point.payload["occurrence"],
                             point.payload.get("official") or member.id, now, member.id,
                             evidence)
            repo.save_cycle_task(task)
            repo.enqueue(OutboxItem(
                id=secrets.token_hex(8), member_id=member.id, chat_id=member.chat_id,
                kind="ack", created_at=now, payload={
                    "ack": "cycle_done", "reply_to": ack_to,
                    "flow_id": task.flow_id, "period": point.payload["period"],
                    "index": point.payload["index"], "year": point.payload["year"],
                    "cycle_id": point.payload["cycle_id"]}))
            return task

    @staticmethod
    def _name(repo: Repository, member_id: str) -> str:
        member = repo.member(member_id)
        return member.name if member else member_id


class _Snapshot:
    """The repository as one planning reads it: officials and role holders read once.

    Planning asks for every official's atasan, and each answer needs the unit's holders;
    read from the store each time, a plan cost O(N²) in the officials. Within one
    transaction they do not change while a plan is made (firing only queues messages and
    marks points), so they are read once here; everything else goes to the repository.
    """

    def __init__(self, repo: Repository) -> None:
        self._repo = repo
        self._members: dict[str, Member] | None = None
        self._holders: dict[str, dict[str, list[str]]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)

    def members(self) -> list[Member]:
        if self._members is None:
            self._members = {m.id: m for m in self._repo.members()}
        return list(self._members.values())

    def member(self, member_id: str) -> Member | None:
        if self._members is None:
            self.members()
        assert self._members is not None
        return self._members.get(member_id)

    def holders(self, unit: str) -> dict[str, list[str]]:
        if unit not in self._holders:
            self._holders[unit] = self._repo.holders(unit)
        return self._holders[unit]
