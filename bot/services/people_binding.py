"""Binding a roster official when they redeem their invitation (used by membership.redeem).

Every look-up is by key (the official's NIP, their atasan's NIP, the entries that report to
them): the cost of a /start does not grow with the size of the roster.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.engine.model import Flow
from bot.services.people_handover import hand_over_official
from bot.storage.protocol import Repository
from bot.storage.records import Invite, Member, Membership


def bind_roster(repo: Repository, member: Member, invite: Invite) -> None:
    """Give the new member their NIP and salutation, link their atasan and subordinates."""
    if invite.admin and invite.unit not in member.admin_of:
        member.admin_of.append(invite.unit)
    if invite.nip is None:
        return
    member.nip = invite.nip
    member.salutation = invite.salutation or member.salutation
    # The roster says who is whose atasan by NIP; member ids are known once both joined.
    boss = repo.roster_entry(invite.atasan_nip) if invite.atasan_nip else None
    member.roles = [_with_atasan(ms, boss.member_id if boss else None, invite)
                    for ms in member.roles]
    for sub in repo.roster_reports(invite.nip):
        other = (repo.member(sub.member_id) if sub.member_id and sub.member_id != member.id
                 else None)
        if other is not None:
            other.roles = [Membership(ms.unit, ms.role, ms.since, member.id, ms.atasan_nip)
                           if ms.atasan_nip == invite.nip else ms for ms in other.roles]
            repo.save_member(other)
    entry = repo.roster_entry(invite.nip)
    if entry is not None:
        entry.member_id = member.id
        repo.save_roster_entry(entry)


def _with_atasan(ms: Membership, boss: str | None, invite: Invite) -> Membership:
    if ms.unit == invite.unit and ms.role == invite.role:
        return Membership(ms.unit, ms.role, ms.since, boss or ms.atasan, invite.atasan_nip)
    return ms


def take_over(repo: Repository, flows: Mapping[str, Flow], member: Member, invite: Invite,
              now: datetime) -> None:
    """A successor named by a roster import joined: the official they replace hands over
    (open steps, duties, subordinates; their chat is unbound)."""
    entry = repo.roster_entry(invite.nip) if invite.nip else None
    if entry is None or entry.succeeds is None:
        return
    leaving = repo.member_by_nip(entry.succeeds)
    if leaving is not None and leaving.id != member.id:
        hand_over_official(repo, flows, leaving, member, now)
    entry.succeeds = None
    repo.save_roster_entry(entry)
