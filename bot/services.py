"""Use cases: load state → ask the engine → store the result and the messages it causes.

No Telegram here. Each use case runs in one storage transaction, so a transition, its
dispositions and the notifications it causes (the outbox) are written together or not at all.
Results are plain data that the Telegram layer renders in the reader's language.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.engine.instance import (
    Action,
    Actor,
    Disposition,
    DomainError,
    Engine,
    FlowCancelled,
    FlowCompleted,
    Instance,
    Status,
    StepActivated,
    Transition,
)
from bot.engine.model import Flow
from bot.i18n import N_
from bot.ops import metrics
from bot.storage.records import (
    Invite,
    Member,
    Membership,
    OutboxItem,
    PendingReason,
    StepMessage,
)
from bot.storage.store import Repository, Store

log = logging.getLogger(__name__)
YEAR = re.compile(r"^(19|20|21)\d\d$")


# --- errors the chat layer explains -------------------------------------------------------


class ServiceError(Exception):
    """A request that cannot be done; subclasses carry what the reply needs."""


class InviteProblem(ServiceError):
    """An invitation code that is unknown, used or expired (`reason` says which)."""

    def __init__(self, reason: str, invite: Invite | None = None) -> None:
        self.reason = reason
        self.invite = invite
        super().__init__(reason)


class UnknownUnitOrRole(ServiceError):
    """`sopbot invite` named a unit or role that no flow declares.

    ``str()`` is the English text; `template` (marked with ``N_()``) and `params` let
    :meth:`render` show it in the reader's language.
    """

    def __init__(self, template: str, /, **params: str) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params))

    def render(self, gettext: Callable[[str], str]) -> str:
        """The message in the language of `gettext`: translate the template, then fill it."""
        return gettext(self.template).format(**self.params)


class NotAMember(ServiceError):
    """The Telegram user has not joined any unit."""


class FlowNotFound(ServiceError):
    """No flow in the official's units matches what they typed."""

    def __init__(self, key: str, known: Sequence[Flow]) -> None:
        self.key = key
        self.known = list(known)
        super().__init__(key)


class AmbiguousFlow(ServiceError):
    """The alias exists in several of the official's units."""

    def __init__(self, key: str, flows: Sequence[Flow]) -> None:
        self.key = key
        self.flows = list(flows)
        super().__init__(key)


class BadQuery(ServiceError):
    """A command whose words are not understood (e.g. no year)."""

    def __init__(self, usage: str) -> None:
        self.usage = usage
        super().__init__(usage)


class AlreadyRunning(ServiceError):
    """That flow and year already exist in the unit."""

    def __init__(self, flow: Flow, instances: list[Instance]) -> None:
        self.flow = flow
        self.instances = instances
        super().__init__(flow.id)


class StaleStep(ServiceError):
    """The step was already decided (or the instance moved on)."""

    def __init__(self, instance: Instance, step_no: int, decided: Disposition | None) -> None:
        self.instance = instance
        self.step_no = step_no
        self.decided = decided
        super().__init__(step_no)


class Refused(ServiceError):
    """The engine refused the action; `error` is the domain error."""

    def __init__(self, error: DomainError) -> None:
        self.error = error
        super().__init__(str(error))


class NotStarted(ServiceError):
    """Nobody has started that flow for that year."""

    def __init__(self, flow: Flow, year: int) -> None:
        self.flow = flow
        self.year = year
        super().__init__(f"{flow.id} {year}")


class UnknownInstance(ServiceError):
    """A button or reply that points at no instance the official may see."""


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Joined:
    """An official redeemed an invitation."""

    member: Member
    unit_id: str
    unit_name: str
    role: str
    role_title: str
    already: bool = False


@dataclass(frozen=True)
class Started:
    """Instances started by ``mulai``."""

    flow: Flow
    year: int
    instances: list[Instance]
    skipped: list[str] = field(default_factory=list)  # per-official: members with no atasan


@dataclass(frozen=True)
class Decided:
    """A decision was taken and recorded."""

    flow: Flow
    instance: Instance
    disposition: Disposition
    settled: list[StepMessage]  # the step's messages whose buttons must go
    completed: bool = False


