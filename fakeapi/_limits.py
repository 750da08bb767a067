"""Telegram's flood limits, enforced by the fake server when asked (``FakeBotApi(limits=...)``).

Telegram answers a bot that sends too fast with ``429 Too Many Requests`` and
``parameters.retry_after``. Its published guidance: about 30 messages per second overall, one
message per second in a private chat (short bursts are tolerated, but a steady rate above it is
not), 20 messages per minute in a group. The limiter counts sliding windows of accepted
messages and, for a message over a limit, says how many seconds until it would fit.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

#: Methods that put (or change) a message in a chat, and so count against the limits.
LIMITED_METHODS = frozenset(
    {"sendmessage", "senddocument", "sendphoto", "editmessagetext", "editmessagereplymarkup"}
)


@dataclass(frozen=True)
class TelegramLimits:
    """How many messages fit in which window (Telegram's documented defaults)."""

    overall: int = 30
    overall_window: float = 1.0
    private_chat: int = 1
    private_window: float = 1.0
    group_chat: int = 20
    group_window: float = 60.0


class FloodControl:
    """Sliding-window counters, overall and per chat. Not thread-safe: the server's lock is."""

    def __init__(self, limits: TelegramLimits, clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self._clock = clock
        self._overall: deque[float] = deque()
        self._chats: dict[int, deque[float]] = {}
        self.rejected = 0

    def admit(self, chat_id: int, private: bool) -> int | None:
        """Count one message to `chat_id`; None when it may go, else the seconds to wait."""
        now = self._clock()
        lim = self.limits
        chat = self._chats.setdefault(chat_id, deque())
        if private:
            per_chat, window = lim.private_chat, lim.private_window
        else:
            per_chat, window = lim.group_chat, lim.group_window
        longest = max(
            _wait(self._overall, lim.overall, lim.overall_window, now),
            _wait(chat, per_chat, window, now),
        )
        if longest > 0:
            self.rejected += 1
            return max(1, math.ceil(longest))
        self._overall.append(now)
        chat.append(now)
        return None


def _wait(sent: deque[float], allowed: int, window: float, now: float) -> float:
    """Forget sends older than `window`; seconds until one more fits (0: it fits now)."""
    while sent and sent[0] <= now - window:
        sent.popleft()
    if len(sent) < allowed:
        return 0.0
    return sent[len(sent) - allowed] + window - now
