"""Membership: units and roles, invitations, who an official is, flows they may name."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime

from bot.engine.model import Flow
from bot.i18n import N_
from bot.services.base import ServiceBase
from bot.services.commands import Join
from bot.services.errors import (
    AmbiguousFlow,
    BadQuery,
    FlowNotFound,
    InviteProblem,
    NotAMember,
    UnknownUnitOrRole,
)
from bot.services.notices import JoinedAck
from bot.services.outbox import notice_item
from bot.services.people_binding import bind_roster, take_over
from bot.services.results import Joined, TelegramUser
from bot.storage.protocol import Repository
from bot.storage.records import Invite, Member, Membership

YEAR = re.compile(r"^(19|20|21)\d\d$")


def match_flows(flows: Sequence[Flow], key: str, *, by_name: bool = False) -> list[Flow]:
    """The flows `key` names: by id, else by alias (any case), else — `by_name` — by words
    of their name ("perjanjian kinerja"). The one lookup rule of the chat and the CLI."""
    key_n = " ".join(key.casefold().split())
    by_id = [f for f in flows if f.id in (key, key_n)]
    if by_id:
        return by_id
    exact = [f for f in flows if key_n == f.alias.casefold()]
    if exact or not by_name:
        return exact
    return [f for f in flows if key_n and (key_n in f.name.casefold()
                                           or f.name.casefold() in key_n)]


class MembershipService(ServiceBase):
    """Units, roles and the officials bound to them."""

    def member_name(self, member_id: str) -> str:
        """The official's name (their id when unknown)."""
        with self.store.transaction(record_update=False) as repo:
            return self._name(repo, member_id)

    def member_count(self) -> int:
        """How many officials have joined (for the start-up log line)."""
        with self.store.transaction(record_update=False) as repo:
            return len(repo.members())

    # -- units and roles -------------------------------------------------------------

    def units(self) -> dict[str, str]:
        """Unit id -> name, from the flows."""
        return {f.unit.id: f.unit.name for f in self.flows.values()}

    def role_title(self, unit: str, role: str) -> str:
        for flow in self.flows.values():
            if flow.unit.id == unit and flow.has_role(role):
                return flow.role(role).title
        return role

    def roles_of_unit(self, unit: str) -> dict[str, str]:
        roles: dict[str, str] = {}
        for flow in self.flows.values():
            if flow.unit.id == unit:
                for r in flow.roles:
                    if r.relation is None:
                        roles.setdefault(r.id, r.title)
        return roles

    def is_external(self, unit: str, role: str) -> bool:
        """Whether a flow of the unit marks `role` as outside the office (Bupati, Setda)."""
        return any(f.unit.id == unit and f.is_external(role) for f in self.flows.values())

    # -- invitations -----------------------------------------------------------------

    def create_invite(self, *, unit: str, role: str, now: datetime, name: str | None = None,
                      atasan: str | None = None, nip: str | None = None,
                      atasan_nip: str | None = None, admin: bool = False,
                      salutation: str | None = None) -> Invite:
        """A single-use invitation code for a role in a unit."""
        units = self.units()
        if unit not in units:
            raise UnknownUnitOrRole(N_("unknown unit {unit!r}; units: {units}"),
                                    unit=unit, units=", ".join(sorted(units)))
        roles = self.roles_of_unit(unit)
        if role not in roles:
            raise UnknownUnitOrRole(N_("unknown role {role!r} in {unit}; roles: {roles}"),
                                    role=role, unit=unit, roles=", ".join(roles))
        if self.is_external(unit, role):
            raise UnknownUnitOrRole(N_("{role!r} is outside the office (external): it never "
                                       "acts in the bot and cannot be invited; roles: {roles}"),
                                    role=role, roles=", ".join(
                                        r for r in roles if not self.is_external(unit, r)))
        invite = Invite(code=secrets.token_urlsafe(12), unit=unit, role=role, created_at=now,
                        expires_at=now + self.invite_ttl, name=name, atasan=atasan,
                        nip=nip, atasan_nip=atasan_nip, admin=admin, salutation=salutation)
        with self.store.transaction() as repo:
            repo.add_invite(invite)
        return invite

    def redeem(self, cmd: Join) -> Joined:
        """Bind the Telegram user to the invitation's role."""
        code, user, now, ack_to = cmd.code, cmd.user, cmd.now, cmd.ack_to
        with self.store.transaction() as repo:
            invite = repo.invite(code.strip())
            if invite is None:
                raise InviteProblem("unknown")
            if invite.used_by is not None:
                raise InviteProblem("used", invite)
            if now >= invite.expires_at:
                raise InviteProblem("expired", invite)
            if self.is_external(invite.unit, invite.role):
                raise InviteProblem("external", invite)
            known = repo.member(user.member_id)
            member = known or Member(
                id=user.member_id, chat_id=user.chat_id, name=invite.name or user.name,
                joined_at=now, username=user.username, telegram_language=user.language_code)
            if known is not None and known.undeliverable:  # what they missed goes out
                repo.retry_undeliverable(known.id)
            member.chat_id, member.username = user.chat_id, user.username
            member.telegram_language = user.language_code
            member.undeliverable = False
            member.salutation = invite.salutation or member.salutation
            already = invite.role in member.roles_in(invite.unit)
            if not already:
                member.roles.append(Membership(invite.unit, invite.role, now, invite.atasan))
            invite.used_by, invite.used_at = member.id, now
            bind_roster(repo, member, invite)
            repo.save_member(member)
            repo.save_invite(invite)
            joined = Joined(member, invite.unit, self.units()[invite.unit], invite.role,
                            self.role_title(invite.unit, invite.role), already)
            repo.enqueue(notice_item(member.id, member.chat_id, JoinedAck(
                name=member.name, role=joined.role_title, unit=joined.unit_name,
                already=already, unit_id=invite.unit, role_id=invite.role,
                reply_to=ack_to), now))
            take_over(repo, self.flows, member, invite, now)  # after the welcome
        return joined

    def member(self, user: TelegramUser) -> Member | None:
        """The official behind a Telegram user, refreshing what Telegram says of them.

        The refresh is not the update's effect: it must not mark the update as processed.
        """
        with self.store.transaction(record_update=False) as repo:
            return refreshed_member(repo, user)[0]

    def set_language(self, member_id: str, language: str) -> None:
        with self.store.transaction() as repo:
            member = repo.member(member_id)
            if member is None:
                raise NotAMember(member_id)
            member.language = language
            repo.save_member(member)

    # -- finding flows ---------------------------------------------------------------

    def _flows_of(self, member: Member) -> list[Flow]:
        units = set(member.units)
        return [f for f in self.flows.values() if f.unit.id in units]

    def find_flow(self, member: Member, key: str, unit_hint: str = "",
                  prefer_starter: bool = False) -> Flow:
        """The flow of the official's units that `key` names (alias, id or name words).

        When the alias exists in several of the official's units, `unit_hint` (a unit id or
        words of its name) picks one; for starting, units where the official may start the
        flow are preferred.
        """
        mine = self._flows_of(member)
        found = match_flows(mine, key, by_name=True)
        if not found:
            raise FlowNotFound(key, mine)
        hint = " ".join(unit_hint.casefold().split())
        if len(found) > 1 and hint:
            found = [f for f in found
                     if hint == f.unit.id or hint in f.unit.name.casefold()] or found
        if len(found) > 1 and prefer_starter:
            found = [f for f in found
                     if set(f.starters) & member.roles_in(f.unit.id)] or found
        if len(found) > 1:
            raise AmbiguousFlow(key, found)
        return found[0]

    @staticmethod
    def parse_flow_and_year(words: str, usage: str) -> tuple[str, int, str]:
        """Split "PK 2025 [unit]" / "perjanjian kinerja 2025" into (flow words, year, unit)."""
        parts = words.split()
        at = next((i for i, p in enumerate(parts) if YEAR.match(p)), None)
        if at is None or at == 0:
            raise BadQuery(usage)
        return " ".join(parts[:at]), int(parts[at]), " ".join(parts[at + 1:])


def refreshed_member(repo: Repository, user: TelegramUser) -> tuple[Member | None, bool]:
    """The official behind `user` in `repo`, with what Telegram says of them refreshed, and
    whether their chat was undeliverable (then it is deliverable again: what they missed is
    queued again, and the sender must read it)."""
    member = repo.member(user.member_id)
    if member is None:
        return None, False
    retried = member.undeliverable
    if (member.telegram_language != user.language_code or member.undeliverable
            or member.username != user.username or member.chat_id != user.chat_id):
        member.telegram_language = user.language_code
        member.username = user.username
        member.chat_id = user.chat_id
        if member.undeliverable:
            # They wrote to us: the chat works again, and what they missed goes out.
            repo.retry_undeliverable(member.id)
        member.undeliverable = False
        repo.save_member(member)
    return member, retried
