"""``sopbot backup`` and ``sopbot restore``: the data directory, consistently."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from bot.i18n import Translator


def register(sub: Any, t: Translator) -> None:
    """Add ``backup`` and ``restore`` to the ``sopbot`` command line."""
    _ = t.gettext
    backup = sub.add_parser("backup", help=_("copy the bot's data, consistently, while it runs"))
    backup.add_argument("dest", metavar="DEST", help=_("directory to write the copy to"))
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser("restore", help=_("put a backup in place (the bot must be stopped)"))
    restore.add_argument("src", metavar="SRC", help=_("directory written by sopbot backup"))
    restore.set_defaults(func=cmd_restore)


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
