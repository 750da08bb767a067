"""The durable poller under a burst: one look-up of the newest stored update for all the
chats, and no second getUpdates while the updates just fetched are being handled (Telegram
would only hand them back: they are not confirmed before their effects are stored)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from telegram import Update

from bot.tg import poller as poller_module
from bot.tg.poller import DurablePoller


class _App:
    def add_error_handler(self, handler: Any) -> None:
        self.handler = handler


class _Services:
    """Counts the poller's store look-ups; update 7 is the newest stored."""

    def __init__(self) -> None:
        self.newest_reads = 0
        self.looked_up: list[int] = []
        self._lock = threading.Lock()

    def newest_update_seen(self) -> int:
        with self._lock:
            self.newest_reads += 1
        return 7

    def update_seen(self, update_id: int) -> bool:
        with self._lock:
            self.looked_up.append(update_id)
        return update_id <= 5


def _update(uid: int, chat: int = 1) -> Update:
    return Update.de_json({"update_id": uid, "message": {
        "message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"},
        "text": "/tugas"}}, None)


async def test_a_burst_after_start_up_reads_the_newest_stored_update_once() -> None:
    services = _Services()
    poller = DurablePoller(_App(), services=services)  # type: ignore[arg-type]
    fresh = await asyncio.gather(*(poller._already_handled(uid) for uid in range(8, 48)))
    assert fresh == [False] * 40
    assert services.newest_reads == 1
    assert services.looked_up == []  # newer than anything stored: nothing to look up
    # An update as old as the newest stored may have been handled: it is looked up.
    assert await poller._already_handled(5) is True
    assert await poller._already_handled(6) is False
    assert services.looked_up == [5, 6] and services.newest_reads == 1


async def test_fresh_updates_are_given_a_moment_before_polling_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(poller_module, "REPOLL_GRACE", 60.0)
    poller = DurablePoller(_App(), services=None)  # type: ignore[arg-type]
    poller.offset = 10
    poller._queues[1] = asyncio.Queue()  # its chat's worker exists: the update waits there
    poller._workers[1] = asyncio.create_task(asyncio.sleep(60))
    dispatching = asyncio.create_task(poller._dispatch([_update(10)]))
    await asyncio.sleep(0.05)
    assert not dispatching.done()  # the next getUpdates waits for the update in hand
    poller._unfinished.discard(10)
    poller._finished.add(10)
    poller._progress.set()  # it finished: poll again, confirming it
    await asyncio.wait_for(dispatching, 5)
    assert poller.offset == 11
    poller._workers[1].cancel()


async def test_a_full_batch_in_hand_is_not_asked_for_again_until_one_is_confirmed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A full batch may have more updates behind it, but the next poll would return the
    same batch (its oldest is not confirmed): the poller waits for progress first."""
    monkeypatch.setattr(poller_module, "REPOLL_GRACE", 60.0)
    poller = DurablePoller(_App(), services=None)  # type: ignore[arg-type]
    poller.offset = 100
    batch = [_update(100 + n, chat=n + 1) for n in range(poller_module.BATCH)]
    for n in range(poller_module.BATCH):  # each chat's worker exists: its update waits
        poller._queues[n + 1] = asyncio.Queue()
        poller._workers[n + 1] = asyncio.create_task(asyncio.sleep(60))
    dispatching = asyncio.create_task(poller._dispatch(batch))
    await asyncio.sleep(0.05)
    assert not dispatching.done()  # asked again now, Telegram would return the same 20
    poller._unfinished.discard(100)
    poller._finished.add(100)
    poller._progress.set()  # the oldest finished: the next poll reaches one more
    await asyncio.wait_for(dispatching, 5)
    assert poller.offset == 101
    for worker in poller._workers.values():
        worker.cancel()
