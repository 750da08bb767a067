"""The reminder plan, kept incrementally: a source is re-planned only when its inputs change.

A plan is the union of its sources' points: each active instance (its steps' reminders), each
official's share of each occurrence of a recurring duty, and each occurrence's recaps. The
planner remembers every source's points beside a signature of what they were derived from
(the instance's active steps, the share's recorded stages, the officials and their roles);
a plan compares signatures and recomputes only the sources whose signature changed. A press
changes one instance: the next plan re-plans that instance and nothing else, and firing a
reminder re-checks its points against the stored state without recomputing the others.

What a plan reads is a :class:`Snapshot` of one read-only transaction (a private copy on
both backends), so the planning itself runs outside the store lock. No Telegram here.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from bot.engine.cycles import Occurrence, occurrences_between
from bot.engine.instance import Instance, Status
from bot.engine.model import Cycle, Flow
from bot.engine.reminders import ReminderKind, ReminderPoint, cycle_reminders, step_reminders
from bot.services import duty_stages
from bot.services.assignment import atasan_of, who_must_act
from bot.storage.protocol import Repository
from bot.storage.records import Member

#: Recurring duties looked at behind "now" (a late report is reminded until it is done).
LOOKBACK = timedelta(days=120)
#: A duty's first reminder comes at most this long before its due date.
LEAD_WINDOW = timedelta(days=45)


@dataclass(frozen=True, slots=True)
class Planned:
    """A reminder to send at `at` to `recipients` (member ids).

    What it says (:attr:`payload`) is kept as parts, merged in order when asked for: most
    parts are shared by many points (an instance step's, an occurrence's, a kind's), so
    that the plan of 1,000 running instances (114,000 points) holds one small object per
    point and not a dictionary of ten fields each (43 MiB of the bot's memory, traced).
    """

    id: str  # deterministic: the scheduler's job id
    series: str  # the id without the point's key: missed points collapse per series
    at: datetime
    kind: ReminderKind
    recipients: tuple[str, ...]
    parts: tuple[Mapping[str, Any], ...] = field(default=(), hash=False, compare=False)

    @property
    def payload(self) -> dict[str, Any]:
        """What the reminder says (a new dictionary: the parts merged)."""
        merged: dict[str, Any] = {}
        for part in self.parts:
            merged.update(part)
        return merged

    def get(self, key: str, default: Any = None) -> Any:
        """One field of :attr:`payload`, without merging the parts (a pass over the whole
        plan reads one field of each point)."""
        for part in reversed(self.parts):
            if key in part:
                return part[key]
        return default


@functools.cache
def _point_part(kind: ReminderKind, n: int) -> Mapping[str, Any]:
    """The part of a payload that says which point of its series it is (shared)."""
    return MappingProxyType({"kind": kind.value, "n": n})


def task_id(flow_id: str, occurrence: str, member_id: str) -> str:
    """The short, stable id of one official's share of a recurring duty."""
    return hashlib.sha1(f"{flow_id}|{occurrence}|{member_id}".encode()).hexdigest()[:12]


class Snapshot:
    """The repository as one planning reads it: officials and role holders read once.

    Planning asks for every official's atasan, and each answer needs the unit's holders;
    read from the store each time, a plan cost O(N²) in the officials. Within one snapshot
    they do not change, so they are read once here; everything else goes to the repository.
    """

    def __init__(self, repo: Repository) -> None:
        self._repo = repo
        self._members: dict[str, Member] | None = None
        self._holders: dict[str, dict[str, list[str]]] = {}
        self._people: int | None = None
        #: planned outside the store's lock (a detached copy): the planning may pause to
        #: let the event loop run (see Breather); never under the lock
        self.breathe = False

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

    def people(self) -> int:
        """A signature of the officials, their names, roles and atasan: a plan derived
        with the same signature names the same people."""
        if self._people is None:
            self._people = hash(tuple(
                (m.id, m.name, tuple((r.unit, r.role, r.since, r.atasan) for r in m.roles))
                for m in sorted(self.members(), key=lambda m: m.id)))
        return self._people


def instance_signature(inst: Instance) -> tuple[Any, ...]:
    """What an instance's reminders are derived from (its active steps and who they wait on)."""
    return (inst.flow_id, inst.unit_id, inst.year, inst.subject, inst.started_by,
            inst.waiting is not None, tuple(sorted(inst.bindings.items())),
            tuple((a.no, a.round, a.started_at, a.deadline, tuple(a.pending), a.anyone)
                  for a in inst.active_steps()))


#: Planning runs in a worker thread of the bot's process: every BREATHE_EVERY seconds of
#: work it sleeps BREATHE_FOR, so that the event loop (which needs the GIL back after each
#: of its system calls) is never kept waiting behind a whole plan.
BREATHE_EVERY = 0.004
BREATHE_FOR = 0.002


class Breather:
    """Call :meth:`__call__` in a long loop: it sleeps a moment every BREATHE_EVERY seconds."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._since = time.perf_counter()
        self._calls = 0

    def __call__(self) -> None:
        if not self.enabled:
            return
        self._calls += 1
        if self._calls % 16:
            return
        now = time.perf_counter()
        if now - self._since >= BREATHE_EVERY:
            time.sleep(BREATHE_FOR)
            self._since = time.perf_counter()


@dataclass
class _Memo:
    signature: Any
    points: list[Planned]


class Planner:
    """Plans reminders source by source, remembering each source's points.

    ``replanned`` counts the sources recomputed (``step``, ``share``, ``recap``): what a
    change cost, for the tests and the planning benchmark.
    """

    def __init__(self, flows: Callable[[], Iterable[Flow]], *, escalate_after: int = 2,
                 lead_working_days: int = 5) -> None:
        self._flows = flows
        self.escalate_after = escalate_after
        self.lead_working_days = lead_working_days
        self.replanned: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._steps: dict[str, _Memo] = {}
        self._shares: dict[tuple[str, str, str], _Memo] = {}
        self._recaps: dict[tuple[str, str], _Memo] = {}
        self._occurrences: dict[tuple[str, date, date],
                                list[tuple[Occurrence, list[ReminderPoint]]]] = {}
        self._people_memo: tuple[int, dict[Any, Any]] = (0, {})
        self._occurrence_parts: dict[tuple[str, str], Mapping[str, Any]] = {}

    def flow(self, flow_id: str) -> Flow | None:
        return next((f for f in self._flows() if f.id == flow_id), None)

    # -- people, memoised per signature of the officials --------------------------------

    def _per_people(self, snap: Snapshot) -> dict[Any, Any]:
        people = snap.people()
        if self._people_memo[0] != people:
            self._people_memo = (people, {})
        return self._people_memo[1]

    def atasan(self, snap: Snapshot, unit: str, member_id: str) -> str | None:
        memo = self._per_people(snap)
        key = ("atasan", unit, member_id)
        if key not in memo:
            member = snap.member(member_id)
            memo[key] = None if member is None else atasan_of(
                member, member_id, unit, snap.holders(unit), self._flows())
        return memo[key]  # type: ignore[no-any-return]

    def officials_of(self, snap: Snapshot, flow: Flow, applies_to: str,
                     due: datetime) -> list[str]:
        """Who owes a recurring duty due at `due`: every official at the procedure's levels,
        or every holder of a role — who held it by then (a newcomer owes no old periods)."""
        memo = self._per_people(snap)
        key = ("owing", flow.id, applies_to, due)
        if key in memo:
            return memo[key]  # type: ignore[no-any-return]
        if applies_to == "subject" and flow.per_official is not None:
            roles = set(flow.per_official.levels)
        else:
            roles = {applies_to}
        owing = []
        for member in snap.members():
            since = [m.since for m in member.roles if m.unit == flow.unit.id and m.role in roles]
            if since and min(since) <= due:
                owing.append((min(since), member.id))
        memo[key] = [member_id for _since, member_id in sorted(owing)]
        return memo[key]  # type: ignore[no-any-return]

    def name(self, snap: Snapshot, member_id: str) -> str:
        member = snap.member(member_id)
        return member.name if member else member_id

    # -- the plan --------------------------------------------------------------------------

    def points(self, snap: Snapshot, now: datetime, until: datetime) -> list[Planned]:
        """Every point of every source (sent ones included), unsorted."""
        with self._lock:
            result = self._step_points(snap)
            result += self._cycle_points(snap, now, until)
            return result

    def _step_points(self, snap: Snapshot) -> list[Planned]:
        result: list[Planned] = []
        people = snap.people()
        seen = set()
        breathe = Breather(snap.breathe)
        for inst in snap.instances(status=Status.ACTIVE):
            breathe()
            seen.add(inst.id)
            signature = (people, instance_signature(inst))
            memo = self._steps.get(inst.id)
            if memo is None or memo.signature != signature:
                self.replanned["step"] += 1
                memo = _Memo(signature, self._instance_points(snap, inst))
                self._steps[inst.id] = memo
            result += memo.points
        for gone in set(self._steps) - seen:
            del self._steps[gone]
        return result

    def _instance_points(self, snap: Snapshot, inst: Instance) -> list[Planned]:
        flow = self.flow(inst.flow_id)
        if flow is None:
            return []
        result: list[Planned] = []
        holders = snap.holders(inst.unit_id)
        calendar = flow.unit.calendar()
        subject = snap.member(inst.subject) if inst.subject else None
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
            # What the step's points share, made once for them all (the plan of 1,000
            # running instances holds 21,000 points: a tuple or a dict a point is a MB)
            owing, escalation = tuple(waiting), None
            for point in step_reminders(active.started_at, active.deadline, step.waktu,
                                        calendar, escalate_after=self.escalate_after):
                # The atasan's escalations are a series of their own: they must not
                # collapse into the holder's overdue reminders of the same moment.
                if point.kind is ReminderKind.ESCALATE:
                    if escalation is None:
                        late = [self.name(snap, m) for m in waiting]
                        above = {self.atasan(snap, inst.unit_id, m) or inst.started_by
                                 for m in waiting} - set(waiting)
                        escalation = (tuple(sorted(above)), {"late": late},
                                      f"{series}:escalate")
                    recipients, extra, own = escalation
                    parts: tuple[Mapping[str, Any], ...] = (
                        base, extra, _point_part(point.kind, point.n))
                else:
                    recipients, own = owing, series
                    parts = (base, _point_part(point.kind, point.n))
                if recipients:
                    result.append(Planned(f"{series}:{point.key}", own, point.at, point.kind,
                                          recipients, parts))
        return result

    def occurrences(self, flow: Flow, start: date,
                    end: date) -> list[tuple[Occurrence, list[ReminderPoint]]]:
        """The occurrences due between `start` and `end`, each with its reminder moments."""
        key = (flow.id, start, end)
        if key not in self._occurrences:
            if len(self._occurrences) > 64:
                self._occurrences.clear()
            calendar = flow.unit.calendar()
            self._occurrences[key] = [
                (occ, cycle_reminders(occ, calendar, lead_working_days=self.lead_working_days))
                for occ in occurrences_between(flow, start, end, calendar)]
        return self._occurrences[key]

    def _cycle_points(self, snap: Snapshot, now: datetime, until: datetime) -> list[Planned]:
        result: list[Planned] = []
        done = snap.cycle_tasks_done()
        seen_shares: set[tuple[str, str, str]] = set()
        seen_recaps: set[tuple[str, str]] = set()
        breathe = Breather(snap.breathe)
        for flow in self._flows():
            if not flow.cycles:
                continue
            # Duties due a little after `until` are reminded before it (the lead time).
            for occ, points in self.occurrences(flow, (now - LOOKBACK).date(),
                                                until.date() + LEAD_WINDOW):
                cycle = next(c for c in flow.cycles if c.id == occ.cycle_id)
                officials = self.officials_of(snap, flow, cycle.applies_to, occ.due)
                stage_count = len(duty_stages.stages(flow, cycle))
                for member_id in officials:
                    breathe()
                    key = (flow.id, occ.key, member_id)
                    seen_shares.add(key)
                    result += self._share(snap, key, flow, cycle, occ, points, stage_count,
                                          done)
                seen_recaps.add((flow.id, occ.key))
                result += self._recap(snap, flow, cycle, occ, points, officials)
        for gone in set(self._shares) - seen_shares:
            del self._shares[gone]
        for gone_recap in set(self._recaps) - seen_recaps:
            del self._recaps[gone_recap]
        return result

    def _share(self, snap: Snapshot, key: tuple[str, str, str], flow: Flow, cycle: Cycle,
               occ: Occurrence, points: list[ReminderPoint], stage_count: int,
               done: set[str]) -> list[Planned]:
        member_id = key[2]
        # What is recorded of the share, round by round (a stage sent back is owed again in
        # a round of its own: issue 13's semester evaluation).
        recorded: list[tuple[bool, ...]] = []
        while True:
            row = tuple(duty_stages.share_id(flow.id, occ.key, member_id, i, len(recorded))
                        in done for i in range(stage_count))
            recorded.append(row)
            if not any(row):
                break
        signature = (snap.people(), tuple(recorded))
        memo = self._shares.get(key)
        if memo is None or memo.signature != signature:
            self.replanned["share"] += 1
            atasan = self.atasan(snap, flow.unit.id, member_id)
            memo = _Memo(signature, self._share_points(snap, flow, cycle, occ, points,
                                                       member_id, atasan, done))
            self._shares[key] = memo
        return memo.points

    def _share_points(self, snap: Snapshot, flow: Flow, cycle: Cycle, occ: Occurrence,
                      points: list[ReminderPoint], member_id: str, atasan: str | None,
                      done: set[str]) -> list[Planned]:
        """One official's share: the reminders of the stage it waits on (the semester's
        evaluation goes to the atasan, the follow-up back to the official)."""
        waiting = duty_stages.current(snap, flow, cycle, occ.key, member_id, atasan, done)
        if waiting is None:
            return []
        own = [p for p in points if p.kind is not ReminderKind.RECAP]
        extra: dict[str, Any] = {}
        if waiting.since is not None:
            own = duty_stages.stage_points(points, waiting.since, flow.unit.calendar())
            extra = {"stage_steps": list(waiting.stage.steps), "official": member_id,
                     "official_name": self.name(snap, member_id),
                     "decision": waiting.stage.decision, "revision": waiting.revision}
        series = f"c:{waiting.task_id}"
        base, mine = self._occurrence_part(flow, occ), {"task_id": waiting.task_id, **extra}
        return [Planned(f"{series}:{p.key}", series, p.at, p.kind, (waiting.actor,),
                        (base, _point_part(p.kind, p.n), mine))
                for p in own]

    def _occurrence_part(self, flow: Flow, occ: Occurrence) -> Mapping[str, Any]:
        """The part of a payload that names the occurrence of a duty (shared by every
        official's points of it)."""
        key = (flow.id, occ.key)
        part = self._occurrence_parts.get(key)
        if part is None:
            if len(self._occurrence_parts) > 256:
                self._occurrence_parts.clear()
            part = self._occurrence_parts[key] = MappingProxyType(occurrence_payload(flow, occ))
        return part

    def _recap(self, snap: Snapshot, flow: Flow, cycle: Cycle, occ: Occurrence,
               points: list[ReminderPoint], officials: list[str]) -> list[Planned]:
        signature = snap.people()
        memo = self._recaps.get((flow.id, occ.key))
        if memo is not None and memo.signature == signature:
            return memo.points
        self.replanned["recap"] += 1
        by_atasan: dict[str, list[str]] = {}
        for member_id in officials:
            atasan = self.atasan(snap, flow.unit.id, member_id)
            if atasan:
                by_atasan.setdefault(atasan, []).append(member_id)
        recaps = [(f"r:{flow.id}:{occ.key}:{a}", a, r) for a, r in by_atasan.items()]
        if cycle.collector and officials:  # the collector (Kasubag TU): everyone's recap
            # (none of a period that nobody owes: they all joined after it)
            recaps += [(f"rc:{flow.id}:{occ.key}:{c}", c, officials)
                       for c in snap.holders(flow.unit.id).get(cycle.collector, [])]
        result = []
        for series, to, reports in recaps:
            mine = {"task_id": None, "reports": reports}
            for point in points:
                if point.kind is ReminderKind.RECAP:
                    result.append(Planned(f"{series}:{point.key}", series, point.at,
                                          point.kind, (to,),
                                          (self._occurrence_part(flow, occ),
                                           _point_part(point.kind, point.n), mine)))
        self._recaps[(flow.id, occ.key)] = _Memo(signature, result)
        return result


def occurrence_payload(flow: Flow, occ: Occurrence) -> dict[str, Any]:
    """What a duty's reminder says of its occurrence (the point and the share apart)."""
    return {"type": "cycle", "flow_id": flow.id, "cycle_id": occ.cycle_id,
            "occurrence": occ.key, "period": occ.period.value, "index": occ.index,
            "year": occ.year, "due": occ.due.isoformat()}
