"""Settings from the environment; every missing or invalid value is reported at once."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from bot.i18n import LANGUAGES, N_, Message

DEFAULT_API_URL = "https://api.telegram.org"
TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]{1,}$")
#: Ten years: longer is a typo (and 1e10 days overflows a date).
MAX_INVITE_TTL_DAYS = 3650
MAX_ESCALATE_AFTER = 1000
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


Gettext = Callable[[str], str]


class ConfigProblem(str):
    """One configuration problem: its English text (it *is* that ``str``), plus the
    ``N_()``-marked `template` and the `params` that fill it, for :meth:`render`."""

    template: str
    params: dict[str, str | int]

    def __new__(cls, template: str, /, **params: str | int) -> ConfigProblem:
        problem = super().__new__(cls, template.format(**params))
        problem.template = template
        problem.params = params
        return problem

    @property
    def message(self) -> Message:
        """The problem as the project's one translatable message type."""
        return Message(self.template, **self.params)

    def render(self, gettext: Gettext) -> str:
        """The problem in the language of `gettext`: translate the template, then fill it."""
        return self.message.render(gettext)


def problem_message(problem: str) -> Message:
    """A problem as a Message; plain text passes through as ``{error}``."""
    if isinstance(problem, ConfigProblem):
        return problem.message
    return Message(N_("{error}"), error=str(problem))


def problem_item(problem: str) -> tuple[str, dict[str, str | int]]:
    """``(template, params)`` of a problem (the pair older callers read)."""
    if isinstance(problem, ConfigProblem):
        return problem.template, dict(problem.params)
    return N_("{error}"), {"error": str(problem)}


def render_problems(problems: Iterable[str], gettext: Gettext) -> list[str]:
    """Each problem (from :func:`invite_ttl_from` and the like) in the language of `gettext`."""
    return [problem_message(p).render(gettext) for p in problems]


class ConfigError(Exception):
    """The environment does not describe a usable bot; `problems` lists each issue.

    `problems` holds the English texts; `messages` the same problems as Messages, which
    :meth:`render` shows in any language (`items`: as ``(template, params)`` pairs).
    """

    def __init__(self, problems: Iterable[str]) -> None:
        problems = list(problems)
        self.problems: list[str] = [str(p) for p in problems]
        self.messages: list[Message] = [problem_message(p) for p in problems]
        self.items: list[tuple[str, dict[str, str | int]]] = [problem_item(p) for p in problems]
        super().__init__("\n".join(self.problems))

    def render(self, gettext: Gettext) -> list[str]:
        """Every problem in the language of `gettext`."""
        return [m.render(gettext) for m in self.messages]


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
    undo_minutes: int = 10  # how long a decision may be withdrawn (tarik kembali)

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
        problems.append(ConfigProblem(
            N_("TELEGRAM_API_URL: {value!r} is not an http(s) URL such as {example} (the Bot "
               "API server root, without /bot<token>)"),
            value=value, example=DEFAULT_API_URL))
    elif re.search(r"/bot[^/]*$", parsed.path):
        problems.append(ConfigProblem(
            N_("TELEGRAM_API_URL: give the server root only; sopbot adds /bot<token>/<method> "
               "itself")))
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
    except ValueError:
        days = math.nan
    if not days > 0:  # also nan
        problems.append(ConfigProblem(
            N_("SOPBOT_INVITE_TTL_DAYS: {value!r} is not a positive number of days"), value=raw))
        return timedelta(days=7)
    if not days <= MAX_INVITE_TTL_DAYS:  # also inf
        problems.append(ConfigProblem(
            N_("SOPBOT_INVITE_TTL_DAYS: {value!r} is too long; give at most {most} days"),
            value=raw, most=MAX_INVITE_TTL_DAYS))
        return timedelta(days=7)
    return timedelta(days=days)


