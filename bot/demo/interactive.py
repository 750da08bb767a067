"""``sopbot demo --interactive``: a terminal session against the local fake Telegram and the
real bot, where the user types and presses buttons as any of the simulated officials."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.demo.officials import holders_per_role
from bot.demo.scenario import DEFAULT_YEAR
from bot.demo.session import DemoFailure, DemoSession
from bot.demo.transcript import Emit
from bot.engine.model import Flow
from bot.formatting import format_when
from bot.i18n import Translator
from fakeapi import FakeBotApi

JSON = dict[str, Any]


def _help(t: Translator) -> list[str]:
    _ = t.gettext
    return [
        _("Commands:"),
        "  " + _("as N                switch to official N"),
        "  " + _("TEXT                send TEXT as the current official (e.g. mulai PK 2025)"),
        "  " + _("reply N TEXT        reply to bot message #N with TEXT (e.g. reply 3 revisi: "
                 "…)"),
        "  " + _("press N [M]         press button M (default 1) of bot message #N; press "
                 "alone: the newest buttons"),
        "  " + _("send N FILE [TEXT]  send a local file as a reply to message #N, with an "
                 "optional caption"),
        "  " + _("say TEXT            send TEXT even if it looks like a command"),
        "  " + _("wait DURATION       let office time pass, e.g. wait 45m, wait 3h, wait 2d"),
        "  " + _("show                redraw the current chat;  who: list the officials"),
        "  " + _("help                this list;  quit: stop the bot and leave"),
    ]


async def _stdin_lines() -> AsyncIterator[str]:
    """Lines of standard input, read by a daemon thread (EOF ends the iteration)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def reader() -> None:
        try:
            for line in sys.stdin:
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError, RuntimeError):
            pass
        with contextlib.suppress(RuntimeError):  # the loop may be gone already
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=reader, name="sopbot-demo-stdin", daemon=True).start()
    while True:
        line = await queue.get()
        if line is None:
            return
        yield line


async def _lines_of(lines: Iterable[str]) -> AsyncIterator[str]:
    for line in lines:
        yield line


class Repl:
    """The commands of ``sopbot demo --interactive``."""

    COMMANDS = frozenset({"quit", "exit", "q", "help", "?", "who", "officials", "as", "show",
                          "press", "reply", "send", "say", "wait"})
    STEP = timedelta(minutes=5)

    def __init__(self, session: DemoSession, *, echo: bool, prompt: bool) -> None:
        self.s = session
        self.t = session.t
        self.echo = echo
        self.prompt = prompt
        self.current = session.holder(session.flow.starters[0])
        self.busy = False

    def show_prompt(self) -> None:
        if self.prompt:
            sys.stdout.write(f"{self.current.number}:{self.current.name}> ")
            sys.stdout.flush()

    async def watch(self) -> None:
        """Print messages that arrive while nobody types (reminders, others' actions)."""
        while True:
            await asyncio.sleep(0.15)
            if self.busy:
                continue
            before = len(self.s.log.numbers)
            self.s.log.poll()
            if len(self.s.log.numbers) != before:
                self.show_prompt()

    def _message(self, word: str) -> JSON | None:
        _ = self.t.gettext
        if not word.isdigit():
            self.s.emit(_("Give the number of a bot message of this chat (see: show)."))
            return None
        msg = self.s.log.message(self.current.chat, int(word))
        if msg is None:
            self.s.emit(_("{name} has no bot message #{n}.").format(name=self.current.name,
                                                                    n=word))
        return msg

    async def handle(self, line: str) -> bool:
        """Run one command; False to quit."""
        _ = self.t.gettext
        s = self.s
        text = line.strip()
        if not text:
            return True
        if self.echo:
            s.emit(f"» {text}")
        word, _sep, rest = text.partition(" ")
        command = word.lower()
        rest = rest.strip()
        if command in ("quit", "exit", "q"):
            return False
        if command in ("press", "reply", "send", "say") or command not in self.COMMANDS:
            s.tick(self.STEP)  # every action takes a few minutes of the official's day
        if command in ("help", "?"):
            for h in _help(self.t):
                s.emit(h)
        elif command in ("who", "officials"):
            s.print_officials(self.current)
        elif command == "as":
            if not rest.isdigit() or not 1 <= int(rest) <= len(s.officials):
                s.emit(_("Choose an official by number, 1 to {n}:").format(n=len(s.officials)))
                s.print_officials(self.current)
            else:
                self.current = s.officials[int(rest) - 1]
                s.emit(_("You are now {name} ({role}).").format(name=self.current.name,
                                                                role=self.current.role_title))
                waiting = s.open_steps(chats=[self.current.chat])
                if waiting:
                    numbers = ", ".join(f"#{s.log.number(o.chat, m['message_id'])}"
                                        for o, m, _k in waiting)
                    s.emit("  " + _("Waiting for you: {numbers} (press N to act)").format(
                        numbers=numbers))
        elif command == "show":
            s.log.poll()
            s.log.emit_chat(self.current)
        elif command == "press":
            await self._press(rest)
        elif command == "reply":
            number, _sep, words = rest.partition(" ")
            msg = self._message(number)
            if msg is not None and not words.strip():
                s.emit(_("Write the text after the message number."))
            elif msg is not None:
                await s.say(self.current, words.strip(), reply_to=msg, strict=False)
        elif command == "send":
            await self._send(rest)
        elif command == "wait":
            await self._wait(rest)
        elif command == "say":
            if rest:
                await s.say(self.current, rest, strict=False)
        else:
            await s.say(self.current, text, strict=False)
        return True

    async def _wait(self, rest: str) -> None:
        _ = self.t.gettext
        match = re.fullmatch(r"(\d+)\s*([mhd])", rest.strip().lower())
        if not match:
            self.s.emit(_("Usage: wait 45m, wait 3h or wait 2d (office time)."))
            return
        amount, unit = int(match.group(1)), match.group(2)
        if unit == "d":
            cal = self.s.flow.unit.calendar()
            local = self.s.clock().astimezone(cal.tz)
            day = cal.add_working_days(local.date(), amount)
            self.s.clock.move_to(cal.next_opening(local.replace(
                year=day.year, month=day.month, day=day.day)))
        else:
            self.s.tick(timedelta(minutes=amount) if unit == "m" else timedelta(hours=amount))
        self.s.emit(_("It is now {when}.").format(
            when=format_when(self.s.clock(), self.s.flow.unit.timezone, self.t)))
        await self.s.time_passed()

    async def _press(self, rest: str) -> None:
        _ = self.t.gettext
        s = self.s
        parts = rest.split()
        if not parts:
            newest = [m for m in s.bot.api.messages(self.current.chat) if FakeBotApi.buttons(m)]
            if not newest:
                s.emit(_("{name} has no message with buttons.").format(name=self.current.name))
                return
            msg: JSON | None = newest[-1]
            index = 1
        else:
            msg = self._message(parts[0])
            index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 1
        if msg is None:
            return
        buttons = FakeBotApi.buttons(msg)
        if not buttons:
            s.emit(_("Message #{n} has no buttons (any more).").format(n=parts[0]))
            return
        if not 1 <= index <= len(buttons) or buttons[index - 1][1] is None:
            s.emit(_("Message #{n} has buttons 1 to {m}.").format(
                n=s.log.number(self.current.chat, msg["message_id"]), m=len(buttons)))
            return
        await s.press(self.current, msg, index, strict=False)

    async def _send(self, rest: str) -> None:
        _ = self.t.gettext
        s = self.s
        parts = rest.split(maxsplit=2)
        if len(parts) < 2:
            s.emit(_("Usage: send N FILE [caption]"))
            return
        msg = self._message(parts[0])
        if msg is None:
            return
        path = Path(parts[1]).expanduser()
        try:
            content = path.read_bytes()
        except OSError as exc:
            s.emit(_("Cannot read {file}: {error}").format(file=path, error=exc.strerror))
            return
        await s.send_file(self.current, msg, path.name, content,
                          caption=parts[2] if len(parts) > 2 else None, strict=False)


