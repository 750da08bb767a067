"""``sopbot doctor``: one line per check of this machine's setup, with what to do.

Checks the token's shape and, when the server is reachable, the token itself (getMe), the Bot
API server and the outbound proxy (``HTTPS_PROXY``), the data directory (writable, private,
free space, its files readable), the flows and calendar.yaml, and whether the calendar knows
the cuti bersama of this year and the next. Exit status 0 when nothing failed (warnings
allowed), 1 otherwise. The bot token is never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from typing import Any

from bot.i18n import Translator
from bot.ops.doctor import FAIL, OK, WARN, Check, redact, run_checks
from bot.ops.version import version_line

__all__ = ["register"]


def _label(status: str, t: Translator) -> str:
    if status == OK:
        return t.gettext("ok")
    if status == FAIL:
        return t.gettext("FAIL")
    return t.gettext("warning")


def render_check(check: Check, t: Translator, token: str = "") -> str:
    """``[ok]   telegram  the token works: this is @sop_nganjuk_bot.``"""
    text = t.gettext(check.template).format(**check.params)
    width = max(len(_label(status, t)) for status in (OK, WARN, FAIL)) + 3  # "[" "]" " "
    return redact(f"[{_label(check.status, t)}]".ljust(width) + f"{check.name:<9} {text}",
                  token)


def cmd_doctor(args: argparse.Namespace, t: Translator) -> int:
    today = date.today()
    if args.date:
        try:
            today = date.fromisoformat(args.date)
        except ValueError:
            print(t.gettext("Bad date {value!r}: give it as YYYY-MM-DD.").format(
                value=args.date), file=sys.stderr)
            return 2
    token = (os.environ.get("TELEGRAM_BOT_TOKEN") or "").strip()
    print(version_line())
    checks = run_checks(os.environ, today)
    for check in checks:
        print(render_check(check, t, token))
    failed = sum(1 for c in checks if c.status == FAIL)
    if failed:
        print(t.ngettext("{n} check failed.", "{n} checks failed.", failed).format(n=failed))
        return 1
    print(t.gettext("Ready to run."))
    return 0


def register(sub: Any, t: Translator) -> None:
    """Add ``doctor`` to the ``sopbot`` subcommands."""
    _ = t.gettext
    doctor = sub.add_parser(
        "doctor", help=_("check this machine's setup: token, Bot API server, proxy, data "
                         "directory, flows, calendar"))
    doctor.add_argument("--date", metavar="YYYY-MM-DD",
                        help=_("check the calendar as if today were this date"))
    doctor.set_defaults(func=cmd_doctor)
