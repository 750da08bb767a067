"""The real bot against the fake Bot API, with simulated officials: one harness for the demo
and the tests.

:func:`live_bot` starts the project's fake Telegram Bot API server (:mod:`fakeapi`) on
127.0.0.1 and the REAL bot (python-telegram-bot and its HTTP stack, the services, TinyDB in a
data directory) talking to it, with time from a :class:`Clock` the caller moves. The
:class:`Harness` it yields is the chat driver: officials join with real invitation codes,
write, send files and press buttons, and the caller waits for what the bot answers.
``sopbot demo`` prints what happens (:mod:`bot.demo.session`); the tests assert on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application

from bot.bootstrap import Bot, build_bot, running
from bot.config import Settings
from bot.engine.model import Flow
from bot.services import Services
from bot.storage.protocol import Storage
from bot.tg.callbacks import StepButton
from fakeapi import FakeBotApi, FakeUser, TelegramLimits

JSON = dict[str, Any]
Expect = str | re.Pattern[str] | None

#: Monday 5 January 2026, 08:00 WIB: an ordinary working morning.
MONDAY_MORNING = datetime(2026, 1, 5, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
#: Telegram user id of the first simulated official (the next ones count up).
FIRST_USER_ID = 1001


@dataclass
class Clock:
    """The bot's clock, moved by hand (the demo never moves it backwards)."""

    now: datetime = field(default_factory=lambda: MONDAY_MORNING)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def move_to(self, when: datetime) -> None:
        if when > self.now:
            self.now = when


def step_buttons(message: JSON | None) -> list[StepButton]:
    """The step buttons (``s:<instance>:<step>:<round>:<action>``) of a bot message."""
    found = []
    for _text, data in FakeBotApi.buttons(message):
        button = StepButton.decode(data or "")
        if button is not None:
            found.append(button)
    return found


class Unsettled(Exception):
    """The bot did not finish its work in time; `owing` when messages are still queued."""

    def __init__(self, owing: bool) -> None:
        super().__init__("the bot still owes messages" if owing else "the bot did not settle")
        self.owing = owing


