"""The bot under measurement in a process of its own, as ``sopbot run`` runs in production.

The press benchmarks (bench_latency.py, bench_burst.py) keep the fake Bot API server and the
simulated officials in the benchmark's own process (Telegram's side) and run the bot being
measured, sopbot or the bare python-telegram-bot bot, in a child process. In one process the
bot shared one GIL with the server's request threads and the harness's pollers: the server's
work on the bot's own HTTP calls ran between the bot's steps, and the more calls a bot made
at once (sopbot answers the press and notifies the next official side by side), the more it
was slowed by the server it was talking to. Telegram's servers are not in the bot's process.

The parent drives the child over a pipe: :class:`BotProcess` sends requests (a tuple whose
first item names the operation) and awaits the answers; the child runs an async ``target``
that reads the requests from a :class:`Link`. :class:`LocalBot` runs the same target as a task
of the benchmark's own process (``--in-process``: the old way, for comparison). Not a
benchmark itself.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

#: How long the child may take to start its bot (imports, flows, a stored history).
START_TIMEOUT = 300.0


class Link:
    """The child's end of the pipe: requests in, answers out.

    The pipe is read by a thread of its own, not by the event loop's default executor
    (the bot's store transactions run there: a reader blocked in it for the whole run
    would take one of its few workers)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def answer(self, value: Any = None) -> None:
        self._conn.send(("ok", value))

    async def requests(self) -> AsyncIterator[tuple[Any, ...]]:
        """The parent's requests until it asks to stop (that one is answered on return)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

        def read() -> None:
            while True:
                try:
                    request = self._conn.recv()
                except (EOFError, OSError):
                    request = ("stop",)
                loop.call_soon_threadsafe(queue.put_nowait, request)
                if request[0] == "stop":
                    return

        threading.Thread(target=read, name="bench-link", daemon=True).start()
        while True:
            request = await queue.get()
            if request[0] == "stop":
                return
            yield request


def _child(conn: Connection, target: Callable[..., Awaitable[None]], args: tuple[Any, ...],
           ) -> None:
    try:
        asyncio.run(target(Link(conn), *args))
    except BaseException:  # the parent shows it: a child's traceback is otherwise lost
        conn.send(("error", traceback.format_exc()))
        raise
    conn.send(("ok", None))  # the answer to "stop"


class BotProcess:
    """Run ``target(link, *args)`` in a spawned process; ``await ask(...)`` talks to it.

    The target answers its first request, ``("ready",)``, once its bot polls."""

    def __init__(self, target: Callable[..., Awaitable[None]], *args: Any) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of the server's threads
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(target=_child, args=(child_conn, target, args),
                                         name="bench-bot", daemon=True)

    async def ask(self, *request: Any, timeout: float = 600.0) -> Any:
        self._conn.send(request)
        if not await asyncio.to_thread(self._conn.poll, timeout):
            raise TimeoutError(f"the bot process did not answer {request[0]!r}")
        status, value = self._conn.recv()
        if status == "error":
            raise RuntimeError(f"the bot process failed:\n{value}")
        return value

    async def __aenter__(self) -> BotProcess:
        self._process.start()
        await self.ask("ready", timeout=START_TIMEOUT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self._process.is_alive():
                await self.ask("stop", timeout=120)
        finally:
            await asyncio.to_thread(self._process.join, 30)
            if self._process.is_alive():
                self._process.kill()


class _LocalLink(Link):
    def __init__(self) -> None:
        self.requests_q: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self.answers_q: asyncio.Queue[Any] = asyncio.Queue()

    def answer(self, value: Any = None) -> None:
        self.answers_q.put_nowait(value)

    async def requests(self) -> AsyncIterator[tuple[Any, ...]]:
        while True:
            request = await self.requests_q.get()
            if request[0] == "stop":
                return
            yield request


class LocalBot:
    """:class:`BotProcess`'s interface, the target running as a task of this process."""

    def __init__(self, target: Callable[..., Awaitable[None]], *args: Any) -> None:
        self._target, self._args = target, args
        self._link = _LocalLink()
        self._task: asyncio.Task[None] | None = None

    async def ask(self, *request: Any, timeout: float = 600.0) -> Any:
        assert self._task is not None
        self._link.requests_q.put_nowait(request)
        answer = asyncio.ensure_future(self._link.answers_q.get())
        done, _ = await asyncio.wait({answer, self._task}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if answer in done:
            return answer.result()
        answer.cancel()
        if self._task in done:
            self._task.result()  # its exception
            if request[0] == "stop":
                return None
            raise RuntimeError(f"the bot stopped before answering {request[0]!r}")
        raise TimeoutError(f"the bot did not answer {request[0]!r}")

    async def __aenter__(self) -> LocalBot:
        self._task = asyncio.create_task(self._target(self._link, *self._args))
        await self.ask("ready", timeout=START_TIMEOUT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        if not self._task.done():
            self._link.requests_q.put_nowait(("stop",))
            await asyncio.wait_for(self._task, 120)


def runner(in_process: bool, target: Callable[..., Awaitable[None]],
           *args: Any) -> BotProcess | LocalBot:
    """The bot under measurement: a process of its own unless `in_process` (``--in-process``)."""
    return (LocalBot if in_process else BotProcess)(target, *args)
