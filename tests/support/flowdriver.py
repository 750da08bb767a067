"""Drive an instance through a flow the way a typical office would, for golden-path tests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.engine.instance import Actor, Engine, Instance, Status, StepActivated, Transition
from bot.engine.model import Flow


@dataclass
class Office:
    """Who holds which role: `n` officials per role (fan-out roles get several)."""

    flow: Flow
    per_role: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.holders = {
            r.id: [f"{r.id}-{i}" for i in range(1, self.per_role.get(r.id, 1) + 1)]
            for r in self.flow.roles
        }

    def actor(self, member: str) -> Actor:
        roles = {role for role, members in self.holders.items() if member in members}
        return Actor(member, frozenset(roles))

    def anyone_in(self, role: str) -> Actor:
        return self.actor(self.holders[role][0])


def run_golden_path(
    flow: Flow,
    start: datetime,
    *,
    revise_once_at: Iterable[int] = (),
    per_role: dict[str, int] | None = None,
    subject: str | None = None,
    atasan: str | None = None,
    step_time: timedelta = timedelta(minutes=5),
) -> tuple[list[int], Instance, list[Transition]]:
    """Run a whole instance; return the order in which steps became active.

    Each decision in `revise_once_at` is sent back once (with a reason) and approved the
    second time. For a fan-out step every holder completes their part.
    """
    office = Office(flow, per_role or {})
    engine = Engine(flow)
    now = start
    starter = office.anyone_in(flow.starters[0])
    t = engine.start(instance_id="i1", year=2025, by=starter, now=now, holders=office.holders,
                     subject=subject, atasan=atasan)
    inst, order, log = t.instance, [inst_step(t.instance)], [t]
    pending_revisions = set(revise_once_at)
    guard = 0
    while inst.status is Status.ACTIVE:
        guard += 1
        assert guard < 500, "flow does not terminate"
        now += step_time
        if inst.is_waiting:  # outside the office: its office role records the return
            assert inst.waiting is not None
            wait = flow.step(inst.waiting.after_step).wait
            assert wait is not None
            t = engine.returned(inst, by=office.anyone_in(wait.recorded_by), now=now,
                                holders=office.holders)
            log.append(t)
            inst = t.instance
            order.extend(e.step_no for e in t.events if isinstance(e, StepActivated))
            continue
        active = inst.current
        assert active is not None
        step = flow.step(active.no)
        if active.anyone:
            member = (inst.bindings.get(step.actor) or office.holders[step.actor][0])
        else:
            member = active.pending[0]
        who = office.actor(member)
        if inst.bindings.get(step.actor):
            who = Actor(member, frozenset({step.actor}))
        if step.is_decision and step.no in pending_revisions:
            pending_revisions.discard(step.no)
            t = engine.revise(inst, by=who, now=now, holders=office.holders,
                              reason=f"perbaiki langkah {step.on_revise}")
        else:
            t = engine.advance(inst, by=who, now=now, holders=office.holders)
        log.append(t)
        inst = t.instance
        order.extend(e.step_no for e in t.events
                     if isinstance(e, StepActivated) and not e.by_event)
    assert not pending_revisions, f"never reached decisions {pending_revisions}"
    return order, inst, log


def inst_step(inst: Instance) -> int:
    assert inst.current is not None
    return inst.current.no


#: Per flow: the steps to revise once, holders per fan-out role, the expected order of steps.
GOLDEN = {
    "pk-kesbangpol-jateng": (
        [9], {"bidang": 3},
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13],
    ),
    "pk-kec-neglasari": (
        [8], {"pejabat_unit_kerja": 3},
        [1, 2, 3, 4, 5, 6, 7, 8, 7, 8, 9],
    ),
    "pk-inspektorat-nganjuk": (
        [5], {"pejabat_eselon": 2},
        [1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    ),
    "pengumpulan-data-kinerja-dprd-nganjuk": (
        [2], {},
        [1, 2, 1, 2, 3, 4, 5, 6, 7],  # 8-14 are the recurring duties (cycles) only
    ),
    "pk-kec-sooko": (
        [7], {},
        [1, 2, 3, 4, 5, 6, 7, 6, 7, 8],
    ),
}
