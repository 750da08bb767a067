"""Telegram's pace, kept by the sender before Telegram has to say so.

Telegram answers a bot that sends too fast with 429 and ``retry_after``; its guidance is about
30 messages per second overall, one per second in a private chat and 20 per minute in a group.
:class:`Pacer` hands out send slots: each call to :meth:`Pacer.slot` reserves the earliest
moment that keeps every limit and sleeps until then, so concurrent senders never overrun
them. A 429 pushes the chat's (and the overall) next slot back by ``retry_after``.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Pace:
    """The limits the sender keeps (a little under Telegram's own, to leave a margin)."""

    overall_per_second: float = 28.0
    private_interval: float = 1.05  # seconds between two messages to one private chat
    group_per_minute: int = 19


#: No pacing at all (the tests' fake server without limits).
UNPACED = Pace(overall_per_second=0.0, private_interval=0.0, group_per_minute=0)


class Pacer:
    """Slots for messages: overall, per private chat, per group (negative chat ids)."""

    def __init__(self, pace: Pace = Pace(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pace = pace
        self._clock = clock
        self._slots: list[float] = []  # reserved overall slots, sorted (recent and future)
        self._next_chat: dict[int, float] = {}
        self._group_sent: dict[int, deque[float]] = {}

    @property
    def enabled(self) -> bool:
        return self.pace.overall_per_second > 0 or self.pace.private_interval > 0

    def reserve(self, chat_id: int) -> float:
        """Reserve the earliest slot for one message to `chat_id`; returns its time."""
        pace = self.pace
        now = self._clock()
        at = max(now, self._next_chat.get(chat_id, 0.0))
        if chat_id < 0 and pace.group_per_minute:
            sent = self._group_sent.setdefault(chat_id, deque())
            while sent and sent[0] <= at - 60.0:
                sent.popleft()
            if len(sent) >= pace.group_per_minute:
                at = max(at, sent[len(sent) - pace.group_per_minute] + 60.0)
        if pace.overall_per_second:
            at = self._overall_slot(at, now)
        if chat_id < 0 and pace.group_per_minute:
            self._group_sent[chat_id].append(at)
        elif pace.private_interval:
            self._next_chat[chat_id] = at + pace.private_interval
        self._forget(now)
        return at

    def _overall_slot(self, earliest: float, now: float) -> float:
        """The first moment from `earliest` at least 1/rate away from every reserved slot
        (a chat that must wait long does not hold back the others' earlier slots)."""
        gap = 1.0 / self.pace.overall_per_second
        slots = self._slots
        del slots[:bisect.bisect_left(slots, now - gap)]
        at = earliest
        i = bisect.bisect_left(slots, at - gap + 1e-9)
        while i < len(slots) and slots[i] < at + gap - 1e-9:
            at = max(at, slots[i] + gap)
            i += 1
        bisect.insort(slots, at)
        return at

    async def slot(self, chat_id: int, *, bulk: bool = False) -> None:
        """Wait for a slot to send one message to `chat_id`.

        A `bulk` message takes a slot only when the next moments are free: bulk senders
        never queue ahead, so an interactive message finds a slot within a few gaps.
        """
        if bulk and self.pace.overall_per_second:
            gap = 1.0 / self.pace.overall_per_second
            while self._busy(2 * gap) >= 2:
                await asyncio.sleep(gap)
        delay = self.reserve(chat_id) - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)

    def _busy(self, window: float) -> int:
        """How many overall slots are reserved within `window` from now."""
        now = self._clock()
        return (bisect.bisect_right(self._slots, now + window)
                - bisect.bisect_left(self._slots, now))

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429: nothing more to `chat_id` for `seconds` (paced or not)."""
        until = self._clock() + seconds
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), until)

    def _forget(self, now: float) -> None:
        """Drop per-chat slots long past (the map stays as small as the active chats)."""
        if len(self._next_chat) > 4096:
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
