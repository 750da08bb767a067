"""Office-grade operations on a running flow (issue 13): the document came back from outside
the office, a revision of some parts of a fan-out, an event step that re-runs a stretch of
the flow, cancelling an instance.

Each change is one transaction, as in :mod:`.workflow`: the engine's transition, its
disposition, the messages it owes and the update id are stored together. The ``check_*``
methods change nothing: the chat asks for a confirmation after them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.engine.instance import Actor, DomainError, Instance, Status, WrongState
from bot.engine.model import ExternalWait, Flow, Step, Trigger
from bot.i18n import N_, Message
from bot.services.commands import (
    AdminCancel,
    AdminTrigger,
    AskPartsReason,
    Cancel,
    RecordReturn,
    TriggerStep,
)
from bot.services.errors import BadQuery, NotStarted, Refused, ServiceError
from bot.services.notices import (
    CancelledAck,
    ReturnedAck,
    SettleNotice,
    TriggeredAck,
    encode,
)
from bot.services.outbox import new_item, notice_item
from bot.services.workflow import WorkflowService
from bot.storage.protocol import Repository
from bot.storage.records import Member, PendingReason, StepMessage

#: The member id dispositions name for what an admin did from the command line.
ADMIN = "admin"
#: A start year further than this from the current year asks for a confirmation first.
FAR_YEARS = 1
_SEPARATORS = re.compile(r"\s*(?:,|&|\bdan\b|\band\b)\s*", re.IGNORECASE)


class NothingWaiting(ServiceError):
    """"Sudah kembali" from an official with no document outside the office to record."""

    @property
    def message(self) -> Message:
        return Message(N_("No document of yours is waiting outside the office."))


class SeveralWaiting(ServiceError):
    """Several documents are outside: the official must say which (flow and year)."""

    def __init__(self, waiting: list[tuple[Flow, Instance]]) -> None:
        self.waiting = waiting
        super().__init__(", ".join(f"{f.alias} {i.year}" for f, i in waiting))

    @property
    def message(self) -> Message:
        names = ", ".join(f"\"sudah kembali {f.alias} {i.year}\"" for f, i in self.waiting)
        return Message(N_("Several documents are outside the office; say which: {names}."),
                       names=names)


@dataclass(frozen=True)
class Returned:
    """The document came back; the next step is active."""

    flow: Flow
    instance: Instance
    wait: ExternalWait


@dataclass(frozen=True)
class PartsChoice:
    """The parts of the fan-out step a decision may send back: (member id, name)."""

    flow: Flow
    instance: Instance
    step_no: int  # the decision
    back_to: int  # the fan-out step
    parts: list[tuple[str, str]]


@dataclass(frozen=True)
class Planned:
    """A checked request (trigger or cancel) waiting for the official's confirmation."""

    flow: Flow
    instance: Instance
    reason: str
    step: Step | None = None  # trigger: the event step


def wait_of(flow: Flow, inst: Instance) -> ExternalWait | None:
    """What `inst` waits on outside the office (None when it does not wait)."""
    if not inst.is_waiting or inst.waiting is None:
        return None
    return flow.step(inst.waiting.after_step).wait


def is_far_year(year: int, now: datetime) -> bool:
    """Whether starting `year` needs a confirmation (more than a year from now's year)."""
    return abs(year - now.year) > FAR_YEARS


