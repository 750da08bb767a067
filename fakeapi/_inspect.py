"""What tests and the demo read from the fake Bot API: chats, answers, calls; and waiting.

Everything a reader calls takes the server lock, so it sees a consistent state while the bot
keeps sending from its own thread or event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ._limits import FloodControl
from ._records import JSON, StoredMessage, scope_key
from ._state import ApiState
from ._users import FakeUser, MessagePredicate

T = TypeVar("T")
ChatRef = int | FakeUser



@dataclass(frozen=True)
class ApiCall:
    """One HTTP call the bot made (see :meth:`FakeBotApi.calls`).

    ``params`` are decoded like the Bot API decodes them (ints, bools and JSON objects such
    as ``reply_markup`` are parsed; uploads are :class:`UploadedFile`).  ``result`` is the
    ``result`` of a successful answer; ``description`` the error text otherwise.  ``status``
    is the HTTP status (200 on success, 0 when an injected fault dropped the connection).
    File downloads are logged with ``method="downloadFile"``.
    """

    method: str
    params: dict[str, Any]
    time: float
    status: int
    result: Any = None
    description: str | None = None
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """True if the call was answered with ``{"ok": true}``."""
        return self.status == 200


def _chat_id(chat: ChatRef) -> int:
    return chat.id if isinstance(chat, FakeUser) else int(chat)


def _as_predicate(predicate: MessagePredicate) -> Callable[[JSON], Any]:
    if predicate is None:
        return lambda message: True
    if isinstance(predicate, str):
        needle = predicate
        return lambda message: needle in (message.get("text") or message.get("caption") or "")
    if isinstance(predicate, re.Pattern):
        pattern = predicate
        return lambda message: pattern.search(message.get("text") or message.get("caption") or "")
    return predicate


def _short(value: Any, limit: int = 70) -> str:
    text = (
        repr(value) if not isinstance(value, dict | list) else json.dumps(value, ensure_ascii=False)
    )
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Inspection(ApiState):
    """Reading the server's state, and waiting for the bot to do something."""

    _log: list[ApiCall]
    _in_flight: int
    _last_activity: float
    _flood: FloodControl | None

    # ---------------------------------------------------------------- inspection

    def messages(self, chat_id: ChatRef | None = None) -> list[JSON]:
        """Messages the bot delivered (to one chat or all chats), in send order, current state.

        With flood limits on, a message answered with 429 was not delivered and is not here:
        this is the per-chat order a user would see.
        """
        with self._cond:
            wanted = None if chat_id is None else _chat_id(chat_id)
            return [
                copy.deepcopy(self._messages[(cid, mid)].data)
                for cid, mid in self._bot_order
                if wanted is None or cid == wanted
            ]

    def history(self, chat_id: ChatRef) -> list[JSON]:
        """Every message of a chat (user's and bot's), in order."""
        with self._cond:
            cid = _chat_id(chat_id)
            return [
                copy.deepcopy(self._messages[(cid, mid)].data)
                for mid in self._chat_order.get(cid, [])
            ]

    def last_message(self, chat_id: ChatRef) -> JSON | None:
        """The newest bot message in a chat, current state, or None."""
        found = self.messages(chat_id)
        return found[-1] if found else None

    def message(self, chat_id: ChatRef, message_id: int) -> JSON | None:
        """One message of a chat in its current state, or None."""
        with self._cond:
            stored = self._messages.get((_chat_id(chat_id), message_id))
            return copy.deepcopy(stored.data) if stored else None

    @staticmethod
    def buttons(message: Mapping[str, Any] | None) -> list[tuple[str, str | None]]:
        """Inline keyboard of a message as ``[(text, callback_data), ...]`` (row by row).

        Buttons without callback_data (url buttons...) have ``None`` as data.
        """
        if not message:
            return []
        markup = message.get("reply_markup") or {}
        return [
            (button.get("text", ""), button.get("callback_data"))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]

    @property
    def callback_answers(self) -> list[JSON]:
        """``answerCallbackQuery`` calls: callback_query_id, text, show_alert, user_id,
        chat_id, message_id, data (pressed), time."""
        with self._cond:
            return copy.deepcopy(self._callback_answers)

    def callback_answer(self, callback_query_id: str) -> JSON | None:
        """The answer to one callback query, or None if it was not answered (yet)."""
        with self._cond:
            for answer in self._callback_answers:
                if answer["callback_query_id"] == callback_query_id:
                    return copy.deepcopy(answer)
            return None

    def commands(self, scope: str | JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands set with setMyCommands for exactly this scope/language (no fallback).

        ``scope`` is a BotCommandScope dict, its type (``"all_private_chats"``) or None for
        the default scope.
        """
        with self._cond:
            return copy.deepcopy(self._commands.get(scope_key(scope, language_code), []))

    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by a getUpdates ``offset`` (delivered or not)."""
        with self._cond:
            return copy.deepcopy(self._updates)

    @property
    def confirmed_offset(self) -> int:
        """Highest ``offset`` a getUpdates call confirmed (updates below it are gone)."""
        with self._cond:
            return self._confirmed_offset

    @property
    def webhook_info(self) -> JSON:
        """The webhook set with setWebhook: ``{"url": ...}`` (empty url when none)."""
        with self._cond:
            return {"url": "", **self._webhook}

    @property
    def flood_rejections(self) -> int:
        """How many calls the flood limits answered with 429 (0 when limits are off)."""
        with self._cond:
            return self._flood.rejected if self._flood else 0

    def calls(self, method: str | None = None, *, ok: bool | None = None) -> list[ApiCall]:
        """Every HTTP call the bot made (getUpdates and failed calls too), oldest first,
        filtered by method name (case-insensitive) and/or success."""
        with self._cond:
            return [
                call
                for call in self._log
                if (method is None or call.method.lower() == method.lower())
                and (ok is None or call.ok == ok)
            ]


    def dump(self, chat_id: ChatRef | None = None, *, limit: int = 40) -> str:
        """Readable summary of recent traffic and chat contents, for failure messages."""
        with self._cond:
            lines = ["--- recent Bot API calls (by completion time) ---"]
            calls = [
                call
                for call in self._log
                if not (call.method == "getUpdates" and call.ok and not call.result)
            ][-limit:]
            lines.extend(self._format_call(call) for call in calls)
            if not calls:
                lines.append("(none)")
            lines.append(f"--- unconfirmed updates: {len(self._updates)} ---")
            for update in self._updates[-10:]:
                lines.append("  " + _short(update, 140))
            chats = [_chat_id(chat_id)] if chat_id is not None else list(self._chat_order)
            for cid in chats:
                lines.append(f"--- chat {cid} ---")
                for mid in self._chat_order.get(cid, [])[-limit:]:
                    lines.append("  " + self._format_message(self._messages[(cid, mid)]))
            return "\n".join(lines)

    @staticmethod
    def _format_call(call: ApiCall) -> str:
        finished = call.time + call.duration  # the log is in completion order
        stamp = time.strftime("%H:%M:%S", time.localtime(finished))
        stamp += f".{int(finished * 1000) % 1000:03d}"
        params = ", ".join(f"{k}={_short(v, 60)}" for k, v in call.params.items())
        if call.ok:
            if call.method == "getUpdates":
                outcome = "-> updates " + ", ".join(str(u["update_id"]) for u in call.result)
            elif isinstance(call.result, dict) and "message_id" in call.result:
                outcome = f"-> ok (message_id={call.result['message_id']})"
            else:
                outcome = f"-> ok {_short(call.result, 60)}"
        else:
            outcome = f"-> {call.status} {call.description}"
        return f"{stamp} {call.method}({params}) {outcome}"

    def _format_message(self, stored: StoredMessage) -> str:
        data = stored.data
        who = "bot" if stored.from_bot else f"user {data['from']['first_name']}"
        if "text" in data:
            body = _short(data["text"], 100)
        elif "document" in data:
            body = f"[document {data['document'].get('file_name')}] {data.get('caption', '')}"
        elif "photo" in data:
            body = f"[photo] {data.get('caption', '')}"
        else:
            body = "[other]"
        flags = []
        if self.buttons(data):
            flags.append(
                "buttons: " + " | ".join(f"{text}({cb})" for text, cb in self.buttons(data))
            )
        if "edit_date" in data:
            flags.append("edited")
        suffix = f"  [{'; '.join(flags)}]" if flags else ""
        return f"#{data['message_id']} {who}: {body}{suffix}"

    # ------------------------------------------------------------------- waiting

    def _find_message(
        self, chat_id: int, predicate: MessagePredicate, include_edits: bool
    ) -> JSON | None:
        check = _as_predicate(predicate)
        kinds = ("new", "edit") if include_edits else ("new",)
        start = self._cursors.get(chat_id, 0)
        for index in range(start, len(self._events)):
            event = self._events[index]
            if event.chat_id != chat_id or event.kind not in kinds:
                continue
            if check(copy.deepcopy(event.snapshot)):
                self._cursors[chat_id] = index + 1
                return copy.deepcopy(event.snapshot)
        return None

    def _idle(self, idle: float) -> bool:
        return (
            not self._updates
            and self._in_flight == 0
            and time.monotonic() - self._last_activity >= idle
        )

    def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 5.0, *, what: str = "condition"
    ) -> T:
        """Block until ``predicate()`` returns something truthy and return it.

        The predicate runs with the server lock held (it may call inspection methods).
        Raises AssertionError with :meth:`dump` on timeout.  Do not call this from the event
        loop that runs the bot: use :meth:`await_for` there.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "blocking wait_* called inside a running event loop would freeze the bot "
                "running in it; use the await_* variants"
            )
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{what} not met within {timeout}s\n{self.dump()}")
                self._cond.wait(min(remaining, 0.05))

    async def await_for(
        self, predicate: Callable[[], T | None], timeout: float = 5.0, *, what: str = "condition"
    ) -> T:
        """Async :meth:`wait_for`: lets the event loop (and the bot in it) run meanwhile."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        deadline = loop.time() + timeout
        with self._cond:
            self._async_waiters.add(waiter)
        try:
            while True:
                event.clear()
                with self._cond:
                    value = predicate()
                if value:
                    return value
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise AssertionError(f"{what} not met within {timeout}s\n{self.dump()}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), min(remaining, 0.05))
        finally:
            with self._cond:
                self._async_waiters.discard(waiter)

    def wait_for_message(
        self,
        chat_id: ChatRef,
        predicate: MessagePredicate = None,
        timeout: float = 5.0,
        *,
        include_edits: bool = False,
    ) -> JSON:
        """Block until the bot sends a new message to the chat that matches, and return it.

        ``predicate``: None (any message), a substring of text/caption, a compiled regex
        (searched in text/caption) or a callable taking the message dict.

        Each chat has a read cursor: a simulated user action moves it to "now", a match
        moves it past the matched message.  So replies sent between the user action and
        this call are found, and successive calls return successive messages.  With
        ``include_edits`` edits of bot messages count too (the snapshot after the edit).
        """
        cid = _chat_id(chat_id)
        return self.wait_for(
            lambda: self._find_message(cid, predicate, include_edits),
            timeout,
            what=f"bot message in chat {cid} matching {predicate!r}",
        )

    async def await_message(
        self,
        chat_id: ChatRef,
        predicate: MessagePredicate = None,
        timeout: float = 5.0,
        *,
        include_edits: bool = False,
    ) -> JSON:
        """Async :meth:`wait_for_message` (use this in tests that run PTB in the loop)."""
        cid = _chat_id(chat_id)
        return await self.await_for(
            lambda: self._find_message(cid, predicate, include_edits),
            timeout,
            what=f"bot message in chat {cid} matching {predicate!r}",
        )

    def wait_until_idle(self, idle: float = 0.2, timeout: float = 5.0) -> None:
        """Block until all updates are confirmed, no call is running and nothing happened
        for ``idle`` seconds (getUpdates polling does not count as activity)."""
        self.wait_for(lambda: self._idle(idle), timeout, what=f"idle for {idle}s")

    async def await_idle(self, idle: float = 0.2, timeout: float = 5.0) -> None:
        """Async :meth:`wait_until_idle`."""
        await self.await_for(lambda: self._idle(idle), timeout, what=f"idle for {idle}s")
