"""Oversight: the rekap across units in chat, the reports officials may ask for, the weekly
digest, and the flow's regulation target (a deadline counted from a date given at start).

The oversight unit (Bagian Organisasi Setda, Inspektorat, Sekda) is declared by
``SOPBOT_OVERSIGHT_UNIT`` (its id; ``SOPBOT_OVERSIGHT_NAME`` its name; validated by
:func:`bot.config.oversight_from`, set by :func:`bot.bootstrap.build_services`): it has the roles of
:data:`OVERSIGHT_ROLES`, is invited like any unit (``sopbot invite <id> inspektorat``) and sees
every unit of the deployment. No Telegram here: the chat renders what these return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.engine.calendar import resolve_timezone
from bot.engine.instance import Instance, Status
from bot.engine.model import Flow
from bot.i18n import N_, Message
from bot.reports.rekap import UnitRekap, rekap, select_flows
from bot.reports.source import load_trails
from bot.reports.trail import Trail
from bot.services.errors import BadQuery, FlowNotFound, NotStarted, ServiceError
from bot.services.membership import YEAR, MembershipService
from bot.services.notices import StartedAck, TargetDateAskedAck, decode
from bot.services.outbox import notice_item
from bot.storage.records import Member
from bot.understanding.dates import read_date

__all__ = [
    "OVERSIGHT_ROLES",
    "BadTargetDate",
    "Digest",
    "NotAllowedReport",
    "OversightService",
    "OversightUnit",
    "RekapView",
    "TargetView",
    "split_target_date",
    "target_view",
]

#: The roles of the oversight unit: id -> title (proper names, as the Pemda writes them).
OVERSIGHT_ROLES: dict[str, str] = {
    "bagian_organisasi": "Bagian Organisasi Setda",
    "inspektorat": "Inspektorat",
    "sekda": "Sekretaris Daerah",
}


@dataclass(frozen=True)
class OversightUnit:
    """The deployment's oversight unit."""

    id: str
    name: str


class NotAllowedReport(ServiceError):
    """The official may not ask for this report (`what`: rekap, export)."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(what)

    @property
    def message(self) -> Message:
        if self.what == "rekap":
            return Message(N_("Sorry, the recap across units is for the oversight officials "
                              "(Bagian Organisasi, Inspektorat, Sekda)."))
        return Message(N_("Sorry, this report is for the unit's Sekretaris and the oversight "
                          "officials."))


@dataclass(frozen=True)
class TargetView:
    """A flow's regulation target for one instance: the date it counts from and the end."""

    label: str
    label_en: str | None
    regulation: str | None
    start: date
    due: date
    working_days_left: int  # negative: working days past the target


def target_view(flow: Flow, inst: Instance, now: datetime) -> TargetView | None:
    """The countdown to the flow's target (None: no target, or no date given)."""
    if flow.target is None or inst.target_from is None:
        return None
    cal = flow.unit.calendar()
    due = flow.target.due(inst.target_from)
    today = now.astimezone(resolve_timezone(flow.unit.timezone)).date()
    return TargetView(flow.target.label, flow.target.label_en, flow.target.regulation,
                      inst.target_from, due, cal.working_days_between(today, due))


class BadTargetDate(ServiceError):
    """The date after the target's basis word (``DPA 31-02-2026``) is not a date."""

    def __init__(self, basis: str, text: str) -> None:
        self.basis = basis
        self.text = text
        super().__init__(text)

    @property
    def message(self) -> Message:
        return Message(N_("{text!r} is not a date: write {basis} and the date as DD-MM-YYYY, "
                          "e.g. {basis} 15-01-2026."), text=self.text, basis=self.basis)


def split_target_date(flows: Sequence[Flow], words: str) -> tuple[str, str | None, date | None]:
    """``PK 2026 DPA 15-01-2026`` -> (``PK 2026``, ``DPA``, 2026-01-15) when some flow's
    target has that basis word; raises :class:`BadTargetDate` for a bad date after it."""
    bases = {f.target.basis.casefold(): f.target.basis for f in flows if f.target is not None}
    parts = words.split()
    at = next((i for i, p in enumerate(parts) if p.casefold() in bases), None)
    if at is None:
        return words, None, None
    basis = bases[parts[at].casefold()]
    text = parts[at + 1] if at + 1 < len(parts) else ""
    when = read_date(text)
    if when is None:
        raise BadTargetDate(basis, text)
    return " ".join(parts[:at] + parts[at + 2:]), basis, when


