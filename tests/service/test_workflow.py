"""The workflow use cases driven directly: start, decide, revise, fan-out, pairing, refusals.

No Telegram: what an official would be sent is read from the outbox the services fill.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.services import (
    AlreadyRunning,
    BadQuery,
    FlowNotFound,
    Member,
    Refused,
    StaleStep,
    StepMessage,
    TelegramUser,
)
from bot.services.commands import Decide, Decision, Start
from bot.services.workflow import Pressed
from tests.support.services import World


def neglasari(world: World) -> None:
    world.join("Pak Camat", "camat")
    world.join("Bu Perenkeu", "kasubag_perenkeu")
    world.join("Pak Umpeg", "kasubag_umpeg")
    world.join("Pak Sekcam", "sekcam")
    world.join("Kasi A", "pejabat_unit_kerja")
    world.join("Kasi B", "pejabat_unit_kerja")


def advance(world: World, name: str, instance_id: str, step_no: int) -> None:
    world.services.decide(Decide(world.member(name), instance_id, step_no, None,
                                 Decision.ADVANCE, world.later(timedelta(minutes=5))))


def test_start_notifies_the_first_step_and_acknowledges(world: World) -> None:
    neglasari(world)
    started = world.services.start(Start(world.member("Pak Camat"), "PK 2026", world.now, ack_to=7))
    assert started.flow.alias == "PK" and started.year == 2026 and len(started.instances) == 1
    inst = started.instances[0]
    assert inst.current is not None and inst.current.no == 1
    steps = world.outbox("Pak Camat", "step")
    assert [i.payload["step_no"] for i in steps] == [1]
    acks = world.outbox("Pak Camat", "ack")
    assert acks[-1].payload["ack"] == "started" and acks[-1].payload["reply_to"] == 7


def test_decide_moves_on_and_tells_the_next_holder(world: World) -> None:
    neglasari(world)
    inst = world.services.start(Start(world.member("Pak Camat"), "PK 2026", world.now)).instances[0]
    decided = world.services.decide(Decide(world.member("Pak Camat"), inst.id, 1, 1,
                                           Decision.ADVANCE, world.later(timedelta(minutes=5))))
    assert decided.disposition.action.value == "complete"
    assert decided.instance.current is not None and decided.instance.current.no == 2
    [note] = world.outbox("Bu Perenkeu", "step")
    assert note.payload["step_no"] == 2 and note.payload["from_name"] == "Pak Camat"


def test_revise_goes_back_with_the_reason(world: World) -> None:
    neglasari(world)
    inst = world.services.start(Start(world.member("Pak Camat"), "PK 2026", world.now)).instances[0]
    advance(world, "Pak Camat", inst.id, 1)
    advance(world, "Bu Perenkeu", inst.id, 2)
    advance(world, "Bu Perenkeu", inst.id, 3)
    decided = world.services.decide(Decide(world.member("Pak Camat"), inst.id, 4, None,
                                           Decision.REVISE, world.later(timedelta(minutes=5)),
                                           note="sasaran belum terukur"))
    assert decided.instance.current is not None and decided.instance.current.no == 3
    back = world.outbox("Bu Perenkeu", "step")[-1]
    assert back.payload["step_no"] == 3 and back.payload["revision"] is True
    assert back.payload["note"] == "sasaran belum terukur" and back.payload["round"] == 2


def test_a_fan_out_step_waits_for_every_holder(world: World) -> None:
    neglasari(world)
    inst = world.services.start(Start(world.member("Pak Camat"), "PK 2026", world.now)).instances[0]
    for name, no in [("Pak Camat", 1), ("Bu Perenkeu", 2), ("Bu Perenkeu", 3),
                     ("Pak Camat", 4), ("Pak Camat", 5), ("Pak Umpeg", 6)]:
        advance(world, name, inst.id, no)
    assert [i.payload["step_no"] for i in world.outbox("Kasi A", "step")] == [7]
    assert [i.payload["step_no"] for i in world.outbox("Kasi B", "step")] == [7]
    part = world.services.decide(Decide(world.member("Kasi A"), inst.id, 7, None,
                                        Decision.ADVANCE, world.later(timedelta(minutes=5))))
    assert part.instance.current is not None and part.instance.current.no == 7
    assert not world.outbox("Pak Sekcam", "step")
    with pytest.raises(Refused):  # Kasi A has done their part already
        advance(world, "Kasi A", inst.id, 7)
    advance(world, "Kasi B", inst.id, 7)
    assert [i.payload["step_no"] for i in world.outbox("Pak Sekcam", "step")] == [8]


def test_per_official_procedure_pairs_each_official_with_their_atasan(world: World) -> None:
    unit = "setwan-nganjuk"
    world.join("Pak Sekwan", "sekwan", unit)
    world.join("Bu Kabag", "kabag", unit)
    world.join("Pak Kasubag", "kasubag", unit)
    world.join("Staf Satu", "staf", unit)
    started = world.services.start(Start(world.member("Pak Sekwan"), "PDK 2026", world.now))
    pairs = {(i.subject, i.bindings.get("atasan")) for i in started.instances}
    ids = {name: world.people[name].id for name in world.people}
    assert pairs == {(ids["Bu Kabag"], ids["Pak Sekwan"]),
                     (ids["Pak Kasubag"], ids["Bu Kabag"]),
                     (ids["Staf Satu"], ids["Pak Kasubag"])}
    assert started.skipped == []


def test_refusals(world: World) -> None:
    neglasari(world)
    camat = world.member("Pak Camat")
    with pytest.raises(BadQuery):
        world.services.start(Start(camat, "PK", world.now))
    with pytest.raises(FlowNotFound):
        world.services.start(Start(camat, "XYZ 2026", world.now))
    with pytest.raises(Refused):  # only the first step's actor may start PK
        world.services.start(Start(world.member("Pak Umpeg"), "PK 2026", world.now))
    inst = world.services.start(Start(camat, "PK 2026", world.now)).instances[0]
    with pytest.raises(AlreadyRunning):
        world.services.start(Start(camat, "PK 2026", world.now))
    with pytest.raises(Refused):  # not the holder of step 1
        advance(world, "Pak Umpeg", inst.id, 1)
    advance(world, "Pak Camat", inst.id, 1)
    with pytest.raises(StaleStep) as stale:  # the same button pressed again
        world.services.decide(Decide(camat, inst.id, 1, 1, Decision.ADVANCE, world.now))
    assert stale.value.decided is not None and stale.value.decided.member == camat.id


def test_a_refused_decision_stores_nothing(world: World) -> None:
    neglasari(world)
    inst = world.services.start(Start(world.member("Pak Camat"), "PK 2026", world.now)).instances[0]
    before = len(world.outbox("Pak Umpeg"))
    with pytest.raises(Refused):
        advance(world, "Pak Umpeg", inst.id, 1)
    assert len(world.outbox("Pak Umpeg")) == before
    status = world.services.status(world.member("Pak Camat"), "PK 2026", world.now)
    assert [v.step_no for v in status.active] == [1]  # type: ignore[union-attr]


# -- a step's button: the official and the decision in one transaction (issue 15) ----------


def _pressed_by(world: World, name: str, language: str) -> TelegramUser:
    member = world.people[name]
    return TelegramUser(id=int(member.id), chat_id=member.chat_id, name=name,
                        language_code=language)


def test_a_press_finds_the_official_and_decides_in_one_write(world: World) -> None:
    world.join("Pak Camat", "camat")
    world.join("Bu Perenkeu", "kasubag_perenkeu")
    inst = world.services.start(Start(world.member("Pak Camat"), "PK 2026",
                                      world.now)).instances[0]
    writes = []
    original = world.store.transaction

    def counting(*args: Any, **kwargs: Any) -> Any:
        writes.append(kwargs)
        return original(*args, **kwargs)

    world.store.transaction = counting  # type: ignore[method-assign]
    pressed = world.services.decide_pressed(
        _pressed_by(world, "Pak Camat", "id"),  # Telegram now says Indonesian
        lambda m: Decide(m, inst.id, 1, None, Decision.ADVANCE, world.now,
                         origin=StepMessage(m.chat_id, 55, m.id, inst.id, 1, 1, "Step 1")))
    world.store.transaction = original  # type: ignore[method-assign]
    assert len(writes) == 1
    assert pressed.member is not None and pressed.member.name == "Pak Camat"
    assert pressed.decided is not None and pressed.error is None
    assert world.member("Pak Camat").telegram_language == "id"  # refreshed in the same write
    # What the decision queued, in the order owed, each with its recipient: the next
    # official's step first (already marked in flight), then the presser's edit.
    queued = [(item.kind, member.name if member else None)
              for item, member in pressed.decided.queued]
    assert queued == [("step", "Bu Perenkeu"), ("settle", "Pak Camat")]
    assert pressed.decided.queued[0][0].inflight_at is not None
    assert [i.id for i, _m in pressed.decided.queued] == \
        [i.id for i in world.outbox("Bu Perenkeu", "step")] + \
        [i.id for i in world.outbox("Pak Camat", "settle")]


def test_a_press_by_a_stranger_or_on_a_stale_step_is_answered_not_stored(world: World) -> None:
    world.join("Pak Camat", "camat")
    world.join("Bu Perenkeu", "kasubag_perenkeu")
    inst = world.services.start(Start(world.member("Pak Camat"), "PK 2026",
                                      world.now)).instances[0]

    def press(m: Member) -> Decide:
        return Decide(m, inst.id, 1, None, Decision.ADVANCE, world.now)

    stranger = TelegramUser(id=999_999, chat_id=999_999, name="Orang Lain")
    assert world.services.decide_pressed(stranger, press) == Pressed(None)
    camat = _pressed_by(world, "Pak Camat", "en")
    assert world.services.decide_pressed(camat, press).decided is not None
    again = world.services.decide_pressed(camat, press)
    assert again.member is not None and again.member.name == "Pak Camat"
    assert again.decided is None and isinstance(again.error, StaleStep)
    assert len(world.outbox("Bu Perenkeu", "step")) == 1  # the second press stored nothing


def test_a_part_pressed_before_the_sender_recorded_its_message_keeps_its_line(
        world: World) -> None:
    """The press on a fan-out part can come before the sender's record of the message it
    sent (the sender records in batches): that copy must stay settled with the official's
    own line, not be edited again with the next holder's when the step completes."""
    neglasari(world)
    inst = world.services.start(Start(world.member("Pak Camat"), "PK 2026", world.now)).instances[0]
    for name, no in [("Pak Camat", 1), ("Bu Perenkeu", 2), ("Bu Perenkeu", 3),
                     ("Pak Camat", 4), ("Pak Camat", 5), ("Pak Umpeg", 6)]:
        advance(world, name, inst.id, no)
    kasi_a, kasi_b = world.member("Kasi A"), world.member("Kasi B")
    [step_a] = world.outbox("Kasi A", "step")
    [step_b] = world.outbox("Kasi B", "step")
    world.services.outbox_sent(step_b, [601], world.now, text="step 7")  # recorded in time
    origin = StepMessage(kasi_a.chat_id, 501, kasi_a.id, inst.id, 7, 1, "step 7")
    world.services.decide(Decide(kasi_a, inst.id, 7, 1, Decision.ADVANCE,
                                 world.later(timedelta(minutes=5)), origin=origin))
    world.services.outbox_sent(step_a, [501], world.now, text="step 7")  # the late record
    assert world.services.step_message(kasi_a.chat_id, 501).settled
    advance(world, "Kasi B", inst.id, 7)
    edited = [(i.member_id, i.payload["message_id"], i.payload["name"])
              for i in world.outbox("Kasi A", "settle") + world.outbox("Kasi B", "settle")]
    # Kasi A's copy: their decision, then the same line without its undo button once Kasi B
    # decided; never Kasi B's line.
    assert {name for _m, message_id, name in edited if message_id == 501} == {"Kasi A"}
    assert (kasi_b.id, 601, "Kasi B") in edited


