"""The durable poller stops when asked, whatever the moment.

Python 3.11's ``asyncio.wait_for`` swallows a cancellation that arrives in the same turn as
the awaited event is set; the poller's wait for a finished update used it, so a bot stopped
just as an official's update finished polled on for ever (a chat test hung in CI).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram import Update

from bot.tg.poller import DurablePoller


class _App:
    def add_error_handler(self, handler: Any) -> None:
        self.handler = handler


def _update(uid: int) -> Update:
    return Update.de_json({"update_id": uid, "message": {
        "message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "/tugas"}},
        None)


async def test_a_cancel_as_an_update_finishes_stops_the_wait() -> None:
    poller = DurablePoller(_App(), services=None)  # type: ignore[arg-type]
    poller._unfinished.add(5)  # update 5 is being handled by its chat's worker
    poller._top, poller.offset = 6, 5
    waiting = asyncio.create_task(poller._dispatch([_update(5)]))  # it came back again
    await asyncio.sleep(0.01)
    assert not waiting.done()  # waits for progress, does not spin
    poller._progress.set()  # the worker finishes ...
    waiting.cancel()  # ... in the very turn the bot is stopped
    with pytest.raises(asyncio.CancelledError):
        await waiting
