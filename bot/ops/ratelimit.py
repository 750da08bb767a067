"""python-telegram-bot's rate limiter, counting the 429 answers it waits out."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from bot.ops.metrics import rate_limited

__all__ = ["CountingRateLimiter"]


class CountingRateLimiter(AIORateLimiter):
    """python-telegram-bot's rate limiter, counting the 429s it waits out."""

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]],
                              args: Any, kwargs: dict[str, Any], endpoint: str,
                              data: dict[str, Any], rate_limit_args: Any) -> Any:
        async def counted(*a: Any, **k: Any) -> Any:
            try:
                return await callback(*a, **k)
            except RetryAfter:
                rate_limited()
                raise

        return await super().process_request(counted, args, kwargs, endpoint, data,
                                              rate_limit_args)