def test_a_settled_message_keeps_its_text_only_while_it_is_edited_again(world: World) -> None:
    """Running instances' step messages are most of the working set: once a message's last
    edit is queued (with its text), the stored text goes; the decider's own message keeps it
    while the decision may be taken back, until the next decision makes it final."""
    neglasari(world)
    inst = world.services.start(Start(world.member("Pak Camat"), "PK 2026", world.now)).instances[0]
    camat, perenkeu = world.member("Pak Camat"), world.member("Bu Perenkeu")
    [step1] = world.outbox("Pak Camat", "step")
    world.services.outbox_sent(step1, [11], world.now, text="Langkah 1 teks")
    advance(world, "Pak Camat", inst.id, 1)
    kept = world.services.step_message(camat.chat_id, 11)
    assert kept.settled and kept.text == "Langkah 1 teks"  # Tarik kembali is still offered
    [settle] = world.outbox("Pak Camat", "settle")
    assert settle.payload["text"] == "Langkah 1 teks" and settle.payload["undo"]
    [step2] = world.outbox("Bu Perenkeu", "step")
    world.services.outbox_sent(step2, [21], world.now, text="Langkah 2 teks")
    advance(world, "Bu Perenkeu", inst.id, 2)  # the Camat's decision is final now
    final = [i for i in world.outbox("Pak Camat", "settle") if not i.payload.get("undo")]
    assert [i.payload["text"] for i in final] == ["Langkah 1 teks"]  # its last edit
    assert world.services.step_message(camat.chat_id, 11).text == ""
    assert world.services.step_message(perenkeu.chat_id, 21).text == "Langkah 2 teks"
