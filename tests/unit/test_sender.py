"""The outbox sender against a scripted Telegram: each call of an item is delivered once,
Telegram's pace is kept, reminders do not hold up what an official waits for."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.bootstrap import build_services
from bot.engine.loader import load_flows
from bot.services.commands import Decide, Decision, Start
from bot.storage.memory import MemoryStore
from bot.tg.pacing import UNPACED, Pace, Pacer
from bot.tg.sender import OutboxSender
from tests.support.paths import FLOWS_DIR
from tests.support.services import START, World


class Sent:
    def __init__(self, message_id: int) -> None:
        self.message_id = message_id


class ScriptedBot:
    """Records every call; `refuse` lists (method, times) answered with 429 first."""

    def __init__(self, refuse: dict[str, int] | None = None, retry_after: int = 0) -> None:
        self.calls: list[tuple[str, int, Any]] = []
        self.refuse = dict(refuse or {})
        self.retry_after = retry_after
        self._next = 100

    def _call(self, method: str, chat_id: int, what: Any) -> Sent:
        """Message ids count the accepted calls from 101 on."""
        if self.refuse.get(method):
            self.refuse[method] -= 1
            self.calls.append((method + "!429", chat_id, what))
            raise RetryAfter(self.retry_after)
        self._next += 1
        self.calls.append((method, chat_id, what))
        return Sent(self._next)

    async def send_message(self, chat_id: int, text: str, **_: Any) -> Sent:
        return self._call("sendMessage", chat_id, text)

    async def send_document(self, chat_id: int, document: str, **kw: Any) -> Sent:
        return self._call("sendDocument", chat_id, (document, kw.get("reply_to_message_id")))

    async def send_photo(self, chat_id: int, photo: str, **kw: Any) -> Sent:
        return self._call("sendPhoto", chat_id, photo)

    async def edit_message_text(self, text: str, chat_id: int, **_: Any) -> Sent:
        return self._call("editMessageText", chat_id, text[:30])


@pytest.fixture
def world() -> World:
    store = MemoryStore()
    return World(build_services(load_flows(FLOWS_DIR), store), store, START)


def decided_with_attachment(world: World) -> None:
    """Pak Camat completes step 1 sending a document: Bu Perenkeu's step carries it."""
    world.join("Pak Camat", "camat")
    world.join("Bu Perenkeu", "kasubag_perenkeu")
    inst = world.services.start(Start(world.member("Pak Camat"), "PK 2026", world.now)).instances[0]
    world.services.decide(Decide(world.member("Pak Camat"), inst.id, 1, None,
                                 Decision.ADVANCE, world.later(timedelta(minutes=5)),
                                 attachments=("document:FILE-1",)))


async def test_a_429_on_the_attachment_does_not_send_the_step_again(world: World) -> None:
    decided_with_attachment(world)
    [step] = world.outbox("Bu Perenkeu", "step")
    assert step.payload["attachments"]
    bot = ScriptedBot(refuse={"sendDocument": 3})
    sender = OutboxSender(bot, world.services, lambda: world.now)  # type: ignore[arg-type]
    await sender.drain()
    to_her = [(m, w) for m, c, w in bot.calls if c == step.chat_id][1:]  # after the welcome
    assert [m for m, _w in to_her] == ["sendMessage", "sendDocument!429", "sendDocument!429",
                                       "sendDocument!429", "sendDocument"]
    step_id = [i for i, (m, _c, _w) in enumerate(bot.calls)
               if m == "sendMessage" and _c == step.chat_id][1]
    # The document answers the step message, sent once; the step is recorded as sent.
    assert to_her[-1][1] == ("FILE-1", 101 + step_id)
    assert not world.outbox("Bu Perenkeu")
    assert world.services.step_message(step.chat_id, 101 + step_id) is not None


