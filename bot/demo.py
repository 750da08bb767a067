"""``sopbot demo``: the real bot at work, offline, within a minute of cloning.

The project's fake Telegram Bot API server (:mod:`bot.fakeapi`) listens on 127.0.0.1 and the
REAL bot (``build_application`` + ``running``: python-telegram-bot and its HTTP stack, the
services, TinyDB in a temporary directory) talks to it. Simulated officials join with real
invitation codes (``/start CODE``) and play a complete run of a flow in chat: every step decided
by its role's holder, one revision loop, one attachment, fan-out steps completed by each holder,
and the final ``status``. Time comes from a controllable clock, so deadlines look real.

:func:`play_demo` plays the scripted run and returns the transcript and a summary;
:func:`interactive` is a small terminal REPL against the same local server and bot.
Transcript labels are in the CLI's language (the translator passed in); the bot speaks to the
simulated officials in their Telegram language (Indonesian unless told otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import re
import shutil
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from babel.dates import format_datetime

from bot.bootstrap import build_bot, running
from bot.config import Settings
from bot.engine.calendar import resolve_timezone
from bot.engine.model import Flow, Step
from bot.fakeapi import FakeBotApi, FakeUser
from bot.formatting import format_when
from bot.i18n import LANGUAGES, Translator
from bot.services import Services
from bot.storage import Storage

JSON = dict[str, Any]
Emit = Callable[[str], None]

#: The flow played when none is named, and the year typed in "mulai PK 2025".
DEFAULT_FLOW = "pk-kec-neglasari"
DEFAULT_YEAR = 2025
#: Monday 5 January 2026, 08:00 in the unit's time zone: an ordinary working morning.
START = (2026, 1, 5, 8, 0)
WIDTH = 100
FIRST_USER_ID = 1001
#: How long the bot may take to react to one action before the demo calls it a failure.
REACTION_TIMEOUT = 15.0

_ABBREVIATIONS = (
    ("Sekretaris Camat", "Sekcam"),
    ("Kepala Sub Bagian", "Kasubag"),
    ("Kepala Sub Bidang", "Kasubid"),
    ("Kepala Bagian", "Kabag"),
    ("Kepala Bidang", "Kabid"),
    ("Kepala Badan", "Kaban"),
    ("Kepala Seksi", "Kasi"),
    ("Umum dan Kepegawaian", "Umpeg"),
    ("Perencanaan dan Keuangan", "Perenkeu"),
    ("Perjanjian Kinerja", "PK"),
    ("Penyusunan Program", "Program"),
)
HONORIFICS = ("Bu", "Pak")


class DemoFailure(Exception):
    """The demo could not finish; `dump` is the fake server's account of the traffic."""

    def __init__(self, message: str, dump: str = "") -> None:
        self.message = message
        self.dump = dump
        super().__init__(message)


# --- officials and their names -----------------------------------------------------------------


def short_title(title: str) -> str:
    """How colleagues call the holder of a role: "Sekretaris DPRD (Sekwan)" -> "Sekwan",
    "Sekretaris Camat" -> "Sekcam", "Kasubag TU dan Kepegawaian" -> "Kasubag TU"."""
    paren = re.search(r"\(([^()]+)\)", title)
    if paren and len(paren.group(1).split()) == 1:
        return paren.group(1)
    short = re.sub(r"\s*\([^()]*\)", "", title)
    for long, abbr in _ABBREVIATIONS:
        short = short.replace(long, abbr)
    short = short.split("/")[0].split(",")[0].strip()
    if short.startswith("Tim "):
        short = "Ketua " + short
    if len(short) > 22 and " dan " in short:
        short = short.split(" dan ")[0]
    return short.strip()


def _list_items(title: str) -> list[str]:
    """The jabatan a collective role lists: "Kasi, Kasubag, Lurah dan Staf" -> 4 items;
    "Pejabat Eselon III dan IV" -> "Pejabat Eselon III", "Pejabat Eselon IV"."""
    items: list[str] = []
    for part in re.split(r",|\s+dan\s+", re.sub(r"\s*\([^()]*\)", "", title)):
        item = part.strip()
        if not item:
            continue
        if items and re.fullmatch(r"[IVX]+", item):
            item = items[0].rsplit(" ", 1)[0] + " " + item
        items.append(item)
    return items


