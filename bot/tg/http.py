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

A decision's next official is notified with a request built while the decision is still
being made durable, whose bytes wait for it (:func:`held_until`): the same trace extension
holds the request just before its headers are written until the store has synced the
decision, and abandons it unsent (:class:`NotStored`) if the store failed. Building the
request (rendering, python-telegram-bot, httpx) then overlaps the journal's ``fdatasync``
instead of following it; nothing leaves before the decision is on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from telegram.request import HTTPXRequest

#: Called once a request of the current task is written (see :func:`on_written`).
_WRITTEN: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "sopbot_request_written", default=None)

#: Requests of the current task held until this future is done (see :func:`held_until`).
_HELD: contextvars.ContextVar[asyncio.Future[None] | None] = contextvars.ContextVar(
    "sopbot_request_held", default=None)

#: httpcore's trace event once the whole request is written (HTTP/1.1, as the bot talks).
BODY_WRITTEN = "http11.send_request_body.complete"

#: httpcore's trace event just before a request's first byte (its headers) is written.
HEADERS_WRITING = "send_request_headers.started"


class NotStored(Exception):
    """A request held by :func:`held_until` was abandoned before any of it was written:
    what it was built for was not stored. (python-telegram-bot raises it as the cause of a
    :class:`telegram.error.NetworkError`; see :func:`abandoned`.)"""


def abandoned(exc: BaseException) -> bool:
    """Whether `exc` (as python-telegram-bot raised it) is a held request abandoned unsent."""
    while exc is not None:
        if isinstance(exc, NotStored):
            return True
        exc = exc.__cause__  # type: ignore[assignment]
    return False


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


@contextlib.contextmanager
def held_until(stored: asyncio.Future[None] | None) -> Iterator[None]:
    """Within this block, this task's Bot API requests are built at once, but none of their
    bytes is written until `stored` is done: then they go if it succeeded, and are
    abandoned unsent (:class:`NotStored`) if it failed or was cancelled."""
    token = _HELD.set(stored)
    try:
        yield
    finally:
        _HELD.reset(token)


async def _hold(stored: asyncio.Future[None]) -> None:
    """Wait for `stored`; raise :class:`NotStored` unless it succeeded."""
    try:
        await asyncio.shield(stored)  # (a cancelled send must not cancel the others' wait)
    except asyncio.CancelledError:
        if not stored.cancelled():
            raise  # this task is being cancelled
        raise NotStored("the write it waited for was cancelled") from None
    except Exception as exc:
        raise NotStored(f"the write it waited for failed: {exc!r}") from exc


async def _tell_when_written(request: httpx.Request) -> None:
    """httpx's request hook: a request made inside :func:`on_written` or
    :func:`held_until` carries httpcore's trace callback, which holds it before its headers
    are written and calls back once its body is (on whatever connection carries it:
    direct, or through a proxy from ``HTTPS_PROXY``)."""
    callback, held = _WRITTEN.get(), _HELD.get()
    if callback is None and held is None:
        return

    async def trace(event: str, info: dict[str, Any]) -> None:
        if held is not None and event.endswith(HEADERS_WRITING):
            await _hold(held)
        elif callback is not None and event == BODY_WRITTEN:
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
