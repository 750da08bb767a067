"""The ``sopbot`` command line (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.engine.loader import FlowError
from bot.engine.model import Flow
from bot.flow_views import flow_to_json, render_flow_text
from bot.i18n import Translator, translator

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services
    from bot.storage import Store

DEFAULT_FLOWS_DIR = "flows"


def flows_dir_default() -> str:
    """``$SOPBOT_FLOWS_DIR`` or ``flows/``."""
    return os.environ.get("SOPBOT_FLOWS_DIR") or DEFAULT_FLOWS_DIR


class FlowNotFound(LookupError):
    """No flow (or more than one) matches what the user typed."""


def find_flow(flows: Sequence[Flow], key: str, unit: str | None = None) -> Flow:
    """A flow by id, or by alias (within `unit` when several units share the alias)."""
    candidates = [f for f in flows if unit is None or f.unit.id == unit]
    for flow in candidates:
        if flow.id == key:
            return flow
    matches = [f for f in candidates if f.alias.casefold() == key.casefold()]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise FlowNotFound(key, matches)
    raise FlowNotFound(key, [])


def print_problems(t: Translator, exc: FlowError) -> None:
    """Every problem of the flow files, on stderr."""
    n = len(exc.problems)
    print(t.ngettext("{n} problem found:", "{n} problems found:", n).format(n=n),
          file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem.render(t.gettext)}", file=sys.stderr)


def load_or_report(t: Translator, directory: str) -> list[Flow] | None:
    """The flows of a directory, or None after printing every problem."""
    from bot.calendar_file import load_flows_with_calendar

    try:
        return load_flows_with_calendar(directory)  # with calendar.yaml, if any
    except FlowError as exc:
        print_problems(t, exc)
        return None


def cmd_flows_check(args: argparse.Namespace, t: Translator) -> int:
    flows = load_or_report(t, args.dir)
    if flows is None:
        return 1
    for flow in flows:
        print(t.gettext("ok   {file}: {alias} — {name} ({unit}), {n} steps").format(
            file=flow.source, alias=flow.alias, name=flow.name, unit=flow.unit.name,
            n=len(flow.steps)))
    n = len(flows)
    print(t.ngettext("{n} flow is valid.", "All {n} flows are valid.", n).format(n=n))
    return 0


def cmd_flows_list(args: argparse.Namespace, t: Translator) -> int:
    flows = load_or_report(t, args.dir)
    if flows is None:
        return 1
    if args.json:
        print(json.dumps([flow_to_json(f) for f in flows], ensure_ascii=False, indent=2))
        return 0
    width = max(len(f.id) for f in flows)
    for flow in flows:
        print(f"{flow.id:<{width}}  {flow.alias:<5} {flow.name} — {flow.unit.name} "
              f"({flow.unit.id})")
    return 0


def cmd_flows_show(args: argparse.Namespace, t: Translator) -> int:
    flows = load_or_report(t, args.dir)
    if flows is None:
        return 1
    try:
        flow = find_flow(flows, args.flow, args.unit)
    except FlowNotFound as exc:
        _, matches = exc.args
        if matches:
            print(t.gettext("{key!r} is the alias of several flows; name one by id or add "
                            "--unit:").format(key=args.flow), file=sys.stderr)
            for f in matches:
                print(f"  {f.id}  (--unit {f.unit.id}: {f.unit.name})", file=sys.stderr)
        else:
            print(t.gettext("No flow {key!r}. Known flows:").format(key=args.flow),
                  file=sys.stderr)
            for f in flows:
                print(f"  {f.id}  ({f.alias}, {f.unit.id})", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(flow_to_json(flow), ensure_ascii=False, indent=2))
    else:
        print(render_flow_text(flow, t))
    return 0


def setup_logging() -> None:
    """Operator logs on stderr; libraries that would print secrets kept quiet."""
    logging.basicConfig(
        level=os.environ.get("SOPBOT_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL, and URLs carry the bot token: keep it quiet. So is
    # python-telegram-bot's debug output (tokens, webhook secrets, invitation codes).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # APScheduler logs every job added, run and removed (~11 lines per transition) at INFO.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    level = logging.getLogger().getEffectiveLevel()
    logging.getLogger("telegram").setLevel(max(level, logging.INFO))


def report_settings(t: Translator, problems: Sequence[str]) -> int:
    """Print every settings problem; the exit status for them (2)."""
    print(t.gettext("sopbot cannot start; fix these settings:"), file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    return 2


def prepare_bot(t: Translator, settings: Settings, mode: str) -> tuple[Services, Store] | int:
    """What `run` and `web` share: flows, the data directory (claimed), logs, services.

    Returns the services and the store, or the exit status when something is wrong.
    """
    from bot.services import Services
    from bot.storage import Store, StoreError

    flows = load_or_report(t, str(settings.flows_dir))
    if flows is None:
        return 1
    try:
        store = Store(settings.data_dir)
        store.claim_running()
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    setup_logging()
    log = logging.getLogger("sopbot")
    if os.environ.get("DYNO"):
        log.warning("this looks like a Heroku dyno: its filesystem is ephemeral and %s will "
                    "be lost at the next restart; mount a persistent volume or run on a VPS "
                    "(see docs/deployment.md)", settings.data_dir)
    units = sorted({f.unit.id for f in flows})
    with store.transaction(record_update=False) as repo:
        members = len(repo.members())
    log.info("starting (%s): flows=%d units=%s members=%d data=%s api=%s", mode, len(flows),
             ",".join(units), members, settings.data_dir, settings.api_url)
    from bot.ops.coverage import warn_about_coverage  # from 1 November: next year's cuti bersama
    warn_about_coverage(flows, datetime.now().date(), log)
    return Services(store, flows, invite_ttl=settings.invite_ttl), store


def cmd_run(args: argparse.Namespace, t: Translator) -> int:
    """Start the bot (long polling)."""
    from bot.config import ConfigError, settings_from_env
    from bot.tg.app import build_application

    try:
        settings = settings_from_env(os.environ)
    except ConfigError as exc:
        return report_settings(t, exc.render(t.gettext))
    prepared = prepare_bot(t, settings, "polling")
    if isinstance(prepared, int):
        return prepared
    services, _store = prepared
    app = build_application(settings, services)
    from bot.ops.http import serve_polling  # with SOPBOT_HTTP_PORT: /health and /metrics too
    return asyncio.run(serve_polling(app, os.environ))


def cmd_backup(args: argparse.Namespace, t: Translator) -> int:
    """A consistent snapshot of the data directory, safe while the bot runs."""
    from bot.config import data_dir_from
    from bot.storage import Store, StoreError

    try:
        written = Store(data_dir_from(os.environ)).backup(args.dest)
    except (StoreError, OSError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(t.ngettext("Backed up {n} file to {dest}.", "Backed up {n} files to {dest}.",
                     len(written)).format(n=len(written), dest=args.dest))
    return 0


def cmd_restore(args: argparse.Namespace, t: Translator) -> int:
    """Replace the data directory with a backup (the bot must be stopped)."""
    from bot.config import data_dir_from
    from bot.storage import Store, StoreError
    from bot.storage.store import BotRunning

    store = Store(data_dir_from(os.environ))
    try:
        restored = store.restore(args.src)
    except BotRunning as exc:
        print(t.gettext("Refused: {why}.").format(why=exc), file=sys.stderr)
        return 3
    except (StoreError, OSError) as exc:
        print(t.gettext("Nothing was restored: {why}").format(why=exc), file=sys.stderr)
        return 1
    print(t.ngettext("Restored {n} file into {dir}.", "Restored {n} files into {dir}.",
                     len(restored)).format(n=len(restored), dir=store.data_dir))
    return 0


def _bot_username(t: Translator) -> str | None:
    """The bot's @username for deep links: $SOPBOT_BOT_USERNAME, else getMe."""
    name = os.environ.get("SOPBOT_BOT_USERNAME")
    if name:
        return name.lstrip("@")
    from bot.config import ConfigError, settings_from_env

    try:
        settings = settings_from_env(os.environ)
    except ConfigError:
        return None
    from telegram import Bot
    from telegram.error import TelegramError

    async def get_me() -> str | None:
        bot = Bot(settings.token, base_url=settings.base_url,
                  base_file_url=settings.base_file_url)
        async with bot:
            return bot.username

    try:
        return asyncio.run(get_me())
    except (TelegramError, OSError) as exc:
        print(t.gettext("Could not ask Telegram for the bot's name ({error}); set "
                        "SOPBOT_BOT_USERNAME.").format(error=exc), file=sys.stderr)
        return None


