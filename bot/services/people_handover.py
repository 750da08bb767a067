"""Handing an official's part over to a successor (mutasi), inside one transaction.

Used by ``sopbot members replace`` and by a roster import that replaces an official (at once
when the successor has joined, else when they open their invitation). Where a flow declares a
step for a change of official (the Inspektorat's PK revision after a mutasi, PermenPAN-RB
53/2014), the unit's admin and Sekretaris are offered it in chat (:func:`offer_events`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.engine.instance import Instance, Status
from bot.engine.model import Flow
from bot.services.assignment import hand_over, rebind
from bot.services.notices import MutasiOfferAck, StepNotice, SuccessorAck
from bot.services.outbox import notice_item
from bot.storage.protocol import Repository
from bot.storage.records import Member, Membership


def hand_over_official(repo: Repository, flows: Mapping[str, Flow], old: Member, new: Member,
                       now: datetime) -> tuple[int, list[tuple[str, int]]]:
    """`new` takes `old`'s roles, open steps and subordinates; `old` is unbound. Returns how
    many open steps moved and the event steps offered (flow id, step number)."""
    moved = 0
    repo.enqueue(notice_item(new.id, new.chat_id,  # told first, then the steps
                             SuccessorAck(name=old.name, steps=0), now))
    for ms in old.roles:
        if ms.role not in new.roles_in(ms.unit):
            new.roles.append(Membership(ms.unit, ms.role, now, ms.atasan, ms.atasan_nip))
        for inst in repo.instances(unit=ms.unit):
            flow = flows.get(inst.flow_id)
            if flow is None or not inst.is_open:
                continue
            steps = hand_over(flow, inst, ms.role, old.id, new.id)
            steps += rebind(inst, old.id, new.id)
            if steps:
                moved += len(set(steps))
                repo.save_instance(inst)
                notify_steps(repo, flow, inst, sorted(set(steps)), new.id, now)
    for other in repo.members():
        if any(ms.atasan == old.id for ms in other.roles):
            other.roles = [Membership(ms.unit, ms.role, ms.since, new.id, new.nip)
                           if ms.atasan == old.id else ms for ms in other.roles]
            repo.save_member(other)
    repo.save_member(new)
    repo.remove_member(old.id)
    if old.nip and repo.roster_entry(old.nip) is not None:
        repo.remove_roster_entry(old.nip)
    return moved, offer_events(repo, flows, old, new, now)


OFFER = "people_mutasi_offer"


def _instance_for(repo: Repository, flow: Flow, step_no: int, now: datetime) -> Instance | None:
    """The unit's current instance of the flow (this year's, running or done) whose event step
    is not running already."""
    found = {i.id: i for i in repo.instances(unit=flow.unit.id, flow_id=flow.id)}
    found |= {i.id: i for i in repo.instances(unit=flow.unit.id, flow_id=flow.id,
                                              year=now.year)}
    usable = [i for i in found.values()
              if i.status is not Status.CANCELLED and i.active(step_no) is None]
    return max(usable, key=lambda i: i.year, default=None)


def _deciders(repo: Repository, flow: Flow) -> list[Member]:
    """Who is offered the event: the unit's admins and the holders of its Sekretaris role."""
    unit = flow.unit.id
    secretaries = set(flow.secretary_roles)
    return [m for m in repo.members()
            if unit in m.admin_of or secretaries & m.roles_in(unit)]


def offer_events(repo: Repository, flows: Mapping[str, Flow], old: Member, new: Member,
                 now: datetime) -> list[tuple[str, int]]:
    """Queue the offer of every event step for a change of official in the old official's
    units; the (flow id, step number) pairs offered."""
    offered = []
    for flow in flows.values():
        if flow.unit.id not in old.units:
            continue
        for step in flow.event_steps():
            inst = _instance_for(repo, flow, step.no, now)
            if inst is None:
                continue
            offered.append((flow.id, step.no))
            for m in _deciders(repo, flow):
                if m.id == old.id:
                    continue
                repo.enqueue(notice_item(m.id, m.chat_id, MutasiOfferAck(
                    flow_id=flow.id, year=inst.year, instance_id=inst.id, step_no=step.no,
                    old=old.name, new=new.name, successor=new.id), now))
    return offered


def notify_steps(repo: Repository, flow: Flow, inst: Instance, steps: Sequence[int],
                  member_id: str, now: datetime) -> None:
    """The step messages of steps handed over to `member_id` (with their buttons)."""
    member = repo.member(member_id)
    if member is None:
        return
    subject = repo.member(inst.subject) if inst.subject else None
    for no in steps:
        active = inst.active(no)
        if active is None:
            continue
        repo.enqueue(notice_item(member.id, member.chat_id, StepNotice(
            instance_id=inst.id, flow_id=flow.id, year=inst.year, step_no=no,
            round=active.round,
            deadline=active.deadline.isoformat() if active.deadline else None,
            note=active.note, attachments=tuple(active.incoming),
            subject=subject.name if subject else None), now))
