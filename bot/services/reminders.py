"""Reminders as a use case: what is owed to whom and when, derived from the database.

The plan is derived from the stored state (active steps, recurring duties, what was already
sent), source by source: :class:`~bot.services.reminder_plan.Planner` re-plans only the
instances and shares that changed since it last looked. The scheduler only turns planned
points into jobs with the points' deterministic ids. Firing a point re-checks it against the
current state and records it as sent in the same write as the messages it queues, so a
reminder is never sent twice, and a decided step or a duty marked done is never reminded
again. What one official is owed at one moment goes out as one message. No Telegram here.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.engine.events import DomainError
from bot.engine.model import Flow
from bot.engine.reminders import ReminderKind
from bot.ops import metrics
from bot.services.assignment import atasan_of
from bot.services.errors import Refused, UnknownInstance
from bot.services.reminder_plan import LOOKBACK, Planned, Planner, Snapshot, task_id
from bot.storage.protocol import Repository
from bot.storage.records import CycleTask, Member, OutboxItem

if TYPE_CHECKING:
    from bot.services import Services

__all__ = ["HORIZON", "LOOKBACK", "Planned", "Reminders", "message_payload", "task_id"]

#: How far ahead jobs are planned; the periodic sync extends the window as time passes.
HORIZON = timedelta(days=14)
#: Several reminders for one official at one moment (a restart after a downtime, duties due
#: the same day) go out as one message; older than this, they are announced as missed.
MISSED_AFTER = timedelta(minutes=10)


class Reminders:
    """Plans and fires the reminders of every unit."""

    def __init__(self, services: Services, *, escalate_after: int = 2,
                 lead_working_days: int = 5) -> None:
        self.services = services
        self.escalate_after = escalate_after
        self.lead_working_days = lead_working_days
        self.planner = Planner(lambda: services.flows.values(), escalate_after=escalate_after,
                               lead_working_days=lead_working_days)

    # -- who reports to whom -----------------------------------------------------------

    def atasan_of(self, repo: Repository, unit: str, member_id: str) -> str | None:
        """The direct superior: said in the invitation, else from the units' reporting lines."""
        member = repo.member(member_id)
        if member is None:
            return None
        return atasan_of(member, member_id, unit, repo.holders(unit),
                         self.services.flows.values())

    # -- the plan ----------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """What a plan reads, from one read-only transaction: its repository is a private
        copy on both backends, so the plan is made after the store lock is released."""
        with self.services.store.transaction(record_update=False) as repo:
            snap = Snapshot(repo)
            snap.members()  # read under the lock; the rest is in the private copy
        return snap

    def plan(self, now: datetime, *, horizon: timedelta = HORIZON) -> list[Planned]:
        """Every reminder not yet sent that is due before ``now + horizon`` (missed included)."""
        return sorted(self.pending(self.snapshot(), now, horizon), key=lambda p: (p.at, p.id))

    def pending(self, repo: Repository | Snapshot, now: datetime,
                horizon: timedelta = HORIZON) -> list[Planned]:
        """The plan, unsorted: each source re-planned only if it changed (see Planner)."""
        snap = repo if isinstance(repo, Snapshot) else Snapshot(repo)
        sent = snap.sent_reminders()
        until = now + horizon
        return [p for p in self.planner.points(snap, now, until)
                if p.at <= until and p.id not in sent]

    def _plan(self, repo: Repository | Snapshot, now: datetime,
              horizon: timedelta) -> list[Planned]:
        return sorted(self.pending(repo, now, horizon), key=lambda p: (p.at, p.id))

    def officials_of(self, repo: Repository, flow: Flow, applies_to: str,
                     due: datetime) -> list[str]:
        """Who owes a recurring duty due at `due` (see :meth:`Planner.officials_of`)."""
        snap = repo if isinstance(repo, Snapshot) else Snapshot(repo)
        return list(self.planner.officials_of(snap, flow, applies_to, due))

    # -- firing ------------------------------------------------------------------------

    def collapse_missed(self, now: datetime, snap: Snapshot | None = None,
                        pending: list[Planned] | None = None) -> list[Planned]:
        """After a downtime: of each series' missed points only the newest is still owed.

        The older ones are recorded as skipped (never sent later); the newest is returned
        and goes out once — not dropped, not repeated. Planned outside the store lock (on
        `snap`, when given, or taken from `pending`, the plan of `snap` already made for
        `now`); the skipped marks are one short write.
        """
        if pending is None:
            pending = self.pending(snap or self.snapshot(), now, timedelta(0))
        missed = sorted((p for p in pending if p.at <= now), key=lambda p: (p.at, p.id))
        newest: dict[str, Planned] = {}
        for p in missed:  # sorted by time: the last one per series wins
            newest[p.series] = p
        skipped = [p.id for p in missed if newest[p.series] is not p]
        if skipped:
            with self.services.store.transaction(record_update=False) as repo:
                repo.mark_reminders(skipped, now, skipped=True)
        return list(newest.values())

    def fire(self, point_id: str, now: datetime) -> bool:
        """Send a planned point if it is still owed; True if messages were queued."""
        return bool(self.fire_many([point_id], now))

    def fire_many(self, point_ids: list[str], now: datetime) -> list[str]:
        """Send every planned point of `point_ids` still owed, in one write; returns the ids
        sent.

        The points are re-checked against the stored state (the planner re-plans only the
        sources that changed since it last looked). What one official is owed here goes out
        as one message: the reminders missed while the bot was down, or duties due the same
        day (Triwulan II and Semester I), are listed together, not sent one by one.
        """
        wanted = set(point_ids)
        with self.services.store.transaction(record_update=False) as raw:
            snap = Snapshot(raw)
            points = sorted((p for p in self.pending(snap, now, HORIZON)
                             if p.id in wanted and p.at <= now), key=lambda p: (p.at, p.id))
            if not points:
                return []
            done = snap.cycle_tasks_done()
            owed: dict[str, list[dict[str, Any]]] = {}
            for point in points:
                payload = self._payload(snap, point, done)
                for member_id in point.recipients:
                    owed.setdefault(member_id, []).append(payload)
                metrics.reminder_sent(point.kind.value, (now - point.at).total_seconds())
            snap.mark_reminders([p.id for p in points], now)
            items = []
            for member_id, payloads in owed.items():
                member = snap.member(member_id)
                if member is None:
                    continue
                items.append(OutboxItem(
                    id=secrets.token_hex(8), member_id=member.id, chat_id=member.chat_id,
                    kind="reminder", created_at=now,
                    payload=message_payload(payloads, member.name, now)))
            snap.enqueue_many(items)  # one pass: queueing one by one would be O(N²)
            snap.prune_reminders(now - LOOKBACK - timedelta(days=30))
            return [p.id for p in points]

    def _payload(self, snap: Snapshot, point: Planned, done: set[str]) -> dict[str, Any]:
        payload = point.payload | {"at": point.at.isoformat()}
        if point.kind is ReminderKind.RECAP:
            names = {m: self.planner.name(snap, m) for m in payload["reports"]}
            payload["done"] = [names[m] for m in payload["reports"]
                               if task_id(payload["flow_id"], payload["occurrence"], m)
                               in done]
            payload["not_done"] = [names[m] for m in payload["reports"]
                                   if names[m] not in payload["done"]]
        return payload

    # -- what officials see and do ---------------------------------------------------

    def upcoming(self, member: Member, now: datetime) -> list[Planned]:
        """``/pengingat``: this official's reminders to come, the nearest first."""
        mine = [p for p in self.pending(self.snapshot(), now, timedelta(days=120))
                if member.id in p.recipients and p.at > now]
        return sorted(mine, key=lambda p: (p.at, p.id))

    def mark_done(self, member: Member, tid: str, now: datetime, *,
                  evidence: str | None = None, ack_to: int | None = None) -> CycleTask:
        """An official reports a recurring duty done (button, or evidence as a reply).

        `tid` may name several duties (``a+b``: a reply to a message listing them): it is
        taken when exactly one of them is still owed by this official, else refused.
        """
        with self.services.store.transaction() as repo:
            snap = Snapshot(repo)
            owed = {p.get("task_id"): p for p in self.planner.points(
                snap, now, now + HORIZON) if p.get("task_id")}
            tids = tid.split("+")
            if len(tids) > 1:
                mine = [t for t in tids if t in owed and member.id in owed[t].recipients
                        and repo.cycle_task(t) is None]
                if len(mine) > 1:
                    raise Refused(DomainError("this message lists several duties",
                                              "duty_ambiguous"))
                tid = mine[0] if mine else tids[0]
            existing = repo.cycle_task(tid)
            if existing is not None and existing.action == "revise":
                raise UnknownInstance(tid)  # sent back: the evaluation is owed anew
            if existing is not None:
                if evidence and not existing.evidence:
                    existing.evidence = evidence
                    repo.save_cycle_task(existing)
                return existing
            point = owed.get(tid)
            if point is None or member.id not in point.recipients:
                raise UnknownInstance(tid)
            payload = point.payload
            task = CycleTask(tid, payload["flow_id"], payload["occurrence"],
                             payload.get("official") or member.id, now, member.id,
                             evidence)
            repo.save_cycle_task(task)
            repo.enqueue(OutboxItem(
                id=secrets.token_hex(8), member_id=member.id, chat_id=member.chat_id,
                kind="ack", created_at=now, payload={
                    "ack": "cycle_done", "reply_to": ack_to,
                    "flow_id": task.flow_id, "period": payload["period"],
                    "index": payload["index"], "year": payload["year"],
                    "cycle_id": payload["cycle_id"]}))
            return task


def message_payload(payloads: list[dict[str, Any]], owner: str,
                    now: datetime) -> dict[str, Any]:
    """One official's reminders of one moment as one message's payload: a single reminder
    as it always was, several as a ``digest`` listing them (each with its own deadline).

    A digest's ``task_id`` names its duties (``a+b``) so that a reply to it finds them; its
    ``flow_id`` is the first item's (the sender looks the flow up by it).
    """
    if len(payloads) == 1:
        return payloads[0] | {"owner": owner}
    tasks = [p["task_id"] for p in payloads if p.get("task_id")]
    missed = any(now - datetime.fromisoformat(p["at"]) > MISSED_AFTER for p in payloads)
    return {"type": "digest", "flow_id": payloads[0]["flow_id"], "kind": "digest",
            "items": payloads, "missed": missed, "owner": owner, "at": now.isoformat(),
            "task_id": "+".join(tasks) if tasks else None}
