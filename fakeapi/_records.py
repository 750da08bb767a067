"""The records the fake server keeps: messages, events, files, faults, callback queries."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ._errors import bad_request

JSON = dict[str, Any]
_LEADING_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(@\w+)?")


def u16len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[JSON]:
    """The ``bot_command`` entity a Telegram client marks on ``/start CODE``.

    PTB's CommandHandler only looks at a command at offset 0, so that is all we mark.
    """
    match = _LEADING_COMMAND.match(text)
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": u16len(match.group(0))}]


@dataclass
class StoredMessage:
    """A message of a chat as the server keeps it."""

    data: JSON
    from_bot: bool


@dataclass
class Event:
    """Something the bot did to a message: ``new`` or ``edit``."""

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
    """Canonical key for a BotCommandScope (a dict, its type, or None) + language_code."""
    if scope is None:
        scope = {"type": "default"}
    elif isinstance(scope, str):
        scope = {"type": scope}
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("unsupported bot command scope type")
    return json.dumps([scope, language_code or ""], sort_keys=True)
