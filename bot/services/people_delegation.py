"""Plt/Plh: a role — or an atasan's part in a per-official procedure (the PDK pairing) —
acted by another official for a period. The routing rule is in :mod:`.assignment`;
:meth:`DelegationService.tick` starts and ends delegations on the controllable clock.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from bot.engine.instance import Instance
from bot.engine.model import Relation
from bot.i18n import N_
from bot.services.assignment import hand_over
from bot.services.notices_acks import delegation_ack
from bot.services.outbox import notice_item
from bot.services.people import KINDS, PeopleProblem, PeopleService
from bot.services.people_handover import notify_steps
from bot.storage.protocol import Repository
from bot.storage.records import Delegation, Member


class DelegationService(PeopleService):
    """Delegations of roles and of atasan pairings."""

    def delegate(self, *, unit: str, role: str, to_nip: str | None = None, start: datetime,
                 until: datetime, kind: str, now: datetime, holder_nip: str | None = None,
                 notify_holder: bool = False, to_member: str | None = None,
                 holder_member: str | None = None) -> Delegation:
        """Plt/Plh: `to_nip` acts for the role's holder from `start` until `until`."""
        if unit not in self.units():
            raise PeopleProblem(N_("unknown unit {unit!r}; units: {units}"), unit=unit,
                                units=", ".join(sorted(self.units())))
        role_id = self.resolve_role(unit, role) or (
            role if role == self.atasan_role(unit) else None)
        if role_id is None:
            raise PeopleProblem(N_("unknown role {role!r} in {unit}; roles: {roles}"),
                                role=role, unit=unit, roles=", ".join(self.roles_of_unit(unit)))
        if kind not in KINDS:
            raise PeopleProblem(N_("kind is plh or plt, not {kind!r}"), kind=kind)
        if until <= start:
            raise PeopleProblem(N_("the delegation must end after it starts"))
        with self.store.transaction() as repo:
            delegate = (repo.member(to_member) if to_member
                        else self._by_nip(repo, to_nip or ""))
            if delegate is None or unit not in delegate.units:
                raise PeopleProblem(N_("No bound official with NIP {nip} in {unit}."),
                                    nip=to_nip or "-", unit=unit)
            pairing = role_id == self.atasan_role(unit)
            holders = (self._atasan_ids(repo, unit) if pairing
                       else repo.holders(unit).get(role_id, []))
            holder = self._by_nip(repo, holder_nip) if holder_nip else None
            holder_id = holder_member or (holder.id if holder else (
                holders[0] if len(holders) == 1 else None))
            if holder_id is not None and holder_id not in holders and pairing:
                raise PeopleProblem(N_("{name} is nobody's atasan in {unit}."),
                                    name=self._name(repo, holder_id), unit=unit)
            if holder_id is None or holder_id not in holders:
                raise PeopleProblem(N_("Say whose role it is with --holder-nip (the role has "
                                       "{n} holders)."), n=len(holders))
            if holder_id == delegate.id:
                raise PeopleProblem(N_("An official cannot act for themselves."))
            d = Delegation(secrets.token_hex(4), unit, role_id, holder_id, delegate.id, kind,
                           start, until, now, notify_holder)
            repo.save_delegation(d)
        self.tick(now)
        return self._delegation(d.id)

    def atasan_role(self, unit: str) -> str | None:
        """The procedure role of the atasan in the unit's per-official flows (PDK pairing)."""
        return next((r for f in self.flows.values() if f.unit.id == unit and f.per_official
                     if (r := f.relation_role(Relation.ATASAN))), None)

    def delegable(self, member: Member) -> list[tuple[str, str]]:
        """(unit, role) pairs the official may hand to a Plt/Plh (/delegasi): the roles one
        official holds, and the atasan pairing of a per-official procedure where someone
        reports to them."""
        choices = [(m.unit, m.role) for m in member.roles
                   if self.single_holder(m.unit, m.role)]
        with self.store.transaction(record_update=False) as repo:
            for unit in member.units:
                role = self.atasan_role(unit)
                if role and member.id in self._atasan_ids(repo, unit):
                    choices.append((unit, role))
        return choices

    @staticmethod
    def _atasan_ids(repo: Repository, unit: str) -> list[str]:
        """Who is someone's atasan in the unit (as the roster pairs them)."""
        return list(dict.fromkeys(ms.atasan for m in repo.members() for ms in m.roles
                                  if ms.unit == unit and ms.atasan))

    def delegate_atasan(self, *, atasan_nip: str, to_nip: str, start: datetime,
                        until: datetime, kind: str, now: datetime,
                        notify_holder: bool = False) -> Delegation:
        """Plh of an official's atasan: while they are away, the approvals of the officials
        they are paired with (a per-official procedure's atasan steps) go to `to_nip`."""
        with self.store.transaction(record_update=False) as repo:
            atasan = self._by_nip(repo, atasan_nip)
        if atasan is None:
            raise PeopleProblem(N_("No bound official with NIP {nip}."), nip=atasan_nip)
        unit = next((u for u in atasan.units if self.atasan_role(u)), None)
        role = self.atasan_role(unit) if unit else None
        if unit is None or role is None:
            raise PeopleProblem(N_("{name} is in no unit with a per-official procedure "
                                   "(an atasan pairing)."), name=atasan.name)
        return self.delegate(unit=unit, role=role, to_nip=to_nip, start=start, until=until,
                             kind=kind, now=now, holder_member=atasan.id,
                             notify_holder=notify_holder)

    def _delegation(self, delegation_id: str) -> Delegation:
        with self.store.transaction(record_update=False) as repo:
            return next(x for x in repo.delegations() if x.id == delegation_id)

    def delegations_list(self, now: datetime, *, all_: bool = False) -> list[Delegation]:
        with self.store.transaction(record_update=False) as repo:
            return [d for d in repo.delegations() if all_ or d.state != "ended"]

    def end_delegation(self, delegation_id: str, now: datetime) -> Delegation:
        """End a delegation now (the role returns to its holder)."""
        with self.store.transaction() as repo:
            d = next((x for x in repo.delegations() if x.id == delegation_id), None)
            if d is None or d.state == "ended":
                raise PeopleProblem(N_("No current delegation {id}."), id=delegation_id)
            d.until = min(d.until, now)
            repo.save_delegation(d)
        self.tick(now)
        return self._delegation(d.id)

    def tick(self, now: datetime) -> int:
        """Start and end delegations whose time has come; how many changed."""
        changed = 0
        with self.store.transaction(record_update=False) as repo:
            for d in repo.delegations():
                if d.state == "scheduled" and d.start <= now < d.until:
                    self._switch(repo, d, d.holder, d.delegate, "active", now)
                    changed += 1
                elif d.state != "ended" and now >= d.until:
                    if d.state == "active":
                        self._switch(repo, d, d.delegate, d.holder, "ended", now)
                    else:
                        d.state = "ended"
                        repo.save_delegation(d)
                    changed += 1
        return changed

    def _switch(self, repo: Repository, d: Delegation, old: str, new: str, state: str,
                now: datetime) -> None:
        handed = []
        pairing = d.role == self.atasan_role(d.unit)
        for inst in repo.instances(unit=d.unit):
            flow = self.flows.get(inst.flow_id)
            if flow is None or not inst.is_open:
                continue
            if pairing and not _paired(repo, inst, d):
                continue  # the Plh's own subordinates stay theirs when the period ends
            steps = hand_over(flow, inst, d.role, old, new)
            if steps:
                handed.append((flow, inst, steps))
                repo.save_instance(inst)
        moved = sum(len(steps) for _f, _i, steps in handed)
        d.state = state
        repo.save_delegation(d)
        told = delegation_ack(state)(
            acting=d.kind, unit_id=d.unit, role_id=d.role, holder=self._name(repo, d.holder),
            delegate=self._name(repo, d.delegate), until=d.until.isoformat(), steps=moved)
        for member_id in (d.delegate, d.holder):
            member = repo.member(member_id)
            if member is not None:
                repo.enqueue(notice_item(member.id, member.chat_id, told, now))
        for flow, inst, steps in handed:  # told first, then the steps that moved
            notify_steps(repo, flow, inst, steps, new, now)


def _paired(repo: Repository, inst: Instance, d: Delegation) -> bool:
    """Whether the instance's official has the delegation's holder as atasan (roster)."""
    subject = repo.member(inst.subject) if inst.subject else None
    return subject is not None and any(ms.atasan == d.holder for ms in subject.roles
                                       if ms.unit == d.unit)
