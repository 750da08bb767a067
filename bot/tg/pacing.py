"""Telegram's pace, kept by the bot before Telegram has to say so.

Telegram answers a bot that sends too fast with 429 and ``retry_after``; its guidance is about
30 messages per second overall, one per second in a private chat and 20 per minute in a group.
:class:`Pacer` keeps those limits for every message the bot sends: a chat's next slot is
booked before the caller sleeps (concurrent callers to one chat queue up), and overall no
more than `overall_per_second` messages go in any one second, counted when they actually go.
Counting actual sends in a sliding second (rather than spacing slots evenly) lets the pace
catch up after the event loop was busy, so a round of reminders keeps its rate. Reminders
(`bulk`) may fill the second only up to `bulk_per_second`: what an official waits for always
finds room. A 429 pushes the chat's next slot back by ``retry_after`` (that chat only).

The outbox sender takes its slots itself; :class:`PacedRateLimiter` (python-telegram-bot's
hook on every Bot API call) gives a slot to the messages a handler sends directly, and waits
out a 429 for the one call that got it. It replaces PTB's ``AIORateLimiter``, which paces
with a burst of 30 on top of the pacer and, on any 429, holds *every* call of the bot (the
answer to a button press included) for ``retry_after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.ops import metrics


@dataclass(frozen=True)
class Pace:
    """The limits the bot keeps. The overall one is Telegram's own: a message is counted
    from when it is sent until a second after its answer (see :class:`Pacer`), never less
    than Telegram counts it, so the margin is in the counting."""

    overall_per_second: int = 30  # messages in any one second
    bulk_per_second: int = 30  # reminders fill the second only up to here (and wait for
    # any message an official waits for)
    private_interval: float = 1.0  # seconds from one message's answer to the chat's next
    group_per_minute: int = 19


#: No pacing at all (the tests' fake server without limits).
UNPACED = Pace(overall_per_second=0, bulk_per_second=0, private_interval=0.0,
               group_per_minute=0)

#: Set while the sender makes a call it already took a slot for (see PacedRateLimiter).
_SLOT_TAKEN: contextvars.ContextVar[bool] = contextvars.ContextVar("sopbot_slot_taken",
                                                                   default=False)


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asks us to wait (PTB 22 warns on the attribute; it may be either
    seconds or a timedelta depending on PTB_TIMEDELTA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wait = exc.retry_after
    return float(wait if isinstance(wait, int | float) else wait.total_seconds())


class Pacer:
    """Slots for messages: overall, per private chat, per group (negative chat ids).

    A message counts against the overall second from the moment it is sent until a second
    after Telegram answered it: Telegram counts it when the request arrives, somewhere in
    between, so however late a busy process gets the request out, the count never falls
    short of Telegram's.
    """

    def __init__(self, pace: Pace = Pace(), clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.pace = pace
        self._clock = clock
        self._sleep = sleep
        self._answered: deque[float] = deque()  # when the messages of the last second were
        self._inflight = 0  # sent, not answered yet
        self._waiting = 0  # interactive messages waiting for room
        self._next_chat: dict[int, float] = {}
        self._group_sent: dict[int, deque[float]] = {}
        self._bulk_gate: asyncio.Lock | None = None  # made in the running loop

    @contextlib.asynccontextmanager
    async def sending(self, chat_id: int, *, bulk: bool = False) -> AsyncIterator[None]:
        """Wait until one message to `chat_id` may go; it is sent inside (where the rate
        limiter lets it through: its slot is taken)."""
        await self._slot(chat_id, bulk)
        token = _SLOT_TAKEN.set(True)
        try:
            yield
        finally:
            _SLOT_TAKEN.reset(token)
            now = self._clock()
            self._inflight -= 1
            self._answered.append(now)
            if self.pace.private_interval and chat_id > 0:
                # The chat's next message goes a full interval after this one arrived.
                self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0),
                                               now + self.pace.private_interval)

    async def _slot(self, chat_id: int, bulk: bool) -> None:
        now = self._clock()
        at = max(now, self.free_at(chat_id))
        self._book_chat(chat_id, at)
        if at > now:
            await self._sleep(at - now)
        if self.pace.overall_per_second and bulk:
            # One reminder at a time waits for room (the others queue on the gate), and
            # only while no message an official waits for does.
            if self._bulk_gate is None:
                self._bulk_gate = asyncio.Lock()
            async with self._bulk_gate:
                await self._admit(self.pace.bulk_per_second or self.pace.overall_per_second,
                                  bulk=True)
        elif self.pace.overall_per_second:
            self._waiting += 1
            try:
                await self._admit(self.pace.overall_per_second, bulk=False)
            finally:
                self._waiting -= 1
        else:
            self._inflight += 1

    async def _admit(self, limit: int, *, bulk: bool) -> None:
        while (wait := self.overall_wait(limit)) > 0 or (bulk and self._waiting):
            await self._sleep(wait or 0.005)
        self._inflight += 1

    def overall_wait(self, limit: int) -> float:
        """0 when one more message keeps the last second within `limit`, else the seconds
        until it would (a short nap when it waits for answers still to come)."""
        now = self._clock()
        answered = self._answered
        while answered and answered[0] <= now - 1.0:
            answered.popleft()
        room = limit - self._inflight
        if len(answered) < room:
            return 0.0
        if room <= 0:
            return 0.01
        return max(answered[len(answered) - room] + 1.0 - now, 1e-3)

    def free_at(self, chat_id: int) -> float:
        """The earliest moment the chat's own limit (or a 429 on it) lets a message go."""
        at = self._next_chat.get(chat_id, 0.0)
        limit = self.pace.group_per_minute
        if chat_id < 0 and limit:
            sent = self._group_sent.setdefault(chat_id, deque())
            while sent and sent[0] <= self._clock() - 60.0:
                sent.popleft()
            if len(sent) >= limit:
                at = max(at, sent[len(sent) - limit] + 60.0)
        return at

    def free_in(self, chat_id: int) -> float:
        """Seconds until the chat's own limit lets a message go (0: now)."""
        return max(0.0, self.free_at(chat_id) - self._clock())

    def _book_chat(self, chat_id: int, at: float) -> None:
        """The chat's slot at `at` is taken: the next caller to it waits its turn."""
        if chat_id < 0 and self.pace.group_per_minute:
            self._group_sent[chat_id].append(at)
        elif self.pace.private_interval:
            self._next_chat[chat_id] = at + self.pace.private_interval
            if len(self._next_chat) > 4096:  # keep the map as small as the active chats
                now = self._clock()
                self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429: nothing more to `chat_id` for `seconds` (paced or not)."""
        until = self._clock() + seconds
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), until)


def is_message_call(endpoint: str) -> bool:
    """Bot API methods that put (or change) a message in a chat: Telegram's limits count
    them."""
    name = endpoint.lower()
    return (name.startswith(("send", "editmessage", "copymessage", "forwardmessage"))
            and name != "sendchataction")


class PacedRateLimiter(BaseRateLimiter[int]):
    """python-telegram-bot's rate-limiter hook, keeping the bot's one :class:`Pacer`.

    A message a handler sends directly takes a pacer slot; a 429 holds that chat only and
    the call is tried again (up to `max_retries` times) while every other call goes on. The
    sender's calls (inside :meth:`Pacer.sending`) pass straight through: the sender took
    their slot and handles their 429 itself.
    """

    def __init__(self, pacer: Pacer, max_retries: int = 3) -> None:
        self.pacer = pacer
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if _SLOT_TAKEN.get():
            return await callback(*args, **kwargs)
        chat_id: int | None = None
        with contextlib.suppress(KeyError, TypeError, ValueError):
            chat_id = int(data["chat_id"]) if is_message_call(endpoint) else None
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        attempt = 0
        while True:
            try:
                if chat_id is None:
                    return await callback(*args, **kwargs)
                async with self.pacer.sending(chat_id):
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                metrics.rate_limited()
                if attempt >= retries:
                    raise
                attempt += 1
                if chat_id is None:
                    await asyncio.sleep(retry_seconds(exc))
                else:
                    self.pacer.hold(chat_id, retry_seconds(exc))