async def test_the_pacer_keeps_one_message_a_second_per_chat_and_the_overall_rate() -> None:
    """In virtual time: a chat's messages a second apart (from the answer), no more than the
    overall limit in any second counting each message until a second after its answer,
    reminders only up to their share, a group's per-minute limit, a 429 holding one chat."""
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(Pace(overall_per_second=10, bulk_per_second=8, private_interval=1.0,
                       group_per_minute=2), clock=lambda: now[0], sleep=sleep)
    spans: list[tuple[int, float, float]] = []  # chat, sent, answered

    async def send(chat: int, *, bulk: bool = False, latency: float = 0.0) -> None:
        async with pacer.sending(chat, bulk=bulk):
            began = now[0]
            now[0] += latency
            spans.append((chat, began, now[0]))

    for _ in range(3):
        await send(7, latency=0.1)
    assert [round(b, 6) for c, b, _e in spans] == [0.0, 1.1, 2.2]  # a second after the answer
    spans.clear()
    now[0] += 5
    for chat in range(100, 130):
        await send(chat, latency=0.05)
    for _chat, began, _end in spans:  # Telegram may count each anywhere in its span
        assert sum(1 for _c, b, e in spans if e > began - 1.0 and b <= began) <= 10
    assert spans[9][1] - spans[0][1] < 1.0  # ten without waiting, then room again only
    assert spans[10][1] >= spans[0][2] + 1.0  # a second after the first one's answer
    spans.clear()
    now[0] += 5
    for chat in range(200, 220):
        await send(chat, bulk=True)
    firsts = [b for _c, b, _e in spans if b < spans[0][1] + 1.0 - 1e-9]
    assert len(firsts) == 8  # reminders leave room for what an official waits for
    await send(300)
    assert now[0] - spans[-1][1] < 1.0  # ... which goes within the same second
    group = []
    for _ in range(3):
        await send(-5)
        group.append(spans[-1][1])
    assert group[2] - group[0] >= 60.0
    pacer.hold(8, 30)
    held = now[0]
    await send(8)
    assert spans[-1][1] - held >= 30.0
    await send(9)
    assert spans[-1][1] - spans[-2][1] < 1.0  # neither the group nor the held chat holds others
    unpaced = Pacer(UNPACED, clock=lambda: 5.0, sleep=sleep)
    async with unpaced.sending(7), unpaced.sending(7):
        pass  # no wait at all
    assert now[0] == spans[-1][2]


async def test_reminders_go_at_the_pace_and_do_not_hold_up_a_step(world: World) -> None:
    """Forty reminders to forty chats, paced at 20/s, while a step notification is owed:
    the step goes out in the first moments, every reminder once, each chat in order."""
    decided_with_attachment(world)
    from bot.services.notices import StepReminder
    from bot.services.outbox import notice_item
    with world.store.transaction(record_update=False) as repo:
        step_chat = world.member("Bu Perenkeu").chat_id
        camat = world.member("Pak Camat")
        flow_id = world.outbox("Bu Perenkeu", "step")[0].payload["flow_id"]
        for n in range(40):
            repo.enqueue(notice_item(camat.id, 5000 + n % 20, StepReminder(
                instance_id="abcd1234", flow_id=flow_id, year=2026, step_no=1, round=1,
                deadline=world.now.isoformat(), moment="overdue", n=n), world.now))
    bot = ScriptedBot()
    sender = OutboxSender(bot, world.services, lambda: world.now,  # type: ignore[arg-type]
                          pace=Pace(overall_per_second=20, private_interval=1.0),
                          poll_interval=0.05)
    loop = asyncio.get_running_loop()
    began = loop.time()
    sender.start()
    sender.wake()
    try:
        while world.outbox("Pak Camat", "reminder") or world.outbox("Bu Perenkeu"):
            await asyncio.sleep(0.05)
            assert loop.time() - began < 10
    finally:
        await sender.stop()
    steps = [i for i, (_m, c, _w) in enumerate(bot.calls) if c == step_chat]
    assert steps and steps[0] < 10  # not queued behind the forty reminders
    reminders = [(c, w) for _m, c, w in bot.calls if c >= 5000]
    assert len(reminders) == 40  # each once
    for chat in range(5000, 5020):  # two per chat, in the order owed
        numbers = [int(w.rsplit("Reminder ", 1)[1].split(".")[0]) for c, w in reminders
                   if c == chat]
        assert numbers == [chat - 5000, chat - 5000 + 20]


