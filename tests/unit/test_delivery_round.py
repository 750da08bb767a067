"""A delivery round's writes: every new message is marked in flight before it goes, and a
decision's items that the decision already marked go out without waiting for a write (the
next official's step is on the press's path, issue 15)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from bot.services import Member, OutboxItem
from bot.tg import sender as sender_module
from bot.tg.delivery import DeliveryRound, Result, RoundPorts
from bot.tg.sender import INTERACTIVE, OutboxSender

NOW = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def items(marked: bool) -> list[tuple[OutboxItem, Member | None]]:
    return [(OutboxItem(id=f"i{n}", member_id=str(n), chat_id=n, kind="step", payload={},
                        created_at=NOW, inflight_at=NOW if marked else None), None)
            for n in (1, 2)]


async def run(due: list[tuple[OutboxItem, Member | None]]) -> tuple[int, list[tuple]]:
    calls: list[tuple] = []

    async def attempt(item: OutboxItem, member: Member | None) -> tuple[str, list[int], str]:
        calls.append(("send", item.id))
        return "sent", [100 + item.chat_id], ""

    async def write(results: list[Result], inflight: list[OutboxItem]) -> None:
        calls.append(("write", sorted(r[0].id for r in results), [i.id for i in inflight]))

    sent = await DeliveryRound(due, INTERACTIVE, RoundPorts(attempt, write, lambda chat: 0.0)
                               ).run()
    return sent, calls


async def test_items_marked_before_the_round_go_out_without_waiting_for_a_write() -> None:
    sent, calls = await run(items(marked=True))
    assert sent == 2
    assert calls[0][0] == "send"  # no write before the first message
    assert sorted(i for c in calls if c[0] == "write" for i in c[1]) == ["i1", "i2"]
    assert all(c[2] == [] for c in calls if c[0] == "write")  # nothing marked again


async def test_items_not_marked_are_marked_in_one_write_before_they_go() -> None:
    sent, calls = await run(items(marked=False))
    assert sent == 2
    assert calls[0] == ("write", [], ["i1", "i2"])
    assert sorted(i for c in calls[1:] if c[0] == "write" for i in c[1]) == ["i1", "i2"]


def press(n: int) -> list[tuple[OutboxItem, Member | None]]:
    """What one press hands the sender: the next official's step (marked in flight by the
    decision) and the presser's edit (not marked)."""
    return [(OutboxItem(id=f"next{n}", member_id="x", chat_id=100 + n, kind="step",
                        payload={}, created_at=NOW, inflight_at=NOW), None),
            (OutboxItem(id=f"edit{n}", member_id="y", chat_id=200 + n, kind="step",
                        payload={}, created_at=NOW), None)]


async def test_next_officials_handed_over_meanwhile_go_before_the_pressers_edits() -> None:
    """200 officials press at once and Telegram's pace is shared: a press's edit must not
    hold back the next press's notification (the edit only settles a message whose
    presser has the answer already)."""
    sender = OutboxSender(bot=None, services=None, clock=lambda: NOW)  # type: ignore[arg-type]
    sent: list[list[str]] = []

    async def round_(due: list[tuple[OutboxItem, Member | None]], policy: object) -> int:
        sent.append([item.id for item, _m in due])
        if len(sent) == 1:  # a second press is decided while the first round goes out
            sender.hand_off(press(2))
        return len(due)

    sender._round = round_  # type: ignore[method-assign]
    sender._read_needed = False
    sender.hand_off(press(1))
    await sender.drain()
    await sender.drain()
    assert sent == [["next1"], ["next2"], ["edit1", "edit2"]]


async def test_the_pressers_edits_wait_only_so_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sender_module, "EDIT_WAIT_MAX", 0.0)
    sender = OutboxSender(bot=None, services=None, clock=lambda: NOW)  # type: ignore[arg-type]
    sent: list[list[str]] = []
    presses = iter(range(2, 10))

    async def round_(due: list[tuple[OutboxItem, Member | None]], policy: object) -> int:
        sent.append([item.id for item, _m in due])
        sender.hand_off(press(next(presses)))  # presses keep coming
        await asyncio.sleep(0.01)
        return len(due)

    sender._round = round_  # type: ignore[method-assign]
    sender._read_needed = False
    sender.hand_off(press(1))
    for _ in range(3):
        await sender.drain()
    assert any("edit1" in ids for ids in sent)  # not held back for ever


async def test_a_buttons_answer_waits_until_the_next_officials_step_is_under_way() -> None:
    """button_pressed hands its decision's items over, awaits ``issued``, then answers: on
    the one event loop the next official's message is started first (issue 15)."""
    order: list[str] = []
    services = SimpleNamespace(flows={}, outbox_progress=lambda results, inflight, now: None)
    sender = OutboxSender(bot=None, services=services, clock=lambda: NOW)  # type: ignore[arg-type]

    async def send(item: OutboxItem, flow: object, t: object) -> tuple[list[int], str]:
        order.append(f"send {item.id}")
        await asyncio.sleep(0.002)  # Telegram's answer
        return [1], ""

    sender._send = send  # type: ignore[method-assign]
    sender._read_needed = False
    sender.start()
    try:
        due = press(1)
        sender.hand_off(due)
        await sender.issued(due)
        order.append("answer")
        await asyncio.sleep(0.05)
    finally:
        await sender.stop()
    assert order[:2] == ["send next1", "answer"]
    assert "send edit1" in order


async def test_an_answer_waits_only_so_long_for_a_busy_sender() -> None:
    sender = OutboxSender(bot=None, services=None, clock=lambda: NOW)  # type: ignore[arg-type]
    sender._tasks = [asyncio.create_task(asyncio.sleep(1))]  # running, but never gets to it
    loop = asyncio.get_running_loop()
    began = loop.time()
    await sender.issued(press(1), timeout=0.02)
    assert loop.time() - began < 0.5 and not sender._issuing
    sender._tasks[0].cancel()
