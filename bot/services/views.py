"""Where things stand: status of a flow, the steps waiting for an official."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.engine.instance import Action, Instance, Status
from bot.engine.model import Flow
from bot.services.assignment import acting_label, step_holders, who_must_act
from bot.services.errors import NotStarted
from bot.services.membership import MembershipService
from bot.services.results import (
    ActiveStepView,
    InstanceStatus,
    PerOfficialStatus,
    Task,
    UnitOverview,
)
from bot.storage.protocol import Repository
from bot.storage.records import Member


class ViewService(MembershipService):
    """Read-only use cases: status, tasks."""

    def _views(self, repo: Repository, flow: Flow, inst: Instance,
               now: datetime) -> list[ActiveStepView]:
        holders = repo.holders(inst.unit_id)
        views = []
        for active in inst.active_steps():
            step = flow.step(active.no)
            who = step_holders(flow, inst, active.no, holders)
            waiting = who_must_act(flow, inst, active, holders)
            views.append(ActiveStepView(
                step_no=step.no,
                position=flow.position(step.no) if step.trigger.value == "sequence" else 0,
                title=step.title,
                role_title=flow.role(step.actor).title,
                holders=[self._name(repo, m) for m in who],
                waiting_for=[self._name(repo, m) for m in waiting],
                since=active.started_at,
                deadline=active.deadline,
                overdue=active.deadline is not None and now > active.deadline,
                by_event=step.trigger.value == "event",
                unreachable=[m.name for m in map(repo.member, waiting)
                             if m is not None and m.undeliverable],
            ))
        return views

    def _instance_status(self, repo: Repository, flow: Flow, inst: Instance,
                         now: datetime) -> InstanceStatus:
        disps = repo.dispositions(inst.id, inst.year)
        if inst.status is Status.COMPLETED:
            done = len(flow.sequence)
        elif inst.current is not None:
            done = flow.position(inst.current.no) - 1
        elif inst.waiting is not None:  # outside the office after that step
            done = flow.position(inst.waiting.after_step)
        else:
            done = 0
        shown = [d for d in disps if d.action is not Action.START][-5:]
        subject = repo.member(inst.subject) if inst.subject else None
        return InstanceStatus(flow, inst, self._views(repo, flow, inst, now), len(flow.sequence),
                              done, [(d, acting_label(flow, d, self._name(repo, d.member)))
                                     for d in shown],
                              subject.name if subject else None)

    def status(self, member: Member, words: str,
               now: datetime) -> UnitOverview | InstanceStatus | PerOfficialStatus:
        """``status PK 2025`` (or ``status`` alone: every running instance of my units)."""
        if not words.strip():
            with self.store.transaction() as repo:
                items = []
                for unit in member.units:
                    for inst in repo.instances(unit=unit, status=Status.ACTIVE):
                        if inst.flow_id in self.flows:
                            items.append(self._instance_status(repo, self.flows[inst.flow_id],
                                                               inst, now))
            return UnitOverview(items)
        key, year, unit_hint = self.parse_flow_and_year(words, "status")
        flow = self.find_flow(member, key, unit_hint)
        with self.store.transaction() as repo:
            instances = repo.instances(unit=flow.unit.id, flow_id=flow.id, year=year)
            if not instances:
                raise NotStarted(flow, year)
            if flow.per_official is None:
                inst = sorted(instances, key=lambda i: (i.status is not Status.CANCELLED,
                                                        i.created_at))[-1]
                return self._instance_status(repo, flow, inst, now)
            live = [i for i in instances if i.status is not Status.CANCELLED]
            late = []
            for inst in live:
                for view in self._views(repo, flow, inst, now):
                    if view.overdue:
                        late.append((self._name(repo, inst.subject or ""), view))
            return PerOfficialStatus(
                flow, year,
                done=sum(i.status is Status.COMPLETED for i in live),
                in_progress=sum(i.status is Status.ACTIVE for i in live),
                overdue=sum(i.status is Status.ACTIVE and i.is_overdue(now) for i in live),
                late=late,
            )

    def tasks(self, member: Member, now: datetime) -> list[Task]:
        """Steps waiting for this official, across their units."""
        result = []
        with self.store.transaction() as repo:
            for unit in member.units:
                holders = repo.holders(unit)
                for inst in repo.instances(unit=unit):
                    flow = self.flows.get(inst.flow_id)
                    if flow is None or not inst.active_steps():
                        continue
                    subject = repo.member(inst.subject) if inst.subject else None
                    for view, active in zip(self._views(repo, flow, inst, now),
                                            inst.active_steps(), strict=True):
                        if member.id in who_must_act(flow, inst, active, holders):
                            result.append(Task(flow, inst, view,
                                               subject.name if subject else None))
        return sorted(result, key=lambda t: (t.view.deadline or now + timedelta(days=9999)))
