"""A fake Telegram Bot API server for end-to-end tests, benchmarks and the offline demo.

Standard library only. It listens on 127.0.0.1 (an ephemeral port by default) and speaks the
Bot API over HTTP the way ``api.telegram.org`` does, so python-telegram-bot's real
``Bot``/``Application`` (and its httpx stack) can run against it::

    with FakeBotApi() as api:
        alice = api.user(1001, "Alice")
        bot = Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
        ...
        alice.send_text("/start")
        reply = await api.await_message(alice, "Selamat datang")
        alice.press(reply, "menu:izin")

The test side (``user()``, ``messages()``, ``wait_for()``, ``fail_next()``...) is plain
thread-safe Python; the bot side is HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import mimetypes
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from ._errors import ApiError, default_description
from ._http import FakeHTTPServer, _Handler, normalize_params, parse_body
from ._limits import LIMITED_METHODS, FloodControl, TelegramLimits
from ._media import image_size
from ._state import (
    JSON,
    ApiState,
    CallbackQueryState,
    Fault,
    StoredMessage,
    command_entities,
    scope_key,
    u16len,
)
from ._users import FakeUser, MessagePredicate, MessageRef, message_id_of

__all__ = ["ApiCall", "FakeBotApi", "FakeUser"]

_LOG = logging.getLogger("fakeapi")
T = TypeVar("T")
ChatRef = int | FakeUser


@dataclass(frozen=True)
class ApiCall:
    """One HTTP call the bot made (kept in :attr:`FakeBotApi.sent_log`).

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


