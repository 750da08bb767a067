"""The workflow: start a flow, decide a step, ask for a revision reason, attach files.

Each use case is one transaction: the engine's transition, its disposition, the messages it
owes (the outbox) and the update's id are stored together or not at all.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from bot.engine.instance import (
    Action,
    Actor,
    DomainError,
    Instance,
    Status,
    Transition,
)
from bot.engine.model import Flow
from bot.ops import metrics
from bot.services.assignment import (
    acting_actor,
    acting_label,
    active_delegations,
    atasan_of,
    route_to_delegates,
)
from bot.services.base import ServiceBase
from bot.services.commands import (
    AskReason,
    Attach,
    Decide,
    Decision,
    DropPendingReason,
    Start,
)
from bot.services.errors import (
    AlreadyRunning,
    Refused,
    ServiceError,
    StaleStep,
    UnknownInstance,
)
from bot.services.membership import MembershipService, refreshed_member
from bot.services.notices import (
    AttachedAck,
    DecidedAck,
    PendingDroppedAck,
    ReasonAskedAck,
    SettleNotice,
    StartedAck,
    encode,
)
from bot.services.notifications import UnitSnapshot, notices
from bot.services.outbox import new_item, notice_item
from bot.services.oversight import split_target_date
from bot.services.results import Decided, ReasonAsked, Started, TelegramUser
from bot.services.undo_marks import undo_drop_items
from bot.storage.protocol import Repository
from bot.storage.records import Member, OutboxItem, PendingReason, StepMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pressed:
    """What a step's button did (:meth:`WorkflowService.decide_pressed`): `member` None when
    the user is no official; else the decision taken, or the refusal to tell them."""

    member: Member | None
    decided: Decided | None = None
    error: ServiceError | None = None
    retried: bool = False  #: their chat was undeliverable: what they missed is owed again


class EarlyDelivery(Protocol):
    """Who delivers a decision's items, told of them before they are stored (see
    :meth:`WorkflowService.decide_pressed`)."""

    def prepare(self, queued: list[tuple[OutboxItem, Member | None]]) -> None:
        """The decision's items (inside its transaction, not yet durable): prepare their
        delivery, but let nothing out before :meth:`stored` says so."""

    def stored(self, ok: bool) -> None:
        """After the transaction: its writes are durable (`ok`), or were never made (the
        prepared items do not exist: drop them unsent)."""


class _People(Mapping[str, Member]):
    """The officials by id, read from the repository as notifications ask for them (a
    transition's notices name a few; parsing every official per decision would not scale)."""

    def __init__(self, repo: Repository) -> None:
        self._repo = repo
        self._read: dict[str, Member | None] = {}

    def __getitem__(self, member_id: str) -> Member:
        if member_id not in self._read:
            self._read[member_id] = self._repo.member(member_id)
        member = self._read[member_id]
        if member is None:
            raise KeyError(member_id)
        return member

    def __iter__(self) -> Iterator[str]:
        return iter([m.id for m in self._repo.members()])

    def __len__(self) -> int:
        return len(self._repo.members())


class WorkflowService(MembershipService, ServiceBase):
    """Starting and deciding: everything that changes an instance."""

    def update_seen(self, update_id: int) -> bool:
        """Whether the effects of a Telegram update are already stored."""
        with self.store.transaction() as repo:
            return repo.update_seen(update_id)

    def newest_update_seen(self) -> int | None:
        """The newest Telegram update whose effects are stored (None: none is)."""
        with self.store.transaction(record_update=False) as repo:
            return repo.newest_update()

    def settle_archives(self) -> int:
        """Finish archive moves a crash interrupted (at start-up)."""
        with self.store.transaction(record_update=False) as repo:
            return repo.settle_archives()

    # -- starting --------------------------------------------------------------------

    def start(self, cmd: Start) -> Started:
        """``mulai PK 2025``: start the flow (per official: one instance per official).

        ``mulai PK 2026 DPA 15-01-2026`` also gives the date the flow's target counts from."""
        member, words, now, ack_to = cmd.member, cmd.words, cmd.now, cmd.ack_to
        words, basis, target_from = split_target_date(list(self.flows.values()), words)
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
            repo.enqueue(notice_item(member.id, member.chat_id, StartedAck(
                flow_id=flow.id, year=year, count=len(pairs), skipped=tuple(skipped),
                # the starter holds step 1 themself: "Langkah 1 menunggu Ibu" (issue 12)
                starter_acts=flow.first_step.actor in actor.roles,
                salutation=member.salutation,
                # the started message asks for the date the flow's target counts from
                target_asked=flow.target is not None and basis != flow.target.basis,
                reply_to=ack_to), now))
            started = []
            for subject, atasan in pairs:
                try:
                    t = engine.start(instance_id=self._new_id(repo), year=year, by=actor,
                                     now=now, holders=holders, subject=subject, atasan=atasan)
                except DomainError as exc:
                    raise Refused(exc) from exc
                if flow.target is not None and basis == flow.target.basis:
                    t.instance.target_from = target_from
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
            for member_id in holders.get(level, []):
                member = repo.member(member_id)
                atasan = atasan_of(member, member_id, flow.unit.id, holders, [flow], role=level)
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

    def decide(self, cmd: Decide) -> Decided:
        """Approve/complete or revise a step (see :class:`~bot.services.commands.Decide`).

        In the same write: the disposition, the edits that settle the step's messages
        (`origin` is the message whose button was pressed, in case it is not recorded yet),
        a reply to the official's message `ack_to` when given, and the notifications.
        """
        with self.store.transaction() as repo:
            return self._decide(repo, cmd)

    def decide_pressed(self, user: TelegramUser, command: Callable[[Member], Decide],
                       early: EarlyDelivery | None = None) -> Pressed:
        """A step's button: the official found (and refreshed, as :meth:`member` does) and
        the decision ``command(member)`` taken, in one transaction (one unit of work per
        update). A refusal comes back as `Pressed.error`, with the official to tell.

        `early`, if given, is handed the decision's items inside the transaction, so that
        their delivery is prepared while the store makes the decision durable, and told
        after it whether the write succeeded (only then may anything go out)."""
        found: list[Member] = []
        prepared = False
        try:
            with self.store.transaction() as repo:
                member, retried = refreshed_member(repo, user)
                if member is None:
                    return Pressed(None)
                found.append(member)
                decided = self._decide(repo, command(member))
                if early is not None and decided.queued and not retried:
                    early.prepare(decided.queued)
                    prepared = True
                pressed = Pressed(member, decided, retried=retried)
            # The transaction ended without an error: its writes are durable.
            if prepared:
                prepared = False
                assert early is not None
                early.stored(True)
            return pressed
        except ServiceError as exc:
            if not found:
                raise
            return Pressed(found[0], error=exc)
        finally:
            if prepared:  # the transaction failed after its items were prepared
                assert early is not None
                early.stored(False)

    def _decide(self, repo: Repository, cmd: Decide) -> Decided:
        member, instance_id, step_no, round_no = (cmd.member, cmd.instance_id, cmd.step_no,
                                                  cmd.round)
        now, note, attachments, origin, ack_to = (cmd.now, cmd.note, cmd.attachments,
                                                  cmd.origin, cmd.ack_to)
        flow, inst = self._load(repo, member, instance_id)
        self._check_fresh(repo, inst, step_no, round_no)
        engine = self.engines[flow.id]
        actor = acting_actor(member, inst.unit_id, flow.step(step_no).actor,
                             repo.delegations(), now)
        round_now = inst.active(step_no).round  # type: ignore[union-attr]
        try:
            if cmd.decision is Decision.REVISE:
                t = engine.revise(inst, by=actor, now=now, holders=repo.holders(inst.unit_id),
                                  reason=note or "", step_no=step_no,
                                  attachments=attachments, parts=cmd.parts)
            else:
                t = engine.advance(inst, by=actor, now=now,
                                   holders=repo.holders(inst.unit_id), step_no=step_no,
                                   note=note, attachments=attachments)
        except DomainError as exc:
            raise Refused(exc) from exc
        assert t.disposition is not None
        # The edits of messages already sent (the previous decision's undo button, the
        # pressed step) go out after the next official's notification (see _record).
        edits = undo_drop_items(repo, flow, inst, now)  # the previous decision is final
        copies = [m for m in repo.step_messages(inst.id, step_no, round_now)
                  if not m.settled]  # a fan-out part already settled keeps its line
        still_open = t.instance.active(step_no)
        if still_open is not None and still_open.round == round_now:
            copies = [m for m in copies if m.member_id == member.id]  # a fan-out part
        if origin is not None and not any(m.chat_id == origin.chat_id
                                           and m.message_id == origin.message_id
                                           for m in copies):
            copies.append(origin)
        if origin is not None and repo.step_message(origin.chat_id, origin.message_id) is None:
            # Pressed before the sender recorded the message it sent: recorded here, settled,
            # so that the sender's late record does not make it an open copy to edit again.
            repo.add_step_message(replace(origin, settled=True))
        for msg in copies:
            undo = bool(t.instance.undo) and msg.member_id == member.id
            # (its text stays while the decision may be taken back: the message is edited again)
            repo.settle_step_message(msg.chat_id, msg.message_id, keep_text=undo)
            kind, payload = encode(SettleNotice(
                flow_id=flow.id, message_id=msg.message_id, text=msg.text,
                disposition=t.disposition.to_dict(),
                name=acting_label(flow, t.disposition, member.name), undo=undo))
            edits.append(new_item(msg.member_id, msg.chat_id, kind, payload, now))
        if ack_to is not None:
            edits.append(notice_item(member.id, member.chat_id, DecidedAck(
                flow_id=flow.id, step_no=step_no, action=t.disposition.action.value,
                completed=t.instance.status is Status.COMPLETED, reply_to=ack_to), now))
        repo.clear_pending_reason(member.id)
        queued = self._record(repo, flow, t, now, edits=edits)
        people: dict[str, Member | None] = {member.id: member}
        for item in queued:
            if item.member_id not in people:
                people[item.member_id] = repo.member(item.member_id)
        return Decided(flow, t.instance, t.disposition, copies,
                   completed=t.instance.status is Status.COMPLETED,
                   queued=[(item, people[item.member_id]) for item in queued])

    def ask_reason(self, cmd: AskReason) -> ReasonAsked:
        """The official pressed Revisi: check they may, then wait for their reason."""
        member, instance_id, step_no, round_no = (cmd.member, cmd.instance_id, cmd.step_no,
                                                  cmd.round)
        now, chat_id, message_id, ack_to = cmd.now, cmd.chat_id, cmd.message_id, cmd.ack_to
        with self.store.transaction() as repo:
            flow, inst = self._load(repo, member, instance_id)
            self._check_fresh(repo, inst, step_no, round_no)
            engine = self.engines[flow.id]
            step = flow.step(step_no)
            if not step.is_decision:
                raise Refused(DomainError(f"step {step_no} is a task, not a decision",
                                          "task_not_decision", step=step_no))
            try:
                engine.authorize(inst, by=acting_actor(member, inst.unit_id, step.actor,
                                                       repo.delegations(), now),
                                 step_no=step_no)
            except DomainError as exc:
                raise Refused(exc) from exc
            active = inst.active(step_no)
            assert active is not None
            repo.set_pending_reason(PendingReason(member.id, inst.id, step_no, active.round,
                                                  now, chat_id, message_id))
            repo.enqueue(notice_item(member.id, member.chat_id, ReasonAskedAck(reply_to=ack_to),
                                     now))
        return ReasonAsked(flow, inst, step_no)

    def pending_reason(self, member: Member) -> PendingReason | None:
        with self.store.transaction() as repo:
            return repo.pending_reason(member.id)

    def drop_pending_reason(self, cmd: DropPendingReason) -> bool:
        """``/batal``: stop waiting for a revision reason (True if one was awaited)."""
        member, now, ack_to = cmd.member, cmd.now, cmd.ack_to
        with self.store.transaction() as repo:
            dropped = repo.clear_pending_reason(member.id)
            if dropped:
                repo.enqueue(notice_item(member.id, member.chat_id,
                                         PendingDroppedAck(reply_to=ack_to), now))
            return dropped

    def attach(self, cmd: Attach) -> Flow:
        """Attach documents to the step an official is working on."""
        member, instance_id, step_no, round_no = (cmd.member, cmd.instance_id, cmd.step_no,
                                                  cmd.round)
        attachments, now, note, ack_to = cmd.attachments, cmd.now, cmd.note, cmd.ack_to
        with self.store.transaction() as repo:
            flow, inst = self._load(repo, member, instance_id)
            self._check_fresh(repo, inst, step_no, round_no)
            try:
                t = self.engines[flow.id].attach(
                    inst, by=Actor(member.id, member.roles_in(inst.unit_id)), now=now,
                    attachments=attachments, step_no=step_no, note=note)
            except DomainError as exc:
                raise Refused(exc) from exc
            repo.enqueue(notice_item(member.id, member.chat_id, AttachedAck(reply_to=ack_to),
                                     now))
            self._record(repo, flow, t, now)
        return flow

    def step_message(self, chat_id: int, message_id: int) -> StepMessage | None:
        with self.store.transaction() as repo:
            return repo.step_message(chat_id, message_id)

    # -- recording a transition and the messages it owes ------------------------------

    def _record(self, repo: Repository, flow: Flow, t: Transition, now: datetime, *,
                edits: Sequence[OutboxItem] = ()) -> list[OutboxItem]:
        """Store a transition and the notices it owes; returns the items queued, in order.

        `edits` (what the decision owes the presser: the edit of the pressed message, an
        acknowledgement) are queued after the notices to other chats, so that the next
        official is not kept waiting behind them (the sender sends in the order owed, and
        one chat takes a message a second); within each chat the order stays edits first.
        """
        # Plt/Plh: steps of a delegated role wait on the delegate (assignment.py's rule).
        t = route_to_delegates(flow, t, active_delegations(repo.delegations(),
                                                           t.instance.unit_id, now),
                               repo.holders(t.instance.unit_id))
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
        history = tuple(d.member for d in repo.dispositions(t.instance.id, t.instance.year))
        snapshot = UnitSnapshot(repo.holders(t.instance.unit_id), _People(repo), history)
        owed_items = []
        for owed in notices(flow, t, snapshot):
            kind, payload = encode(owed.notice)
            owed_items.append(new_item(owed.member_id, owed.chat_id, kind, payload, now))
        edited = {item.chat_id for item in edits}
        first = [i for i in owed_items if i.chat_id not in edited]
        for item in first if edits else ():
            # A decision's next officials: marked in flight already, so that the sender
            # sends right after this write, without a write of its own first. A crash
            # before it goes out makes its resend "uncertain" (it may have been delivered),
            # which is the safe side.
            item.inflight_at = now
        queued = first + list(edits) + [i for i in owed_items if i.chat_id in edited]
        for item in queued:
            repo.enqueue(item)
        if not t.instance.active_steps() and not t.instance.is_open:
            # Finished: out of the working set, into its year's archive.
            repo.archive_instance(t.instance)
        return queued
