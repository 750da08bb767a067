"""Delivery bookkeeping the sender reports to: sent, failed, undeliverable (tell the starter)."""

from __future__ import annotations

from datetime import timedelta

from bot.services.commands import Decide, Decision, Start
from tests.support.services import World


def started(world: World) -> str:
    world.join("Pak Camat", "camat")
    world.join("Bu Perenkeu", "kasubag_perenkeu")
    inst = world.services.start(Start(world.member("Pak Camat"), "PK 2026", world.now)).instances[0]
    world.services.decide(Decide(world.member("Pak Camat"), inst.id, 1, None,
                                 Decision.ADVANCE, world.later(timedelta(minutes=5))))
    return inst.id


def test_a_sent_step_is_remembered_so_its_buttons_find_it(world: World) -> None:
    inst_id = started(world)
    [item] = world.outbox("Bu Perenkeu", "step")
    due = dict((i.id, m) for i, m in world.services.outbox_due())
    assert due[item.id] is not None and due[item.id].name == "Bu Perenkeu"
    world.services.outbox_inflight(item, world.now)
    world.services.outbox_sent(item, [41, 42], world.now, text="Step 2 of 9")
    assert not world.outbox("Bu Perenkeu", "step")
    msg = world.services.step_message(item.chat_id, 42)
    assert msg is not None and (msg.instance_id, msg.step_no, msg.text) == (
        inst_id, 2, "Step 2 of 9")


def test_the_next_item_is_marked_in_flight_with_the_previous_result(world: World) -> None:
    started(world)
    first, second = (i for i, _m in world.services.outbox_due()[-2:])
    world.services.outbox_sent(first, [7], world.now, next_item=second)
    [again] = [i for i, _m in world.services.outbox_due() if i.id == second.id]
    assert again.inflight_at == world.now
    assert world.services.outbox_recover() == 1  # a crash now: resent, marked uncertain
    [after] = [i for i, _m in world.services.outbox_due() if i.id == second.id]
    assert after.uncertain and after.inflight_at is None


def test_a_failed_send_is_kept_for_a_retry_unless_final(world: World) -> None:
    started(world)
    [item] = world.outbox("Bu Perenkeu", "step")
    world.services.outbox_failed(item, "timed out", final=False, maybe_delivered=True)
    [kept] = world.outbox("Bu Perenkeu", "step")
    assert kept.attempts == 1 and kept.uncertain and kept.last_error == "timed out"
    world.services.outbox_failed(kept, "bad request", final=True)
    assert not world.outbox("Bu Perenkeu", "step")


def test_a_blocked_chat_is_flagged_and_the_starter_told_once(world: World) -> None:
    started(world)
    [item] = world.outbox("Bu Perenkeu", "step")
    assert world.services.outbox_undeliverable(item, "Forbidden: bot was blocked", world.now)
    assert world.member("Bu Perenkeu").undeliverable
    [told] = [i for i in world.outbox("Pak Camat", "ack")
              if i.payload["ack"] == "undeliverable"]
    assert told.payload["name"] == "Bu Perenkeu" and told.payload["year"] == 2026
    assert world.services.outbox_counts()["undeliverable"] == 1