@dataclass(frozen=True)
class ReasonAsked:
    """The official must now type the revision reason."""

    flow: Flow
    instance: Instance
    step_no: int


@dataclass(frozen=True)
class ActiveStepView:
    """One waiting step, for status and task lists."""

    step_no: int
    position: int
    title: str
    role_title: str
    holders: list[str]  # names
    waiting_for: list[str]  # names of those who still must act (fan-out)
    since: datetime
    deadline: datetime | None
    overdue: bool
    by_event: bool = False
    unreachable: list[str] = field(default_factory=list)  # holders who blocked the bot


@dataclass(frozen=True)
class InstanceStatus:
    """Where one instance stands."""

    flow: Flow
    instance: Instance
    active: list[ActiveStepView]
    total_steps: int
    done_steps: int
    last: list[tuple[Disposition, str]]  # recent dispositions with the official's name
    subject_name: str | None = None


@dataclass(frozen=True)
class PerOfficialStatus:
    """Where a per-official procedure stands for a year: counts and who is late."""

    flow: Flow
    year: int
    done: int
    in_progress: int
    overdue: int
    late: list[tuple[str, ActiveStepView]]  # official's name, their overdue step


@dataclass(frozen=True)
class UnitOverview:
    """``status`` alone: the running instances of the official's units."""

    items: list[InstanceStatus]


@dataclass(frozen=True)
class Task:
    """A step waiting for this official (``/tugas``)."""

    flow: Flow
    instance: Instance
    view: ActiveStepView
    subject_name: str | None = None


# --- the services --------------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramUser:
    """The part of a Telegram user the services need."""

    id: int
    chat_id: int
    name: str
    username: str | None = None
    language_code: str | None = None

    @property
    def member_id(self) -> str:
        return str(self.id)


