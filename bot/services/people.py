"""People: the roster by NIP, members list/remove/replace, and Plt/Plh delegations.

The roster is validated whole before anything is stored; an official not yet bound to
Telegram is a roster entry with a single-use invitation. A delegation routes the steps of a
role to its Plt/Plh for a period (the rule itself is in :mod:`.assignment`); :meth:`tick`
starts and ends delegations on the controllable clock.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.i18n import N_, Message
from bot.services.assignment import who_must_act
from bot.services.base import ServiceBase
from bot.services.errors import ServiceError
from bot.services.membership import MembershipService
from bot.services.people_handover import hand_over_official
from bot.storage.protocol import Repository
from bot.storage.records import Delegation, Invite, Member, Membership, RosterEntry, invite_key

SALUTATIONS = {"bapak": "Bapak", "ibu": "Ibu", "bpk": "Bapak", "bu": "Ibu", "pak": "Bapak"}
KINDS = ("plh", "plt")


class PeopleProblem(ServiceError):
    """A people request that cannot be done; `message` says why in the reader's language."""

    def __init__(self, template: str, /, **params: object) -> None:
        self._message = Message(template, **params)
        super().__init__(str(self._message))

    @property
    def message(self) -> Message:
        return self._message


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    message: Message


@dataclass
class ImportReport:
    """What a roster import found and did (nothing is stored when `problems` is not empty)."""

    problems: list[RowProblem] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # NIPs
    changed: list[tuple[str, list[str]]] = field(default_factory=list)  # NIP, columns
    unchanged: int = 0
    invitations: list[tuple[RosterEntry, Invite]] = field(default_factory=list)
    #: a new NIP in the role of an official gone from the file: (old, new, when handed over:
    #: "now", "on_join" (when the successor joins) or "" (the old official never joined))
    replaced: list[tuple[RosterEntry, RosterEntry, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Replaced:
    """A mutasi done: who left, who took over, how many open steps moved, and the flows'
    event steps for a change of official that may now be due (flow id, step number)."""

    old: str
    new: str
    steps: int
    events: list[tuple[str, int]]
    offered: list[tuple[str, int]] = field(default_factory=list)  # offered in chat


@dataclass(frozen=True)
class MemberRow:
    """One official as `sopbot members list` shows them."""

    member_id: str | None
    nip: str | None
    name: str
    salutation: str | None
    unit: str
    roles: list[str]
    atasan_nip: str | None
    bound: bool
    delegations: list[dict[str, str]]


class PeopleService(MembershipService, ServiceBase):
    """The roster, the members and their delegations."""

    # -- roles -----------------------------------------------------------------------

    def resolve_role(self, unit: str, key: str) -> str | None:
        """A role of the unit by id or by title (any case)."""
        roles = {r: t for r, t in self.roles_of_unit(unit).items()
                 if not self._external(unit, r)}
        if key in roles:
            return key
        k = " ".join(key.casefold().split())
        return next((r for r, title in roles.items() if title.casefold() == k), None)

    def single_holder(self, unit: str, role: str) -> bool:
        """A role one official holds (a head or secretary who decides, not a level or a
        fan-out role): a second holder is refused from a roster and warned of by invite."""
        for flow in self.flows.values():
            if flow.unit.id != unit or not flow.has_role(role):
                continue
            if flow.role(role).secretary:
                return True
            if (flow.per_official and role in flow.per_official.levels) or any(
                    s.fan_out for s in flow.steps if s.actor == role):
                return False
            if any(s.is_decision for s in flow.steps if s.actor == role):
                return True
        return False

    def _external(self, unit: str, key: str) -> bool:
        k = key.casefold()
        return any(f.unit.id == unit and r.external and k in (r.id, r.title.casefold())
                   for f in self.flows.values() for r in f.roles)

    def invite_warnings(self, unit: str, role: str, nip: str | None,
                        atasan_nip: str | None) -> list[Message]:
        """What `sopbot invite` should warn of: a second holder, an unknown atasan."""
        warnings: list[Message] = []
        with self.store.transaction(record_update=False) as repo:
            holders = [h for h in repo.holders(unit).get(role, [])
                       if (m := repo.member(h)) is None or m.nip != nip or nip is None]
            known = {m.nip for m in repo.members() if m.nip} | {e.nip for e in repo.roster()}
        if holders and self.single_holder(unit, role):
            warnings.append(Message(N_("{role} already has a holder ({name}); this invitation "
                                       "makes a second one."), role=self.role_title(unit, role),
                                    name=self.member_name(holders[0])))
        if atasan_nip and atasan_nip not in known:
            warnings.append(Message(N_("No official with NIP {nip} is known yet: the atasan "
                                       "is linked once they join."), nip=atasan_nip))
        return warnings

    # -- the roster ------------------------------------------------------------------

    def validate_roster(self, rows: Sequence[tuple[int, dict[str, str]]]) -> tuple[
            list[RosterEntry], list[RowProblem]]:
        """Every problem of the rows, and the entries they describe."""
        problems: list[RowProblem] = []
        entries: list[RosterEntry] = []
        units = self.units()
        seen: dict[str, int] = {}
        single: dict[tuple[str, str], int] = {}

        def bad(at: int, column: str, template: str, /, **params: object) -> None:
            problems.append(RowProblem(at, column, Message(template, **params)))

        for no, c in rows:
            nip = c["nip"].replace(" ", "")
            for col in ("nip", "nama", "sapaan", "unit", "role"):
                if not c[col]:
                    bad(no, col, N_("empty"))
            if nip and not nip.isdigit():
                bad(no, "nip", N_("a NIP has only digits, not {value!r}"), value=c["nip"])
            if nip in seen:
                bad(no, "nip", N_("NIP {nip} is already on row {row}"), nip=nip, row=seen[nip])
            seen.setdefault(nip, no)
            sal = SALUTATIONS.get(c["sapaan"].casefold().rstrip("."))
            if c["sapaan"] and sal is None:
                bad(no, "sapaan", N_("Bapak or Ibu, not {value!r}"), value=c["sapaan"])
            unit = c["unit"]
            role = None
            if unit and unit not in units:
                bad(no, "unit", N_("unknown unit {unit!r}; units: {units}"), unit=unit,
                    units=", ".join(sorted(units)))
            elif unit and c["role"]:
                role = self.resolve_role(unit, c["role"])
                if role is None and self._external(unit, c["role"]):
                    bad(no, "role", N_("{role!r} is outside the office: it is never invited"),
                        role=c["role"])
                elif role is None:
                    bad(no, "role", N_("unknown role {role!r} in {unit}; roles: {roles}"),
                        role=c["role"], unit=unit,
                        roles=", ".join(self.roles_of_unit(unit)))
                elif self.single_holder(unit, role):
                    if (unit, role) in single:
                        bad(no, "role", N_("{role} has one holder; row {row} already holds it"),
                            role=self.role_title(unit, role), row=single[(unit, role)])
                    single.setdefault((unit, role), no)
            tg = c["telegram"].strip()
            if tg and not tg.lstrip("@").replace("_", "").isalnum():
                bad(no, "telegram", N_("a Telegram username looks like @name, not {value!r}"),
                    value=tg)
            entries.append(RosterEntry(nip, c["nama"], sal or "", unit, role or c["role"],
                                       c["atasan_nip"].replace(" ", "") or None,
                                       ("@" + tg.lstrip("@")) if tg else None))
        for (no, _c), e in zip(rows, entries, strict=True):
            if e.atasan_nip and e.atasan_nip not in seen:
                bad(no, "atasan_nip", N_("atasan {nip} is not in the roster"), nip=e.atasan_nip)
            elif e.atasan_nip == e.nip and e.nip:
                bad(no, "atasan_nip", N_("an official is not their own atasan"))
        return entries, sorted(problems, key=lambda p: p.row)

    def import_roster(self, rows: Sequence[tuple[int, dict[str, str]]],
                      now: datetime) -> ImportReport:
        """Validate every row; when all are valid, store them and invite who is not bound."""
        entries, problems = self.validate_roster(rows)
        report = ImportReport(problems=problems)
        if problems:
            return report
        with self.store.transaction() as repo:
            stored = {e.nip: e for e in repo.roster()}
            known = {i.code_hash: i for i in repo.invites()}  # codes are kept only as hashes
            self._successions(repo, stored, entries, report, now)
            for entry in entries:
                old = stored.get(entry.nip)
                if old is None:
                    report.added.append(entry.nip)
                else:
                    entry.member_id, entry.invite_code = old.member_id, old.invite_code
                    entry.succeeds = entry.succeeds or old.succeeds
                    diff = [k for k in ("name", "salutation", "unit", "role", "atasan_nip",
                                        "telegram") if getattr(old, k) != getattr(entry, k)]
                    if diff:
                        report.changed.append((entry.nip, diff))
                        if old.member_id and {"unit", "role", "atasan_nip"} & set(diff):
                            boss = stored.get(entry.atasan_nip or "")
                            self._move_role(repo, old, entry, now,
                                            boss.member_id if boss else None)
                    else:
                        report.unchanged += 1
                report.invitations += self._invite_entry(repo, entry, now, known)
            repo.save_roster_entries(entries)
        return report

    def _successions(self, repo: Repository, stored: dict[str, RosterEntry],
                     entries: list[RosterEntry], report: ImportReport, now: datetime) -> None:
        """A new NIP holds the unit and role of an official no longer in the file: a mutasi.
        The old row goes (its invitation voided); a joined predecessor hands everything over
        to the successor — now if the successor has joined, else when they open their link."""
        listed = {e.nip for e in entries}
        gone = [e for e in stored.values() if e.nip not in listed]
        for entry in entries:
            if entry.nip in stored:
                continue
            old = next((g for g in gone if (g.unit, g.role) == (entry.unit, entry.role)), None)
            if old is None:
                continue
            gone.remove(old)
            repo.remove_roster_entry(old.nip)
            self._void_invites(repo, old.nip, now)
            leaving = repo.member_by_nip(old.nip)
            successor = repo.member_by_nip(entry.nip)
            when = "" if leaving is None else "now" if successor is not None else "on_join"
            if leaving is not None and successor is not None:
                hand_over_official(repo, self.flows, leaving, successor, now)
            elif leaving is not None:
                entry.succeeds = old.nip
            report.replaced.append((old, entry, when))

    def _move_role(self, repo: Repository, old: RosterEntry, new: RosterEntry,
                   now: datetime, boss: str | None) -> None:
        """A joined official's row changed unit, role or atasan: so does their membership."""
        member = repo.member(old.member_id or "")
        if member is None:
            return
        member.roles = [m for m in member.roles if (m.unit, m.role) != (old.unit, old.role)]
        member.roles.append(Membership(new.unit, new.role, now, boss, new.atasan_nip))
        repo.save_member(member)

    def _invite_entry(self, repo: Repository, entry: RosterEntry, now: datetime,
                      known: dict[str, Invite]) -> list[tuple[RosterEntry, Invite]]:
        """A new invitation for an official not yet bound; none while their last one is still
        valid (its slip stands: the store keeps only a code's hash, so it cannot be printed
        again) or once they are bound."""
        if entry.member_id:
            return []
        key = entry.invite_code or ""
        current = known.get(key) or known.get(invite_key(key)) if key else None  # old: plain
        if (current is not None and current.used_by is None and now < current.expires_at
                and (current.unit, current.role) == (entry.unit, entry.role)):
            entry.invite_code = current.code_hash
            return []
        invite = Invite(code=secrets.token_urlsafe(12), unit=entry.unit, role=entry.role,
                        created_at=now, expires_at=now + self.invite_ttl, name=entry.name,
                        nip=entry.nip, salutation=entry.salutation,
                        atasan_nip=entry.atasan_nip)
        repo.add_invite(invite)
        entry.invite_code = invite.code_hash  # the hash, never the code itself
        return [(entry, invite)]

    # -- members ---------------------------------------------------------------------

    def member_rows(self, unit: str | None, now: datetime) -> list[MemberRow]:
        """Every official (bound or on the roster only), by unit and NIP."""
        with self.store.transaction(record_update=False) as repo:
            members = repo.members()
            roster = repo.roster()
            delegations = [d for d in repo.delegations() if d.state != "ended"]
        names = {m.id: m.name for m in members}
        rows: list[MemberRow] = []
        bound_ids = set()
        for m in members:
            for u in m.units:
                if unit and u != unit:
                    continue
                bound_ids.add(m.id)
                atasan = next((ms.atasan_nip for ms in m.roles if ms.unit == u), None)
                rows.append(MemberRow(m.id, m.nip, m.name, m.salutation, u,
                                      sorted(m.roles_in(u)), atasan, True,
                                      _delegations_of(m.id, u, delegations, names)))
        for e in roster:
            if e.member_id or (unit and e.unit != unit):
                continue
            rows.append(MemberRow(None, e.nip, e.name, e.salutation, e.unit, [e.role],
                                  e.atasan_nip, False, []))
        return sorted(rows, key=lambda r: (r.unit, r.nip or "", r.name))

    @staticmethod
    def _by_nip(repo: Repository, nip: str) -> Member | None:
        return repo.member_by_nip(nip) if nip else None

    def remove_member(self, nip: str, now: datetime) -> str:
        """Take an official off the roster and unbind them; their name."""
        with self.store.transaction() as repo:
            entry = repo.roster_entry(nip)
            member = self._by_nip(repo, nip)
            if entry is None and member is None:
                raise PeopleProblem(N_("No official with NIP {nip}."), nip=nip)
            if entry is not None:
                repo.remove_roster_entry(nip)
                self._void_invites(repo, nip, now)
            if member is not None:
                if self._stranded(repo, member.id):
                    raise PeopleProblem(N_("{name} still has open steps: hand them to a "
                                           "successor with sopbot members replace."),
                                        name=member.name)
                repo.remove_member(member.id)
            return member.name if member else entry.name if entry else nip

    def _stranded(self, repo: Repository, member_id: str) -> bool:
        """Whether an open step waits on this official alone."""
        for inst in repo.instances():
            flow = self.flows.get(inst.flow_id)
            if flow is None or not inst.is_open:
                continue
            holders = repo.holders(inst.unit_id)
            for active in inst.active_steps():
                if who_must_act(flow, inst, active, holders) == [member_id]:
                    return True
        return False

    @staticmethod
    def _void_invites(repo: Repository, nip: str, now: datetime) -> None:
        for inv in repo.invites():
            if inv.nip == nip and inv.used_by is None:
                inv.expires_at = min(inv.expires_at, now)
                repo.save_invite(inv)

    def replace_member(self, old_nip: str, new_nip: str, now: datetime) -> Replaced:
        """Mutasi: the successor takes the old holder's roles and open steps; the old chat
        is unbound."""
        with self.store.transaction() as repo:
            old = self._by_nip(repo, old_nip)
            new = self._by_nip(repo, new_nip)
            if old is None:
                raise PeopleProblem(N_("No bound official with NIP {nip}."), nip=old_nip)
            if new is None:
                raise PeopleProblem(N_("The successor (NIP {nip}) has not joined yet: "
                                       "import them and let them open their invitation "
                                       "first."), nip=new_nip)
            moved, offered = hand_over_official(repo, self.flows, old, new, now)
            events = [(f.id, s.no) for f in self.flows.values() if f.unit.id in old.units
                      for s in f.event_steps()]
            return Replaced(old.name, new.name, moved, events, offered)


def _delegations_of(member_id: str, unit: str, delegations: Sequence[Delegation],
                    names: dict[str, str]) -> list[dict[str, str]]:
    return [{"id": d.id, "kind": d.kind, "role": d.role,
             "as": "holder" if d.holder == member_id else "delegate",
             "other": names.get(d.delegate if d.holder == member_id else d.holder, ""),
             "from": d.start.isoformat(), "until": d.until.isoformat(), "state": d.state}
            for d in delegations if d.unit == unit and member_id in (d.holder, d.delegate)]