@dataclass
class Harness:
    """The fake Telegram, the running bot and what the simulated officials can do."""

    api: FakeBotApi
    services: Services
    store: Storage
    clock: Clock
    app: Application
    data_dir: Path
    _next_user: int = FIRST_USER_ID - 1

    # -- officials -------------------------------------------------------------------------

    def invite(self, unit: str, role: str, name: str) -> str:
        """A real single-use invitation code, made as ``sopbot invite`` makes it."""
        honorific = name.split(" ", 1)[0]  # "Bu Camat", "Pak Sekcam": as the office says it
        salutation = {"Bu": "Ibu", "Ibu": "Ibu", "Pak": "Bapak", "Bapak": "Bapak"}.get(honorific)
        return self.services.create_invite(unit=unit, role=role, now=self.clock(),
                                           name=name, salutation=salutation).code

    def new_user(self, name: str, *, language: str, user_id: int | None = None) -> FakeUser:
        """A Telegram user with a private chat with the bot (ids count up from 1001)."""
        if user_id is None:
            self._next_user += 1
            user_id = self._next_user
        return self.api.user(user_id, name, language_code=language)

    async def join(self, name: str, unit: str, role: str, *, language: str = "en",
                   user_id: int | None = None) -> FakeUser:
        """A new official opens an invitation link for `role` in `unit`.

        Their Telegram is in English unless `language` says otherwise, so that test
        assertions read the same to every developer; Indonesian has tests of its own.
        """
        code = await asyncio.to_thread(self.invite, unit, role, name)
        user = self.new_user(name, language=language, user_id=user_id)
        await self.say(user, f"/start {code}",
                       expect=re.compile(r"Welcome|Selamat datang|already|sudah"))
        return user

    async def say(self, user: FakeUser, text: str, *, reply_to: JSON | int | None = None,
                  expect: Expect = None, timeout: float = 5.0) -> JSON:
        """The official writes; returns the bot's next message to them (matching `expect`)."""
        user.send_text(text, reply_to=reply_to)
        return await user.await_message(expect, timeout)

    async def send_file(self, user: FakeUser, filename: str, content: bytes, *,
                        mime_type: str | None = None, caption: str | None = None,
                        reply_to: JSON | None = None, expect: Expect = None,
                        timeout: float = 5.0) -> JSON:
        """The official sends a document; returns the bot's next message to them."""
        user.send_document(filename, content, mime_type=mime_type, caption=caption,
                           reply_to=reply_to)
        return await user.await_message(expect, timeout)

    async def press(self, user: FakeUser, message: JSON, label: str | int,
                    timeout: float = 5.0) -> JSON:
        """Press a button by its label, or by its position (1 = first); returns the
        bot's answer to the callback query."""
        if isinstance(label, int):
            _text, data = FakeBotApi.buttons(message)[label - 1]
            assert data is not None, f"button {label} has no callback data"
            query_id = user.press(message, data)
        else:
            query_id = user.press_button(message, label)
        return await self.answer(query_id, timeout, what=f"answer to {label!r}")

    async def answer(self, query_id: str, timeout: float = 5.0, *,
                     what: str = "callback answer") -> JSON:
        """Wait for the bot's answer to a callback query."""
        return await self.api.await_for(lambda: self.api.callback_answer(query_id), timeout,
                                        what=what)

    # -- reading the chats -----------------------------------------------------------------

    async def step_message(self, user: FakeUser, title_part: str) -> JSON:
        """Wait for the notification of a step whose title contains `title_part`."""
        return await user.await_message(title_part, timeout=10)

    async def seen(self, user: FakeUser, text: str, timeout: float = 5.0) -> JSON:
        """Wait until some bot message in the chat contains `text` (no read cursor moves)."""
        return await self.api.await_for(
            lambda: next((m for m in self.api.messages(user.id)
                          if text.lower() in (m.get("text") or "").lower()), None),
            timeout, what=f"a message containing {text!r} for {user.first_name}")

    def open_steps(self, chats: Sequence[int] | None = None, instance: str | None = None,
                   ) -> list[tuple[int, JSON, StepButton]]:
        """(chat, message, first step button) of step messages whose buttons are still
        there, oldest first; only in `chats` and of `instance` when given."""
        found = []
        for msg in self.api.messages(None):
            chat = msg["chat"]["id"]
            buttons = step_buttons(msg)
            if not buttons or (chats is not None and chat not in chats):
                continue
            if instance is None or buttons[0].instance_id == instance:
                found.append((chat, msg, buttons[0]))
        return found

    # -- waiting for the bot ---------------------------------------------------------------

    async def idle(self) -> None:
        """Wait until no update is unhandled and the line was quiet for a moment."""
        await self.api.await_idle(idle=0.3, timeout=10)

    def outbox_pending(self) -> bool:
        """True while the bot has queued messages it has not delivered yet."""
        return bool(self.store.read().outbox("pending"))

    async def settle(self, timeout: float) -> None:
        """Wait until the bot has delivered everything it owes and the line is quiet.

        Raises :class:`Unsettled` after `timeout` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if not await asyncio.to_thread(self.outbox_pending):
                try:
                    await self.api.await_idle(idle=0.1,
                                              timeout=max(0.5, deadline - loop.time()))
                except AssertionError:
                    raise Unsettled(owing=False) from None
                if not await asyncio.to_thread(self.outbox_pending):
                    return
            if loop.time() > deadline:
                raise Unsettled(owing=True)
            await asyncio.sleep(0.02)


def assemble_bot(settings: Settings, flows: Sequence[Flow], clock: Clock, *,
                 reminder_sync_interval: float, http_timeout: float | None,
                 paced: bool = False) -> Bot:
    """The bot, built by the one wiring (bot.bootstrap) as ``sopbot run`` builds it, without
    the client-side rate limiter and with a fast outbox so that a chat reads like a chat."""
    return build_bot(settings, flows, clock=clock, rate_limit=False, sender_poll_interval=0.2,
                     http_timeout=http_timeout, reminder_sync_interval=reminder_sync_interval,
                     paced=paced)


@contextlib.asynccontextmanager
async def live_bot(flows: Sequence[Flow], data_dir: Path, *, flows_dir: Path,
                   clock: Clock | None = None, language: str = "id",
                   bot_username: str = "sopbot_test_bot", bot_name: str = "SOP Bot",
                   dates_from_clock: bool = False, limits: bool | TelegramLimits = False,
                   reminder_sync_interval: float = 300.0, http_timeout: float | None = None,
                   ) -> AsyncIterator[Harness]:
    """Start the fake Bot API server and the real bot; stop both afterwards.

    `dates_from_clock` stamps Telegram messages with the bot's clock (else real time);
    `limits` makes the server enforce Telegram's flood limits.
    """
    clock = clock or Clock()
    api = FakeBotApi(bot_username=bot_username, bot_name=bot_name, limits=limits,
                     clock=(lambda: clock().timestamp()) if dates_from_clock else time.time)
    api.start()
    try:
        settings = Settings(token=api.token, api_url=api.api_root, data_dir=data_dir,
                            flows_dir=flows_dir, language=language)
        bot = assemble_bot(settings, flows, clock, reminder_sync_interval=reminder_sync_interval,
                           http_timeout=http_timeout, paced=bool(limits))
        async with running(bot, poll_timeout=1):
            yield Harness(api, bot.services, bot.store, clock, bot.app, data_dir)
    finally:
        await asyncio.to_thread(api.stop)
