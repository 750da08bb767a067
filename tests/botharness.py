"""Run the real bot (PTB Application, real HTTP) against the fake Bot API server.

Simulated officials join with real invitation codes, type and press buttons; the bot's state
lives in real TinyDB files in a temporary directory, and time comes from a controllable clock.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.bootstrap import build_bot, running
from bot.config import Settings
from bot.engine.loader import load_flows
from bot.fakeapi import FakeBotApi, FakeUser
from bot.services import Services
from tests.conftest import FLOWS_DIR, WIB

JSON = dict[str, Any]


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 8, 0, tzinfo=WIB))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Harness:
    api: FakeBotApi
    services: Services
    clock: Clock
    app: Any
    data_dir: Path
    _next_user: int = 1000

    async def join(self, name: str, unit: str, role: str, *, language: str = "en",
                   user_id: int | None = None) -> FakeUser:
        """A new official opens an invitation link for `role` in `unit`.

        Their Telegram is in English unless `language` says otherwise, so that assertions
        read the same to every developer; Indonesian has tests of its own.
        """
        if user_id is None:
            self._next_user += 1
            user_id = self._next_user
        invite = self.services.create_invite(unit=unit, role=role, now=self.clock(), name=name)
        user = self.api.user(user_id, name, language_code=language)
        user.send_text(f"/start {invite.code}")
        await user.await_message(re.compile(r"Welcome|Selamat datang|already|sudah"))
        return user

    async def say(self, user: FakeUser, text: str, *, reply_to: JSON | int | None = None,
                  expect: str | re.Pattern[str] | None = None) -> JSON:
        """The official writes; returns the bot's answer."""
        user.send_text(text, reply_to=reply_to)
        return await user.await_message(expect)

    async def step_message(self, user: FakeUser, title_part: str) -> JSON:
        """Wait for the notification of a step whose title contains `title_part`."""
        return await user.await_message(title_part, timeout=10)

    async def press(self, user: FakeUser, message: JSON, label: str) -> JSON:
        """Press a button by its label; returns the callback answer."""
        query_id = user.press_button(message, label)
        return await self.api.await_for(lambda: self.api.callback_answer(query_id),
                                        what=f"answer to {label!r}")

    async def seen(self, user: FakeUser, text: str, timeout: float = 5.0) -> JSON:
        """Wait until some bot message in the chat contains `text` (no read cursor moves)."""
        return await self.api.await_for(
            lambda: next((m for m in self.api.messages(user.id)
                          if text.lower() in (m.get("text") or "").lower()), None),
            timeout, what=f"a message containing {text!r} for {user.first_name}")

    async def idle(self) -> None:
        await self.api.await_idle(idle=0.3, timeout=10)


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, *, clock: Clock | None = None,
                      data_dir: Path | None = None) -> AsyncIterator[Harness]:
    """Start the fake API and the bot; stop both afterwards."""
    clock = clock or Clock()
    data_dir = data_dir or tmp_path / "data"
    with FakeBotApi() as api:
        settings = Settings(token=api.token, api_url=api.api_root, data_dir=data_dir,
                            flows_dir=FLOWS_DIR)
        bot = build_bot(settings, load_flows(FLOWS_DIR), clock=clock, rate_limit=False,
                        sender_poll_interval=0.2, http_timeout=2.0, reminder_sync_interval=0.2)
        async with running(bot, poll_timeout=1):
            yield Harness(api, bot.services, clock, bot.app, data_dir)
