"""Simulated Telegram users that talk to the bot through the fake Bot API."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .server import FakeBotApi

JSON = dict[str, Any]


class HasMessageId(Protocol):
    """Anything with a ``message_id`` (e.g. a ``telegram.Message``)."""

    @property
    def message_id(self) -> int: ...


MessageRef = int | Mapping[str, Any] | HasMessageId
MessagePredicate = Callable[[JSON], Any] | str | re.Pattern[str] | None


def message_id_of(message: MessageRef) -> int:
    """``message_id`` of a message dict or ``telegram.Message``, or the int itself."""
    if isinstance(message, Mapping):
        return int(message["message_id"])
    if isinstance(message, int):
        return message
    return int(message.message_id)


class FakeUser:
    """A Telegram user in a private chat with the bot (chat id == user id).

    Create it with :meth:`FakeBotApi.user`. Every action queues an Update that the bot
    receives through ``getUpdates``; the methods return the Telegram JSON that was queued.
    """

    def __init__(
        self,
        api: FakeBotApi,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "id",
    ) -> None:
        self.api = api
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"

    @property
    def chat_id(self) -> int:
        """The id of the private chat with the bot (same as the user id)."""
        return self.id

    def to_dict(self) -> JSON:
        """The ``User`` JSON object Telegram puts into ``from``."""
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat_dict(self) -> JSON:
        """The private ``Chat`` JSON object."""
        data: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data

    # ----------------------------------------------------------------- actions

    def send_text(self, text: str, *, reply_to: MessageRef | None = None,
                  chat: int | None = None) -> JSON:
        """Send a text message; ``/commands``, urls, @mentions get their entities.

        `chat`: a group registered with ``register_chat`` to write in (default: the private
        chat with the bot)."""
        return self.api._user_text(self, text, reply_to, chat)

    def send_document(
        self,
        filename: str,
        content: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        reply_to: MessageRef | None = None,
    ) -> JSON:
        """Upload a document (the bot can fetch it with getFile + download)."""
        return self.api._user_file(
            self, "document", content, filename, mime_type, caption, reply_to
        )

    def send_photo(
        self,
        content: bytes,
        *,
        caption: str | None = None,
        reply_to: MessageRef | None = None,
    ) -> JSON:
        """Send a photo (``message.photo`` holds one PhotoSize)."""
        return self.api._user_file(self, "photo", content, None, None, caption, reply_to)

    def press(self, message: MessageRef, callback_data: str, *, crafted: bool = False) -> str:
        """Press the inline button with ``callback_data`` on a bot message.

        Raises ValueError if the message (in its current state) has no such button, unless
        ``crafted``: then any data is sent, as a modified client or a stale screen would.
        Returns the callback query id.
        """
        return self.api._user_press(self, message_id_of(message), callback_data=callback_data,
                                    crafted=crafted)

    def press_button(self, message: MessageRef, text: str) -> str:
        """Press the inline button whose label is ``text``; returns the callback query id."""
        return self.api._user_press(self, message_id_of(message), button_text=text)

    def block_bot(self) -> None:
        """Block the bot: sends to this chat fail with 403 until the user writes again."""
        self.api._set_blocked(self, True)

    def unblock_bot(self) -> None:
        """Unblock the bot (also happens implicitly when the user sends anything)."""
        self.api._set_blocked(self, False)

    # ------------------------------------------------------------- inspection

    def messages(self) -> list[JSON]:
        """Bot messages in this chat (current state)."""
        return self.api.messages(self.id)

    def last_message(self) -> JSON | None:
        """The newest bot message in this chat, or None."""
        return self.api.last_message(self.id)

    def wait_for_message(
        self,
        predicate: MessagePredicate = None,
        timeout: float = 5.0,
        *,
        include_edits: bool = False,
    ) -> JSON:
        """See :meth:`FakeBotApi.wait_for_message`."""
        return self.api.wait_for_message(self.id, predicate, timeout, include_edits=include_edits)

    async def await_message(
        self,
        predicate: MessagePredicate = None,
        timeout: float = 5.0,
        *,
        include_edits: bool = False,
    ) -> JSON:
        """See :meth:`FakeBotApi.await_message`."""
        return await self.api.await_message(
            self.id, predicate, timeout, include_edits=include_edits
        )
