"""Fake Telegram Bot API server (standard library only, loopback only).

Used by the end-to-end tests, the benchmarks and the offline ``sopbot demo``: the real
python-telegram-bot stack talks HTTP to :class:`FakeBotApi`, and simulated users
(:class:`FakeUser`) write messages, upload files and press inline buttons.
"""

from ._errors import ApiError
from ._http import UploadedFile
from ._media import TINY_PNG, make_png
from ._users import FakeUser
from .server import ApiCall, FakeBotApi

__all__ = [
    "TINY_PNG",
    "ApiCall",
    "ApiError",
    "FakeBotApi",
    "FakeUser",
    "UploadedFile",
    "make_png",
]
