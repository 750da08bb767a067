"""The ``sopbot`` command line (also ``python -m bot``): one module per command group.

A command module has ``register(sub, t)``, which adds its subparsers (each with
``set_defaults(func=...)``, a function ``(args, t) -> exit status``); to add a command group,
write such a module and list it, with the commands it adds, in :data:`COMMANDS` (the order is
the help's order).

Only the module of the command asked for is imported (``sopbot run`` does not import the
webhook server, the reports or the calendar tools: issue 15, start-up within 2 s); the help,
``--version`` and a mistyped command build the whole parser.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.i18n import Translator

#: Every command group: its module in ``bot.cli`` and the commands it adds, in the order
#: ``sopbot --help`` lists them.
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("flows", ("flows",)),
    ("calendar", ("calendar", "reminders")),
    ("demo", ("demo",)),
    ("doctor", ("doctor",)),
    ("web", ("web",)),
    ("run", ("run",)),
    ("data", ("backup", "restore")),
    ("invite", ("invite",)),
    ("roster", ("roster",)),
    ("members", ("members",)),
    ("delegate", ("delegate",)),
    ("instances", ("instances",)),
    ("reports", ("export", "monev", "rekap", "chart")),
)


def command_modules(command: str | None = None) -> list[ModuleType]:
    """The command modules, imported: the one that adds `command`, or all of them (no
    command, or one no module adds)."""
    names = [name for name, commands in COMMANDS if command in commands]
    return [importlib.import_module(f"bot.cli.{name}")
            for name in (names or [name for name, _commands in COMMANDS])]


def build_parser(t: Translator, command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser for every ``sopbot`` command (or only for `command`, with the
    same options and help)."""
    _ = t.gettext
    parser = argparse.ArgumentParser(
        prog="sopbot", description=_("sopbot runs SOP flows of government offices in Telegram."))
    from bot.ops.version import version_line

    parser.add_argument("--version", action="version", version=version_line())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in command_modules(command):
        module.register(sub, t)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command named on the command line (the first word that is not an option: the
    top-level options take no value), or None for the help and ``--version``."""
    for word in argv:
        if word in ("-h", "--help", "--version"):
            return None
        if not word.startswith("-"):
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sopbot`` console script."""
    from bot.i18n import translator

    t = translator()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(t, _command_of(argv))
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


__all__ = ["COMMANDS", "build_parser", "command_modules", "main"]
