"""One delivery round of the outbox sender: the items owed, chats at once, each chat in order.

The round groups what is owed by chat. Several lanes send at once; a lane takes the chat
whose next message may go soonest (its own limit: one a second in a private chat), sends
one message, and hands the chat back, so that a chat owed two messages never holds a lane
for a second. A chat's messages go in the order owed; a message that must wait (the network
is down) ends the round (the sender backs off and tries again).

Durability: an item is marked in flight before it is sent, so that a crash makes its resend
"uncertain"; results are recorded afterwards. Both go in as few writes as possible, because
each write rewrites the working set: one writer at a time takes every result that came in
meanwhile (group commit) and marks the chunks of items the lanes will reach next, a chunk
ahead, so that lanes never wait for a mark. The bulk lane writes per `flush_size` results
(or `flush_every` seconds); the interactive lane at once, since a step message must be known
before its button is pressed.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.services import Member, OutboxItem
from bot.services.outbox import needs_inflight_mark

log = logging.getLogger(__name__)

Due = tuple[OutboxItem, Member | None]
#: What a send returns: the outcome ("sent", "done" or "wait"), message ids, kept text.
Attempt = Callable[[OutboxItem, Member | None], Awaitable[tuple[str, list[int], str]]]
Result = tuple[OutboxItem, list[int], str]


@dataclass(frozen=True)
class RoundPolicy:
    """How a lane sends: chats at once, items per in-flight chunk, when results are written."""

    lanes: int
    mark_batch: int
    flush_size: int = 1
    flush_every: float = 0.0


@dataclass
class RoundPorts:
    """What a round needs from the sender: the send; one write recording results and
    marking items in flight; how long until a chat's own limit lets its next message go."""

    attempt: Attempt
    write: Callable[[list[Result], list[OutboxItem]], Awaitable[None]]
    free_in: Callable[[int], float]


class DeliveryRound:
    """Send `due` (in order per chat), several chats at once; :meth:`run` returns how many
    were sent."""

    def __init__(self, due: list[Due], policy: RoundPolicy, ports: RoundPorts) -> None:
        self.policy = policy
        self.ports = ports
        self.chats: dict[int, deque[Due]] = {}
        for item, member in due:
            self.chats.setdefault(item.chat_id, deque()).append((item, member))
        self._cut()
        self._ready: list[tuple[float, int, int]] = [
            (0.0, n, chat) for n, chat in enumerate(self.chats)]
        self._held = 0  # chats a lane is sending to (they may come back)
        self._changed = asyncio.Condition()
        self._stopped = False
        self._failed = False  # a write failed: nothing more may go out unmarked
        self._results: list[Result] = []
        self._wanted = 0  # chunks [0, _wanted) are to be marked
        self._marked = 0  # chunks [0, _marked) are marked
        self._marking = 0  # chunks [0, _marking) are marked or being marked
        self._urgent = False  # a lane waits for a mark
        self._writer: asyncio.Task[None] | None = None
        self._last_write = time.monotonic()
        self.sent = 0

    def _cut(self) -> None:
        """Chunks of chats (in order of their first item), each marked by one write."""
        self.chunk_of: dict[int, int] = {}
        self.chunk_items: list[list[OutboxItem]] = [[]]
        for chat, queue in self.chats.items():
            if len(self.chunk_items[-1]) >= self.policy.mark_batch:
                self.chunk_items.append([])
            self.chunk_of[chat] = len(self.chunk_items) - 1
            self.chunk_items[-1].extend(i for i, _m in queue
                                        if needs_inflight_mark(i) and i.inflight_at is None)
        self.chunk_marked = [asyncio.Event() for _ in self.chunk_items]

    async def run(self) -> int:
        if not self.chats:
            return 0
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.policy.lanes, len(self.chats))):
                    group.create_task(self._lane())
        finally:
            if self._writer is not None:
                await asyncio.shield(self._writer)
            if self._results and not self._failed:
                results, self._results = self._results, []
                await self.ports.write(results, [])
        return self.sent

    # -- lanes ---------------------------------------------------------------------------

    async def _take(self) -> tuple[float, int, int] | None:
        async with self._changed:
            while not self._ready and self._held and not self._stopped:
                await self._changed.wait()
            if not self._ready or self._stopped:
                return None
            self._held += 1
            return heapq.heappop(self._ready)

    async def _give_back(self, order: int, chat: int, more: bool) -> None:
        async with self._changed:
            self._held -= 1
            if more and not self._stopped:
                ready_at = time.monotonic() + self.ports.free_in(chat)
                heapq.heappush(self._ready, (ready_at, order, chat))
            self._changed.notify_all()

    async def _lane(self) -> None:
        while (taken := await self._take()) is not None:
            ready_at, order, chat = taken
            more = False
            try:
                if await self._marked_for(chat):
                    if (delay := ready_at - time.monotonic()) > 0:
                        await asyncio.sleep(delay)
                    more = await self._send_next(chat)
            finally:
                await self._give_back(order, chat, more)

    async def _marked_for(self, chat: int) -> bool:
        """Wait until the chat's items are marked in flight (asking for the next chunk's
        marks meanwhile); False when marking failed."""
        chunk = self.chunk_of[chat]
        if len(self.chunk_items) == 1 and not self.chunk_items[0]:
            # Everything was marked before the round (a decision's items, handed over):
            # no write to wait for before the first message goes.
            return not self._failed
        self._wanted = max(self._wanted, min(chunk + 2, len(self.chunk_items)))
        if not self.chunk_marked[chunk].is_set():
            if chunk >= self._marking:  # not in the write under way: the next one, now
                self._urgent = True
                self._kick()
            await self.chunk_marked[chunk].wait()
        return not self._failed

    async def _send_next(self, chat: int) -> bool:
        """Send the chat's next item; whether the chat has more to send this round."""
        queue = self.chats[chat]
        item, member = queue.popleft()
        outcome, message_ids, kept = await self.ports.attempt(item, member)
        if outcome == "wait":  # the network: end the round, the sender backs off
            self._stopped = True
            return False
        if outcome == "sent":
            self.sent += 1
            self._results.append((item, message_ids, kept))
            self._kick()
        return bool(queue)

    # -- the writer ----------------------------------------------------------------------

    def _kick(self) -> None:
        """Start a write if one is due, unless one runs (it takes everything when done)."""
        if self._writer is None and self._write_due():
            self._writer = asyncio.create_task(self._write())

    def _write_due(self) -> bool:
        if self._failed:
            return False
        if self._urgent:
            return True
        policy = self.policy
        return bool(self._results) and (
            len(self._results) >= policy.flush_size
            or time.monotonic() - self._last_write >= policy.flush_every)

    async def _write(self) -> None:
        try:
            while self._write_due():
                results, self._results = self._results, []
                first, upto = self._marked, self._wanted
                marks = [i for c in range(first, upto) for i in self.chunk_items[c]]
                self._urgent = False
                self._marking = max(self._marking, upto)
                self._last_write = time.monotonic()
                await self.ports.write(results, marks)
                self._marked = max(self._marked, upto)
                for c in range(first, upto):
                    self.chunk_marked[c].set()
        except Exception:  # nothing may go out unmarked: the round ends (the sender logs)
            log.exception("could not record the outbox's progress")
            self._failed = self._stopped = True
            for event in self.chunk_marked:
                event.set()
        finally:
            self._writer = None
