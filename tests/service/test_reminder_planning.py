"""Reminder planning is incremental (issue 15): a change re-plans only what it touched, and
the incremental plan is always the plan made from scratch."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from bot.services.commands import Decide, Decision, Start
from bot.services.errors import Refused
from bot.services.reminders import Reminders
from tests.support.services import World

DPRD = "setwan-nganjuk"


def office(world: World) -> None:
    """Neglasari's Camat and Kasubag Perenkeu, and three DPRD officials owing duties."""
    world.join("Pak Camat", "camat")
    world.join("Bu Perenkeu", "kasubag_perenkeu")
    world.join("Bu Kasubag", "kasubag", DPRD)
    world.join("Pak Staf", "staf", DPRD)
    world.join("Bu Staf", "staf", DPRD)


def test_a_press_replans_its_instance_and_nothing_else(world: World) -> None:
    office(world)
    camat = world.member("Pak Camat")
    first = world.services.start(Start(camat, "PK 2026", world.now)).instances[0]
    world.services.start(Start(camat, "PK 2025", world.now))
    reminders = Reminders(world.services)
    planned = reminders.plan(world.now)
    made = Counter(reminders.planner.replanned)
    assert made["step"] == 2 and made["share"] > 0 and made["recap"] > 0
    assert reminders.plan(world.now) == planned  # nothing changed: nothing re-planned
    assert reminders.planner.replanned == made
    world.services.decide(Decide(world.member("Pak Camat"), first.id, 1, None,
                                 Decision.ADVANCE, world.now))
    after = reminders.plan(world.now)
    assert reminders.planner.replanned - made == {"step": 1}  # that instance only
    assert after == Reminders(world.services).plan(world.now)  # = the plan from scratch
    assert {p.payload["step_no"] for p in after if p.payload.get("instance_id") == first.id} \
        == {2}
    # firing a reminder re-checks it; it re-plans nothing
    made = Counter(reminders.planner.replanned)
    point = after[0]
    assert reminders.fire_many([point.id], point.at) == [point.id]
    assert reminders.planner.replanned == made
    assert point.id not in {p.id for p in reminders.plan(point.at)}


def test_a_duty_marked_done_replans_that_share_only(world: World) -> None:
    office(world)
    reminders = Reminders(world.services)
    world.now = world.now.replace(month=4, day=8, hour=7, minute=30)  # Triwulan I's round
    plan = reminders.plan(world.now)
    made = Counter(reminders.planner.replanned)
    staf = world.member("Pak Staf")
    (share,) = {p.payload["task_id"] for p in plan if staf.id in p.recipients
                and p.payload.get("task_id") and p.payload["occurrence"] == "triwulan-2026-1"}
    reminders.mark_done(staf, share, world.now)
    after = reminders.plan(world.now)
    assert reminders.planner.replanned - made == {"share": 1}
    assert after == Reminders(world.services).plan(world.now)
    assert share not in {p.payload.get("task_id") for p in after}


def test_a_reply_to_a_digest_of_several_duties_decides_only_when_one_is_owed(
        world: World) -> None:
    office(world)
    reminders = Reminders(world.services)
    world.now = world.now.replace(month=7, day=7, hour=7, minute=30)  # Triwulan II, Semester I
    staf = world.member("Pak Staf")
    tasks = sorted({p.payload["task_id"] for p in reminders.plan(world.now)
                    if staf.id in p.recipients and p.payload.get("task_id")
                    and p.payload["occurrence"] in ("triwulan-2026-2", "semester-2026-1")})
    assert len(tasks) == 2
    both = "+".join(tasks)
    with pytest.raises(Refused) as refused:
        reminders.mark_done(staf, both, world.now)
    assert refused.value.error.code == "duty_ambiguous"
    reminders.mark_done(staf, tasks[0], world.now)  # its button
    done = reminders.mark_done(staf, both, world.now + timedelta(minutes=1))  # then a reply
    assert done.id == tasks[1]


def test_no_recap_of_a_period_that_nobody_owes(world: World) -> None:
    """The Kasubag TU collects the officials' reports; of a period that ended before any of
    them joined (nobody owes it) she gets no "reported: - / not yet: -" recap."""
    world.join("Bu TU", "kasubag_tu", DPRD)
    reminders = Reminders(world.services)
    assert not [p for p in reminders.plan(world.now) if p.payload.get("kind") == "recap"]
    world.join("Pak Staf", "staf", DPRD)  # he owes the periods from now on: recapped then
    recaps = [p for p in reminders.plan(world.now, horizon=timedelta(days=200))
              if p.payload.get("kind") == "recap"]
    assert recaps and all(p.payload["reports"] for p in recaps)
    assert all(p.at > world.now for p in recaps)


def test_a_steps_points_share_what_they_have_in_common(world: World) -> None:
    """The plan of 1,000 running instances holds 21,000 points: what the points of one step
    have in common (who is waited on, the escalation's recipients and late names, the
    step's part of the payload) is one object for them all, not one a point."""
    office(world)
    camat = world.member("Pak Camat")
    first = world.services.start(Start(camat, "PK 2026", world.now)).instances[0]
    world.services.decide(Decide(camat, first.id, 1, None, Decision.ADVANCE, world.now))
    reminders = Reminders(world.services)
    plan = [p for p in reminders.plan(world.now + timedelta(days=30))
            if p.payload.get("instance_id") == first.id]
    own = [p for p in plan if p.kind.value != "escalate"]
    escalations = [p for p in plan if p.kind.value == "escalate"]
    assert len(own) > 3 and len(escalations) > 1
    assert len({id(p.recipients) for p in own}) == 1 and len({id(p.parts[0]) for p in own}) == 1
    assert len({id(p.recipients) for p in escalations}) == 1
    assert len({id(p.parts[1]) for p in escalations}) == 1  # {"late": [...]}
    assert len({id(p.series) for p in escalations}) == 1
    assert all(p.payload["late"] == ["Bu Perenkeu"] for p in escalations)
    assert escalations[0].recipients == (camat.id,)
    assert len({p.payload["n"] for p in escalations}) == len(escalations)  # each its own
