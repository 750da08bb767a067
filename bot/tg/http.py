"""The bot's HTTP client for the Bot API: python-telegram-bot's own, told when a request is
on the wire.

A button press hands the next official's step to the sender and answers the button beside
it (:meth:`bot.tg.sender.OutboxSender.issued`). On the one event loop the two requests are
built in turns: httpx and anyio yield several times before a request's bytes are written, and
at each yield the answer's request was built a little further, so the step often went out
after the answer, and at times after the next long poll too (issue 15: 2.7 ms from the call
to the write in a profiled press, against 0.8 ms when nothing else ran). The sender now says
"issued" only once the step's request is written: :func:`on_written` calls back from
httpcore's ``trace`` extension (added by an httpx request hook) when the request body is
complete. The answer's request is then built while the step's travels, a millisecond later
at most, not a round trip.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from telegram.request import HTTPXRequest

#: Called once a request of the current task is written (see :func:`on_written`).
_WRITTEN: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "sopbot_request_written", default=None)

#: httpcore's trace event once the whole request is written (HTTP/1.1, as the bot talks).
BODY_WRITTEN = "http11.send_request_body.complete"

#: python-telegram-bot's own size for the bot's pool (``ApplicationBuilder``'s default).
POOL_SIZE = 256


@contextlib.contextmanager
def on_written(callback: Callable[[], None] | None) -> Iterator[None]:
    """Within this block, `callback` is called each time one of this task's Bot API
    requests has been written to the connection (at least once if any is)."""
    token = _WRITTEN.set(callback)
    try:
        yield
    finally:
        _WRITTEN.reset(token)


async def _tell_when_written(request: httpx.Request) -> None:
    """httpx's request hook: a request made inside :func:`on_written` carries httpcore's
    trace callback, which calls back once its body is written (on whatever connection
    carries it: direct, or through a proxy from ``HTTPS_PROXY``)."""
    callback = _WRITTEN.get()
    if callback is None:
        return

    async def trace(event: str, info: dict[str, Any]) -> None:
        if event == BODY_WRITTEN:
            callback()

    request.extensions = {**request.extensions, "trace": trace}


def bot_request(timeout: float | None = None) -> HTTPXRequest:
    """The request object for the bot's calls (not its long polls): python-telegram-bot's
    own, with its defaults, the hook above, and `timeout` seconds for connecting, writing
    and reading when given (the tests: a stuck call fails fast)."""
    timeouts = ({} if timeout is None else
                {"connect_timeout": timeout, "read_timeout": timeout, "write_timeout": timeout})
    return HTTPXRequest(connection_pool_size=POOL_SIZE,
                        httpx_kwargs={"event_hooks": {"request": [_tell_when_written]}},
                        **timeouts)  # type: ignore[arg-type]