def official_names(flow: Flow, holders: dict[str, int]) -> list[tuple[str, str]]:
    """(role id, name) of every simulated official: one per role, or `holders[role]`.

    Names are an honorific and the role's short title ("Bu Camat", "Pak Sekcam"); the holders
    of a collective role take the jabatan it lists ("Bu Kasi", "Pak Lurah").
    """
    roles = [r for r in flow.roles if r.relation is None]
    shorts = {r.id: short_title(r.title) for r in roles}
    names: list[tuple[str, str]] = []
    used: set[str] = set()
    for role in roles:
        n = holders.get(role.id, 1)
        titles = [shorts[role.id]]
        if n > 1:
            others = [s for rid, s in shorts.items() if rid != role.id]
            items = [i for i in _list_items(role.title)
                     if not any(o.startswith(i + " ") for o in others)]
            titles = (items[:n] if len(items) >= n
                      else [f"{shorts[role.id]} {i + 1}" for i in range(n)])
        for title in titles:
            name = f"{HONORIFICS[len(names) % 2]} {title}"
            suffix = 2
            while name in used:
                name = f"{HONORIFICS[len(names) % 2]} {title} {suffix}"
                suffix += 1
            used.add(name)
            names.append((role.id, name))
    return names


def revision_reason(step: Step) -> str:
    """A reason an atasan would write when sending this work back."""
    text = f"{step.title} {step.kelengkapan or ''}"
    if "IKI" in text:
        return ("IKI belum sesuai peta jabatan dan uraian tugas; mohon disesuaikan dulu "
                "sebelum ditandatangani.")
    if "Rencana Aksi" in text or "Renaksi" in text:
        return "Target triwulan Rencana Aksi belum selaras dengan IKU; mohon dilengkapi."
    return ("Target IKU belum selaras dengan Renstra dan DPA 2025; mohon sesuaikan angka "
            "target dan sumber datanya.")