async def interactive(flows: Sequence[Flow], flow: Flow, *, t: Translator | None = None,
                      language: str = "id", year: int = DEFAULT_YEAR,
                      lines: Iterable[str] | None = None, emit: Emit = print,
                      data_dir: Path | None = None, echo: bool | None = None) -> int:
    """A REPL against the local fake Bot API and the real bot; officials already bound.

    `lines` are the commands (default: standard input, line by line; EOF quits).
    Returns the exit status. Raises :class:`DemoFailure` when the bot stops answering.
    """
    t = t or Translator("en")
    _ = t.gettext
    tty = lines is None and sys.stdin.isatty()
    if echo is None:
        echo = not tty
    async with DemoSession(flows, flow, t=t, language=language, emit=emit,
                           data_dir=data_dir) as s:
        try:
            name = flow.name_en if t.language == "en" and flow.name_en else flow.name
            emit(_("sopbot demo (interactive) — {name} ({alias}), {unit}").format(
                name=name, alias=flow.alias, unit=flow.unit.name))
            emit(_("The real bot runs against a local fake Telegram Bot API at {url}; these "
                   "officials have joined with invitation codes:").format(url=s.bot.api.api_root))
            await s.join_all(holders_per_role(flow), show=False)
            repl = Repl(s, echo=echo, prompt=tty)
            s.print_officials(repl.current)
            emit(_("You are {name}. Try: mulai {alias} {year}   then: press   (help lists "
                   "every command)").format(name=repl.current.name, alias=flow.alias,
                                            year=year))
            watcher = asyncio.create_task(repl.watch())
            try:
                repl.show_prompt()
                source = _stdin_lines() if lines is None else _lines_of(lines)
                async for line in source:
                    repl.busy = True
                    try:
                        if not await repl.handle(line):
                            break
                    finally:
                        repl.busy = False
                    repl.show_prompt()
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            s.log.poll()
        except DemoFailure:
            raise
        except Exception as exc:
            raise DemoFailure(f"{type(exc).__name__}: {exc}", s.bot.api.dump()) from exc
    emit(_("Bye: the bot and the local server are stopped."))
    return 0
