"""The bot's Bot API requests say when they are written (bot/tg/http.py), and a button's
answer waits for that, not for Telegram's answer to the step (issue 15).

Real I/O: python-telegram-bot's HTTP stack with the bot's request object, against the
fake Bot API server on 127.0.0.1, which holds its answer back so that "written" and
"answered" are far apart."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import ClassVar

import pytest
from telegram import Bot
from telegram.error import NetworkError

from bot.services import Member, OutboxItem
from bot.tg.http import abandoned, bot_request, held_until, on_written
from bot.tg.sender import OutboxSender, Preparing
from fakeapi import FakeBotApi, FakeUser

NOW = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
HELD = 0.4  # seconds the fake server holds its answer back (the call itself is done at once)


async def test_a_request_says_once_it_is_written_not_when_it_is_answered() -> None:
    with FakeBotApi() as api:
        official = api.user(501, "Bu Kasi")
        api.fail_next("sendMessage", status=None, delay=HELD)
        written: list[float] = []
        async with Bot(api.token, base_url=api.api_root + "/bot",
                       request=bot_request(timeout=5)) as bot:
            began = time.perf_counter()
            with on_written(lambda: written.append(time.perf_counter())):
                await bot.send_message(official.id, "Langkah 2 dari 9")
            answered = time.perf_counter()
            await bot.send_message(official.id, "di luar blok")  # outside: nobody is told
    assert len(written) == 1
    assert written[0] - began < HELD / 2 < answered - began  # written long before answered
    assert [m["text"] for m in official.messages()] == ["Langkah 2 dari 9", "di luar blok"]


class _ForwardProxy(BaseHTTPRequestHandler):
    """An HTTP forward proxy (as HTTP_PROXY names one for an http:// Bot API server)."""

    protocol_version = "HTTP/1.1"
    forwarded: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.path.split("//", 1)[1]
        host, path = target.split("/", 1)
        upstream = http.client.HTTPConnection(host, timeout=10)
        upstream.request("POST", "/" + path, body, {k: v for k, v in self.headers.items()
                                                    if k.lower() != "proxy-connection"})
        answer = upstream.getresponse()
        data = answer.read()
        self.forwarded.append(path.rsplit("/", 1)[-1])
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.getheader("Content-Type") or "")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_a_request_through_a_proxy_says_so_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot may reach Telegram through HTTPS_PROXY / HTTP_PROXY (README): httpx then
    sends through a transport of its own, and the hook still tells."""
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _ForwardProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        with FakeBotApi() as api:
            official = api.user(503, "Bu Camat")
            written: list[float] = []
            async with Bot(api.token, base_url=api.api_root + "/bot",
                           request=bot_request(timeout=5)) as bot:
                with on_written(lambda: written.append(time.perf_counter())):
                    await bot.send_message(official.id, "lewat proxy")
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert "sendMessage" in _ForwardProxy.forwarded  # it did go through the proxy
    assert len(written) == 1
    assert [m["text"] for m in official.messages()] == ["lewat proxy"]


async def test_the_buttons_answer_waits_for_the_steps_request_to_be_written() -> None:
    """The sender's request for the next official's step takes a while to build (rendering,
    Telegram's pace, httpx's own turns on the event loop); the button's answer is built
    only once the step is written, and does not wait for Telegram's answer to it."""
    with FakeBotApi() as api:
        official = api.user(502, "Pak Sekcam")
        api.fail_next("sendMessage", status=None, delay=HELD)
        order: list[tuple[str, float]] = []
        async with Bot(api.token, base_url=api.api_root + "/bot",
                       request=bot_request(timeout=5)) as bot:

            async def send(item: OutboxItem, flow: object, t: object) -> tuple[list[int], str]:
                order.append(("step built", time.perf_counter()))
                await asyncio.sleep(0.05)  # the request's turns before it is written
                message = await bot.send_message(item.chat_id, "Langkah 2 dari 9")
                order.append(("step answered", time.perf_counter()))
                return [message.message_id], ""

            services = SimpleNamespace(flows={}, outbox_progress=lambda *a: None)
            sender = OutboxSender(bot=bot, services=services,  # type: ignore[arg-type]
                                  clock=lambda: NOW)
            sender._send = send  # type: ignore[method-assign]
            sender._read_needed = False
            sender.start()
            try:
                due: list[tuple[OutboxItem, Member | None]] = [(OutboxItem(
                    id="next", member_id="m", chat_id=official.id, kind="step", payload={},
                    created_at=NOW, inflight_at=NOW), None)]
                sender.hand_off(due)
                await sender.issued(due, timeout=5)
                order.append(("answer", time.perf_counter()))
                assert await _arrives(official)  # on the wire: the server has it
                await asyncio.sleep(HELD + 0.2)
            finally:
                await sender.stop()
    names = [name for name, _at in order]
    assert names == ["step built", "answer", "step answered"], order
    times = dict(order)
    assert times["answer"] - times["step built"] >= 0.05  # after the step's request was built
    assert times["step answered"] - times["answer"] > HELD / 2  # not after Telegram answered


async def _arrives(official: FakeUser) -> bool:
    for _ in range(100):
        if official.messages():
            return True
        await asyncio.sleep(0.01)
    return False


