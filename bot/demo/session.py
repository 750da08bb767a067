"""A demo session: the harness (fake Telegram, real bot) with a transcript of what happens.

What the officials do goes through :class:`bot.demo.harness.Harness`; this module prints each
action with the simulated time and then the bot's answers, and turns a bot that stops
answering into a :class:`DemoFailure` carrying the fake server's account of the traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import shutil
import tempfile
import textwrap
from collections.abc import Awaitable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from babel.dates import format_datetime

from bot.demo.harness import Clock, Harness, Unsettled, live_bot
from bot.demo.officials import official_names
from bot.demo.transcript import WIDTH, ChatLog, Emit, Official
from bot.engine.calendar import resolve_timezone
from bot.engine.model import Flow
from bot.i18n import Translator
from bot.tg.reminder_jobs import POKE_DELAY

JSON = dict[str, Any]
T = TypeVar("T")

#: Monday 5 January 2026, 08:00 in the unit's time zone: an ordinary working morning.
START = (2026, 1, 5, 8, 0)
#: How long the bot may take to react to one action before the demo calls it a failure.
REACTION_TIMEOUT = 15.0


class DemoFailure(Exception):
    """The demo could not finish; `dump` is the fake server's account of the traffic."""

    def __init__(self, message: str, dump: str = "") -> None:
        self.message = message
        self.dump = dump
        super().__init__(message)


