"""``sopbot demo``: see the bot work without a Telegram token (see :mod:`bot.demo`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import find_flow, flows_dir_default, load_or_report, print_flow_not_found
from bot.i18n import LANGUAGES, Translator
from bot.services.errors import AmbiguousFlow, FlowNotFound


def register(sub: Any, t: Translator) -> None:
    """Add the ``demo`` subcommand to the ``sopbot`` command line."""
    from bot.demo import DEFAULT_FLOW, DEFAULT_YEAR

    _ = t.gettext
    demo = sub.add_parser(
        "demo",
        help=_("see the bot work: a local fake Telegram, the real bot and simulated officials "
               "(no token needed)"),
        description=_("Starts a local fake Telegram Bot API server and the real bot on "
                      "127.0.0.1 with a temporary data directory, binds simulated officials to "
                      "every role of a flow with invitation codes, and plays a complete run "
                      "in chat (one revision, one attachment), or lets you play it yourself "
                      "with --interactive."))
    demo.add_argument("--flow", default=DEFAULT_FLOW, metavar="FLOW",
                      help=_("flow id or alias (default: %(default)s)"))
    demo.add_argument("--year", type=int, default=DEFAULT_YEAR,
                      help=_("the year typed in \"mulai PK YEAR\" (default: %(default)s)"))
    demo.add_argument("--interactive", "-i", action="store_true",
                      help=_("a terminal session: you type and press buttons as any official"))
    demo.add_argument("--lang", choices=LANGUAGES, default="id",
                      help=_("Telegram language of the simulated officials, i.e. the language "
                             "the bot speaks to them (default: %(default)s)"))
    demo.add_argument("--data-dir", "--keep", dest="data_dir", metavar="DIR",
                      help=_("keep the bot's data in DIR (new or empty) instead of a temporary "
                             "directory that is removed afterwards"))
    demo.add_argument("--dir", default=flows_dir_default(), help=_("directory of flow files"))
    demo.set_defaults(func=cmd_demo)


def _say(line: str) -> None:
    print(line, flush=True)


def cmd_demo(args: argparse.Namespace, t: Translator) -> int:
    """Play the demo (or the interactive session); 0 on success, 1 on failure, 2 on misuse."""
    from bot.demo import DemoFailure, interactive, play_demo

    _ = t.gettext
    if sys.stdout.encoding and sys.stdout.encoding.lower().replace("-", "") != "utf8":
        sys.stdout.reconfigure(errors="replace")  # type: ignore[union-attr]
    flows = load_or_report(t, args.dir)
    if flows is None:
        return 1
    try:
        flow = find_flow(flows, args.flow)
    except (FlowNotFound, AmbiguousFlow) as exc:
        print_flow_not_found(t, exc, ambiguous=_(
            "{key!r} is the alias of a flow in several units; the demo plays one. "
            "Name it by id:"), line="  sopbot demo --flow {id}    ({name}, {unit_name})")
        return 2
    if not 1900 <= args.year <= 2199:
        print(_("--year: {year} is not a year such as 2025.").format(year=args.year),
              file=sys.stderr)
        return 2
    data_dir = None
    if args.data_dir:
        data_dir = Path(args.data_dir)
        if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
            print(_("--data-dir: {dir} must be a new or empty directory.").format(dir=data_dir),
                  file=sys.stderr)
            return 2
    try:
        if args.interactive:
            return asyncio.run(interactive(flows, flow, t=t, language=args.lang,
                                           year=args.year, emit=_say, data_dir=data_dir))
        asyncio.run(play_demo(flows, flow, year=args.year, t=t, language=args.lang,
                              emit=_say, data_dir=data_dir))
    except DemoFailure as exc:
        sys.stdout.flush()
        print("", file=sys.stderr)
        print(_("The demo failed: {error}").format(error=exc.message.split("\n")[0]),
              file=sys.stderr)
        print(_("What the fake Telegram server saw:"), file=sys.stderr)
        print(exc.dump, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if data_dir is not None:
        print(_("The bot's data is kept in {dir}.").format(dir=data_dir))
    return 0
