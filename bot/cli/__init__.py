"""The ``sopbot`` command line (also ``python -m bot``): one module per command group.

A command module has ``register(sub, t)``, which adds its subparsers (each with
``set_defaults(func=...)``, a function ``(args, t) -> exit status``); to add a command group,
write such a module and list it in :data:`COMMAND_MODULES` (the order is the help's order).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from bot.cli import (
    calendar,
    data,
    delegate,
    demo,
    doctor,
    flows,
    instances,
    invite,
    members,
    reports,
    roster,
    run,
    web,
)
from bot.cli.common import find_flow, flows_dir_default, load_or_report
from bot.i18n import Translator, translator

#: Every command group, in the order ``sopbot --help`` lists them.
COMMAND_MODULES: tuple[ModuleType, ...] = (flows, calendar, demo, doctor, web, run, data,
                                            invite, roster, members, delegate, instances,
                                            reports)


def build_parser(t: Translator) -> argparse.ArgumentParser:
    """The argument parser for every ``sopbot`` command."""
    _ = t.gettext
    parser = argparse.ArgumentParser(
        prog="sopbot", description=_("sopbot runs SOP flows of government offices in Telegram."))
    from bot.ops.version import version_line

    parser.add_argument("--version", action="version", version=version_line())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub, t)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sopbot`` console script."""
    t = translator()
    parser = build_parser(t)
    args = parser.parse_args(argv)
    if hasattr(args, "dir") and args.dir:
        args.dir = str(Path(args.dir))
    try:
        return int(args.func(args, t) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last resort: a sentence and a redacted traceback
        import traceback

        from bot.redact import redact

        print(redact("".join(traceback.format_exception(exc))), file=sys.stderr)
        print(t.gettext("sopbot stopped on an unexpected error: {error}").format(
            error=redact(f"{type(exc).__name__}: {exc}")), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = ["COMMAND_MODULES", "build_parser", "find_flow", "flows_dir_default",
           "load_or_report", "main"]
