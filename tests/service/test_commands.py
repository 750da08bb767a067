"""The use cases beyond deciding, each driven by its command: ask a reason, drop it,
attach a file, cancel — and what each acknowledges, read back as typed notices."""

from __future__ import annotations

from datetime import timedelta

from bot.services.commands import (
    AskReason,
    Attach,
    Cancel,
    Decide,
    Decision,
    DropPendingReason,
    Start,
)
from bot.services.notices import (
    AttachedAck,
    CancelledAck,
    JoinedAck,
    Notice,
    PendingDroppedAck,
    ReasonAskedAck,
    StartedAck,
    decode,
)
from tests.support.services import World


def acks(world: World, name: str) -> list[Notice]:
    return [decode(i.kind, i.payload) for i in world.outbox(name, "ack")]


def test_each_command_does_its_use_case_and_acknowledges_it(world: World) -> None:
    for name, role in (("Pak Camat", "camat"), ("Bu Perenkeu", "kasubag_perenkeu"),
                       ("Pak Umpeg", "kasubag_umpeg"), ("Pak Sekcam", "sekcam")):
        world.join(name, role)
    camat = world.member("Pak Camat")
    inst = world.services.start(Start(camat, "PK 2026", world.now, ack_to=1)).instances[0]
    assert StartedAck(flow_id=inst.flow_id, year=2026, starter_acts=True,
                      target_asked=True, reply_to=1) in acks(world, "Pak Camat")
    for name, step in (("Pak Camat", 1), ("Bu Perenkeu", 2), ("Bu Perenkeu", 3)):
        world.services.decide(Decide(world.member(name), inst.id, step, None, Decision.ADVANCE,
                                     world.later(timedelta(minutes=5))))

    asked = world.services.ask_reason(AskReason(camat, inst.id, 4, None, world.now, ack_to=11))
    assert asked.step_no == 4 and world.services.pending_reason(camat) is not None
    dropped = DropPendingReason(camat, world.now, ack_to=12)
    assert world.services.drop_pending_reason(dropped) is True
    assert world.services.drop_pending_reason(dropped) is False  # nothing awaited any more
    assert world.services.pending_reason(camat) is None

    flow = world.services.attach(Attach(camat, inst.id, 4, None, ("document:abc",),
                                        world.later(timedelta(minutes=1)), "draf", ack_to=13))
    assert flow.id == inst.flow_id

    cancelled = world.services.cancel(Cancel(camat, inst.id, "salah tahun",
                                             world.later(timedelta(minutes=1)), ack_to=14))
    assert cancelled.status.value == "cancelled"
    told = acks(world, "Pak Camat")
    assert [n for n in told if not isinstance(n, StartedAck | JoinedAck)] == [
        ReasonAskedAck(reply_to=11), PendingDroppedAck(reply_to=12), AttachedAck(reply_to=13),
        CancelledAck(flow_id=inst.flow_id, year=2026, reply_to=14)]