class DemoSession:
    """The fake Bot API server, the real bot and the simulated officials of one unit.

    Use as ``async with DemoSession(...) as s``: on exit the bot and the server are stopped
    and the temporary data directory is removed (a `data_dir` given by the caller is kept).
    With `limits` the fake server enforces Telegram's flood limits (429 with retry_after).
    """

    def __init__(self, flows: Sequence[Flow], flow: Flow, *, t: Translator,
                 language: str = "id", emit: Emit = print,
                 data_dir: Path | None = None, limits: bool = False) -> None:
        self.flows = list(flows)
        self.limits = limits
        self.flow = flow
        self.t = t
        self.language = language
        self.emit = emit
        self.data_dir = data_dir
        tz = resolve_timezone(flow.unit.timezone)
        self.clock = Clock(datetime(*START, tzinfo=tz))
        self.officials: list[Official] = []
        self._stack = contextlib.AsyncExitStack()
        self.bot: Harness
        self.log: ChatLog

    async def __aenter__(self) -> DemoSession:
        await self._stack.__aenter__()
        try:
            if self.data_dir is None:
                tmp = Path(tempfile.mkdtemp(prefix="sopbot-demo-"))
                self._stack.callback(shutil.rmtree, tmp, ignore_errors=True)
                self.data_dir = tmp / "data"
            flows_dir = Path(self.flow.source).parent if self.flow.source else Path("flows")
            self.bot = await self._stack.enter_async_context(live_bot(
                self.flows, self.data_dir, flows_dir=flows_dir, clock=self.clock,
                language=self.language, bot_username="sopbot_demo_bot",
                bot_name="SOP Bot (demo)", dates_from_clock=True, limits=self.limits))
            self.log = ChatLog(self.bot.api, self.t, self.emit)
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    # -- helpers ------------------------------------------------------------------------------

    def stamp(self) -> str:
        pattern = self.t.pgettext("demo clock", "EEE d MMM HH:mm")
        local = self.clock().astimezone(resolve_timezone(self.flow.unit.timezone))
        return "[" + format_datetime(local, pattern, locale=self.t.language) + "]"

    def action(self, line: str) -> None:
        """What an official did, wrapped (a very long text is cut after four lines)."""
        for part in textwrap.wrap(line, WIDTH, subsequent_indent="      ", max_lines=4,
                                  placeholder=" …", break_on_hyphens=False):
            self.emit(part)

    def section(self, title: str) -> None:
        self.emit("")
        self.emit(f"━━ {title} " + "━" * max(3, WIDTH - 4 - len(title)))

    def holder(self, role: str) -> Official:
        return next(o for o in self.officials if o.role == role)

    def failure(self, message: str) -> DemoFailure:
        return DemoFailure(message, self.bot.api.dump())

    def tick(self, delta: timedelta) -> None:
        """Let `delta` of office time pass (nights, weekends and holidays are skipped)."""
        cal = self.flow.unit.calendar()
        self.clock.move_to(cal.add_office_time(self.clock(), delta).replace(second=0,
                                                                             microsecond=0))

    async def time_passed(self) -> None:
        """After the clock moved: the reminders that fell due meanwhile go out now (the bot
        re-plans at once instead of at its next periodic check), and are shown."""
        runtime = self.bot.app.bot_data["runtime"]
        if runtime.scheduler is not None:
            runtime.scheduler.poke()
            await asyncio.sleep(POKE_DELAY + 0.5)  # the re-plan, then the jobs it runs
        await self.settle()
        self.log.poll(show=True)

    def role_title(self, role: str) -> str:
        r = self.flow.role(role)
        return r.title_en if self.t.language == "en" and r.title_en else r.title

    async def join_all(self, holders: dict[str, int], *, show: bool = True) -> None:
        """Every official opens an invitation link (``/start CODE``) made for their role."""
        for role, name in official_names(self.flow, holders):
            code = await asyncio.to_thread(self.bot.invite, self.flow.unit.id, role, name)
            user = self.bot.new_user(name, language=self.language)
            official = Official(len(self.officials) + 1, name, role, self.role_title(role),
                                user)
            self.officials.append(official)
            self.log.add(official)
            await self.say(official, f"/start {code}", show=show)

    async def settle(self, timeout: float = REACTION_TIMEOUT) -> None:
        """Wait until the bot has delivered everything it owes and the line is quiet."""
        try:
            await self.bot.settle(timeout)
        except Unsettled as exc:
            message = ("the bot still owes messages after {seconds} s" if exc.owing
                       else "the bot did not settle within {seconds} s")
            raise self.failure(self.t.gettext(message).format(seconds=int(timeout))) from None

    async def react(self, waiting: Awaitable[T], what: str, *, strict: bool = True) -> T | None:
        """The bot's reaction to an action, or a failure (only a printed note when not
        `strict`, as in the interactive session) if it does not come in time."""
        try:
            return await waiting
        except AssertionError:
            if strict:
                raise self.failure(self.t.gettext("no answer from the bot: {what}").format(
                    what=what)) from None
            self.emit("    " + self.t.gettext("(no answer from the bot)"))
            return None

    # -- what officials do --------------------------------------------------------------------

    async def say(self, official: Official, text: str, *, reply_to: JSON | None = None,
                  show: bool = True, strict: bool = True) -> None:
        """The official writes (optionally as a reply); wait for the bot to answer."""
        _ = self.t.gettext
        if show:
            if reply_to is not None:
                line = _("{when} 👤 {name} replies to #{n}: {text}").format(
                    when=self.stamp(), name=official.name, text=text,
                    n=self.log.number(official.chat, reply_to["message_id"]))
            else:
                line = _("{when} 👤 {name}: {text}").format(when=self.stamp(),
                                                           name=official.name, text=text)
            self.action(line)
        await self.react(self.bot.say(official.user, text, reply_to=reply_to,
                                      timeout=REACTION_TIMEOUT),
                         _("an answer to {name}").format(name=official.name), strict=strict)
        await self.settle()
        self.log.poll(show=show)

    async def press(self, official: Official, message: JSON, index: int = 1, *,
                    strict: bool = True) -> None:
        """The official presses button `index` (1-based) of a bot message."""
        _ = self.t.gettext
        label, _data = self.bot.api.buttons(message)[index - 1]
        self.action(_("{when} 👤 {name} presses “{button}” on #{n}").format(
            when=self.stamp(), name=official.name, button=label,
            n=self.log.number(official.chat, message["message_id"])))
        answer = await self.react(
            self.bot.press(official.user, message, index, timeout=REACTION_TIMEOUT),
            _("the answer to {name}'s button").format(name=official.name), strict=strict)
        await self.settle()
        if answer and answer.get("text"):
            self.log.block(_("🤖 ⇢ {name} (button answer):").format(name=official.name),
                           answer["text"].split("\n"))
        self.log.poll()

    async def send_file(self, official: Official, message: JSON | None, filename: str,
                        content: bytes, *, caption: str | None = None,
                        strict: bool = True) -> None:
        """The official sends a document, as a reply to `message` (a step) if given."""
        _ = self.t.gettext
        if message is not None:
            line = _("{when} 👤 {name} sends {file} as a reply to #{n}").format(
                when=self.stamp(), name=official.name, file=filename,
                n=self.log.number(official.chat, message["message_id"]))
        else:
            line = _("{when} 👤 {name} sends {file}").format(when=self.stamp(),
                                                            name=official.name, file=filename)
        if caption:
            line += " " + _("with the caption “{caption}”").format(caption=caption)
        self.action(line)
        mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        await self.react(
            self.bot.send_file(official.user, filename, content, mime_type=mime,
                               caption=caption, reply_to=message, timeout=REACTION_TIMEOUT),
            _("an answer to {name}").format(name=official.name), strict=strict)
        await self.settle()
        self.log.poll()

    # -- reading the chats --------------------------------------------------------------------

    def open_steps(self, instance: str | None = None, chats: Iterable[int] | None = None,
                   ) -> list[tuple[Official, JSON, tuple[str, int, int]]]:
        """Step messages of the officials whose buttons are still there, oldest first."""
        wanted = list(chats) if chats is not None else list(self.log.officials)
        return [(self.log.officials[chat], msg, (b.instance_id, b.step_no, b.round))
                for chat, msg, b in self.bot.open_steps(wanted, instance)]

    def print_officials(self, current: Official | None = None) -> None:
        for o in self.officials:
            mark = "▶" if o is current else " "
            self.emit(f"  {mark} {o.number}. {o.name} — {o.role_title}")