def tiny_pdf(text: str) -> bytes:
    """A small but valid one-page PDF showing `text` (for the demo's attachment)."""
    safe = text.encode("latin-1", "replace").decode("latin-1")
    safe = safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 72 770 Td ({safe}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


@dataclass
class DemoClock:
    """The bot's clock: moved by the demo, never backwards."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def move_to(self, when: datetime) -> None:
        if when > self.now:
            self.now = when


@dataclass
class Official:
    """A simulated official: a Telegram user bound to one role of the unit."""

    number: int
    name: str
    role: str
    role_title: str
    user: FakeUser

    @property
    def chat(self) -> int:
        return self.user.id


@dataclass
class DemoSummary:
    """What the scripted run did, for tests and the closing lines."""

    flow_id: str
    alias: str
    year: int
    officials: list[tuple[str, str]] = field(default_factory=list)  # (name, role title)
    actions: list[tuple[int, int, str, str]] = field(default_factory=list)  # no, round, who, how
    revision_step: int | None = None
    revision_back_to: int | None = None
    revision_reason: str | None = None
    revision_by: str | None = None
    revision_seen_by: list[str] = field(default_factory=list)
    attachment: str | None = None
    attachment_step: int | None = None
    attachment_by: str | None = None
    attachment_forwarded_to: list[str] = field(default_factory=list)
    completed: bool = False
    status_by: str | None = None
    status_text: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float = 0.0

    @property
    def steps_played(self) -> list[int]:
        """Step numbers in the order they were acted on (one per step activation)."""
        seen: list[tuple[int, int]] = []
        for no, rnd, _who, _how in self.actions:
            if (no, rnd) not in seen:
                seen.append((no, rnd))
        return [no for no, _rnd in seen]


@dataclass
class DemoResult:
    lines: list[str]
    summary: DemoSummary


# --- the transcript ------------------------------------------------------------------------------


def _step_data(message: JSON | None) -> list[tuple[str, int, int, str]]:
    """(instance, step, round, action) of the step buttons of a message."""
    found = []
    for _text, data in FakeBotApi.buttons(message):
        parts = (data or "").split(":")
        if len(parts) == 5 and parts[0] == "s" and parts[2].isdigit() and parts[3].isdigit():
            found.append((parts[1], int(parts[2]), int(parts[3]), parts[4]))
    return found


def _body(message: JSON) -> str:
    return message.get("text") or message.get("caption") or ""


class ChatLog:
    """Prints the bot's messages to the officials as they appear, numbered per chat."""

    def __init__(self, api: FakeBotApi, t: Translator, emit: Emit) -> None:
        self.api = api
        self.t = t
        self.emit = emit
        self.officials: dict[int, Official] = {}
        self.numbers: dict[tuple[int, int], int] = {}
        self.by_number: dict[tuple[int, int], int] = {}  # (chat, number) -> message_id
        self._count: dict[int, int] = {}
        self._state: dict[tuple[int, int], tuple[str, tuple[Any, ...]]] = {}
        # Lines of a step notification worth showing, besides its first three.
        deadline = "Deadline: {when} (standard time {waktu})"
        prefixes = {Translator(lang).gettext(deadline).partition("{")[0] for lang in LANGUAGES}
        self._keep = (*sorted(prefixes), "🔁", "📝", "📎")

    def add(self, official: Official) -> None:
        self.officials[official.chat] = official

    def number(self, chat: int, message_id: int) -> int | None:
        return self.numbers.get((chat, message_id))

    def message(self, chat: int, number: int) -> JSON | None:
        """Bot message number `number` of a chat, current state."""
        mid = self.by_number.get((chat, number))
        return None if mid is None else self.api.message(chat, mid)

    def poll(self, *, show: bool = True) -> None:
        """Print every bot message (or edit) not printed yet."""
        for msg in self.api.messages(None, include_deleted=True):
            chat = msg["chat"]["id"]
            official = self.officials.get(chat)
            if official is None:
                continue
            key = (chat, msg["message_id"])
            state = (_body(msg), tuple(FakeBotApi.buttons(msg)))
            if key not in self.numbers:
                self._count[chat] = self._count.get(chat, 0) + 1
                self.numbers[key] = self._count[chat]
                self.by_number[(chat, self._count[chat])] = msg["message_id"]
                self._state[key] = state
                if show:
                    self.emit_message(official, msg)
            elif self._state[key] != state:
                old = self._state[key]
                self._state[key] = state
                if show and old[0] != state[0]:
                    self.emit_edit(official, msg, old[0])

    # -- rendering ------------------------------------------------------------------------------

    def condensed(self, text: str, *, full: bool = False) -> list[str]:
        """The lines of a bot message worth printing.

        A step notification keeps its flow, step number, title, deadline, revision reason,
        note and attachment lines; a status report is kept whole; anything else keeps its
        first paragraph (at most four lines).
        """
        lines = text.split("\n")
        if full or lines[0].startswith("📊"):
            kept = lines[:60]
        elif lines[0].startswith("📋"):
            kept = lines[:3] + [line for line in lines[3:] if line.startswith(self._keep)]
        else:
            # The first paragraph, and the next one when the first is only a heading.
            paragraphs = [p.split("\n") for p in re.split(r"\n\s*\n", text.strip()) if p]
            kept = list(paragraphs[0]) if paragraphs else [""]
            if len(paragraphs) > 1 and len(kept) == 1 and kept[0].endswith(":"):
                kept += paragraphs[1]
            kept = kept[:6]
            if len(kept) < sum(len(p) for p in paragraphs):
                kept[-1] += " …"
        return [line if len(line) <= 400 else line[:399] + "…" for line in kept]

    def render(self, msg: JSON, *, full: bool = False) -> list[str]:
        """The body of a message as printable lines (no header)."""
        body: list[str] = []
        if "document" in msg:
            doc = msg["document"]
            body.append("📎 " + (doc.get("file_name") or "document")
                        + (f" — {msg['caption']}" if msg.get("caption") else ""))
        elif "photo" in msg:
            body.append("🖼 " + (msg.get("caption") or "photo"))
        else:
            body.extend(self.condensed(msg.get("text") or "", full=full))
        buttons = FakeBotApi.buttons(msg)
        if buttons:
            body.append("   ".join(f"[{i}] {text}" for i, (text, _d) in enumerate(buttons, 1)))
        return body

    def block(self, head: str, body: Sequence[str], indent: str = "    ") -> None:
        if len(body) == 1 and len(head) + len(body[0]) < WIDTH:
            self.emit(f"{indent}{head} {body[0]}")
            return
        self.emit(f"{indent}{head}")
        prefix = indent + "   │ "
        for line in body:
            wrapped = textwrap.wrap(line, WIDTH - len(prefix), break_on_hyphens=False,
                                    subsequent_indent="  ") or [""]
            for part in wrapped:
                self.emit(prefix + part)

    def emit_message(self, official: Official, msg: JSON, *, full: bool = False,
                     indent: str = "    ") -> None:
        _ = self.t.gettext
        number = self.numbers[(official.chat, msg["message_id"])]
        head = _("🤖 → {name} #{n}:").format(name=official.name, n=number)
        reply = msg.get("reply_to_message")
        if reply:
            ref = self.number(official.chat, reply["message_id"])
            if ref is not None:
                head = _("🤖 → {name} #{n} (reply to #{m}):").format(
                    name=official.name, n=number, m=ref)
        if msg.get("deleted"):
            head += " " + _("(deleted)")
        self.block(head, self.render(msg, full=full), indent)

    def emit_edit(self, official: Official, msg: JSON, old_text: str) -> None:
        _ = self.t.gettext
        new = _body(msg)
        if new.startswith(old_text.rstrip()):
            added = new[len(old_text.rstrip()):].strip()
        else:
            added = new.rsplit("\n\n", 1)[-1].strip()
        number = self.numbers[(official.chat, msg["message_id"])]
        head = _("✎ {name} #{n} edited:").format(name=official.name, n=number)
        self.block(head, [line for line in added.split("\n") if line.strip()] or ["…"])

    def emit_chat(self, official: Official) -> None:
        """The whole chat of one official, both sides, numbered like the bot's messages."""
        _ = self.t.gettext
        self.emit(_("── chat of {name} ({role}) ──").format(name=official.name,
                                                          role=official.role_title))
        for msg in self.api.history(official.chat):
            if msg.get("deleted"):
                continue
            if msg.get("from", {}).get("is_bot"):
                key = (official.chat, msg["message_id"])
                if key not in self.numbers:
                    self.poll(show=False)
                if key in self.numbers:
                    self.emit_message(official, msg, full=True, indent="  ")
                continue
            if "document" in msg:
                what = "📎 " + (msg["document"].get("file_name") or "")
                if msg.get("caption"):
                    what += f" — {msg['caption']}"
            elif "photo" in msg:
                what = "🖼 " + (msg.get("caption") or "")
            else:
                what = msg.get("text") or ""
            reply = msg.get("reply_to_message")
            ref = self.number(official.chat, reply["message_id"]) if reply else None
            if ref is not None:
                self.block(_("👤 you (reply to #{m}):").format(m=ref), [what], "  ")
            else:
                self.block(_("👤 you:"), [what], "  ")


# --- the bot and the fake Telegram, together ----------------------------------------------------


class DemoSession:
    """The fake Bot API server, the real bot and the simulated officials of one unit.

    Use as ``async with DemoSession(...) as s``: on exit the bot and the server are stopped
    and the temporary data directory is removed (a `data_dir` given by the caller is kept).
    """

    def __init__(self, flows: Sequence[Flow], flow: Flow, *, t: Translator,
                 language: str = "id", emit: Emit = print,
                 data_dir: Path | None = None) -> None:
        self.flows = list(flows)
        self.flow = flow
        self.t = t
        self.language = language
        self.emit = emit
        self.data_dir = data_dir
        tz = resolve_timezone(flow.unit.timezone)
        self.clock = DemoClock(datetime(*START, tzinfo=tz))
        self.officials: list[Official] = []
        self._stack = contextlib.AsyncExitStack()
        self.api: FakeBotApi
        self.store: Storage
        self.services: Services
        self.log: ChatLog

    async def __aenter__(self) -> DemoSession:
        await self._stack.__aenter__()
        try:
            if self.data_dir is None:
                tmp = Path(tempfile.mkdtemp(prefix="sopbot-demo-"))
                self._stack.callback(shutil.rmtree, tmp, ignore_errors=True)
                self.data_dir = tmp / "data"
            self.api = FakeBotApi(bot_username="sopbot_demo_bot", bot_name="SOP Bot (demo)",
                                  clock=lambda: self.clock().timestamp())
            self.api.start()
            self._stack.push_async_callback(asyncio.to_thread, self.api.stop)
            self.log = ChatLog(self.api, self.t, self.emit)
            flows_dir = Path(self.flow.source).parent if self.flow.source else Path("flows")
            settings = Settings(token=self.api.token, api_url=self.api.api_root,
                                data_dir=self.data_dir, flows_dir=flows_dir,
                                language=self.language)
            bot = build_bot(settings, self.flows, clock=self.clock, rate_limit=False,
                            sender_poll_interval=0.2)
            self.store, self.services = bot.store, bot.services
            await self._stack.enter_async_context(running(bot, poll_timeout=1))
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
        return DemoFailure(message, self.api.dump())

    def tick(self, delta: timedelta) -> None:
        """Let `delta` of office time pass (nights, weekends and holidays are skipped)."""
        cal = self.flow.unit.calendar()
        self.clock.move_to(cal.add_office_time(self.clock(), delta).replace(second=0,
                                                                             microsecond=0))

    def role_title(self, role: str) -> str:
        r = self.flow.role(role)
        return r.title_en if self.t.language == "en" and r.title_en else r.title

    async def join_all(self, holders: dict[str, int], *, show: bool = True) -> None:
        """Every official opens an invitation link (``/start CODE``) made for their role."""
        for role, name in official_names(self.flow, holders):
            invite = await asyncio.to_thread(
                self.services.create_invite, unit=self.flow.unit.id, role=role,
                now=self.clock(), name=name)
            number = len(self.officials) + 1
            user = self.api.user(FIRST_USER_ID + number - 1, name,
                                 language_code=self.language)
            official = Official(number, name, role, self.role_title(role), user)
            self.officials.append(official)
            self.log.add(official)
            await self.say(official, f"/start {invite.code}", show=show)

    def _outbox_pending(self) -> bool:
        repo = self.store.read()
        outbox = getattr(repo, "outbox", None)
        return bool(outbox("pending")) if callable(outbox) else False

    async def settle(self, timeout: float = REACTION_TIMEOUT) -> None:
        """Wait until the bot has delivered everything it owes and the line is quiet."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if not await asyncio.to_thread(self._outbox_pending):
                try:
                    await self.api.await_idle(idle=0.1, timeout=max(0.5, deadline - loop.time()))
                except AssertionError:
                    raise self.failure(self.t.gettext(
                        "the bot did not settle within {seconds} s").format(
                        seconds=int(timeout))) from None
                if not await asyncio.to_thread(self._outbox_pending):
                    return
            if loop.time() > deadline:
                raise self.failure(self.t.gettext(
                    "the bot still owes messages after {seconds} s").format(
                    seconds=int(timeout)))
            await asyncio.sleep(0.02)

    async def _react(self, predicate: Callable[[], Any], what: str, *,
                     strict: bool = True) -> Any:
        try:
            return await self.api.await_for(predicate, REACTION_TIMEOUT, what=what)
        except AssertionError:
            if strict:
                raise self.failure(self.t.gettext("no answer from the bot: {what}").format(
                    what=what)) from None
            self.emit("    " + self.t.gettext("(no answer from the bot)"))
            return None

    def _bot_count(self, official: Official) -> int:
        return len(self.api.messages(official.chat, include_deleted=True))

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
        before = self._bot_count(official)
        official.user.send_text(text, reply_to=reply_to)
        await self._react(lambda: self._bot_count(official) > before,
                          _("an answer to {name}").format(name=official.name), strict=strict)
        await self.settle()
        self.log.poll(show=show)

    async def press(self, official: Official, message: JSON, index: int = 1, *,
                    strict: bool = True) -> None:
        """The official presses button `index` (1-based) of a bot message."""
        _ = self.t.gettext
        label, data = FakeBotApi.buttons(message)[index - 1]
        self.action(_("{when} 👤 {name} presses “{button}” on #{n}").format(
            when=self.stamp(), name=official.name, button=label,
            n=self.log.number(official.chat, message["message_id"])))
        assert data is not None
        query = official.user.press(message, data)
        answer = await self._react(lambda: self.api.callback_answer(query),
                                   _("the answer to {name}'s button").format(name=official.name),
                                   strict=strict)
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
        before = self._bot_count(official)
        mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        official.user.send_document(filename, content, mime_type=mime, caption=caption,
                                    reply_to=message)
        await self._react(lambda: self._bot_count(official) > before,
                          _("an answer to {name}").format(name=official.name), strict=strict)
        await self.settle()
        self.log.poll()

    # -- reading the chats --------------------------------------------------------------------

    def open_steps(self, instance: str | None = None,
                   chats: Iterable[int] | None = None,
                   ) -> list[tuple[Official, JSON, tuple[str, int, int]]]:
        """Step messages whose buttons are still there, oldest first."""
        wanted = set(chats) if chats is not None else None
        found = []
        for msg in self.api.messages(None):
            official = self.log.officials.get(msg["chat"]["id"])
            if official is None or (wanted is not None and official.chat not in wanted):
                continue
            data = _step_data(msg)
            if data and (instance is None or data[0][0] == instance):
                inst, no, rnd, _action = data[0]
                found.append((official, msg, (inst, no, rnd)))
        return found

    def print_officials(self, current: Official | None = None) -> None:
        for o in self.officials:
            mark = "▶" if o is current else " "
            self.emit(f"  {mark} {o.number}. {o.name} — {o.role_title}")


# --- the scripted run ----------------------------------------------------------------------------


def _holders_per_role(flow: Flow) -> dict[str, int]:
    """Two holders for roles that act in fan-out steps (each must do their part)."""
    if flow.per_official is not None:
        return {}
    return {s.actor: 2 for s in flow.steps if s.fan_out}


def _status_asker(flow: Flow) -> str:
    """The role that asks for the final status: a Sekretaris among the starters, else the
    first starter."""
    for role in flow.starters:
        if flow.role(role).title.lower().startswith("sekretaris"):
            return role
    return flow.starters[0]


def _attachment_plan(flow: Flow, first_decision: Step | None) -> tuple[int, int]:
    """(step, round) at which a PDF goes with the work: the corrected draft after the
    revision when the revised step is a task, else the first hand-over task."""
    if first_decision is not None and first_decision.on_revise is not None:
        target = flow.step(first_decision.on_revise)
        if not target.is_decision and not target.fan_out:
            return target.no, 2
    for step in flow.sequence[1:]:
        after = flow.successor(step.no)
        if (not step.is_decision and not step.fan_out and after is not None
                and after.actor != step.actor):
            return step.no, 1
    fallback = next((s for s in flow.sequence if not s.is_decision and not s.fan_out),
                    flow.sequence[0])
    return fallback.no, 1


class DemoPlayer:
    """Plays one complete run of the session's flow in chat."""

    def __init__(self, session: DemoSession, year: int) -> None:
        self.s = session
        self.flow = session.flow
        self.year = year
        self.summary = DemoSummary(self.flow.id, self.flow.alias, year)

    def _when(self, step: Step, activated: datetime, nth: int) -> datetime:
        """When a holder acts on a step activated at `activated`: about half its standard
        time later (a second fan-out holder a little after), within office hours."""
        cal = self.flow.unit.calendar()
        due = cal.due(activated, step.waktu)
        span = (due - activated) if due is not None else timedelta(minutes=40)
        span = max(span, timedelta(minutes=4))
        fraction = min(0.9, 0.5 + 0.2 * nth)
        when = cal.next_opening(activated + span * fraction)
        return when.replace(second=0, microsecond=0)

    async def play(self) -> DemoSummary:
        s, flow, t = self.s, self.flow, self.s.t
        _ = t.gettext
        summary = self.summary
        wall = time.monotonic()
        summary.started_at = s.clock()

        s.section(_("Officials join the bot with invitation codes"))
        await s.join_all(_holders_per_role(flow))
        summary.officials = [(o.name, o.role_title) for o in s.officials]

        s.section(_("{alias} {year} is started").format(alias=flow.alias, year=self.year))
        starter = s.holder(flow.starters[0])
        await s.say(starter, f"mulai {flow.alias} {self.year}")

        first_decision = next((st for st in flow.sequence if st.is_decision), None)
        attach_at = _attachment_plan(flow, first_decision)
        s.section(_("The officials work through the steps"))
        instance: str | None = None
        chats: list[int] | None = None
        if flow.per_official is not None:
            # Play one official's procedure: the lowest level's (e.g. the Staf's).
            subject = s.holder(flow.per_official.levels[-1])
            chats = [subject.chat]
            s.emit("    " + _("(one instance per official was started; this demo follows the "
                              "one of {name} and their atasan)").format(name=subject.name))
        activated: dict[tuple[int, int], datetime] = {}
        acted: dict[tuple[int, int], int] = {}
        revised = attached = False
        def finished() -> bool:
            return any(_body(m).startswith("🏁") and f"{flow.alias} {self.year}" in _body(m)
                       for o in s.officials for m in s.api.messages(o.chat))

        for _turn in range(300):
            # The next step's notification, or the news that the flow is complete.
            await s._react(lambda i=instance, c=chats: s.open_steps(i, c) or finished(),
                           _("the next step, or the end of the flow"))
            open_steps = s.open_steps(instance, chats)
            if not open_steps:
                break
            official, msg, (inst, no, rnd) = open_steps[0]
            if instance is None:
                instance, chats = inst, None
            step = flow.step(no)
            key = (no, rnd)
            since = activated.setdefault(key, s.clock())
            s.clock.move_to(self._when(step, since, acted.get(key, 0)))
            acted[key] = acted.get(key, 0) + 1
            if (summary.revision_back_to == no and rnd > 1 and summary.revision_reason
                    and summary.revision_reason in _body(msg)
                    and official.name not in summary.revision_seen_by):
                summary.revision_seen_by.append(official.name)
            if (step.is_decision and not revised and rnd == 1
                    and first_decision is not None and no == first_decision.no):
                reason = revision_reason(step)
                await s.say(official, f"revisi: {reason}", reply_to=msg)
                revised = True
                summary.revision_step, summary.revision_back_to = no, step.on_revise
                summary.revision_reason, summary.revision_by = reason, official.name
                how = "revise"
            elif not attached and key == attach_at and not step.is_decision:
                name = (f"{flow.alias}-{self.year}-draf-revisi.pdf" if rnd > 1
                        else f"{flow.alias}-{self.year}-langkah-{no}.pdf")
                pdf = tiny_pdf(f"{flow.name} {self.year} - {flow.unit.name} - {step.output}")
                await s.send_file(official, msg, name, pdf, caption="selesai")
                attached = True
                summary.attachment, summary.attachment_step = name, no
                summary.attachment_by = official.name
                how = "attach"
            else:
                await s.press(official, msg, 1)
                how = "press"
            summary.actions.append((no, rnd, official.name, how))
        else:
            raise s.failure(_("the flow did not end after 300 actions"))

        summary.completed = finished()
        if summary.attachment:
            summary.attachment_forwarded_to = [
                o.name for o in s.officials if o.name != summary.attachment_by and any(
                    (m.get("document") or {}).get("file_name") == summary.attachment
                    for m in s.api.messages(o.chat))]

        s.section(_("Where does {alias} {year} stand?").format(alias=flow.alias,
                                                               year=self.year))
        asker = s.holder(_status_asker(flow))
        s.clock.move_to(s.clock() + timedelta(minutes=30))
        summary.status_by = asker.name
        before = len(s.api.messages(asker.chat))
        await s.say(asker, f"status {flow.alias} {self.year}")
        replies = [m for m in s.api.messages(asker.chat)[before:] if "📊" in _body(m)]
        if not replies:
            raise s.failure(_("no status report came back"))
        summary.status_text = _body(replies[-1])
        summary.finished_at = s.clock()
        summary.seconds = time.monotonic() - wall
        return summary


def _closing(summary: DemoSummary, flow: Flow, t: Translator, emit: Emit) -> None:
    _ = t.gettext
    emit("")
    emit("━" * WIDTH)
    emit(_("✅ {alias} {year} was played to the end in chat by {n} officials: {actions} "
           "actions, {seconds:.1f} s.").format(alias=flow.alias, year=summary.year,
                                               n=len(summary.officials),
                                               actions=len(summary.actions),
                                               seconds=summary.seconds))
    emit("   " + _("Steps in the order they were acted on: {steps}").format(
        steps=" → ".join(map(str, summary.steps_played))))
    if summary.revision_reason:
        emit("   " + _("Revision: step {step} sent back to step {back} by {name}; the reason "
                       "reached {seen}.").format(step=summary.revision_step,
                                                 back=summary.revision_back_to,
                                                 name=summary.revision_by,
                                                 seen=", ".join(summary.revision_seen_by) or "-"))
    if summary.attachment:
        emit("   " + _("Attachment: {file} from {name} (step {step}) went on to {to}.").format(
            file=summary.attachment, name=summary.attachment_by, step=summary.attachment_step,
            to=", ".join(summary.attachment_forwarded_to) or "-"))
    emit("   " + _("Run it yourself: sopbot demo --interactive   (or: sopbot run with a real "
                   "token)"))


async def play_demo(flows: Sequence[Flow], flow: Flow, *, year: int = DEFAULT_YEAR,
                    t: Translator | None = None, language: str = "id",
                    emit: Emit | None = None, data_dir: Path | None = None) -> DemoResult:
    """Play a complete run of `flow` with the real bot against the fake Bot API.

    Returns the transcript lines (also passed to `emit` as they come) and a summary.
    Raises :class:`DemoFailure` (with the fake server's dump) when something goes wrong;
    the bot, the server and the temporary directory are gone either way.
    """
    t = t or Translator("en")
    _ = t.gettext
    lines: list[str] = []

    def out(line: str) -> None:
        lines.append(line)
        if emit is not None:
            emit(line)

    session = DemoSession(flows, flow, t=t, language=language, emit=out, data_dir=data_dir)
    name = flow.name_en if t.language == "en" and flow.name_en else flow.name
    out(_("sopbot demo — {name} ({alias} {year}), {unit}").format(
        name=name, alias=flow.alias, year=year, unit=flow.unit.name))
    async with session as s:
        out(_("The real bot runs against a local fake Telegram Bot API at {url} (no token, "
              "nothing leaves this machine); simulated time starts {when}.").format(
            url=s.api.api_root, when=format_when(s.clock(), flow.unit.timezone, t)))
        try:
            summary = await DemoPlayer(s, year).play()
        except DemoFailure:
            raise
        except Exception as exc:
            raise DemoFailure(f"{type(exc).__name__}: {exc}", s.api.dump()) from exc
    _closing(summary, flow, t, out)
    return DemoResult(lines, summary)


# --- the interactive REPL ------------------------------------------------------------------------


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
            self._wait(rest)
        elif command == "say":
            if rest:
                await s.say(self.current, rest, strict=False)
        else:
            await s.say(self.current, text, strict=False)
        return True

    def _wait(self, rest: str) -> None:
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

    async def _press(self, rest: str) -> None:
        _ = self.t.gettext
        s = self.s
        parts = rest.split()
        if not parts:
            newest = [m for m in s.api.messages(self.current.chat) if FakeBotApi.buttons(m)]
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
                   "officials have joined with invitation codes:").format(url=s.api.api_root))
            await s.join_all(_holders_per_role(flow), show=False)
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
            raise DemoFailure(f"{type(exc).__name__}: {exc}", s.api.dump()) from exc
    emit(_("Bye: the bot and the local server are stopped."))
    return 0
