"""Reminders due, computed from the stored state and fired into the outbox once."""

from __future__ import annotations

from datetime import timedelta

from bot.services.commands import Decide, Decision, Start
from bot.services.reminders import Reminders
from tests.support.services import World


def test_reminders_of_a_step_fall_due_and_go_out_once(world: World) -> None:
    world.join("Pak Camat", "camat")
    world.join("Bu Perenkeu", "kasubag_perenkeu")
    inst = world.services.start(Start(world.member("Pak Camat"), "PK 2026", world.now)).instances[0]
    reminders = Reminders(world.services)
    plan = [p for p in reminders.plan(world.now) if p.payload.get("instance_id") == inst.id]
    assert plan, "a 10-minute step has reminders before and at its deadline"
    first = plan[0]
    assert first.recipients == (world.people["Pak Camat"].id,)
    assert not reminders.fire(first.id, world.now)  # not due yet
    later = first.at + timedelta(seconds=1)
    assert reminders.fire(first.id, later)
    assert not reminders.fire(first.id, later)  # sent once
    [sent] = world.outbox("Pak Camat", "reminder")
    assert sent.payload["step_no"] == 1 and sent.payload["owner"] == "Pak Camat"
    assert first.id not in {p.id for p in reminders.plan(later)}


def test_a_decided_step_is_no_longer_reminded(world: World) -> None:
    world.join("Pak Camat", "camat")
    world.join("Bu Perenkeu", "kasubag_perenkeu")
    inst = world.services.start(Start(world.member("Pak Camat"), "PK 2026", world.now)).instances[0]
    world.services.decide(Decide(world.member("Pak Camat"), inst.id, 1, None,
                                 Decision.ADVANCE, world.now))
    reminders = Reminders(world.services)
    steps = {p.payload["step_no"] for p in reminders.plan(world.now)
             if p.payload.get("instance_id") == inst.id}
    assert steps == {2}
