"""Mutasi in chat: where a flow declares a step for a change of official (the Inspektorat's PK
revision after a mutasi, PermenPAN-RB 53/2014), the unit's admin and Sekretaris are offered
it for the successor's PK with [Ya] [Tidak]; Ya starts the event step.

:func:`.people_handover.offer_events` queues the offer inside the replacement's transaction
(``sopbot members replace``, or a roster import that replaces an official);
:class:`MutasiService` answers the buttons.
"""

from __future__ import annotations

from datetime import datetime

from bot.engine.instance import Instance
from bot.i18n import N_
from bot.services.commands import TriggerStep
from bot.services.flowops import FlowOpsService
from bot.services.people import PeopleProblem
from bot.services.people_delegation import DelegationService
from bot.services.people_handover import OFFER, offer_events
from bot.storage.records import Member

__all__ = ["OFFER", "MutasiService", "offer_events"]

class MutasiService(FlowOpsService, DelegationService):
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
        return self.trigger(TriggerStep(None, inst.id, step_no, reason.format(name=name), now))
