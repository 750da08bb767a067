"""Mutasi in chat: where a flow declares a step for a change of official (the Inspektorat's PK
revision after a mutasi, PermenPAN-RB 53/2014), the unit's admin and Sekretaris are offered
it for the successor's PK with [Ya] [Tidak]; Ya starts the event step.

:func:`offer_events` runs inside the replacement's transaction (``sopbot members replace`` or
a roster import that replaces an official); :class:`MutasiService` answers the buttons.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.engine.instance import Instance, Status
from bot.engine.model import Flow
from bot.i18n import N_
from bot.services.flowops import FlowOpsService
from bot.services.outbox import new_item
from bot.services.people import PeopleProblem, PeopleService
from bot.storage.protocol import Repository
from bot.storage.records import Member

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
                repo.enqueue(new_item(m.id, m.chat_id, "ack", {
                    "ack": OFFER, "flow_id": flow.id, "year": inst.year,
                    "instance_id": inst.id, "step_no": step.no, "old": old.name,
                    "new": new.name, "successor": new.id}, now))
    return offered


class MutasiService(FlowOpsService, PeopleService):
    """The answer to a mutasi offer."""

    def mutasi_trigger(self, member: Member, instance_id: str, step_no: int, successor: str,
                       reason: str, now: datetime) -> Instance:
        """Ya: start the event step of the instance, as the unit's admin or Sekretaris.

        `reason` is the cause in the presser's words, with ``{name}`` for the successor.
        """
        with self.store.transaction(record_update=False) as repo:
            inst = repo.instance(instance_id)
            flow = self.flows.get(inst.flow_id) if inst else None
            current = repo.member(member.id)
            name = self._name(repo, successor)
        if inst is None or flow is None or current is None:
            raise PeopleProblem(N_("This offer is no longer valid."))
        unit = flow.unit.id
        if unit not in current.admin_of and not (set(flow.secretary_roles)
                                                 & current.roles_in(unit)):
            raise PeopleProblem(N_("Only the unit's admin or Sekretaris may start it."))
        return self.trigger(None, inst.id, step_no, reason.format(name=name), now)