class FlowOpsService(WorkflowService):
    """External waits, partial revisions, event re-runs, cancelling."""

    # -- finding the instance an official names ----------------------------------------

    def _named(self, repo: Repository, member: Member, words: str,
               usage: str) -> tuple[Flow, Instance, str]:
        """"PK 2026 <rest>": the flow, its newest live instance of that year, and the rest."""
        key, year, rest = self.parse_flow_and_year(words, usage)
        flow = self.find_flow(member, key)
        found = [i for i in repo.instances(unit=flow.unit.id, flow_id=flow.id, year=year)
                 if i.status is not Status.CANCELLED]
        if not found:
            raise NotStarted(flow, year)
        return flow, sorted(found, key=lambda i: i.created_at)[-1], rest.strip()

    def _admin_instance(self, repo: Repository, flow: Flow, year: int) -> Instance:
        found = [i for i in repo.instances(unit=flow.unit.id, flow_id=flow.id, year=year)
                 if i.status is not Status.CANCELLED]
        if not found:
            raise NotStarted(flow, year)
        return sorted(found, key=lambda i: i.created_at)[-1]

    # -- the document came back from outside the office ------------------------------

    def waiting_for(self, member: Member) -> list[tuple[Flow, Instance]]:
        """Instances waiting outside whose return this official may record."""
        found = []
        with self.store.transaction(record_update=False) as repo:
            for unit in member.units:
                for inst in repo.instances(unit=unit, status=Status.ACTIVE):
                    flow = self.flows.get(inst.flow_id)
                    wait = wait_of(flow, inst) if flow else None
                    if flow and wait and wait.recorded_by in member.roles_in(unit):
                        found.append((flow, inst))
        return found

    def record_return(self, cmd: RecordReturn) -> Returned:
        """"Sudah kembali": the document is back in the office; the next step starts."""
        member, now, instance_id, words, ack_to = (cmd.member, cmd.now, cmd.instance_id,
                                                   cmd.words, cmd.ack_to)
        with self.store.transaction() as repo:
            if instance_id is not None:
                flow, inst = self._load(repo, member, instance_id)
            elif words.strip():
                flow, inst, _rest = self._named(repo, member, words, "sudah kembali")
            else:
                flow, inst = self._only_waiting(repo, member)
            wait = wait_of(flow, inst)
            engine = self.engines[flow.id]
            try:
                t = engine.returned(inst, by=Actor(member.id, member.roles_in(inst.unit_id)),
                                    now=now, holders=repo.holders(inst.unit_id))
            except DomainError as exc:
                raise Refused(exc) from exc
            assert wait is not None and t.disposition is not None
            for msg in repo.step_messages(inst.id, t.disposition.step_no, 0):
                if msg.kind == "wait" and not msg.settled:
                    self._settle(repo, flow, msg, t.disposition.to_dict(), member.name, now)
            repo.enqueue(notice_item(member.id, member.chat_id, ReturnedAck(
                flow_id=flow.id, year=inst.year,
                step_no=t.instance.current.no if t.instance.current else None,
                reply_to=ack_to), now))
            self._record(repo, flow, t, now)
        return Returned(flow, t.instance, wait)

    def _only_waiting(self, repo: Repository, member: Member) -> tuple[Flow, Instance]:
        found = []
        for unit in member.units:
            for inst in repo.instances(unit=unit, status=Status.ACTIVE):
                flow = self.flows.get(inst.flow_id)
                wait = wait_of(flow, inst) if flow else None
                if flow and wait and wait.recorded_by in member.roles_in(unit):
                    found.append((flow, inst))
        if not found:
            raise NothingWaiting(member.id)
        if len(found) > 1:
            raise SeveralWaiting(found)
        return found[0]

    @staticmethod
    def _settle(repo: Repository, flow: Flow, msg: StepMessage, disposition: dict[str, Any],
                name: str, now: datetime) -> None:
        repo.settle_step_message(msg.chat_id, msg.message_id)
        kind, payload = encode(SettleNotice(flow_id=flow.id, message_id=msg.message_id,
                                            text=msg.text, disposition=disposition, name=name))
        repo.enqueue(new_item(msg.member_id, msg.chat_id, kind, payload, now))

    # -- revising some parts of a fan-out --------------------------------------------

    def parts_of(self, member: Member, instance_id: str, step_no: int,
                 round_no: int | None) -> PartsChoice | None:
        """The parts a decision may send back, or None when it revises no fan-out."""
        with self.store.transaction(record_update=False) as repo:
            flow, inst = self._load(repo, member, instance_id)
            self._check_fresh(repo, inst, step_no, round_no)
            step = flow.step(step_no)
            if not step.is_decision or step.on_revise is None:
                return None
            back = flow.step(step.on_revise)
            known = inst.parts.get(back.no, {})
            if not back.fan_out or len(known) < 2:
                return None
            try:
                self.engines[flow.id].authorize(
                    inst, by=Actor(member.id, member.roles_in(inst.unit_id)), step_no=step_no)
            except DomainError as exc:
                raise Refused(exc) from exc
            # In the flow's order of roles (the Kasi before the Lurah), then in the order the
            # holders joined: the same buttons however the fan-out happened to be stored.
            order = {role.id: i for i, role in enumerate(flow.roles)}

            def rank(member_id: str) -> tuple[int, datetime, int, str]:
                holder = repo.member(member_id)
                held = [ms for ms in holder.roles if ms.unit == inst.unit_id] if holder else []
                first = min((order.get(ms.role, len(order)) for ms in held), default=len(order))
                since = min((ms.since for ms in held), default=datetime.max.replace(tzinfo=UTC))
                return (first, since, int(member_id) if member_id.isdigit() else 0, member_id)

            parts = [(m, self._name(repo, m)) for m in sorted(known, key=rank)]
        return PartsChoice(flow, inst, step_no, back.no, parts)

    def ask_parts_reason(self, cmd: AskPartsReason) -> None:
        """The decider chose the part(s) to send back: wait for the reason."""
        member, instance_id, step_no, round_no = (cmd.member, cmd.instance_id, cmd.step_no,
                                                  cmd.round)
        parts, now, chat_id, message_id = cmd.parts, cmd.now, cmd.chat_id, cmd.message_id
        with self.store.transaction() as repo:
            flow, inst = self._load(repo, member, instance_id)
            self._check_fresh(repo, inst, step_no, round_no)
            try:
                self.engines[flow.id].authorize(
                    inst, by=Actor(member.id, member.roles_in(inst.unit_id)), step_no=step_no)
            except DomainError as exc:
                raise Refused(exc) from exc
            active = inst.active(step_no)
            assert active is not None
            repo.set_pending_reason(PendingReason(member.id, inst.id, step_no, active.round,
                                                  now, chat_id, message_id, list(parts)))

    def parts_in_reason(self, member: Member, instance_id: str, step_no: int,
                        text: str) -> tuple[tuple[str, ...], str]:
        """"Bu Kasi, Pak Lurah: <reason>" names parts by their holders' names.

        Returns (parts, reason); ((), text) when the words before the colon name no part.
        """
        head, colon, reason = text.partition(":")
        if not colon or not head.strip():
            return (), text
        with self.store.transaction(record_update=False) as repo:
            flow, inst = self._load(repo, member, instance_id)
            step = flow.step(step_no) if flow.has_step(step_no) else None
            if step is None or step.on_revise is None:
                return (), text
            names = {m: self._name(repo, m) for m in inst.parts.get(step.on_revise, {})}
        chosen = []
        for piece in _SEPARATORS.split(head.strip()):
            match = _match_name(piece, names)
            if match is None:
                return (), text
            chosen.append(match)
        return tuple(dict.fromkeys(chosen)), reason.strip()

    # -- an event that re-runs a stretch of the flow -----------------------------------

    def _event_step(self, flow: Flow, step_no: int | None) -> Step:
        steps = [s for s in flow.steps if s.trigger is Trigger.EVENT]
        if step_no is not None:
            if not flow.has_step(step_no) or flow.step(step_no).trigger is not Trigger.EVENT:
                raise Refused(WrongState(f"step {step_no} is not an event step",
                                         "not_event_step", step=step_no))
            return flow.step(step_no)
        if not steps:
            raise Refused(WrongState(f"{flow.alias} has no event step", "no_event_step",
                                     alias=flow.alias))
        return steps[0]

    def check_trigger(self, member: Member, words: str, now: datetime) -> Planned:
        """``revisi PK 2026 mutasi …``: what would be triggered (nothing changes yet)."""
        with self.store.transaction(record_update=False) as repo:
            flow, inst, reason = self._named(repo, member, words, "revisi")
            step = self._event_step(flow, None)
            try:
                self.engines[flow.id].trigger(
                    inst, step.no, by=Actor(member.id, member.roles_in(inst.unit_id)), now=now,
                    holders=repo.holders(inst.unit_id), reason=reason)
            except DomainError as exc:
                raise Refused(exc) from exc
        return Planned(flow, inst, reason, step)

    def trigger(self, cmd: TriggerStep) -> Instance:
        """Start the event step (as `member`, or as the admin from the command line)."""
        member, instance_id, step_no, reason = (cmd.member, cmd.instance_id, cmd.step_no,
                                                cmd.reason)
        now, ack_to = cmd.now, cmd.ack_to
        with self.store.transaction() as repo:
            if member is None:
                inst_or_none = repo.instance(instance_id)
                if inst_or_none is None:
                    raise BadQuery(instance_id)
                inst, flow = inst_or_none, self.flows[inst_or_none.flow_id]
                step = self._event_step(flow, step_no)
                actor = Actor(ADMIN, frozenset({step.actor}))
            else:
                flow, inst = self._load(repo, member, instance_id)
                actor = Actor(member.id, member.roles_in(inst.unit_id))
            try:
                t = self.engines[flow.id].trigger(inst, step_no, by=actor, now=now,
                                                  holders=repo.holders(inst.unit_id),
                                                  reason=reason)
            except DomainError as exc:
                raise Refused(exc) from exc
            if member is not None:
                repo.enqueue(notice_item(member.id, member.chat_id, TriggeredAck(
                    flow_id=flow.id, year=inst.year, step_no=step_no, reply_to=ack_to), now))
            self._record(repo, flow, t, now)
        return t.instance

    def admin_trigger(self, cmd: AdminTrigger) -> Instance:
        """``sopbot instances trigger``."""
        with self.store.transaction(record_update=False) as repo:
            inst = self._admin_instance(repo, cmd.flow, cmd.year)
        return self.trigger(TriggerStep(None, inst.id, cmd.step_no, cmd.reason, cmd.now))

    # -- cancelling -------------------------------------------------------------------

    def check_cancel(self, member: Member, words: str) -> Planned:
        """``batalkan PK 2099 <alasan>``: what would be cancelled (nothing changes yet)."""
        with self.store.transaction(record_update=False) as repo:
            flow, inst, reason = self._named(repo, member, words, "batalkan")
        engine = self.engines[flow.id]
        if inst.status is not Status.ACTIVE:
            raise Refused(WrongState("not running", inst.status.value))
        if not engine.may_cancel(inst, Actor(member.id, member.roles_in(inst.unit_id))):
            raise Refused(DomainError("may not cancel", "not_canceller"))
        return Planned(flow, inst, reason)

    def cancel(self, cmd: Cancel) -> Instance:
        """Cancel the instance (as `member`, or as the admin from the command line)."""
        member, instance_id, reason, now, ack_to = (cmd.member, cmd.instance_id, cmd.reason,
                                                    cmd.now, cmd.ack_to)
        with self.store.transaction() as repo:
            if member is None:
                found = repo.instance(instance_id)
                if found is None:
                    raise BadQuery(instance_id)
                inst, flow = found, self.flows[found.flow_id]
                actor, admin = Actor(ADMIN, frozenset()), True
            else:
                flow, inst = self._load(repo, member, instance_id)
                actor, admin = Actor(member.id, member.roles_in(inst.unit_id)), False
            holders = repo.holders(inst.unit_id)
            try:
                t = self.engines[flow.id].cancel(inst, by=actor, now=now, reason=reason,
                                                 holders=holders, admin=admin)
            except DomainError as exc:
                raise Refused(exc) from exc
            assert t.disposition is not None
            open_messages = [(a.no, a.round) for a in inst.active_steps()]
            if inst.waiting is not None:  # its "Sudah kembali" button goes too
                open_messages.append((inst.waiting.after_step, 0))
            for step_no, round_no in open_messages:
                for msg in repo.step_messages(inst.id, step_no, round_no):
                    if not msg.settled:
                        self._settle(repo, flow, msg, t.disposition.to_dict(),
                                     self._name(repo, actor.member), now)
            if member is not None:
                repo.enqueue(notice_item(member.id, member.chat_id, CancelledAck(
                    flow_id=flow.id, year=inst.year, reply_to=ack_to), now))
            self._record(repo, flow, t, now)
        return t.instance

    def admin_cancel(self, cmd: AdminCancel) -> Instance:
        """``sopbot instances cancel``."""
        with self.store.transaction(record_update=False) as repo:
            inst = self._admin_instance(repo, cmd.flow, cmd.year)
        return self.cancel(Cancel(None, inst.id, cmd.reason, cmd.now))


def _match_name(piece: str, names: dict[str, str]) -> str | None:
    """The member whose name `piece` names: exactly, else the only name containing it."""
    key = " ".join(piece.casefold().split())
    if not key:
        return None
    exact = [m for m, n in names.items() if n.casefold() == key]
    if len(exact) == 1:
        return exact[0]
    partial = [m for m, n in names.items() if key in n.casefold()]
    return partial[0] if len(partial) == 1 else None