async def test_a_step_that_fails_before_it_is_written_does_not_hold_the_answer() -> None:
    services = SimpleNamespace(flows={}, outbox_progress=lambda *a: None,
                               outbox_failed=lambda *a, **k: None)
    sender = OutboxSender(bot=None, services=services,  # type: ignore[arg-type]
                          clock=lambda: NOW)

    async def send(item: OutboxItem, flow: object, t: object) -> tuple[list[int], str]:
        raise ValueError("cannot be rendered")

    sender._send = send  # type: ignore[method-assign]
    sender._read_needed = False
    sender.start()
    try:
        due: list[tuple[OutboxItem, Member | None]] = [(OutboxItem(
            id="next", member_id="m", chat_id=7, kind="step", payload={}, created_at=NOW,
            inflight_at=NOW), None)]
        sender.hand_off(due)
        began = time.perf_counter()
        await sender.issued(due, timeout=5)
        assert time.perf_counter() - began < 1  # told at once, not after the 5 s
    finally:
        await sender.stop()


async def test_a_held_request_is_built_but_leaves_only_once_its_write_is_durable() -> None:
    """A decision's next official: the sender is handed the step from inside the decision's
    transaction and builds its request at once, but not one byte of it is written until
    the store says the decision is durable."""
    with FakeBotApi() as api:
        official = api.user(504, "Pak Sekcam")
        async with _held_step(api, official) as held:
            await asyncio.sleep(0.3)  # the request is built and held meanwhile
            assert api.calls("sendMessage") == [] and not official.messages()
            await asyncio.to_thread(held.early.stored, True)
            await held.sender.issued(held.due, timeout=5)
            assert await _arrives(official)
            await api.await_for(lambda: held.recorded, what="the result recorded")
    assert [m["text"] for m in official.messages()] == ["Langkah 2 dari 9"]
    assert len(held.recorded) == 1  # its result recorded, as any sent item's


async def test_a_held_request_whose_write_failed_never_leaves_and_nothing_is_recorded() -> None:
    with FakeBotApi() as api:
        official = api.user(505, "Bu Kasi")
        async with _held_step(api, official) as held:
            await asyncio.to_thread(held.early.stored, False)  # the decision's write failed
            began = time.perf_counter()
            await held.sender.issued(held.due, timeout=5)
            assert time.perf_counter() - began < 1  # the answer is not held for it
            await asyncio.sleep(0.3)
            # The connection is usable afterwards: the next message goes at once.
            await held.bot.send_message(official.id, "berikutnya")
        assert [c.params["text"] for c in api.calls("sendMessage")] == ["berikutnya"]
    assert held.recorded == []  # no result, no failure, no retry: the item never existed


async def test_held_requests_outside_the_sender_raise_not_stored() -> None:
    with FakeBotApi() as api:
        official = api.user(506, "Bu Camat")
        async with Bot(api.token, base_url=api.api_root + "/bot",
                       request=bot_request(timeout=5)) as bot:
            written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            with held_until(written):
                sending = asyncio.create_task(bot.send_message(official.id, "ditahan"))
            await asyncio.sleep(0.2)
            assert not sending.done() and api.calls("sendMessage") == []
            written.cancel()
            with pytest.raises(NetworkError) as raised:
                await sending
            assert abandoned(raised.value)
            assert not abandoned(NetworkError("timed out"))
    assert api.calls("sendMessage") == []


@dataclass
class _Held:
    bot: Bot
    sender: OutboxSender
    early: Preparing
    due: list[tuple[OutboxItem, Member | None]]
    built: list[float]
    recorded: list[object]


@contextlib.asynccontextmanager
async def _held_step(api: FakeBotApi, official: FakeUser) -> AsyncIterator[_Held]:
    """The sender with the fake server behind it, handed a step for `official` from a
    worker thread as a decision's transaction hands it, its request built and held. Its
    `_send` sends one fixed text (noting when it starts building); results and failures are
    noted in `recorded`."""
    async with Bot(api.token, base_url=api.api_root + "/bot",
                   request=bot_request(timeout=5)) as bot:
        built: list[float] = []
        recorded: list[object] = []

        async def send(item: OutboxItem, flow: object, t: object) -> tuple[list[int], str]:
            built.append(time.perf_counter())
            message = await bot.send_message(item.chat_id, "Langkah 2 dari 9")
            return [message.message_id], ""

        services = SimpleNamespace(
            flows={}, outbox_progress=lambda results, *a: recorded.extend(results),
            outbox_failed=lambda *a, **k: recorded.append(("failed", a)))
        sender = OutboxSender(bot=bot, services=services,  # type: ignore[arg-type]
                              clock=lambda: NOW)
        sender._send = send  # type: ignore[method-assign]
        sender._read_needed = False
        sender.start()
        try:
            held = _Held(bot, sender, sender.preparing(), _due(official.id), built, recorded)
            await asyncio.to_thread(held.early.prepare, held.due)  # (from the worker thread)
            await api.await_for(lambda: built, what="the step's request being built")
            yield held
        finally:
            await sender.stop()


def _due(chat_id: int) -> list[tuple[OutboxItem, Member | None]]:
    return [(OutboxItem(id=f"next-{chat_id}", member_id="m", chat_id=chat_id, kind="step",
                        payload={}, created_at=NOW, inflight_at=NOW), None)]