def cmd_invite(args: argparse.Namespace, t: Translator) -> int:
    """Print a single-use invitation code and its deep link."""
    from datetime import UTC, datetime

    from bot.config import ConfigError, data_dir_from, invite_ttl_from, render_problems
    from bot.services import Services, UnknownUnitOrRole
    from bot.storage import Store, StoreError

    flows = load_or_report(t, args.dir)
    if flows is None:
        return 1
    problems: list[str] = []
    ttl = invite_ttl_from(os.environ, problems)
    if problems:
        print("\n".join(render_problems(problems, t.gettext)), file=sys.stderr)
        return 2
    try:
        store = Store(data_dir_from(os.environ))
    except (StoreError, ConfigError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    services = Services(store, flows, invite_ttl=ttl)
    try:
        invite = services.create_invite(unit=args.unit, role=args.role, name=args.name,
                                        atasan=args.atasan, now=datetime.now(UTC))
    except UnknownUnitOrRole as exc:
        print(exc.render(t.gettext), file=sys.stderr)
        return 2
    username = _bot_username(t)
    print(t.gettext("Invitation for {role} in {unit} (valid until {until}, single use):").format(
        role=services.role_title(invite.unit, invite.role), unit=services.units()[invite.unit],
        until=invite.expires_at.isoformat(timespec="minutes")))
    print(f"code: {invite.code}")
    if username:
        print(f"link: https://t.me/{username}?start={invite.code}")
    else:
        print(t.gettext("The official sends the bot: /start {code}").format(code=invite.code))
    return 0


def build_parser(t: Translator) -> argparse.ArgumentParser:
    """The argument parser for every ``sopbot`` command."""
    _ = t.gettext
    parser = argparse.ArgumentParser(
        prog="sopbot", description=_("sopbot runs SOP flows of government offices in Telegram."))
    from bot.ops.version import version_line
    parser.add_argument("--version", action="version", version=version_line())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    flows = sub.add_parser("flows", help=_("check, list and show SOP flow definitions"))
    flows_sub = flows.add_subparsers(dest="flows_command", required=True, metavar="ACTION")

    check = flows_sub.add_parser("check", help=_("validate every flow file"))
    check.add_argument("dir", nargs="?", default=flows_dir_default(),
                       help=_("directory of flow files (default: %(default)s)"))
    check.set_defaults(func=cmd_flows_check)

    lst = flows_sub.add_parser("list", help=_("list the flows"))
    lst.add_argument("--json", action="store_true", help=_("machine-readable output"))
    lst.add_argument("--dir", default=flows_dir_default(), help=_("directory of flow files"))
    lst.set_defaults(func=cmd_flows_list)

    show = flows_sub.add_parser("show", help=_("show one flow: header, steps, total time"))
    show.add_argument("flow", metavar="FLOW", help=_("flow id or alias (e.g. PK)"))
    show.add_argument("--unit", help=_("unit id, when several units use the alias"))
    show.add_argument("--json", action="store_true", help=_("machine-readable output"))
    show.add_argument("--dir", default=flows_dir_default(), help=_("directory of flow files"))
    show.set_defaults(func=cmd_flows_show)
    # Commands that live in their own modules register themselves here.
    for module in ("bot.cli_calendar", "bot.cli_demo", "bot.cli_doctor", "bot.cli_web"):
        importlib.import_module(module).register(sub, t)

    run = sub.add_parser("run", help=_("run the bot (long polling)"))
    run.set_defaults(func=cmd_run)

    backup = sub.add_parser("backup", help=_("copy the bot's data, consistently, while it runs"))
    backup.add_argument("dest", metavar="DEST", help=_("directory to write the copy to"))
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser("restore", help=_("put a backup in place (the bot must be stopped)"))
    restore.add_argument("src", metavar="SRC", help=_("directory written by sopbot backup"))
    restore.set_defaults(func=cmd_restore)

    invite = sub.add_parser("invite", help=_("make a single-use invitation for a role"))
    invite.add_argument("--unit", required=True, help=_("unit id (see: sopbot flows list)"))
    invite.add_argument("--role", required=True, help=_("role id in that unit"))
    invite.add_argument("--name", help=_("the official's name as the bot shows it"))
    invite.add_argument("--atasan", help=_("member id of the official's direct superior, "
                                           "where the role has several holders"))
    invite.add_argument("--dir", default=flows_dir_default(), help=_("directory of flow files"))
    invite.set_defaults(func=cmd_invite)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sopbot`` console script."""
    t = translator()
    parser = build_parser(t)
    args = parser.parse_args(argv)
    if hasattr(args, "dir") and args.dir:
        args.dir = str(Path(args.dir))
    return int(args.func(args, t) or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
