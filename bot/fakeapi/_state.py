"""State of the fake Bot API and the implementation of the Bot API methods.

Everything here runs with ``self._cond`` (an RLock-based condition) held; the HTTP layer in
:mod:`.server` takes the lock around each method call.
"""

from __future__ import annotations

import copy
import itertools
import json
import mimetypes
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ._errors import ApiError, bad_request, forbidden
from ._formatting import format_text, u16len
from ._http import UploadedFile
from ._media import image_size

JSON = dict[str, Any]

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

# Update types Telegram sends when allowed_updates was never set (or set to []).
DEFAULT_ALLOWED = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "inline_query", "chosen_inline_result",
        "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media",
        "poll", "poll_answer", "my_chat_member", "chat_join_request", "chat_boost",
        "removed_chat_boost",
    }
)  # fmt: skip
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
SCOPE_TYPES = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators",
        "chat", "chat_administrators", "chat_member",
    }
)  # fmt: skip
_BUTTON_ACTIONS = (
    "callback_data", "url", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_URL_RE = re.compile(r"(https?|tg)://\S+")


@dataclass
class StoredMessage:
    """A message of a chat as the server keeps it."""

    data: JSON
    from_bot: bool
    raw_text: str | None = None
    parse_mode: str | None = None
    deleted: bool = False

    def public(self) -> JSON:
        """Deep copy of the Telegram JSON plus the fake-server extras for inspection."""
        view = copy.deepcopy(self.data)
        if self.from_bot:
            view["raw_text"] = self.raw_text
            view["parse_mode"] = self.parse_mode
        if self.deleted:
            view["deleted"] = True
        return view


@dataclass
class Event:
    """Something the bot did to a message: ``new``, ``edit`` or ``delete``."""

    kind: str
    chat_id: int
    message_id: int
    snapshot: JSON


@dataclass
class FileRecord:
    """A file known to the server (uploaded by the bot or by a simulated user)."""

    file_id: str
    file_unique_id: str
    kind: str  # "document" | "photo"
    content: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    def as_document(self) -> JSON:
        doc: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }
        return {k: v for k, v in doc.items() if v is not None}

    def as_photo(self) -> list[JSON]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": len(self.content),
                "width": self.width,
                "height": self.height,
            }
        ]


@dataclass
class Fault:
    """An injected failure for the next ``remaining`` calls of ``method``."""

    method: str
    status: int | None
    remaining: int
    retry_after: int | None
    description: str | None
    delay: float | None
    disconnect: bool