@dataclass(frozen=True)
class RekapView:
    """``rekap PK 2026``: every unit's line, worst first, with its target countdown."""

    alias: str
    year: int
    flows: tuple[Flow, ...]
    lines: tuple[UnitRekap, ...]
    targets: dict[str, TargetView]  # unit id -> countdown


@dataclass(frozen=True)
class Digest:
    """The weekly digest of one official: what finished, what is late, what falls due."""

    member: Member
    week: str  # ISO week, e.g. 2026-W02
    finished: tuple[tuple[Flow, Instance], ...]
    late: tuple[tuple[Flow, Instance], ...]
    due: tuple[tuple[Flow, Instance, datetime], ...]


class OversightService(MembershipService):
    """The oversight unit as a unit of the deployment, and what it (and a Sekretaris) reads."""

    oversight: OversightUnit | None = None

    # -- the oversight unit among the units ------------------------------------------

    def units(self) -> dict[str, str]:
        units = super().units()
        if self.oversight is not None:
            units[self.oversight.id] = self.oversight.name
        return units

    def roles_of_unit(self, unit: str) -> dict[str, str]:
        if self.oversight is not None and unit == self.oversight.id:
            return dict(OVERSIGHT_ROLES)
        return super().roles_of_unit(unit)

    def role_title(self, unit: str, role: str) -> str:
        if self.oversight is not None and unit == self.oversight.id:
            return OVERSIGHT_ROLES.get(role, role)
        return super().role_title(unit, role)

    def is_overseer(self, member: Member) -> bool:
        """Whether the official holds a role of the oversight unit."""
        return self.oversight is not None and bool(member.roles_in(self.oversight.id))

    def is_secretary(self, member: Member, flow: Flow) -> bool:
        return bool(set(flow.secretary_roles) & member.roles_in(flow.unit.id))

    # -- the rekap -------------------------------------------------------------------

    def rekap_view(self, member: Member, words: str, now: datetime) -> RekapView:
        """``rekap PK 2026``: only for the oversight unit."""
        if not self.is_overseer(member):
            raise NotAllowedReport("rekap")
        key, year, _unit = self.parse_flow_and_year(words, "rekap")
        chosen = select_flows(self.flows.values(), key)
        if not chosen:
            raise FlowNotFound(key, list(self.flows.values()))
        trails = load_trails(self.store, chosen, year)
        lines = rekap(chosen, year, trails, now)
        targets = {}
        for trail in trails:
            view = target_view(trail.flow, trail.instance, now)
            if view is not None and trail.instance.status is not Status.CANCELLED:
                targets[trail.flow.unit.id] = view
        return RekapView(chosen[0].alias, year, tuple(chosen), tuple(lines), targets)

    # -- the trails an official may turn into files ----------------------------------

    def _report_flows(self, member: Member, key: str, unit_hint: str, *,
                      secretary_only: bool) -> list[Flow]:
        overseer = self.is_overseer(member)
        pool = list(self.flows.values()) if overseer else self._flows_of(member)
        chosen = select_flows(pool, key) or [f for f in pool if f.id == key]
        if not chosen:
            raise FlowNotFound(key, pool)
        hint = " ".join(unit_hint.casefold().split())
        if hint:
            chosen = [f for f in chosen
                      if hint == f.unit.id or hint in f.unit.name.casefold()] or chosen
        if secretary_only and not overseer:
            chosen = [f for f in chosen if self.is_secretary(member, f)]
            if not chosen:
                raise NotAllowedReport("export")
        return chosen

    def report_trails(self, member: Member, words: str, usage: str, *,
                      secretary_only: bool) -> tuple[list[Flow], int, list[Trail]]:
        """The flows and trails ``PK 2026 [unit]`` names for this official: every unit for
        the oversight unit, else the official's own units (only as Sekretaris when
        `secretary_only`)."""
        key, year, unit_hint = self.parse_flow_and_year(words, usage)
        chosen = self._report_flows(member, key, unit_hint, secretary_only=secretary_only)
        return chosen, year, load_trails(self.store, chosen, year)

    def report_flows(self, member: Member,
                     words: str) -> tuple[list[Flow], int | None, list[Trail]]:
        """``/bagan PK [2026] [unit]``: the flows, and the year's trails when a year is given."""
        parts = words.split()
        if not parts:
            raise BadQuery("/bagan")
        at = next((i for i, p in enumerate(parts) if YEAR.match(p)), None)
        if at == 0:
            raise BadQuery("/bagan")
        if at is None:
            chosen = self._report_flows(member, parts[0], " ".join(parts[1:]),
                                        secretary_only=False)
            return chosen, None, []
        chosen = self._report_flows(member, " ".join(parts[:at]), " ".join(parts[at + 1:]),
                                    secretary_only=False)
        year = int(parts[at])
        return chosen, year, load_trails(self.store, chosen, year)

    def asked_target(self, member: Member, chat_id: int,
                     message_id: int) -> tuple[str, int] | None:
        """(flow id, year) when that message is the started message that asked this official
        for the date the flow's target counts from."""
        with self.store.transaction(record_update=False) as repo:
            for item in repo.outbox("sent"):
                if (item.member_id != member.id or item.chat_id != chat_id
                        or item.kind != "ack" or message_id not in item.message_ids):
                    continue
                ack = decode(item.kind, item.payload)
                if (isinstance(ack, StartedAck) and ack.target_asked) \
                        or isinstance(ack, TargetDateAskedAck):
                    return ack.flow_id, ack.year
        return None

    def ask_target_again(self, member: Member, flow_id: str, year: int, given: str,
                         reply_to: int, now: datetime) -> None:
        """The official's answer `given` to the target's question is not a date: ask again,
        in a message whose reply is taken as the date as well (the official replies to the
        bot's last word, not to the question above it)."""
        with self.store.transaction() as repo:
            repo.enqueue(notice_item(member.id, member.chat_id, TargetDateAskedAck(
                flow_id, year, given[:200], reply_to=reply_to), now))

    def set_target_from(self, member: Member, flow_id: str, year: int, when: date,
                        now: datetime) -> Instance:
        """The date the flow's target counts from (the answer to the question at start),
        on the year's running instances of the flow; returns the (newest) one."""
        flow = self.flows[flow_id]
        with self.store.transaction() as repo:
            live = [i for i in repo.instances(unit=flow.unit.id, flow_id=flow.id, year=year)
                    if i.status is not Status.CANCELLED]
            if not live:
                raise NotStarted(flow, year)
            for inst in live:
                inst.target_from = when
                repo.save_instance(inst)
        return sorted(live, key=lambda i: i.created_at)[-1]

    # -- the weekly digest -----------------------------------------------------------

    def set_digest(self, member_id: str, on: bool) -> None:
        """``/ringkasan on|off``."""
        with self.store.transaction() as repo:
            member = repo.member(member_id)
            if member is not None:
                member.weekly_digest = on
                repo.save_member(member)

    def digest_recipients(self) -> list[Member]:
        """Who gets the weekly digest: Sekretaris roles and the oversight unit (opted in)."""
        secretaries = {(f.unit.id, r) for f in self.flows.values() for r in f.secretary_roles}
        with self.store.transaction(record_update=False) as repo:
            return [m for m in repo.members() if m.weekly_digest and not m.undeliverable and (
                self.is_overseer(m) or any((x.unit, x.role) in secretaries for x in m.roles))]

    def digest(self, member: Member, now: datetime) -> Digest:
        """What finished in the last 7 days, what is late, and what falls due in the next 7,
        in the units the official sees (all of them for the oversight unit)."""
        units = (None if self.is_overseer(member) else set(member.units))
        week_ago, week_ahead = now - timedelta(days=7), now + timedelta(days=7)
        finished, late, due = [], [], []
        with self.store.transaction(record_update=False) as repo:
            for inst in repo.instances():
                flow = self.flows.get(inst.flow_id)
                if flow is None or (units is not None and inst.unit_id not in units):
                    continue
                if (inst.status is Status.COMPLETED and inst.finished_at
                        and inst.finished_at >= week_ago):
                    finished.append((flow, inst))
                elif inst.status is Status.ACTIVE and inst.is_overdue(now):
                    late.append((flow, inst))
                elif inst.status is Status.ACTIVE:
                    ends = [s.deadline for s in inst.active_steps()
                            if s.deadline is not None and s.deadline <= week_ahead]
                    if ends:
                        due.append((flow, inst, min(ends)))
        iso = now.isocalendar()
        return Digest(member, f"{iso.year}-W{iso.week:02d}", tuple(finished), tuple(late),
                      tuple(sorted(due, key=lambda d: d[2])))

    def digest_sent(self, member_id: str, week: str) -> bool:
        with self.store.transaction(record_update=False) as repo:
            return repo.reminder_sent(f"digest:{member_id}:{week}")

    def mark_digest(self, member_id: str, week: str, now: datetime) -> None:
        with self.store.transaction(record_update=False) as repo:
            repo.mark_reminder(f"digest:{member_id}:{week}", now)
