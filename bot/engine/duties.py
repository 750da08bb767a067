"""One official's share of a recurring duty, stage by stage (DPRD "Pengumpulan Data Kinerja").

A cycle (:class:`~bot.engine.model.Cycle`) repeats some SOP steps every quarter, semester or
year. For each official who owes an occurrence (Semester I 2026 of one Kasubag) a
:class:`Duty` walks through the cycle's *stages*:

* a step of the subject role (pegawai) is the official's own act (measure, report, follow up);
* a step of the atasan role is the direct superior's (the semester evaluation, a decision:
  approve, or send back to the official's stage it names in ``on_revise``);
* a step of the cycle's ``collector`` (Kasubag TU) is the official handing the document to the
  collector; it merges into the official's preceding stage when there is one (the triwulan
  work is "done" by sending its data), and the collector learns of it from the recap.

Pure: never reads the clock and does no I/O. The chat layer stores :meth:`Duty.to_dict`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.engine.instance import NotAllowed, ReasonRequired, WrongState
from bot.engine.model import Cycle, Flow, Relation, Step

__all__ = ["Duty", "DutyAct", "DutyEngine", "DutyStage", "Who", "duty_stages",
           "recap_roles"]


class Who(enum.StrEnum):
    """Who acts on a stage of a duty."""

    OFFICIAL = "official"  # the official who owes the duty (subject / the role's holder)
    ATASAN = "atasan"  # the official's direct superior


@dataclass(frozen=True)
class DutyStage:
    """One stage of a duty: the SOP step(s) it records and who acts."""

    step_no: int
    who: Who
    is_decision: bool = False
    on_revise: int | None = None  # a decision's stage to go back to
    hands_to_collector: bool = False  # completing it delivers to the cycle's collector
    steps: tuple[int, ...] = ()  # every SOP step this stage stands for


def duty_stages(flow: Flow, cycle: Cycle) -> tuple[DutyStage, ...]:
    """The stages of `cycle`, in order (see the module docstring for the rules)."""
    stages: list[DutyStage] = []
    for no in cycle.steps:
        step = flow.step(no)
        if cycle.collector is not None and step.actor == cycle.collector:
            if stages and stages[-1].who is Who.OFFICIAL and not stages[-1].is_decision:
                last = stages[-1]
                stages[-1] = DutyStage(last.step_no, last.who, False, None, True,
                                       (*last.steps, no))
            else:
                stages.append(DutyStage(no, Who.OFFICIAL, False, None, True, (no,)))
            continue
        who = Who.ATASAN if _relation(flow, step) is Relation.ATASAN else Who.OFFICIAL
        stages.append(DutyStage(no, who, step.is_decision, step.on_revise, False, (no,)))
    return tuple(stages)


def recap_roles(cycle: Cycle) -> tuple[str, ...]:
    """Who gets the recap of who has and has not done it: the atasan, and the collector."""
    return ("atasan", cycle.collector) if cycle.collector else ("atasan",)


def _relation(flow: Flow, step: Step) -> Relation | None:
    return flow.role(step.actor).relation


@dataclass(frozen=True)
class DutyAct:
    """One recorded act on a duty (the duty's own small disposition trail)."""

    step_no: int
    action: str  # "complete" | "approve" | "revise"
    by: str
    at: datetime
    note: str | None = None
    attachments: tuple[str, ...] = ()


@dataclass
class Duty:
    """One official's share of one occurrence (``occurrence`` is its key, e.g.
    ``"semester-2026-1"``); ``stage`` is the step waiting, None once done."""

    flow_id: str
    cycle_id: str
    occurrence: str
    member: str
    atasan: str | None
    stage: int | None
    history: list[DutyAct] = field(default_factory=list)
    done_at: datetime | None = None

    @property
    def is_done(self) -> bool:
        """Whether every stage is done."""
        return self.stage is None

    @property
    def evidence(self) -> tuple[str, ...]:
        """Every document attached on the way (kept across revisions)."""
        return tuple(a for act in self.history for a in act.attachments)

    def to_dict(self) -> dict[str, Any]:
        """The stored form (JSON-friendly)."""
        return {"flow_id": self.flow_id, "cycle_id": self.cycle_id,
                "occurrence": self.occurrence, "member": self.member, "atasan": self.atasan,
                "stage": self.stage, "done_at": self.done_at.isoformat() if self.done_at
                else None,
                "history": [{"step_no": a.step_no, "action": a.action, "by": a.by,
                             "at": a.at.isoformat(), "note": a.note,
                             "attachments": list(a.attachments)} for a in self.history]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Duty:
        """Rebuild a duty from :meth:`to_dict` output."""
        return cls(data["flow_id"], data["cycle_id"], data["occurrence"], data["member"],
                   data.get("atasan"), data.get("stage"),
                   [DutyAct(int(a["step_no"]), a["action"], a["by"],
                            datetime.fromisoformat(a["at"]), a.get("note"),
                            tuple(a.get("attachments") or ())) for a in data["history"]],
                   datetime.fromisoformat(data["done_at"]) if data.get("done_at") else None)


class DutyEngine:
    """Moves the duties of one cycle of one flow through their stages."""

    def __init__(self, flow: Flow, cycle_id: str) -> None:
        matches = [c for c in flow.cycles if c.id == cycle_id]
        if not matches:
            raise KeyError(cycle_id)
        self.flow = flow
        self.cycle = matches[0]
        self.stages = duty_stages(flow, self.cycle)
        self._index = {s.step_no: i for i, s in enumerate(self.stages)}

    def open(self, occurrence: str, member: str, atasan: str | None) -> Duty:
        """The duty of `member` for `occurrence`, at its first stage."""
        return Duty(self.flow.id, self.cycle.id, occurrence, member, atasan,
                    self.stages[0].step_no)

    def stage(self, duty: Duty) -> DutyStage | None:
        """The stage waiting (None when the duty is done)."""
        return None if duty.stage is None else self.stages[self._index[duty.stage]]

    def who_acts(self, duty: Duty) -> str | None:
        """The member who must act now (None when done, or the atasan is unknown)."""
        stage = self.stage(duty)
        if stage is None:
            return None
        return duty.member if stage.who is Who.OFFICIAL else duty.atasan

    def act(self, duty: Duty, *, by: str, now: datetime, revise: bool = False,
            note: str | None = None, attachments: Sequence[str] = ()) -> Duty:
        """Complete the waiting stage (or, at a decision, approve it or send it back).

        Returns the new duty; raises NotAllowed for anyone but the stage's actor, WrongState
        when the duty is done, ReasonRequired for a revision without a reason.
        """
        stage = self.stage(duty)
        if stage is None:
            raise WrongState("this duty is already done", "duty_done")
        if by != self.who_acts(duty):
            raise NotAllowed("this stage of the duty is someone else's", "not_duty_actor",
                             step=stage.step_no)
        note = (note or "").strip() or None
        if revise:
            if not stage.is_decision or stage.on_revise not in self._index:
                raise WrongState(f"step {stage.step_no} cannot be sent back",
                                 "task_not_decision", step=stage.step_no)
            if not note:
                raise ReasonRequired("a revision needs a reason", "revise_reason")
        action = "revise" if revise else "approve" if stage.is_decision else "complete"
        history = [*duty.history, DutyAct(stage.step_no, action, by, now, note,
                                          tuple(attachments))]
        if revise:
            nxt: int | None = stage.on_revise
        else:
            i = self._index[stage.step_no] + 1
            nxt = self.stages[i].step_no if i < len(self.stages) else None
        return Duty(duty.flow_id, duty.cycle_id, duty.occurrence, duty.member, duty.atasan,
                    nxt, history, now if nxt is None else None)