async def test_the_rate_limiter_retries_a_429_for_that_call_only() -> None:
    """A handler's own message takes a pacer slot; a 429 holds that chat alone and the call
    is tried again; the sender's calls (their slot taken) get their 429 to handle."""
    from bot.ops.metrics import RATE_LIMITED
    from bot.tg.pacing import PacedRateLimiter

    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(Pace(overall_per_second=30, private_interval=1.0), clock=lambda: now[0],
                  sleep=sleep)
    limiter = PacedRateLimiter(pacer, max_retries=2)
    await limiter.initialize()
    calls: list[tuple[int, float]] = []
    refuse = {5: 1}

    async def post(endpoint: str, data: dict[str, Any]) -> dict[str, bool]:
        chat = data["chat_id"]
        calls.append((chat, now[0]))
        if refuse.get(chat):
            refuse[chat] -= 1
            raise RetryAfter(3)
        return {"ok": True}

    async def call(chat: int) -> Any:
        data = {"chat_id": chat}
        return await limiter.process_request(post, ("sendMessage", data), {}, "sendMessage",
                                             data, None)

    before = RATE_LIMITED._value.get()
    assert await call(5) == {"ok": True}
    assert [c for c, _t in calls] == [5, 5] and calls[1][1] - calls[0][1] >= 3.0
    assert RATE_LIMITED._value.get() == before + 1
    assert pacer.free_in(6) == 0.0 and pacer.free_in(5) > 0  # only chat 5 waits
    refuse[6] = 1
    async with pacer.sending(6):  # the sender's call: its 429 is the sender's to handle
        with pytest.raises(RetryAfter):
            await call(6)
    await limiter.shutdown()


async def test_a_decision_handed_over_is_sent_without_reading_the_outbox(world: World) -> None:
    """The next official's step goes first, the presser's edit after, no read-back; what a
    read already sent is never sent again when handed over late."""
    world.join("Pak Camat", "camat")
    world.join("Bu Perenkeu", "kasubag_perenkeu")
    camat = world.member("Pak Camat")
    inst = world.services.start(Start(camat, "PK 2026", world.now)).instances[0]
    bot = ScriptedBot()
    sender = OutboxSender(bot, world.services, lambda: world.now)  # type: ignore[arg-type]
    await sender.drain()  # the welcomes and step 1 (a read: nothing was handed over)
    [step1] = [m for m in bot.calls if m[0] == "sendMessage" and m[1] == camat.chat_id][-1:]
    reads = []
    original = world.services.outbox_due

    def counted(**kwargs: Any) -> Any:
        reads.append(kwargs)
        return original(**kwargs)

    world.services.outbox_due = counted  # type: ignore[method-assign]
    step1_id = 101 + bot.calls.index(step1)
    origin = world.services.step_message(camat.chat_id, step1_id)
    assert origin is not None
    decided = world.services.decide(Decide(camat, inst.id, 1, None, Decision.ADVANCE,
                                           world.now, origin=origin))
    bot.calls.clear()
    sender.hand_off(decided.queued)
    assert await sender.drain() == 2
    perenkeu = world.member("Bu Perenkeu")
    assert [(m, c) for m, c, _w in bot.calls] == [("sendMessage", perenkeu.chat_id),
                                                  ("editMessageText", camat.chat_id)]
    assert reads == []  # straight from the decision's write
    assert not world.outbox("Bu Perenkeu") and not world.outbox("Pak Camat")
    # Handed over again (a read took them first): nothing goes twice.
    sender.hand_off(decided.queued)
    assert await sender.drain() == 0
    assert len(bot.calls) == 2
    # Something else woke the sender: the next round reads what is owed.
    sender.wake()
    await sender.drain()
    assert reads == [{"bulk": False}]
