"""Webhook mode under attack: idle connections, a wrong secret with a big body, nested JSON.

The server runs in the test's loop beside the bot (fake Bot API); the attacker uses raw
sockets from a thread, as a hostile client on the network would.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import Bot, build_bot, running
from bot.config import Settings
from bot.engine.loader import load_flows
from bot.tg.webhook import WebhookConfig, WebhookServer, too_deep
from fakeapi import FakeBotApi
from tests.support.paths import FLOWS_DIR
from tests.support.webhook import PUBLIC_URL, SECRET, post_update, request, start_update


@dataclass
class Served:
    fake: FakeBotApi
    bot: Bot
    server: WebhookServer


@asynccontextmanager
async def served(tmp_path: Path, **server_options: object) -> AsyncIterator[Served]:
    max_connections = server_options.pop("max_connections", 200)
    async with FakeBotApi() as fake:
        settings = Settings(token=fake.token, api_url=fake.api_root,
                            data_dir=tmp_path / "data", flows_dir=FLOWS_DIR)
        bot = build_bot(settings, load_flows(FLOWS_DIR), rate_limit=False,
                        sender_poll_interval=0.2, http_timeout=2.0)
        config = WebhookConfig(PUBLIC_URL, SECRET, "127.0.0.1", 0,
                               max_connections=int(max_connections))  # type: ignore[call-overload]
        server = WebhookServer(bot.app, config, **server_options)  # type: ignore[arg-type]
        await server.start()
        try:
            async with running(bot, poll=False):
                server.ready = True
                yield Served(fake, bot, server)
        finally:
            await server.stop()


def open_idle(port: int, n: int) -> list[socket.socket]:
    """`n` connections that send nothing (or half a request head: a slow client)."""
    socks = []
    for i in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if i % 2:
            sock.sendall(b"POST /telegram HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        socks.append(sock)
    return socks


async def test_many_idle_connections_do_not_stop_an_update_or_health(tmp_path: Path) -> None:
    async with served(tmp_path, max_connections=20, read_timeout=60.0) as s:
        port = s.server.port
        idle = await asyncio.to_thread(open_idle, port, 120)
        try:
            assert len(s.server.connections) <= 20  # capped, whatever was opened
            started = time.monotonic()
            status, state = await asyncio.to_thread(request, port, "GET", "/health")
            assert status == 200 and state["status"] == "ok"
            code = s.bot.services.create_invite(unit="kec-sooko", role="camat",
                                                now=datetime.now(UTC)).code
            user = s.fake.user(7301, "Pak Camat", language_code="en")
            assert await asyncio.to_thread(post_update, port, start_update(user, code)) == 200
            assert time.monotonic() - started < 10
            assert s.bot.services.member_count() == 1
            assert s.server.evicted >= 100
        finally:
            for sock in idle:
                sock.close()


async def test_a_slow_client_is_disconnected(tmp_path: Path) -> None:
    async with served(tmp_path, read_timeout=0.5) as s:
        quiet, sock = await asyncio.to_thread(open_idle, s.server.port, 2)
        quiet.close()
        sock.settimeout(5)
        started = time.monotonic()
        assert await asyncio.to_thread(sock.recv, 100) == b""  # closed by the server
        assert time.monotonic() - started < 3
        assert s.server.timed_out >= 1
        sock.close()


def wrong_secret_with_a_big_body(port: int) -> tuple[bytes, float]:
    """Announce 1 MB with a wrong secret, send none of it: the answer, and how long it took."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    started = time.monotonic()
    sock.sendall(b"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"X-Telegram-Bot-Api-Secret-Token: wrong\r\n"
                 b"Content-Length: 1000000\r\n\r\n")
    answer = sock.recv(4096)
    sock.close()
    return answer, time.monotonic() - started


async def test_a_wrong_secret_is_refused_before_the_body_is_read(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with served(tmp_path) as s:
        answer, took = await asyncio.to_thread(wrong_secret_with_a_big_body, s.server.port)
        assert answer.startswith(b"HTTP/1.1 403"), answer
        assert took < 3  # it did not wait for a megabyte that never came
        # A flood of them logs one warning a minute, not one each.
        with caplog.at_level(logging.WARNING, logger="bot.tg.webhook"):
            for _ in range(30):
                assert await asyncio.to_thread(post_update, s.server.port, b"{}", "bad") == 403
        refusals = [r for r in caplog.records if "secret" in r.getMessage()]
        assert len(refusals) <= 1


async def test_nested_or_malformed_json_gets_400(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        port = s.server.port
        for body in (b"[" * 200_000, b'{"a":' * 50_000, b"\xff\xfe{", b"[]",
                     b'{"update_id": 5, "message": {"x": ' + b"[" * 100 + b"]" * 100 + b"}}"):
            assert await asyncio.to_thread(post_update, port, body) == 400, body[:40]
        status, state = await asyncio.to_thread(request, port, "GET", "/health")
        assert status == 200 and state["status"] == "ok"


def test_depth_is_measured_without_recursion() -> None:
    deep: list[object] = []
    node = deep
    for _ in range(100_000):
        node.append([])
        node = node[0]  # type: ignore[assignment]
    assert too_deep(deep)
    assert not too_deep({"update_id": 1, "message": {"chat": {"id": 1}}})


async def test_what_is_not_the_private_chat_protocol_is_ignored(tmp_path: Path) -> None:
    """Edited messages and channel posts get no answer and change nothing; a message that
    reaches the bot in a group gets only the pointer to the private chat (issue 12)."""
    async with served(tmp_path) as s:
        code = s.bot.services.create_invite(unit="kec-sooko", role="camat",
                                            now=datetime.now(UTC)).code
        user = s.fake.user(7401, "Pak Camat", language_code="en")
        message = start_update(user, code)["message"]
        group = {**message, "chat": {"id": -100123, "type": "group", "title": "Kantor"}}
        channel = {**message, "chat": {"id": -100456, "type": "channel", "title": "Info"}}
        for n, update in enumerate([{"edited_message": message}, {"channel_post": channel},
                                    {"message": group}, {"edited_channel_post": channel}]):
            body = json.dumps({"update_id": 900 + n, **update}).encode()
            assert await asyncio.to_thread(post_update, s.server.port, body) == 200
        await asyncio.sleep(0.5)
        assert s.bot.services.member_count() == 0  # the code was not redeemed
        # The group's /start is answered with the pointer only (the fake does not know the
        # group, so even that fails: the stop holds all the same); the rest get nothing.
        (pointer,) = s.fake.calls("sendMessage")
        assert pointer.params["chat_id"] == -100123
        assert "private chat" in pointer.params["text"]
