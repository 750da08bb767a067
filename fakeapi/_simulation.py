"""Simulated Telegram users: what they write, upload and press becomes updates for the bot."""

from __future__ import annotations

import copy
import mimetypes
import time
from typing import TYPE_CHECKING, cast

from ._inspect import Inspection
from ._media import image_size
from ._records import JSON, CallbackQueryState, StoredMessage, command_entities, u16len
from ._users import FakeUser, MessageRef, message_id_of

if TYPE_CHECKING:
    from .server import FakeBotApi


class Simulation(Inspection):
    """The users' side of the chats."""

    _users: dict[int, FakeUser]


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
                cast("FakeBotApi", self),
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

    def _user_message(self, user: FakeUser, content: JSON, reply_to: MessageRef | None,
                      chat: int | None = None) -> JSON:
        with self._cond:
            chat_id = user.id if chat is None else chat
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

    def _user_text(self, user: FakeUser, text: str, reply_to: MessageRef | None,
                   chat: int | None = None) -> JSON:
        if not text.strip():
            raise ValueError("Telegram clients cannot send empty messages")
        if u16len(text) > 4096:
            raise ValueError("Telegram clients split texts longer than 4096 characters")
        content: JSON = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        return self._user_message(user, content, reply_to, chat)

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
