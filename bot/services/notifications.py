"""Notifications, pure: what the events of a transition owe to whom.

Given a transition (its events) and a snapshot of the unit (who holds which role, the
officials, who took part), :func:`notices` says which message each official is owed. It
reads no storage and no clock; the workflow stores the result in the outbox in the same
transaction as the transition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.engine.instance import (
    Action,
    ExternalWaitStarted,
    FlowCancelled,
    FlowCompleted,
    Instance,
    StepActivated,
    Transition,
)
from bot.engine.model import Flow
from bot.services.notices import (
    CancelledNotice,
    CompletedNotice,
    Notice,
    StepNotice,
    WaitNotice,
)
from bot.storage.records import Member


@dataclass(frozen=True)
class UnitSnapshot:
    """What notifications need to know of the instance's unit at the moment of a transition."""

    holders: Mapping[str, list[str]]  # role -> member ids, in the order they joined
    people: Mapping[str, Member]  # every official, by id
    history: tuple[str, ...] = ()  # who took the instance's dispositions, oldest first

    def name(self, member_id: str) -> str:
        member = self.people.get(member_id)
        return member.name if member else member_id


@dataclass(frozen=True)
class Owed:
    """One notice owed to one official (it goes into the outbox as it is)."""

    member_id: str
    chat_id: int
    notice: Notice


def notices(flow: Flow, t: Transition, unit: UnitSnapshot) -> list[Owed]:
    """The messages the events of `t` owe: the next holders, and everyone at the end."""
    inst = t.instance
    subject = unit.people.get(inst.subject) if inst.subject else None
    subject_name = subject.name if subject else None
    owed: list[Owed] = []
    for event in t.events:
        notice: Notice
        if isinstance(event, StepActivated):
            recipients = list(event.members) or unit.holders.get(event.role, [])
            active = inst.active(event.step_no)
            notice = StepNotice(
                instance_id=inst.id, flow_id=flow.id, year=inst.year, step_no=event.step_no,
                round=active.round if active else 1,
                deadline=event.deadline.isoformat() if event.deadline else None,
                note=event.note, attachments=tuple(event.attachments),
                by_event=event.by_event, subject=subject_name,
                revision=bool(t.disposition and t.disposition.action is Action.REVISE),
                from_name=unit.name(t.disposition.member) if t.disposition else None)
        elif isinstance(event, FlowCompleted):
            recipients = participants(inst, t, unit)
            notice = CompletedNotice(
                instance_id=inst.id, flow_id=flow.id, year=inst.year,
                elapsed_seconds=int(event.elapsed.total_seconds()),
                standard=str(event.standard), subject=subject_name)
        elif isinstance(event, FlowCancelled):
            recipients = [m for m in [*participants(inst, t, unit), *event.notify]
                          if m != event.by]
            notice = CancelledNotice(
                instance_id=inst.id, flow_id=flow.id, year=inst.year, reason=event.reason,
                by=unit.name(event.by), subject=subject_name)
        elif isinstance(event, ExternalWaitStarted):
            recipients = list(unit.holders.get(event.recorded_by, []))
            notice = WaitNotice(
                instance_id=inst.id, flow_id=flow.id, year=inst.year, step_no=event.step_no,
                waits_for=tuple(event.waits_for), subject=subject_name,
                expected_by=event.expected_by.isoformat() if event.expected_by else None)
        else:
            continue
        owed.extend(Owed(m.id, m.chat_id, notice) for m in
                    (unit.people.get(i) for i in dict.fromkeys(recipients)) if m is not None)
    return owed


def participants(inst: Instance, t: Transition, unit: UnitSnapshot) -> list[str]:
    """Everyone who took part in an instance: its starter, deciders and bound officials."""
    people = [inst.started_by, *unit.history]
    if t.disposition is not None:
        people.append(t.disposition.member)
    people.extend(inst.bindings.values())
    return list(dict.fromkeys(people))
