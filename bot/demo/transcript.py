"""The demo's transcript: the bot's messages to the officials, numbered per chat, printed
as they appear; edits and whole chats too."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.i18n import LANGUAGES, Translator
from fakeapi import FakeBotApi, FakeUser

JSON = dict[str, Any]
Emit = Callable[[str], None]
WIDTH = 100


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


def body_of(message: JSON) -> str:
    """The text of a message, or the caption of a file."""
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
        # How to answer a step (its last line as sent): left out, marked "[…]".
        self._instructions = {Translator(lang).gettext(text) for lang in LANGUAGES for text in (
            "Press a button, or reply to this message with \"setuju\" or "
            "\"revisi: <reason>\".",
            "When it is done, press the button or reply \"selesai\" to this message.")}

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
        for msg in self.api.messages(None):
            chat = msg["chat"]["id"]
            official = self.officials.get(chat)
            if official is None:
                continue
            key = (chat, msg["message_id"])
            state = (body_of(msg), tuple(FakeBotApi.buttons(msg)))
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
            # A step notification fits a phone screen (issue 12): shown as it was sent, but
            # for how to answer it (the buttons below say it), marked as left out.
            kept = [line for line in lines if line]
            if len(kept) > 1 and kept[-1] in self._instructions:
                kept[-1] = "[…]"
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
        self.block(head, self.render(msg, full=full), indent)

    def emit_edit(self, official: Official, msg: JSON, old_text: str) -> None:
        _ = self.t.gettext
        new = body_of(msg)
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
                if what.startswith("/start "):  # the invitation code stays out of sight
                    what = "/start " + _("<invitation code>")
            reply = msg.get("reply_to_message")
            ref = self.number(official.chat, reply["message_id"]) if reply else None
            if ref is not None:
                self.block(_("👤 you (reply to #{m}):").format(m=ref), [what], "  ")
            else:
                self.block(_("👤 you:"), [what], "  ")
