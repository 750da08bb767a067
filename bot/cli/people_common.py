"""What the people commands (roster, members, delegate) share: services, dates, links."""

from __future__ import annotations

import os
import sys
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.cli.common import load_or_report
from bot.i18n import Translator

if TYPE_CHECKING:
    from bot.services import Services

WIB = ZoneInfo("Asia/Jakarta")


def services_or_report(t: Translator, flows_dir: str) -> Services | None:
    """The services over the data directory, or None after saying why not."""
    from bot.bootstrap import build_services, open_store
    from bot.config import ConfigError, data_dir_from, invite_ttl_from, render_problems
    from bot.storage import StoreError

    flows = load_or_report(t, flows_dir)
    if flows is None:
        return None
    problems: list[str] = []
    ttl = invite_ttl_from(os.environ, problems)
    if problems:
        print("\n".join(render_problems(problems, t.gettext)), file=sys.stderr)
        return None
    try:
        store = open_store(data_dir_from(os.environ))
    except (StoreError, ConfigError) as exc:
        print(str(exc), file=sys.stderr)
        return None
    return build_services(flows, store, invite_ttl=ttl)


def parse_day(text: str, *, end: bool = False) -> datetime | None:
    """A date (YYYY-MM-DD, WIB: its start, or — `end` — the start of the next day) or an
    ISO date-time; None when it is neither."""
    try:
        if len(text.strip()) == 10:
            day = datetime.fromisoformat(text.strip()).date()
            at = datetime.combine(day, time(0), WIB)
            return at + timedelta(days=1) if end else at
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=WIB)


def wib(value: datetime) -> str:
    """A moment as the office reads it: 05-01-2026 08:00 WIB."""
    return value.astimezone(WIB).strftime("%d-%m-%Y %H:%M") + " WIB"


def link_for(code: str, username: str | None) -> str:
    """The deep link of an invitation (or the /start line when the bot's name is unknown)."""
    return f"https://t.me/{username}?start={code}" if username else f"/start {code}"