class FakeBotApi(ApiState):
    """A fake Telegram Bot API server plus simulated users.

    Args:
        token: The bot token the server accepts (``<bot id>:<secret>``); other tokens get
            ``401 Unauthorized``.
        bot_username: ``username`` returned by ``getMe``.
        bot_name: ``first_name`` returned by ``getMe``.
        port: TCP port on 127.0.0.1; 0 picks a free ephemeral port.
        clock: Source of unix time for ``date`` fields (override to simulate time).
        limits: Enforce Telegram's flood limits (``True`` for the documented ones, or a
            :class:`TelegramLimits`): messages over them get ``429`` with ``retry_after``.
        limits_clock: Monotonic seconds for the flood limits (real time by default).
    """

    def __init__(
        self,
        token: str = "123:TEST",
        bot_username: str = "sopbot_test_bot",
        *,
        bot_name: str = "SOP Bot",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        limits: bool | TelegramLimits = False,
        limits_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(token, bot_username, bot_name, clock)
        if limits is True:
            limits = TelegramLimits()
        self._flood = FloodControl(limits, limits_clock) if limits else None
        self._requested_port = port
        self._httpd: FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._log: list[ApiCall] = []
        self._faults: list[Fault] = []
        self._users: dict[int, FakeUser] = {}
        self._in_flight = 0
        self._last_activity = time.monotonic()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeBotApi:
        """Start serving in a background thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("FakeBotApi is already running")
        self._stopping.clear()
        httpd = FakeHTTPServer(self._requested_port, self)
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fakeapi-{httpd.server_port}",
            daemon=True,
        )
        self._httpd, self._thread = httpd, thread
        thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server: wake long polls, close all connections, join all threads."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        with self._cond:
            self._touch()
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections(timeout)
        thread.join(timeout)
        self._httpd = self._thread = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> FakeBotApi:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._httpd is not None

    @property
    def port(self) -> int:
        """The TCP port the server listens on (only valid while running)."""
        if self._httpd is None:
            raise RuntimeError("FakeBotApi is not running")
        return self._httpd.server_port

    @property
    def api_root(self) -> str:
        """``http://127.0.0.1:PORT``: methods live at ``<root>/bot<token>/<method>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url`` (PTB appends the token)."""
        return f"{self.api_root}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url`` (PTB appends the token)."""
        return f"{self.api_root}/file/bot"

    @property
    def bot_user(self) -> JSON:
        """The bot's own ``User`` object (as ``getMe`` returns it)."""
        return self._get_me({})

    # ---------------------------------------------------------------- simulation

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "id",
        started: bool = True,
    ) -> FakeUser:
        """Create (or return the existing) simulated user with a private chat (id == user_id).

        With ``started=False`` the user never wrote to the bot: sends to the chat fail with
        ``403 Forbidden: bot can't initiate conversation with a user`` until they do.
        """
        with self._cond:
            existing = self._users.get(user_id)
            if existing is not None:
                return existing
            user = FakeUser(
                self,
                user_id,
                first_name,
                last_name=last_name,
                username=username,
                language_code=language_code,
            )
            self._users[user_id] = user
            self._chats[user_id] = user.chat_dict()
            if started:
                self._started.add(user_id)
            self._touch()
            return user

    def register_chat(
        self,
        chat_id: int,
        *,
        type: str = "group",
        title: str | None = None,
        username: str | None = None,
    ) -> JSON:
        """Make a group/supergroup/channel known so the bot can send to it."""
        if type == "private":
            raise ValueError("use user() for private chats")
        chat: JSON = {"id": chat_id, "type": type, "title": title or f"Chat {chat_id}"}
        if username:
            chat["username"] = username
        with self._cond:
            self._chats[chat_id] = chat
            self._touch()
        return copy.deepcopy(chat)

    def _user_activity(self, user: FakeUser) -> None:
        """The user wrote/pressed something: chat known, bot unblocked, wait cursor reset."""
        self._started.add(user.id)
        if user.id in self._blocked:
            self._set_blocked(user, False)
        self._cursors[user.id] = len(self._events)
        self._last_activity = time.monotonic()

    def _user_message(self, user: FakeUser, content: JSON, reply_to: MessageRef | None) -> JSON:
        with self._cond:
            chat_id = user.id
            reply: JSON | None = None
            if reply_to is not None:
                stored = self._messages.get((chat_id, message_id_of(reply_to)))
                if stored is None:
                    raise ValueError(f"chat {chat_id} has no message {message_id_of(reply_to)}")
                reply = copy.deepcopy(stored.data)
                reply.pop("reply_to_message", None)
            self._user_activity(user)
            message: JSON = {
                "message_id": self._next_message_id(chat_id),
                "from": user.to_dict(),
                "chat": copy.deepcopy(self._chats[chat_id]),
                "date": self._now(),
            }
            if reply is not None:
                message["reply_to_message"] = reply
            message.update(content)
            self._store_message(chat_id, StoredMessage(message, from_bot=False))
            self._push_update("message", copy.deepcopy(message))
            return copy.deepcopy(message)

    def _user_text(self, user: FakeUser, text: str, reply_to: MessageRef | None) -> JSON:
        if not text.strip():
            raise ValueError("Telegram clients cannot send empty messages")
        if u16len(text) > 4096:
            raise ValueError("Telegram clients split texts longer than 4096 characters")
        content: JSON = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        return self._user_message(user, content, reply_to)

    def _user_file(
        self,
        user: FakeUser,
        kind: str,
        data: bytes,
        filename: str | None,
        mime_type: str | None,
        caption: str | None,
        reply_to: MessageRef | None,
    ) -> JSON:
        with self._cond:
            if kind == "photo":
                record = self._new_file("photo", data, size=image_size(data) or (100, 100))
                content: JSON = {"photo": record.as_photo()}
            else:
                mime = mime_type or mimetypes.guess_type(filename or "")[0]
                mime = mime or "application/octet-stream"
                record = self._new_file("document", data, file_name=filename, mime_type=mime)
                content = {"document": record.as_document()}
            if caption:
                content["caption"] = caption
            return self._user_message(user, content, reply_to)

    def _user_press(
        self,
        user: FakeUser,
        message_id: int,
        *,
        callback_data: str | None = None,
        button_text: str | None = None,
        crafted: bool = False,
    ) -> str:
        with self._cond:
            stored = self._messages.get((user.id, message_id))
            if stored is None or not stored.from_bot:
                raise ValueError(f"chat {user.id} has no bot message {message_id}")
            buttons = self.buttons(stored.data)
            if crafted:  # a modified client: any data, on any bot message of the chat
                buttons = [*buttons, ("(crafted)", callback_data)]
            if button_text is not None:
                matches = [data for text, data in buttons if text == button_text]
                if not matches or matches[0] is None:
                    raise ValueError(
                        f"message {message_id} has no callback button {button_text!r}; "
                        f"buttons: {buttons}"
                    )
                callback_data = matches[0]
            if callback_data is None or callback_data not in [data for _, data in buttons]:
                raise ValueError(
                    f"message {message_id} has no button with callback_data "
                    f"{callback_data!r}; buttons: {buttons}"
                )
            self._user_activity(user)
            query_id = f"{user.id}{next(self._counters.queries):08d}"
            self._queries[query_id] = CallbackQueryState(
                query_id, user.id, user.id, message_id, callback_data
            )
            self._push_update(
                "callback_query",
                {
                    "id": query_id,
                    "from": user.to_dict(),
                    "message": copy.deepcopy(stored.data),
                    "chat_instance": str(abs(hash((self.token, user.id))) % 10**18),
                    "data": callback_data,
                },
            )
            return query_id

    def _set_blocked(self, user: FakeUser, blocked: bool) -> None:
        with self._cond:
            if (user.id in self._blocked) == blocked:
                return
            if blocked:
                self._blocked.add(user.id)
            else:
                self._blocked.discard(user.id)
            bot = self._bot_from()
            member = {"status": "member", "user": bot}
            kicked = {"status": "kicked", "user": bot, "until_date": 0}
            self._push_update(
                "my_chat_member",
                {
                    "chat": copy.deepcopy(self._chats[user.id]),
                    "from": user.to_dict(),
                    "date": self._now(),
                    "old_chat_member": member if blocked else kicked,
                    "new_chat_member": kicked if blocked else member,
                },
            )

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
        self, predicate: Callable[[], T], timeout: float = 5.0, *, what: str = "condition"
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
        self, predicate: Callable[[], T], timeout: float = 5.0, *, what: str = "condition"
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

    # ------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = 500,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        delay: float | None = None,
        disconnect: bool = False,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail.

        ``method`` is a Bot API method name (case-insensitive) or ``"*"`` for any method
        except getUpdates.  ``status``: the HTTP/Bot API error code (429 adds
        ``parameters.retry_after`` = ``retry_after`` or 1; 502 answers an HTML page like
        a failing proxy).  ``delay``: seconds to sleep before answering; with
        ``status=None`` the call is *executed* and only its answer is delayed (provokes a
        client timeout for a call that did take effect).  ``disconnect``: close the
        connection without answering (after ``delay``).
        """
        if method != "*" and method.lower() not in self._methods:
            raise ValueError(f"unknown Bot API method {method!r}")
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._cond:
            self._faults.append(
                Fault(method.lower(), status, count, retry_after, description, delay, disconnect)
            )

    def clear_faults(self) -> None:
        """Drop all pending injected faults."""
        with self._cond:
            self._faults.clear()

    def _take_fault(self, method: str) -> Fault | None:
        lowered = method.lower()
        with self._cond:
            for fault in self._faults:
                if fault.method == lowered or (fault.method == "*" and lowered != "getupdates"):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # ---------------------------------------------------------------------- HTTP

    def _handle_http(self, handler: _Handler) -> None:
        started = time.time()
        split = urlsplit(handler.path)
        path = unquote(split.path)
        try:
            body = handler.read_body()
        except (ApiError, ValueError, OSError) as exc:
            handler.close_connection = True
            status = exc.status if isinstance(exc, ApiError) else 400
            handler.respond(
                status,
                json.dumps({"ok": False, "error_code": status, "description": str(exc)}).encode(),
            )
            return
        if path.startswith("/file/bot"):
            self._serve_file(handler, path[len("/file/bot") :], started)
            return
        if not path.startswith("/bot"):
            self._finish(handler, "?", {}, started, error=ApiError(404, "Not Found"))
            return
        token, _, method = path[len("/bot") :].partition("/")
        method = method.strip("/")
        if token != self.token:
            self._finish(handler, method or "?", {}, started, error=ApiError(401, "Unauthorized"))
            return
        entry = self._methods.get(method.lower()) if method else None
        if entry is None:
            self._finish(handler, method or "?", {}, started, error=ApiError(404, "Not Found"))
            return
        name, implementation = entry
        raw: dict[str, Any] = dict(parse_qsl(split.query, keep_blank_values=True))
        try:
            raw.update(parse_body(handler.headers.get("Content-Type"), body))
            params = normalize_params(raw)
        except ApiError as exc:
            self._finish(handler, name, raw, started, error=exc)
            return
        fault = self._take_fault(name)
        tracked = name != "getUpdates"
        if tracked:
            with self._cond:
                self._in_flight += 1
        try:
            if fault is not None and (fault.status is not None or fault.disconnect):
                if fault.delay:
                    self._stopping.wait(fault.delay)
                if fault.disconnect:
                    handler.close_connection = True
                    self._record(name, params, started, 0, description="disconnected")
                    return
                assert fault.status is not None
                raise self._fault_error(fault)
            with self._cond:
                self._check_flood(name, params)
                result = implementation(params)
            if fault is not None and fault.delay:
                self._stopping.wait(fault.delay)
            self._finish(handler, name, params, started, result=result)
        except ApiError as exc:
            self._finish(handler, name, params, started, error=exc)
        except Exception as exc:
            _LOG.exception("fake Bot API crashed in %s", name)
            self._finish(
                handler,
                name,
                params,
                started,
                error=ApiError(500, f"Internal Server Error: {exc!r}"),
            )
        finally:
            if tracked:
                with self._cond:
                    self._in_flight -= 1
                    self._last_activity = time.monotonic()
                    self._touch()

    def _check_flood(self, method: str, params: dict[str, Any]) -> None:
        """With flood limits on, a message over them is refused like Telegram does."""
        if self._flood is None or method.lower() not in LIMITED_METHODS:
            return
        chat = self._chats.get(params.get("chat_id"))  # type: ignore[arg-type]
        if chat is None:
            return  # the method itself answers "chat not found"
        wait = self._flood.admit(chat["id"], private=chat["type"] == "private")
        if wait is not None:
            raise ApiError(
                429, default_description(429, wait), {"retry_after": wait}
            )

    @staticmethod
    def _fault_error(fault: Fault) -> ApiError:
        status = fault.status or 500
        description = fault.description or default_description(status, fault.retry_after)
        if status == 429:
            return ApiError(status, description, {"retry_after": fault.retry_after or 1})
        if status == 502 and fault.description is None:
            page = b"<html><head><title>502 Bad Gateway</title></head></html>"
            return ApiError(status, "Bad Gateway", raw_body=page)
        return ApiError(status, description)

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        started: float,
        status: int,
        *,
        result: Any = None,
        description: str | None = None,
    ) -> None:
        call = ApiCall(
            method=method,
            params=dict(params),
            time=started,
            status=status,
            result=result,
            description=description,
            duration=time.time() - started,
        )
        with self._cond:
            self._log.append(call)
            self._touch()

    def _finish(
        self,
        handler: _Handler,
        method: str,
        params: dict[str, Any],
        started: float,
        *,
        result: Any = None,
        error: ApiError | None = None,
    ) -> None:
        if error is None:
            body = json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()
            self._record(method, params, started, 200, result=copy.deepcopy(result))
            handler.respond(200, body)
            return
        self._record(method, params, started, error.status, description=error.description)
        if error.raw_body is not None:
            handler.respond(error.status, error.raw_body, "text/html")
        else:
            handler.respond(error.status, json.dumps(error.payload(), ensure_ascii=False).encode())

    def _serve_file(self, handler: _Handler, rest: str, started: float) -> None:
        token, _, file_path = rest.partition("/")
        params = {"file_path": file_path}
        if token != self.token:
            self._finish(
                handler, "downloadFile", params, started, error=ApiError(401, "Unauthorized")
            )
            return
        with self._cond:
            record = self._files_by_path.get(file_path)
        if record is None:
            self._finish(handler, "downloadFile", params, started, error=ApiError(404, "Not Found"))
            return
        self._record("downloadFile", params, started, 200, result=len(record.content))
        handler.respond(200, record.content, record.mime_type or "application/octet-stream")
