"""``sopbot invite``: a single-use invitation code for a role, and its deep link."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from bot.cli.common import flows_dir_default, load_or_report
from bot.i18n import Translator


def register(sub: Any, t: Translator) -> None:
    """Add ``invite`` to the ``sopbot`` command line."""
    _ = t.gettext
    invite = sub.add_parser("invite", help=_("make a single-use invitation for a role"))
    invite.add_argument("--unit", required=True, help=_("unit id (see: sopbot flows list)"))
    invite.add_argument("--role", required=True, help=_("role id in that unit"))
    invite.add_argument("--name", help=_("the official's name as the bot shows it"))
    invite.add_argument("--atasan", help=_("member id of the official's direct superior, "
                                           "where the role has several holders"))
    invite.add_argument("--nip", help=_("the official's NIP"))
    invite.add_argument("--atasan-nip", help=_("NIP of the official's direct superior"))
    invite.add_argument("--admin", action="store_true",
                        help=_("the unit's admin: sees /anggota in the chat"))
    invite.add_argument("--sapaan", choices=("Bapak", "Ibu"),
                        help=_("how the bot addresses the official (default: Bapak/Ibu)"))
    invite.add_argument("--dir", default=flows_dir_default(), help=_("directory of flow files"))
    invite.set_defaults(func=cmd_invite)


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
    from bot.bootstrap import build_services, open_store, utc_now
    from bot.config import ConfigError, data_dir_from, invite_ttl_from, render_problems
    from bot.services import UnknownUnitOrRole
    from bot.storage import StoreError

    flows = load_or_report(t, args.dir)
    if flows is None:
        return 1
    problems: list[str] = []
    ttl = invite_ttl_from(os.environ, problems)
    if problems:
        print("\n".join(render_problems(problems, t.gettext)), file=sys.stderr)
        return 2
    try:
        store = open_store(data_dir_from(os.environ))
    except (StoreError, ConfigError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    try:
        services = build_services(flows, store, invite_ttl=ttl)
    except ConfigError as exc:  # a badly declared SOPBOT_OVERSIGHT_UNIT
        print("\n".join(exc.render(t.gettext)), file=sys.stderr)
        return 2
    try:
        invite = services.create_invite(unit=args.unit, role=args.role, name=args.name,
                                        atasan=args.atasan, now=utc_now(), nip=args.nip,
                                        atasan_nip=args.atasan_nip, admin=args.admin,
                                        salutation=args.sapaan)
    except UnknownUnitOrRole as exc:
        print(exc.render(t.gettext), file=sys.stderr)
        return 2
    for warning in services.invite_warnings(invite.unit, invite.role, args.nip,
                                            args.atasan_nip):
        print(t.gettext("Warning: {message}").format(message=warning.render(t.gettext)),
              file=sys.stderr)
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