@dataclass
class CallbackQueryState:
    """A callback query created by :meth:`FakeUser.press`."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


@dataclass
class _Counters:
    message_ids: dict[int, int] = field(default_factory=dict)
    files: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    queries: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def scope_key(scope: Any, language_code: Any = "") -> str:
    """Canonical key for a BotCommandScope + language_code combination."""
    if scope is None:
        scope = {"type": "default"}
    elif isinstance(scope, str):
        scope = {"type": scope}
    if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
        raise bad_request("unsupported bot command scope type")
    normal = dict(scope)
    for key in ("chat_id", "user_id"):
        value = normal.get(key)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            normal[key] = int(value)
    return json.dumps([normal, language_code or ""], sort_keys=True)


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
        self._reply_keyboards: dict[int, JSON | None] = {}
        self._chat_actions: list[JSON] = []
        self._bot_texts: dict[str, JSON] = {}
        self._counters = _Counters()
        self._version = 0
        self._async_waiters: set[tuple[Any, Any]] = set()
        self._methods: dict[str, tuple[str, Callable[[JSON], Any]]] = {}
        for name, fn in {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendDocument": lambda p: self._send_file("document", p),
            "sendPhoto": lambda p: self._send_file("photo", p),
            "getFile": self._get_file,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "getChat": self._get_chat,
            "setMyDescription": lambda p: self._set_bot_text("description", p),
            "getMyDescription": lambda p: self._get_bot_text("description", p),
            "setMyShortDescription": lambda p: self._set_bot_text("short_description", p),
            "getMyShortDescription": lambda p: self._get_bot_text("short_description", p),
            "setMyName": lambda p: self._set_bot_text("name", p),
            "getMyName": lambda p: self._get_bot_text("name", p),
            "setChatMenuButton": self._true,
            "getChatMenuButton": lambda p: {"type": "commands"},
        }.items():
            self._methods[name.lower()] = (name, fn)

    # ------------------------------------------------------------------ internals

    def _now(self) -> int:
        return int(self._clock())

    def _touch(self) -> None:
        """Wake every waiter (threads and asyncio tasks). Call with the lock held."""
        self._version += 1
        self._cond.notify_all()
        for loop, event in list(self._async_waiters):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # loop closed
                self._async_waiters.discard((loop, event))

    def _bot_from(self) -> JSON:
        return {k: self._bot_user[k] for k in ("id", "is_bot", "first_name", "username")}

    def _push_update(self, kind: str, payload: JSON) -> JSON | None:
        allowed = set(self._allowed_updates) or DEFAULT_ALLOWED
        if kind not in allowed:
            return None
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self._updates.append(update)
        self._touch()
        return update

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
        self._events.append(Event(kind, chat_id, stored.data["message_id"], stored.public()))
        self._touch()

    def _chat(self, chat_id: Any) -> JSON:
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            for chat in self._chats.values():
                username = chat.get("username")
                if username and f"@{username}" == chat_id and chat["type"] != "private":
                    return chat
            raise bad_request("chat not found")
        chat = self._chats.get(int(chat_id))
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _send_target(self, params: JSON) -> JSON:
        chat = self._chat(params.get("chat_id"))
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
            suffix = PurePosixPath(file_name or "").suffix
            path = f"documents/file_{n}{suffix}"
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

    def _resolve_file(self, kind: str, value: Any, params: JSON) -> FileRecord:
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value[len("attach://") :])
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
            if value.startswith(("http://", "https://")):
                raise bad_request("failed to get HTTP URL content")
            record = self._files.get(value)
            if record is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            if record.kind != kind:
                raise bad_request("type of file mismatch")
            return record
        raise bad_request(f"there is no {kind} in the request")

    @staticmethod
    def _check_inline_keyboard(markup: JSON) -> JSON | None:
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "inline_keyboard" of the '
                "InlineKeyboardMarkup must be an Array of Arrays"
            )
        count = 0
        for row in rows:
            for button in row:
                count += 1
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request(
                        "can't parse inline keyboard button: InlineKeyboardButton must be an "
                        'Object with a String field "text"'
                    )
                if not any(action in button for action in _BUTTON_ACTIONS):
                    raise bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not (
                        1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA
                    ):
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button and not _URL_RE.fullmatch(str(button["url"])):
                    raise bad_request("BUTTON_URL_INVALID")
        if count > 100:
            raise bad_request("reply markup is too long")
        kept = [row for row in rows if row]
        return {"inline_keyboard": copy.deepcopy(kept)} if kept else None

    def _check_markup(self, markup: Any) -> tuple[JSON | None, JSON | None]:
        """Validate reply_markup; returns (inline keyboard or None, reply keyboard or None)."""
        if markup is None:
            return None, None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            return self._check_inline_keyboard(markup), None
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise bad_request("can't parse reply keyboard markup JSON object")
            return None, markup
        if "remove_keyboard" in markup or "force_reply" in markup:
            return None, markup
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _check_edit_markup(self, markup: Any) -> JSON | None:
        inline, other = self._check_markup(markup)
        if other is not None:
            raise bad_request("inline keyboard expected")
        return inline

    def _reply_target(self, chat_id: int, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters")
        if reply is None and "reply_to_message_id" in params:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if reply is None:
            return None
        if not isinstance(reply, dict) or "message_id" not in reply:
            raise bad_request("can't parse reply parameters JSON object")
        target_chat = reply.get("chat_id", chat_id)
        try:
            key = (int(target_chat), int(reply["message_id"]))
        except (TypeError, ValueError):
            raise bad_request("message to be replied not found") from None
        stored = self._messages.get(key)
        if stored is None or stored.deleted:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        snapshot = copy.deepcopy(stored.data)
        snapshot.pop("reply_to_message", None)
        return snapshot

    def _send(
        self,
        chat: JSON,
        content: JSON,
        params: JSON,
        *,
        raw_text: str | None = None,
    ) -> JSON:
        inline, reply_keyboard = self._check_markup(params.get("reply_markup"))
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
        if inline is not None:
            message["reply_markup"] = inline
        if reply_keyboard is not None:
            if "keyboard" in reply_keyboard:
                self._reply_keyboards[chat_id] = copy.deepcopy(reply_keyboard)
            elif reply_keyboard.get("remove_keyboard"):
                self._reply_keyboards[chat_id] = None
        stored = StoredMessage(
            message, from_bot=True, raw_text=raw_text, parse_mode=params.get("parse_mode")
        )
        self._store_message(chat_id, stored)
        return copy.deepcopy(message)

    def _format(self, text: Any, params: JSON, entities_key: str) -> tuple[str, list[JSON]]:
        return format_text(str(text), params.get("parse_mode"), params.get(entities_key))

    def _editable(self, params: JSON) -> tuple[JSON, StoredMessage]:
        if "inline_message_id" in params:
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._send_target(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        stored = self._messages.get((chat["id"], int(message_id)))
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        return chat, stored

    def _edited(self, chat: JSON, stored: StoredMessage) -> JSON:
        stored.data["edit_date"] = self._now()
        self._record_event("edit", chat["id"], stored)
        return copy.deepcopy(stored.data)

    # --------------------------------------------------------------- Bot API methods

    def _true(self, params: JSON) -> bool:
        return True

    def _get_me(self, params: JSON) -> JSON:
        return {
            **self._bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._confirmed_offset = max(self._confirmed_offset, offset)
        elif offset < 0:
            self._updates = self._updates[offset:]
            self._confirmed_offset = (
                self._updates[0]["update_id"] if self._updates else self._next_update_id
            )
        self._touch()

    def _get_updates(self, params: JSON) -> list[JSON]:
        if self._webhook.get("url"):
            raise ApiError(409, CONFLICT_WEBHOOK)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed]
        limit = params.get("limit") or 100
        limit = min(max(int(limit), 1), 100)
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
        if url:
            for key in ("max_connections", "ip_address", "secret_token"):
                if key in params:
                    self._webhook[key] = params[key]
        self._touch()
        return True

    def _delete_webhook(self, params: JSON) -> bool:
        self._webhook = {}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._touch()
        return True

    def _get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if "max_connections" in self._webhook:
            info["max_connections"] = self._webhook["max_connections"]
        if "ip_address" in self._webhook:
            info["ip_address"] = self._webhook["ip_address"]
        if self._allowed_updates:
            info["allowed_updates"] = list(self._allowed_updates)
        return info

    def _send_message(self, params: JSON) -> JSON:
        chat = self._send_target(params)
        text = params.get("text")
        if text is None or not str(text).strip():
            raise bad_request("message text is empty")
        plain, entities = self._format(text, params, "entities")
        if not plain:
            raise bad_request("message text is empty")
        if u16len(plain) > MAX_TEXT:
            raise bad_request("message is too long")
        content: JSON = {"text": plain}
        if entities:
            content["entities"] = entities
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        return self._send(chat, content, params, raw_text=str(text))

    def _caption(self, params: JSON) -> JSON:
        caption = params.get("caption")
        if caption is None or not str(caption).strip():
            return {}
        plain, entities = self._format(caption, params, "caption_entities")
        if u16len(plain) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        content: JSON = {"caption": plain}
        if entities:
            content["caption_entities"] = entities
        return content

    def _send_file(self, kind: str, params: JSON) -> JSON:
        chat = self._send_target(params)
        caption = self._caption(params)
        self._check_markup(params.get("reply_markup"))
        self._reply_target(chat["id"], params)
        record = self._resolve_file(kind, params.get(kind), params)
        content: JSON = (
            {"document": record.as_document()}
            if kind == "document"
            else {"photo": record.as_photo()}
        )
        content.update(caption)
        raw = params.get("caption")
        return self._send(chat, content, params, raw_text=None if raw is None else str(raw))

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
        text = params.get("text")
        if text is None or not str(text).strip():
            raise bad_request("message text is empty")
        plain, entities = self._format(text, params, "entities")
        if u16len(plain) > MAX_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        markup = self._check_edit_markup(params.get("reply_markup"))
        data = stored.data
        if (
            data["text"] == plain
            and data.get("entities", []) == entities
            and data.get("reply_markup") == markup
        ):
            raise bad_request(NOT_MODIFIED)
        data["text"] = plain
        data.pop("entities", None)
        if entities:
            data["entities"] = entities
        data.pop("reply_markup", None)
        if markup:
            data["reply_markup"] = markup
        stored.raw_text = str(text)
        stored.parse_mode = params.get("parse_mode")
        return self._edited(chat, stored)

    def _edit_message_caption(self, params: JSON) -> JSON:
        chat, stored = self._editable(params)
        data = stored.data
        if "document" not in data and "photo" not in data:
            raise bad_request("there is no caption in the message to edit")
        caption = self._caption(params)
        markup = self._check_edit_markup(params.get("reply_markup"))
        if (
            data.get("caption") == caption.get("caption")
            and data.get("caption_entities") == caption.get("caption_entities")
            and data.get("reply_markup") == markup
        ):
            raise bad_request(NOT_MODIFIED)
        for key in ("caption", "caption_entities", "reply_markup"):
            data.pop(key, None)
        data.update(caption)
        if markup:
            data["reply_markup"] = markup
        raw = params.get("caption")
        stored.raw_text = None if raw is None else str(raw)
        stored.parse_mode = params.get("parse_mode")
        return self._edited(chat, stored)

    def _edit_message_reply_markup(self, params: JSON) -> JSON:
        chat, stored = self._editable(params)
        markup = self._check_edit_markup(params.get("reply_markup"))
        if stored.data.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        stored.data.pop("reply_markup", None)
        if markup:
            stored.data["reply_markup"] = markup
        return self._edited(chat, stored)

    def _delete_message(self, params: JSON) -> bool:
        chat = self._send_target(params)
        message_id = params.get("message_id")
        stored = self._messages.get((chat["id"], int(message_id or 0)))
        if stored is None or stored.deleted:
            raise bad_request("message to delete not found")
        stored.deleted = True
        self._record_event("delete", chat["id"], stored)
        return True

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
                "url": params.get("url"),
                "cache_time": params.get("cache_time"),
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
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands")
        clean: list[JSON] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
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

    def _get_my_commands(self, params: JSON) -> list[JSON]:
        key = scope_key(params.get("scope"), params.get("language_code", ""))
        return copy.deepcopy(self._commands.get(key, []))

    def _delete_my_commands(self, params: JSON) -> bool:
        self._commands.pop(scope_key(params.get("scope"), params.get("language_code", "")), None)
        self._touch()
        return True

    def _send_chat_action(self, params: JSON) -> bool:
        chat = self._send_target(params)
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._chat_actions.append({"chat_id": chat["id"], "action": action, "time": self._clock()})
        return True

    def _get_chat(self, params: JSON) -> JSON:
        chat = copy.deepcopy(self._chat(params.get("chat_id")))
        chat.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return chat

    def _set_bot_text(self, kind: str, params: JSON) -> bool:
        value = str(params.get(kind, ""))
        self._bot_texts[json.dumps([kind, params.get("language_code", "")])] = {kind: value}
        return True

    def _get_bot_text(self, kind: str, params: JSON) -> JSON:
        key = json.dumps([kind, params.get("language_code", "")])
        default = {kind: self._bot_user["first_name"] if kind == "name" else ""}
        return dict(self._bot_texts.get(key, default))
