"""A delivery round's writes: every new message is marked in flight before it goes, and a
decision's items that the decision already marked go out without waiting for a write (the
next official's step is on the press's path, issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services import Member, OutboxItem
from bot.tg.delivery import DeliveryRound, Result, RoundPorts
from bot.tg.sender import INTERACTIVE

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
