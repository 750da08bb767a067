"""Withdrawing a decision (tarik kembali, issue 12), in one unit of work.

The official who decided may take the decision back for a while (SOPBOT_UNDO_MINUTES), as
long as nobody has acted on the instance since; the engine checks all of it. The flow returns
to the step, its official gets the step message again, the next officials' notifications are
edited to say the decision was withdrawn and by whom, and the trail keeps both acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.engine.instance import Action, Actor, DecisionWithdrawn, DomainError, Event, Instance
from bot.engine.model import Flow
from bot.services.commands import Withdraw
from bot.services.errors import Refused, StaleStep
from bot.services.notices import SettleNotice, encode
from bot.services.outbox import new_item
from bot.services.workflow import WorkflowService
from bot.storage.protocol import Repository
from bot.storage.records import Member


@dataclass(frozen=True)
class Withdrawn:
    """A withdrawn decision: the flow is back at `step_no`; `told` next officials' copies edited."""

    flow: Flow
    instance: Instance
    step_no: int
    told: int


class ConversationService(WorkflowService):
    """Use cases of the conversation beyond deciding: withdrawing a decision."""

    def withdraw(self, cmd: Withdraw) -> Withdrawn:
        """Take back `member`'s decision on step `step_no` (round `round_no`)."""
        member, instance_id, step_no, round_no = (cmd.member, cmd.instance_id, cmd.step_no,
                                                  cmd.round)
        now, window = cmd.now, cmd.window
        with self.store.transaction() as repo:
            flow, inst = self._load(repo, member, instance_id)
            undo = inst.undo or {}
            if (int(undo.get("step_no", -1)), int(undo.get("round", -1))) != (step_no,
                                                                              round_no):
                raise Refused(DomainError("there is no decision to withdraw (something has "
                                          "happened since)", "nothing_to_withdraw"))
            try:
                t = self.engines[flow.id].withdraw(
                    inst, by=Actor(member.id, member.roles_in(inst.unit_id)), now=now,
                    window=window)
            except DomainError as exc:
                raise Refused(exc) from exc
            assert t.disposition is not None
            told = self._settle_withdrawn(repo, flow, inst, t.disposition.to_dict(), member,
                                          t.events, now)
            self._record(repo, flow, t, now)
        return Withdrawn(flow, t.instance, step_no, told)

    def step_details(self, member: Member, instance_id: str, step_no: int,
                     round_no: int) -> tuple[Flow, dict[str, Any]]:
        """What "ℹ️ Rincian" shows of an active step: its notification's fields, in full."""
        with self.store.transaction(record_update=False) as repo:
            flow, inst = self._load(repo, member, instance_id)
            active = inst.active(step_no)
            if active is None or active.round != round_no:
                raise StaleStep(inst, step_no, None)
            before = [d for d in repo.dispositions(inst.id, inst.year)
                      if d.at <= active.started_at and d.action is not Action.ATTACH]
            last = before[-1] if before else None
            sender = repo.member(last.member) if last else None
            subject = repo.member(inst.subject) if inst.subject else None
        return flow, {
            "instance_id": inst.id, "flow_id": flow.id, "year": inst.year, "step_no": step_no,
            "round": round_no, "note": active.note,
            "deadline": active.deadline.isoformat() if active.deadline else None,
            "revision": bool(last and last.action is Action.REVISE),
            "from_name": sender.name if sender else None,
            "subject": subject.name if subject else None,
            "by_event": active in inst.side}

    @staticmethod
    def _settle_withdrawn(repo: Repository, flow: Flow, before: Instance,
                          disposition: dict[str, Any], member: Member, events: tuple[Event, ...],
                          now: datetime) -> int:
        """Edit the messages of the steps the decision had activated, and the decider's
        decided message (its Tarik kembali button goes)."""
        told = 0
        targets: list[tuple[int, int]] = []
        for event in events:
            if isinstance(event, DecisionWithdrawn):
                for no in event.withdrawn:
                    active = before.active(no)
                    if active is not None:
                        targets.append((no, active.round))
        undo = before.undo or {}
        own = [m for m in repo.step_messages(before.id, int(undo["step_no"]), int(undo["round"]))
               if m.member_id == member.id]
        others = [m for no, rnd in targets for m in repo.step_messages(before.id, no, rnd)
                  if not m.settled]
        for msg in [*others, *own]:
            repo.settle_step_message(msg.chat_id, msg.message_id)
            kind, payload = encode(SettleNotice(
                flow_id=flow.id, message_id=msg.message_id, text=msg.text,
                disposition=disposition, name=member.name))
            repo.enqueue(new_item(msg.member_id, msg.chat_id, kind, payload, now))
            told += msg in others
        return told