class Services:
    """Every use case of the bot, over one store and the loaded flows."""

    def __init__(self, store: Store, flows: Iterable[Flow], *,
                 invite_ttl: timedelta = timedelta(days=7)) -> None:
        self.store = store
        self.flows = {f.id: f for f in flows}
        self.engines = {f.id: Engine(f) for f in self.flows.values()}
        self.invite_ttl = invite_ttl

    def update_seen(self, update_id: int) -> bool:
        """Whether the effects of a Telegram update are already stored."""
        with self.store.transaction() as repo:
            return repo.update_seen(update_id)

    def settle_archives(self) -> int:
        """Finish archive moves a crash interrupted (at start-up)."""
        with self.store.transaction(record_update=False) as repo:
            return repo.settle_archives()

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

    # -- invitations -----------------------------------------------------------------

    def create_invite(self, *, unit: str, role: str, now: datetime, name: str | None = None,
                      atasan: str | None = None) -> Invite:
        """A single-use invitation code for a role in a unit."""
        units = self.units()
        if unit not in units:
            raise UnknownUnitOrRole(N_("unknown unit {unit!r}; units: {units}"),
                                    unit=unit, units=", ".join(sorted(units)))
        roles = self.roles_of_unit(unit)
        if role not in roles:
            raise UnknownUnitOrRole(N_("unknown role {role!r} in {unit}; roles: {roles}"),
                                    role=role, unit=unit, roles=", ".join(roles))
        invite = Invite(code=secrets.token_urlsafe(12), unit=unit, role=role, created_at=now,
                        expires_at=now + self.invite_ttl, name=name, atasan=atasan)
        with self.store.transaction() as repo:
            repo.add_invite(invite)
        return invite

    def redeem(self, code: str, user: TelegramUser, now: datetime,
               ack_to: int | None = None) -> Joined:
        """Bind the Telegram user to the invitation's role."""
        with self.store.transaction() as repo:
            invite = repo.invite(code.strip())
            if invite is None:
                raise InviteProblem("unknown")
            if invite.used_by is not None:
                raise InviteProblem("used", invite)
            if now >= invite.expires_at:
                raise InviteProblem("expired", invite)
            member = repo.member(user.member_id) or Member(
                id=user.member_id, chat_id=user.chat_id, name=invite.name or user.name,
                joined_at=now, username=user.username, telegram_language=user.language_code)
            member.chat_id = user.chat_id
            member.undeliverable = False
            already = invite.role in member.roles_in(invite.unit)
            if not already:
                member.roles.append(Membership(invite.unit, invite.role, now, invite.atasan))
            invite.used_by, invite.used_at = member.id, now
            repo.save_member(member)
            repo.save_invite(invite)
            joined = Joined(member, invite.unit, self.units()[invite.unit], invite.role,
                            self.role_title(invite.unit, invite.role), already)
            repo.enqueue(self._item(member.id, member.chat_id, "ack", {
                "ack": "joined", "reply_to": ack_to, "name": member.name,
                "unit_id": invite.unit, "role_id": invite.role,
                "role": joined.role_title, "unit": joined.unit_name, "already": already}, now))
        return joined

    def member(self, user: TelegramUser) -> Member | None:
        """The official behind a Telegram user, refreshing what Telegram says of them.

        The refresh is not the update's effect: it must not mark the update as processed.
        """
        with self.store.transaction(record_update=False) as repo:
            member = repo.member(user.member_id)
            if member is None:
                return None
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
            return member

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
        key_n = " ".join(key.casefold().split())
        mine = self._flows_of(member)
        exact = [f for f in mine if key_n in (f.alias.casefold(), f.id)]
        named = [f for f in mine if key_n and (key_n in f.name.casefold()
                                               or f.name.casefold() in key_n)]
        found = exact or named
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

    # -- starting --------------------------------------------------------------------

    def start(self, member: Member, words: str, now: datetime,
              ack_to: int | None = None) -> Started:
        """``mulai PK 2025``: start the flow (per official: one instance per official)."""
        key, year, unit_hint = self.parse_flow_and_year(words, "mulai")
        flow = self.find_flow(member, key, unit_hint, prefer_starter=True)
        engine = self.engines[flow.id]
        actor = Actor(member.id, member.roles_in(flow.unit.id))
        with self.store.transaction() as repo:
            existing = [i for i in repo.instances(unit=flow.unit.id, flow_id=flow.id, year=year)
                        if i.status is not Status.CANCELLED]
            holders = repo.holders(flow.unit.id)
            if flow.per_official is None:
                if existing:
                    raise AlreadyRunning(flow, existing)
                pairs: list[tuple[str | None, str | None]] = [(None, None)]
                skipped: list[str] = []
            else:
                pairs, skipped = self._officials_and_atasan(repo, flow, holders)
                taken = {i.subject for i in existing}
                pairs = [p for p in pairs if p[0] not in taken]
                if not pairs and existing:
                    raise AlreadyRunning(flow, existing)
                if not pairs:
                    raise Refused(DomainError(
                        "no official is bound to the levels of this procedure yet",
                        "no_officials"))
            repo.enqueue(self._item(member.id, member.chat_id, "ack", {
                "ack": "started", "reply_to": ack_to, "flow_id": flow.id, "year": year,
                "count": len(pairs), "skipped": skipped}, now))
            started = []
            for subject, atasan in pairs:
                try:
                    t = engine.start(instance_id=self._new_id(repo), year=year, by=actor,
                                     now=now, holders=holders, subject=subject, atasan=atasan)
                except DomainError as exc:
                    raise Refused(exc) from exc
                self._record(repo, flow, t, now)
                started.append(t.instance)
        return Started(flow, year, started, skipped)

    def _officials_and_atasan(
        self, repo: Repository, flow: Flow, holders: dict[str, list[str]]
    ) -> tuple[list[tuple[str | None, str | None]], list[str]]:
        """Each official at the procedure's levels, paired with their direct superior."""
        assert flow.per_official is not None
        pairs: list[tuple[str | None, str | None]] = []
        skipped: list[str] = []
        for level in flow.per_official.levels:
            atasan_role = flow.atasan_role_of(level)
            for member_id in holders.get(level, []):
                member = repo.member(member_id)
                explicit = next((m.atasan for m in member.roles
                                 if m.unit == flow.unit.id and m.role == level and m.atasan),
                                None) if member else None
                candidates = [h for h in holders.get(atasan_role or "", []) if h != member_id]
                atasan = explicit or (candidates[0] if candidates else None)
                if atasan is None:
                    skipped.append(member.name if member else member_id)
                else:
                    pairs.append((member_id, atasan))
        return pairs, skipped

    @staticmethod
    def _new_id(repo: Repository) -> str:
        while True:
            candidate = secrets.token_hex(4)
            if repo.instance(candidate) is None:
                return candidate

    # -- deciding --------------------------------------------------------------------

    def _load(self, repo: Repository, member: Member, instance_id: str) -> tuple[Flow, Instance]:
        inst = repo.instance(instance_id)
        if inst is None or inst.flow_id not in self.flows:
            raise UnknownInstance(instance_id)
        if inst.unit_id not in member.units:
            # Another unit's instance: say nothing about it.
            raise UnknownInstance(instance_id)
        return self.flows[inst.flow_id], inst

    def _check_fresh(self, repo: Repository, inst: Instance, step_no: int,
                     round_no: int | None) -> None:
        active = inst.active(step_no)
        if active is None or (round_no is not None and active.round != round_no):
            decided = next((d for d in reversed(repo.dispositions(inst.id, inst.year))
                            if d.step_no == step_no
                            and (round_no is None or d.round == round_no)
                            and d.action in (Action.COMPLETE, Action.APPROVE, Action.REVISE,
                                             Action.CANCEL)), None)
            if decided is None and inst.status is Status.CANCELLED:
                decided = next((d for d in reversed(repo.dispositions(inst.id, inst.year))
                                if d.action is Action.CANCEL), None)
            raise StaleStep(inst, step_no, decided)

    def decide(
        self,
        member: Member,
        instance_id: str,
        step_no: int,
        round_no: int | None,
        action: str,
        now: datetime,
        *,
        note: str | None = None,
        attachments: Sequence[str] = (),
        origin: StepMessage | None = None,
        ack_to: int | None = None,
    ) -> Decided:
        """Approve/complete (``advance``) or ``revise`` a step; the reason is the note.

        In the same write: the disposition, the edits that settle the step's messages
        (`origin` is the message whose button was pressed, in case it is not recorded yet),
        a reply to the official's message `ack_to` when given, and the notifications.
        """
        with self.store.transaction() as repo:
            flow, inst = self._load(repo, member, instance_id)
            self._check_fresh(repo, inst, step_no, round_no)
            engine = self.engines[flow.id]
            actor = Actor(member.id, member.roles_in(inst.unit_id))
            round_now = inst.active(step_no).round  # type: ignore[union-attr]
            try:
                if action == "revise":
                    t = engine.revise(inst, by=actor, now=now, holders=repo.holders(inst.unit_id),
                                      reason=note or "", step_no=step_no,
                                      attachments=attachments)
                else:
                    t = engine.advance(inst, by=actor, now=now,
                                       holders=repo.holders(inst.unit_id), step_no=step_no,
                                       note=note, attachments=attachments)
            except DomainError as exc:
                raise Refused(exc) from exc
            assert t.disposition is not None
            copies = [m for m in repo.step_messages(inst.id, step_no, round_now)
                      if not m.settled]  # a fan-out part already settled keeps its line
            still_open = t.instance.active(step_no)
            if still_open is not None and still_open.round == round_now:
                copies = [m for m in copies if m.member_id == member.id]  # a fan-out part
            if origin is not None and not any(m.chat_id == origin.chat_id
                                               and m.message_id == origin.message_id
                                               for m in copies):
                copies.append(origin)
            for msg in copies:
                repo.settle_step_message(msg.chat_id, msg.message_id)
                repo.enqueue(self._item(msg.member_id, msg.chat_id, "settle", {
                    "flow_id": flow.id, "message_id": msg.message_id, "text": msg.text,
                    "disposition": t.disposition.to_dict(), "name": member.name}, now))
            if ack_to is not None:
                repo.enqueue(self._item(member.id, member.chat_id, "ack", {
                    "ack": "decided", "reply_to": ack_to, "flow_id": flow.id,
                    "step_no": step_no, "action": t.disposition.action.value,
                    "completed": t.instance.status is Status.COMPLETED}, now))
            repo.clear_pending_reason(member.id)
            self._record(repo, flow, t, now)
        return Decided(flow, t.instance, t.disposition, copies,
                       completed=t.instance.status is Status.COMPLETED)

    def ask_reason(self, member: Member, instance_id: str, step_no: int,
                   round_no: int | None, now: datetime, *, chat_id: int | None = None,
                   message_id: int | None = None, ack_to: int | None = None) -> ReasonAsked:
        """The official pressed Revisi: check they may, then wait for their reason."""
        with self.store.transaction() as repo:
            flow, inst = self._load(repo, member, instance_id)
            self._check_fresh(repo, inst, step_no, round_no)
            engine = self.engines[flow.id]
            step = flow.step(step_no)
            if not step.is_decision:
                raise Refused(DomainError(f"step {step_no} is a task, not a decision",
                                          "task_not_decision", step=step_no))
            try:
                engine.authorize(inst, by=Actor(member.id, member.roles_in(inst.unit_id)),
                                 step_no=step_no)
            except DomainError as exc:
                raise Refused(exc) from exc
            active = inst.active(step_no)
            assert active is not None
            repo.set_pending_reason(PendingReason(member.id, inst.id, step_no, active.round,
                                                  now, chat_id, message_id))
            repo.enqueue(self._item(member.id, member.chat_id, "ack", {
                "ack": "reason_asked", "reply_to": ack_to}, now))
        return ReasonAsked(flow, inst, step_no)

    def pending_reason(self, member: Member) -> PendingReason | None:
        with self.store.transaction() as repo:
            return repo.pending_reason(member.id)

    def drop_pending_reason(self, member: Member, now: datetime,
                            ack_to: int | None = None) -> bool:
        """``/batal``: stop waiting for a revision reason (True if one was awaited)."""
        with self.store.transaction() as repo:
            dropped = repo.clear_pending_reason(member.id)
            if dropped:
                repo.enqueue(self._item(member.id, member.chat_id, "ack", {
                    "ack": "pending_dropped", "reply_to": ack_to}, now))
            return dropped

    def attach(self, member: Member, instance_id: str, step_no: int, round_no: int | None,
               attachments: Sequence[str], now: datetime, note: str | None = None,
               ack_to: int | None = None) -> Flow:
        """Attach documents to the step an official is working on."""
        with self.store.transaction() as repo:
            flow, inst = self._load(repo, member, instance_id)
            self._check_fresh(repo, inst, step_no, round_no)
            try:
                t = self.engines[flow.id].attach(
                    inst, by=Actor(member.id, member.roles_in(inst.unit_id)), now=now,
                    attachments=attachments, step_no=step_no, note=note)
            except DomainError as exc:
                raise Refused(exc) from exc
            repo.enqueue(self._item(member.id, member.chat_id, "ack", {
                "ack": "attached", "reply_to": ack_to}, now))
            self._record(repo, flow, t, now)
        return flow

    def step_message(self, chat_id: int, message_id: int) -> StepMessage | None:
        with self.store.transaction() as repo:
            return repo.step_message(chat_id, message_id)

    # -- recording a transition and the messages it owes ------------------------------

    def _record(self, repo: Repository, flow: Flow, t: Transition, now: datetime) -> None:
        if t.disposition is not None:  # one line per transition, for the operator
            d = t.disposition
            current = t.instance.current.no if t.instance.current else None
            log.info("transition instance=%s flow=%s unit=%s year=%s step=%s round=%s "
                     "action=%s member=%s role=%s status=%s now_at=%s", t.instance.id, flow.id,
                     flow.unit.id, t.instance.year, d.step_no, d.round, d.action.value,
                     d.member, d.role, t.instance.status.value, current)
            metrics.decision(d.action.value)
        repo.save_instance(t.instance)
        if t.disposition is not None:
            repo.add_disposition(t.disposition)
        for item in self._notifications(repo, flow, t, now):
            repo.enqueue(item)
        if not t.instance.active_steps():
            # Finished: out of the working set, into its year's archive.
            repo.archive_instance(t.instance)

    def _notifications(self, repo: Repository, flow: Flow, t: Transition,
                       now: datetime) -> list[OutboxItem]:
        inst = t.instance
        items: list[OutboxItem] = []
        holders = repo.holders(inst.unit_id)
        subject = repo.member(inst.subject) if inst.subject else None
        for event in t.events:
            if isinstance(event, StepActivated):
                recipients = list(event.members) or holders.get(event.role, [])
                active = inst.active(event.step_no)
                payload = {
                    "instance_id": inst.id,
                    "flow_id": flow.id,
                    "year": inst.year,
                    "step_no": event.step_no,
                    "round": active.round if active else 1,
                    "deadline": event.deadline.isoformat() if event.deadline else None,
                    "note": event.note,
                    "attachments": list(event.attachments),
                    "by_event": event.by_event,
                    "subject": subject.name if subject else None,
                    "revision": bool(t.disposition
                                     and t.disposition.action is Action.REVISE),
                    "from_name": self._name(repo, t.disposition.member) if t.disposition
                    else None,
                }
                items.extend(self._to(repo, recipients, "step", payload, now))
            elif isinstance(event, FlowCompleted):
                payload = {"instance_id": inst.id, "flow_id": flow.id, "year": inst.year,
                           "elapsed_seconds": int(event.elapsed.total_seconds()),
                           "standard": str(event.standard),
                           "subject": subject.name if subject else None}
                items.extend(self._to(repo, self._participants(repo, inst, t), "completed",
                                      payload, now))
            elif isinstance(event, FlowCancelled):
                payload = {"instance_id": inst.id, "flow_id": flow.id, "year": inst.year,
                           "reason": event.reason, "by": self._name(repo, event.by),
                           "subject": subject.name if subject else None}
                recipients = [m for m in self._participants(repo, inst, t) if m != event.by]
                items.extend(self._to(repo, recipients, "cancelled", payload, now))
        return items

    @staticmethod
    def _participants(repo: Repository, inst: Instance, t: Transition) -> list[str]:
        people = [inst.started_by, *(d.member for d in repo.dispositions(inst.id, inst.year))]
        if t.disposition is not None:
            people.append(t.disposition.member)
        people.extend(inst.bindings.values())
        return list(dict.fromkeys(people))

    @staticmethod
    def _item(member_id: str, chat_id: int, kind: str, payload: dict,
              now: datetime) -> OutboxItem:
        return OutboxItem(id=secrets.token_hex(8), member_id=member_id, chat_id=chat_id,
                          kind=kind, payload=dict(payload), created_at=now)

    def _to(self, repo: Repository, member_ids: Iterable[str], kind: str, payload: dict,
            now: datetime) -> list[OutboxItem]:
        items = []
        for member_id in dict.fromkeys(member_ids):
            member = repo.member(member_id)
            if member is not None:
                items.append(self._item(member.id, member.chat_id, kind, payload, now))
        return items

    @staticmethod
    def _name(repo: Repository, member_id: str) -> str:
        member = repo.member(member_id)
        return member.name if member else member_id

    # -- where things stand ----------------------------------------------------------

    def _views(self, repo: Repository, flow: Flow, inst: Instance,
               now: datetime) -> list[ActiveStepView]:
        holders = repo.holders(inst.unit_id)
        views = []
        for active in inst.active_steps():
            step = flow.step(active.no)
            bound = inst.bindings.get(step.actor)
            who = [bound] if bound else holders.get(step.actor, [])
            waiting = active.pending if not active.anyone else who
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
        else:
            done = 0
        shown = [d for d in disps if d.action is not Action.START][-5:]
        subject = repo.member(inst.subject) if inst.subject else None
        return InstanceStatus(flow, inst, self._views(repo, flow, inst, now), len(flow.sequence),
                              done, [(d, self._name(repo, d.member)) for d in shown],
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
                roles = member.roles_in(unit)
                for inst in repo.instances(unit=unit):
                    flow = self.flows.get(inst.flow_id)
                    if flow is None or not inst.active_steps():
                        continue
                    subject = repo.member(inst.subject) if inst.subject else None
                    for view, active in zip(self._views(repo, flow, inst, now),
                                            inst.active_steps(), strict=True):
                        step = flow.step(active.no)
                        bound = inst.bindings.get(step.actor)
                        mine = (bound == member.id if bound else
                                step.actor in roles and (active.anyone
                                                         or member.id in active.pending))
                        if mine:
                            result.append(Task(flow, inst, view,
                                               subject.name if subject else None))
        return sorted(result, key=lambda t: (t.view.deadline or now + timedelta(days=9999)))