OVERSIGHT_UNIT_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def oversight_from(env: Mapping[str, str], problems: list[str],
                   unit_ids: Iterable[str] = ()) -> tuple[str, str | None] | None:
    """``$SOPBOT_OVERSIGHT_UNIT`` (the oversight unit's id, not one of `unit_ids`) and
    ``$SOPBOT_OVERSIGHT_NAME``; None when no oversight unit is declared."""
    raw = env.get("SOPBOT_OVERSIGHT_UNIT", "").strip()
    if not raw:
        return None
    if not OVERSIGHT_UNIT_ID.match(raw):
        problems.append(ConfigProblem(
            N_("SOPBOT_OVERSIGHT_UNIT: {value!r} is not a unit id (lowercase letters, digits "
               "and '-')"), value=raw))
        return None
    if raw in set(unit_ids):
        problems.append(ConfigProblem(
            N_("SOPBOT_OVERSIGHT_UNIT: {value!r} is already a unit of the flows; give the "
               "oversight unit its own id"), value=raw))
        return None
    return raw, (env.get("SOPBOT_OVERSIGHT_NAME") or "").strip() or None


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Read the bot's settings; raise :class:`ConfigError` listing every problem."""
    problems: list[str] = []
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        problems.append(ConfigProblem(
            N_("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token "
               "in this variable")))
    elif not TOKEN_PATTERN.match(token):
        problems.append(ConfigProblem(
            N_("TELEGRAM_BOT_TOKEN does not look like a bot token (<digits>:<letters>, as "
               "@BotFather gives it)")))
    api_url = _api_url(env.get("TELEGRAM_API_URL") or DEFAULT_API_URL, problems)
    data_dir = data_dir_from(env)
    if data_dir.exists() and not data_dir.is_dir():
        problems.append(ConfigProblem(
            N_("SOPBOT_DATA_DIR: {path} exists and is not a directory"), path=str(data_dir)))
    flows_dir = flows_dir_from(env)
    if not flows_dir.is_dir():
        problems.append(ConfigProblem(
            N_("SOPBOT_FLOWS_DIR: {path} is not a directory of flow files"),
            path=str(flows_dir)))
    language = (env.get("SOPBOT_LANGUAGE") or "id").strip().lower()
    if language not in LANGUAGES:
        problems.append(ConfigProblem(
            N_("SOPBOT_LANGUAGE: {value!r} is not one of {languages}"),
            value=language, languages=", ".join(LANGUAGES)))
    ttl = invite_ttl_from(env, problems)
    oversight_from(env, problems)
    raw = env.get("SOPBOT_ESCALATE_AFTER", "2").strip()
    escalate = int(raw) if raw.isascii() and raw.isdigit() else 0
    if not escalate:
        problems.append(ConfigProblem(
            N_("SOPBOT_ESCALATE_AFTER: {value!r} is not a whole number of at least 1 (overdue "
               "reminders before the atasan is told)"), value=raw))
    elif escalate > MAX_ESCALATE_AFTER:
        problems.append(ConfigProblem(
            N_("SOPBOT_ESCALATE_AFTER: {value!r} is too large; give at most {most}"),
            value=raw, most=MAX_ESCALATE_AFTER))
    level = (env.get("SOPBOT_LOG_LEVEL") or "INFO").strip().upper()
    if level not in LOG_LEVELS:
        problems.append(ConfigProblem(
            N_("SOPBOT_LOG_LEVEL: {value!r} is not one of {levels}"),
            value=level, levels=", ".join(LOG_LEVELS)))
    raw = env.get("SOPBOT_UNDO_MINUTES", "10").strip()
    undo = int(raw) if raw.isdigit() and 0 <= int(raw) <= 1440 else -1
    if undo < 0:
        problems.append(ConfigProblem(
            N_("SOPBOT_UNDO_MINUTES: {value!r} is not a whole number of minutes from 0 to 1440 "
               "(how long a decision may be withdrawn; 0: never)"), value=raw))
    if problems:
        raise ConfigError(problems)
    return Settings(token=token, api_url=api_url, data_dir=data_dir, flows_dir=flows_dir,
                    language=language, invite_ttl=ttl, escalate_after=escalate,
                    undo_minutes=undo)
