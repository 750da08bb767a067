"""Fake Telegram Bot API server (standard library only, loopback only).

A test double beside the product package: the end-to-end tests, the benchmarks and the offline
``sopbot demo`` run the real python-telegram-bot stack against :class:`FakeBotApi` over HTTP,
and simulated users (:class:`FakeUser`) write messages, upload files and press inline buttons.
It emulates the Bot API methods sopbot calls, injects faults (:meth:`FakeBotApi.fail_next`)
and, when asked, enforces Telegram's flood limits (:class:`TelegramLimits`).
"""

from ._errors import ApiError
from ._http import UploadedFile
from ._limits import TelegramLimits
from ._media import TINY_PNG, make_png
from ._users import FakeUser
from .server import ApiCall, FakeBotApi

__all__ = [
    "TINY_PNG",
    "ApiCall",
    "ApiError",
    "FakeBotApi",
    "FakeUser",
    "TelegramLimits",
    "UploadedFile",
    "make_png",
]
