"""Keep secrets out of every output, and keep the log small under attack.

The bot token is part of every Bot API URL (``<root>/bot<token>/<method>``), and libraries put
URLs and tokens in exception texts (python-telegram-bot's ``InvalidToken`` quotes the token,
httpx's errors quote the URL). :func:`redact` replaces the token — the configured one and
anything shaped like a bot token — and the webhook secret by ``<redacted>``;
:func:`install_redaction` puts a filter on every logging handler, so no log line at any level
(tracebacks included) can show them; the CLI's error path prints through :func:`redact` too.

:class:`Throttle` lets a warning that an attacker can trigger at will (a wrong webhook secret,
a refused connection) out at most once per interval, with the count of those held back.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable

__all__ = ["REDACTED", "FaultFilter", "RedactingFilter", "Throttle", "install_redaction",
           "redact"]

REDACTED = "<redacted>"
#: Anything shaped like a bot token: ``<bot id>:<35 characters>`` (BotFather's form).
TOKEN_SHAPE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")

_secrets: set[str] = set()


def add_secrets(secrets: Iterable[str | None]) -> None:
    """Secrets to hide from now on (too short to be meaningful ones are ignored)."""
    _secrets.update(s for s in secrets if s and len(s) >= 6)


def redact(text: str) -> str:
    """`text` without the known secrets or anything shaped like a bot token."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return TOKEN_SHAPE.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record (message, arguments and traceback) without secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record.msg, record.args = redact(message), None
        return True


#: Faults the bot expects and survives (a blocked chat, the Bot API away or busy, the disk
#: full): logged as one line, never a traceback, at most once a minute per kind.
_EXPECTED_TELEGRAM = {"Forbidden", "NetworkError", "TimedOut", "RetryAfter", "Conflict",
                      "TelegramError", "InvalidToken", "ChatMigrated"}


def expected_fault(exc: BaseException, logger: str = "") -> bool:
    """Whether `exc` is a foreseeable fault rather than a bug (its traceback helps no one)."""
    if logger.startswith("telegram.request"):  # the Bot API answered garbage (a 502 page)
        return True
    name, module = type(exc).__name__, type(exc).__module__
    if module.startswith("telegram.error"):
        return name in _EXPECTED_TELEGRAM
    return isinstance(exc, OSError) or name == "StoreError"


class FaultFilter(logging.Filter):
    """A foreseeable fault is one short line without a traceback, and a burst of the same
    fault (an outage, a stranger who blocked the bot) at most one line per `interval`."""

    def __init__(self, interval: float = 60.0) -> None:
        super().__init__()
        self.interval = interval
        self._last: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or record.exc_info[1] is None:
            return True
        exc = record.exc_info[1]
        if not expected_fault(exc, record.name):
            return True
        key = (record.name, type(exc).__name__)
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        held = self._held.pop(key, 0)
        detail = redact(str(exc).splitlines()[0][:200]) if str(exc) else ""
        message = redact(record.getMessage()[:300])
        record.msg = f"{message} ({type(exc).__name__}: {detail})" if detail else \
            f"{message} ({type(exc).__name__})"
        if held:
            record.msg += f"; {held} more like it in the last {now - (last or now):.0f}s"
        record.args = None
        record.exc_info, record.exc_text = None, None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def install_redaction(*secrets: str | None) -> None:
    """Hide `secrets` (and token-shaped text) in every handler of the root logger, and keep
    foreseeable faults to one line (:class:`FaultFilter`)."""
    add_secrets(secrets)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, FaultFilter) for f in handler.filters):
            handler.addFilter(FaultFilter())  # before redaction: it may drop the record
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


class Throttle:
    """At most one log line per `interval` seconds for each key."""

    def __init__(self, interval: float = 60.0) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warn(self, logger: logging.Logger, key: str, message: str, *args: object) -> bool:
        """Log `message` unless `key` was logged less than `interval` ago; True if logged."""
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        held = self._held.pop(key, 0)
        self._last[key] = now
        if held:
            logger.warning(message + " (and %d more like it in the last %.0fs)", *args, held,
                           now - (last or now))
        else:
            logger.warning(message, *args)
        return True
