"""Settings from the environment; every missing or invalid value is reported at once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from bot.i18n import LANGUAGES

DEFAULT_API_URL = "https://api.telegram.org"
TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]{1,}$")


class ConfigError(Exception):
    """The environment does not describe a usable bot; `problems` lists each issue."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Settings:
    """Everything the running bot needs to know about its deployment."""

    token: str
    api_url: str
    data_dir: Path
    flows_dir: Path
    language: str = "id"
    invite_ttl: timedelta = timedelta(days=7)
    escalate_after: int = 2

    @property
    def base_url(self) -> str:
        """PTB's base_url: ``<root>/bot`` (PTB appends ``<token>/<method>``)."""
        return f"{self.api_url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's base_file_url: ``<root>/file/bot``."""
        return f"{self.api_url}/file/bot"


def _api_url(value: str, problems: list[str]) -> str:
    url = value.strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        problems.append(f"TELEGRAM_API_URL: {value!r} is not an http(s) URL such as "
                        f"{DEFAULT_API_URL} (the Bot API server root, without /bot<token>)")
    elif re.search(r"/bot[^/]*$", parsed.path):
        problems.append("TELEGRAM_API_URL: give the server root only; sopbot adds "
                        "/bot<token>/<method> itself")
    return url


def data_dir_from(env: Mapping[str, str]) -> Path:
    """``$SOPBOT_DATA_DIR`` or ``./data``."""
    return Path(env.get("SOPBOT_DATA_DIR") or "data")


def flows_dir_from(env: Mapping[str, str]) -> Path:
    """``$SOPBOT_FLOWS_DIR`` or ``flows/``."""
    return Path(env.get("SOPBOT_FLOWS_DIR") or "flows")


def invite_ttl_from(env: Mapping[str, str], problems: list[str]) -> timedelta:
    """``$SOPBOT_INVITE_TTL_DAYS`` (default 7) as a duration."""
    raw = env.get("SOPBOT_INVITE_TTL_DAYS", "7").strip()
    try:
        days = float(raw)
        if days <= 0:
            raise ValueError
    except ValueError:
        problems.append(f"SOPBOT_INVITE_TTL_DAYS: {raw!r} is not a positive number of days")
        return timedelta(days=7)
    return timedelta(days=days)


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Read the bot's settings; raise :class:`ConfigError` listing every problem."""
    problems: list[str] = []
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        problems.append("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put "
                        "its token in this variable")
    elif not TOKEN_PATTERN.match(token):
        problems.append("TELEGRAM_BOT_TOKEN does not look like a bot token "
                        "(<digits>:<letters>, as @BotFather gives it)")
    api_url = _api_url(env.get("TELEGRAM_API_URL") or DEFAULT_API_URL, problems)
    data_dir = data_dir_from(env)
    if data_dir.exists() and not data_dir.is_dir():
        problems.append(f"SOPBOT_DATA_DIR: {data_dir} exists and is not a directory")
    flows_dir = flows_dir_from(env)
    if not flows_dir.is_dir():
        problems.append(f"SOPBOT_FLOWS_DIR: {flows_dir} is not a directory of flow files")
    language = (env.get("SOPBOT_LANGUAGE") or "id").strip().lower()
    if language not in LANGUAGES:
        problems.append(f"SOPBOT_LANGUAGE: {language!r} is not one of {', '.join(LANGUAGES)}")
    ttl = invite_ttl_from(env, problems)
    raw = env.get("SOPBOT_ESCALATE_AFTER", "2").strip()
    escalate = int(raw) if raw.isdigit() and int(raw) >= 1 else 0
    if not escalate:
        problems.append(f"SOPBOT_ESCALATE_AFTER: {raw!r} is not a whole number of at least 1 "
                        f"(overdue reminders before the atasan is told)")
    if problems:
        raise ConfigError(problems)
    return Settings(token=token, api_url=api_url, data_dir=data_dir, flows_dir=flows_dir,
                    language=language, invite_ttl=ttl, escalate_after=escalate)
