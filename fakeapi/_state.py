"""State of the fake Bot API and the Bot API methods sopbot calls.

Only what the bot uses is emulated: getMe, getUpdates, setWebhook/deleteWebhook, sendMessage,
sendDocument, sendPhoto, getFile (and the file download), editMessageText,
editMessageReplyMarkup, answerCallbackQuery and setMyCommands. The bot sends plain text (no
``parse_mode``), so texts are stored as sent. Everything here runs with ``self._cond`` (an
RLock-based condition) held; the HTTP layer in :mod:`.server` takes the lock around each call.
"""

from __future__ import annotations

import copy
import mimetypes
import re
import threading
import time
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from ._errors import ApiError, bad_request, forbidden
from ._http import UploadedFile
from ._media import image_size
from ._records import (
    JSON,
    CallbackQueryState,
    Event,
    FileRecord,
    StoredMessage,
    _Counters,
    scope_key,
    u16len,
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024

CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"

_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
class ApiState:
    """Chats, messages, files, updates and the Bot API methods working on them."""

    def __init__(self, token: str, bot_username: str, bot_name: str, clock: Callable[[], float]):
        bot_id, sep, _secret = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError(f"token must look like '<bot id>:<secret>', got {token!r}")
        self.token = token
        self._clock = clock
        self._bot_user: JSON = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self._cond = threading.Condition(threading.RLock())
        self._stopping = threading.Event()
        self._chats: dict[int, JSON] = {}
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._messages: dict[tuple[int, int], StoredMessage] = {}
        self._chat_order: dict[int, list[int]] = {}
        self._bot_order: list[tuple[int, int]] = []
        self._events: list[Event] = []
        self._cursors: dict[int, int] = {}
        self._updates: list[JSON] = []
        self._next_update_id = 1
        self._confirmed_offset = 0
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._files: dict[str, FileRecord] = {}
        self._files_by_path: dict[str, FileRecord] = {}
        self._queries: dict[str, CallbackQueryState] = {}
        self._callback_answers: list[JSON] = []
        self._commands: dict[str, list[JSON]] = {}
        self._webhook: JSON = {}
        self._counters = _Counters()
        self._async_waiters: set[tuple[Any, Any]] = set()
        self._methods: dict[str, tuple[str, Callable[[JSON], Any]]] = {}
        for name, fn in {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "sendMessage": self._send_message,
            "sendDocument": lambda p: self._send_file("document", p),
            "sendPhoto": lambda p: self._send_file("photo", p),
            "getFile": self._get_file,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
        }.items():
            self._methods[name.lower()] = (name, fn)

    # ------------------------------------------------------------------ internals

    def _now(self) -> int:
        return int(self._clock())

    def _touch(self) -> None:
        """Wake every waiter (threads and asyncio tasks). Call with the lock held."""
        self._cond.notify_all()
        for loop, event in list(self._async_waiters):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # loop closed
                self._async_waiters.discard((loop, event))

    def _bot_from(self) -> JSON:
        return {k: self._bot_user[k] for k in ("id", "is_bot", "first_name", "username")}

    def _push_update(self, kind: str, payload: JSON) -> None:
        if self._allowed_updates and kind not in self._allowed_updates:
            return
        self._updates.append({"update_id": self._next_update_id, kind: payload})
        self._next_update_id += 1
        self._touch()

    def _next_message_id(self, chat_id: int) -> int:
        mid = self._counters.message_ids.get(chat_id, 0) + 1
        self._counters.message_ids[chat_id] = mid
        return mid

    def _store_message(self, chat_id: int, stored: StoredMessage) -> None:
        mid = stored.data["message_id"]
        self._messages[(chat_id, mid)] = stored
        self._chat_order.setdefault(chat_id, []).append(mid)
        if stored.from_bot:
            self._bot_order.append((chat_id, mid))
            self._record_event("new", chat_id, stored)

    def _record_event(self, kind: str, chat_id: int, stored: StoredMessage) -> None:
        self._events.append(
            Event(kind, chat_id, stored.data["message_id"], copy.deepcopy(stored.data))
        )
        self._touch()

    def _send_target(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if chat["id"] in self._blocked:
            raise forbidden("bot was blocked by the user")
        if chat["type"] == "private" and chat["id"] not in self._started:
            raise forbidden("bot can't initiate conversation with a user")
        return chat

    def _new_file(
        self,
        kind: str,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        size: tuple[int, int] | None = None,
    ) -> FileRecord:
        n = next(self._counters.files)
        if kind == "photo":
            path = f"photos/file_{n}.jpg"
        else:
            path = f"documents/file_{n}{PurePosixPath(file_name or '').suffix}"
        width, height = size or (0, 0)
        record = FileRecord(
            file_id=f"F{kind[:3].upper()}{n:06d}-{self._bot_user['id']}",
            file_unique_id=f"U{n:06d}",
            kind=kind,
            content=content,
            file_path=path,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._files[record.file_id] = record
        self._files_by_path[record.file_path] = record
        return record

    def _resolve_file(self, kind: str, value: Any) -> FileRecord:
        """An uploaded file becomes a new record; a file_id names a known one."""
        if isinstance(value, UploadedFile):
            if not value.content:
                raise bad_request("file must be non-empty")
            if kind == "photo":
                size = image_size(value.content)
                if size is None:
                    raise bad_request("IMAGE_PROCESS_FAILED")
                return self._new_file("photo", value.content, size=size)
            name = value.filename or "document"
            mime = value.content_type or mimetypes.guess_type(name)[0]
            return self._new_file("document", value.content, file_name=name, mime_type=mime)
        if isinstance(value, str) and value:
            record = self._files.get(value)
            if record is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            if record.kind != kind:
                raise bad_request("type of file mismatch")
            return record
        raise bad_request(f"there is no {kind} in the request")

    @staticmethod
    def _check_markup(markup: Any) -> JSON | None:
        """Validate an inline keyboard or a ForceReply (the markups sopbot sends); None
        removes it."""
        if markup is None:
            return None
        if isinstance(markup, dict) and markup.get("force_reply") is True:
            return {k: markup[k] for k in ("force_reply", "selective", "input_field_placeholder")
                    if k in markup}
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard markup JSON object")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request("can't parse inline keyboard button")
                data = button.get("callback_data")
                if "url" not in button and not (
                    isinstance(data, str) and 1 <= len(data.encode()) <= MAX_CALLBACK_DATA
                ):
                    raise bad_request("BUTTON_DATA_INVALID")
        kept = [row for row in rows if row]
        return {"inline_keyboard": copy.deepcopy(kept)} if kept else None

    def _reply_target(self, chat_id: int, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters")
        if reply is None and "reply_to_message_id" in params:
            reply = {"message_id": params["reply_to_message_id"]}
        if reply is None:
            return None
        if not isinstance(reply, dict) or "message_id" not in reply:
            raise bad_request("can't parse reply parameters JSON object")
        stored = self._messages.get((chat_id, int(reply["message_id"])))
        if stored is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        snapshot = copy.deepcopy(stored.data)
        snapshot.pop("reply_to_message", None)
        return snapshot

    def _send(self, chat: JSON, content: JSON, params: JSON) -> JSON:
        inline = self._check_markup(params.get("reply_markup"))
        reply = self._reply_target(chat["id"], params)
        chat_id = chat["id"]
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "from": self._bot_from(),
            "chat": copy.deepcopy(chat),
            "date": self._now(),
        }
        if reply is not None:
            message["reply_to_message"] = reply
        message.update(content)
        if inline is not None and inline.get("force_reply"):
            # Telegram does not echo a ForceReply; kept under its own key for inspection
            message["force_reply"] = inline
        elif inline is not None:
            message["reply_markup"] = inline
        self._store_message(chat_id, StoredMessage(message, from_bot=True))
        return copy.deepcopy(message)

    def _editable(self, params: JSON) -> tuple[JSON, StoredMessage]:
        chat = self._send_target(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        stored = self._messages.get((chat["id"], int(message_id)))
        if stored is None:
            raise bad_request("message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        return chat, stored

    def _edited(self, chat: JSON, stored: StoredMessage) -> JSON:
        stored.data["edit_date"] = self._now()
        self._record_event("edit", chat["id"], stored)
        return copy.deepcopy(stored.data)

    # --------------------------------------------------------------- Bot API methods

    def _get_me(self, params: JSON) -> JSON:
        return {
            **self._bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._confirmed_offset = max(self._confirmed_offset, offset)
        self._touch()

    def _get_updates(self, params: JSON) -> list[JSON]:
        if self._webhook.get("url"):
            raise ApiError(409, CONFLICT_WEBHOOK)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed]
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(0.0, float(params.get("timeout") or 0))
        self._poll_generation += 1
        generation = self._poll_generation
        if params.get("offset"):
            self._confirm(int(params["offset"]))
        else:
            self._touch()  # wakes (and thereby terminates) an older long poll
        deadline = time.monotonic() + timeout
        while True:
            if self._poll_generation != generation:
                raise ApiError(409, CONFLICT_POLL)
            if self._updates or self._stopping.is_set():
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
        return copy.deepcopy(self._updates[:limit])

    def _set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = [str(a) for a in params["allowed_updates"]]
        self._webhook = {"url": url} if url else {}
        if url and "secret_token" in params:
            self._webhook["secret_token"] = params["secret_token"]
        self._touch()
        return True

    def _delete_webhook(self, params: JSON) -> bool:
        self._webhook = {}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._touch()
        return True

    def _send_message(self, params: JSON) -> JSON:
        chat = self._send_target(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise bad_request("message text is empty")
        if u16len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return self._send(chat, {"text": text}, params)

    def _send_file(self, kind: str, params: JSON) -> JSON:
        chat = self._send_target(params)
        caption = str(params.get("caption") or "")
        if u16len(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        self._check_markup(params.get("reply_markup"))
        self._reply_target(chat["id"], params)
        record = self._resolve_file(kind, params.get(kind))
        content: JSON = (
            {"document": record.as_document()}
            if kind == "document"
            else {"photo": record.as_photo()}
        )
        if caption.strip():
            content["caption"] = caption
        return self._send(chat, content, params)

    def _get_file(self, params: JSON) -> JSON:
        record = self._files.get(str(params.get("file_id", "")))
        if record is None:
            raise bad_request("invalid file_id")
        if len(record.content) > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": len(record.content),
            "file_path": record.file_path,
        }

    def _edit_message_text(self, params: JSON) -> JSON:
        chat, stored = self._editable(params)
        if "text" not in stored.data:
            raise bad_request("there is no text in the message to edit")
        text = str(params.get("text") or "")
        if not text.strip():
            raise bad_request("message text is empty")
        if u16len(text) > MAX_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        markup = self._check_markup(params.get("reply_markup"))
        data = stored.data
        if data["text"] == text and data.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        data["text"] = text
        data.pop("reply_markup", None)
        if markup:
            data["reply_markup"] = markup
        return self._edited(chat, stored)

    def _edit_message_reply_markup(self, params: JSON) -> JSON:
        chat, stored = self._editable(params)
        markup = self._check_markup(params.get("reply_markup"))
        if stored.data.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        stored.data.pop("reply_markup", None)
        if markup:
            stored.data["reply_markup"] = markup
        return self._edited(chat, stored)

    def _answer_callback_query(self, params: JSON) -> bool:
        query = self._queries.get(str(params.get("callback_query_id", "")))
        if query is None or query.answered:
            raise bad_request(QUERY_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        self._callback_answers.append(
            {
                "callback_query_id": query.id,
                "text": text,
                "show_alert": bool(params.get("show_alert", False)),
                "user_id": query.user_id,
                "chat_id": query.chat_id,
                "message_id": query.message_id,
                "data": query.data,
                "time": self._clock(),
            }
        )
        self._touch()
        return True

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        clean: list[JSON] = []
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            description = str(command.get("description", "")) if name else ""
            if not _COMMAND_RE.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        key = scope_key(params.get("scope"), params.get("language_code", ""))
        if clean:
            self._commands[key] = clean
        else:
            self._commands.pop(key, None)
        self._touch()
        return True
