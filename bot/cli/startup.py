"""What can stop ``sopbot run``/``web`` at start-up, each said in one sentence of the CLI's
language with the variable or command to check — never a traceback, never a secret.

- the data directory is missing and cannot be made, or is read-only (``SOPBOT_DATA_DIR``);
- the database file is empty, damaged or holds records this sopbot cannot read (restore a
  backup with ``sopbot restore``; the file is left untouched);
- Telegram refuses the token, its name does not resolve, a proxy fails
  (``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_API_URL``, ``HTTPS_PROXY``).
"""

from __future__ import annotations

import os
from pathlib import Path

from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut

from bot.i18n import N_, Message
from bot.redact import redact
from bot.storage import StoreError
from bot.storage.store import DB_FILE, BotRunning, Store, validate_file

__all__ = ["open_checked_store", "telegram_problem"]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    cause = exc.__cause__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return redact(str(exc)) or type(exc).__name__


def _data_dir_problem(data_dir: Path, exc: BaseException) -> Message:
    return Message(N_("The data directory {path} cannot be used ({reason}): check "
                      "SOPBOT_DATA_DIR and that the bot's user may write there."),
                   path=str(data_dir), reason=_reason(exc))


def _data_file_problem(path: Path) -> Message | None:
    """A sentence when the database file exists but cannot be the bot's data."""
    try:
        size = path.stat().st_size
        empty = not path.read_bytes().strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return Message(N_("The data file {path} cannot be read ({reason}): check its "
                          "permissions and SOPBOT_DATA_DIR."), path=str(path),
                       reason=_reason(exc))
    if empty:
        return Message(N_("The data file {path} is empty ({size} bytes), so all the bot's "
                          "data is missing; it was left untouched. Restore the last backup "
                          "with \"sopbot restore <backup>\", or delete the file to start "
                          "with no data."), path=str(path), size=size)
    try:
        validate_file(path)
    except StoreError:
        return Message(N_("The data file {path} is damaged or is not a sopbot database; it "
                          "was left untouched. Restore the last backup with \"sopbot "
                          "restore <backup>\" (or move the file away to start with no "
                          "data)."), path=str(path))
    return None


def open_checked_store(data_dir: Path) -> Store | Message:
    """The store on `data_dir`, claimed for the running bot; or the sentence why not."""
    if data_dir.is_dir() and not os.access(data_dir, os.W_OK | os.X_OK):
        return _data_dir_problem(data_dir, PermissionError(13, os.strerror(13)))
    problem = _data_file_problem(data_dir / DB_FILE)
    if problem is not None:
        return problem
    try:
        store = Store(data_dir)
    except (StoreError, OSError) as exc:
        return _data_dir_problem(data_dir, exc)
    try:
        store.claim_running()
    except BotRunning:  # said in the CLI's language (issue 12)
        return Message(N_("Another sopbot is already running on {dir}: stop it first."),
                       dir=str(data_dir))
    except StoreError as exc:
        return Message(N_("{error}"), error=str(exc))
    except OSError as exc:
        return _data_dir_problem(data_dir, exc)
    return store


def telegram_problem(exc: TelegramError, api_url: str) -> Message:
    """Why the bot cannot talk to Telegram, in one sentence with the variable to check."""
    text = f"{exc} {exc.__cause__ or ''}"
    if isinstance(exc, InvalidToken):
        return Message(N_("The Bot API at {url} refused the bot token (401/404): check "
                          "TELEGRAM_BOT_TOKEN, and TELEGRAM_API_URL if you use your own Bot "
                          "API server."), url=api_url)
    if "proxy" in text.lower():
        return Message(N_("The outbound proxy failed while reaching {url}: check HTTPS_PROXY "
                          "(and HTTP_PROXY, NO_PROXY)."), url=api_url)
    if isinstance(exc, NetworkError | TimedOut):
        return Message(N_("Telegram cannot be reached at {url} ({reason}): check "
                          "TELEGRAM_API_URL, the network and HTTPS_PROXY."),
                       url=api_url, reason=_network_reason(exc))
    return Message(N_("The Bot API at {url} refused to start the bot ({reason}): check "
                      "TELEGRAM_API_URL and TELEGRAM_BOT_TOKEN."),
                   url=api_url, reason=redact(str(exc)))


def _network_reason(exc: TelegramError) -> str:
    cause = exc.__cause__
    while cause is not None and cause.__cause__ is not None:
        cause = cause.__cause__
    text = redact(str(cause or exc))
    lowered = text.lower()
    if "name or service not known" in lowered or "nodename" in lowered or \
            "name resolution" in lowered or "getaddrinfo" in lowered:
        return "the name does not resolve"
    if "refused" in lowered:
        return "connection refused"
    return text[:120] or type(exc).__name__
