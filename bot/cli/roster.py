"""``sopbot roster import FILE``: the office's roster in, invitations (list, slips) out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import flows_dir_default
from bot.cli.people_common import link_for, services_or_report, wib
from bot.i18n import Translator


def register(sub: Any, t: Translator) -> None:
    """Add ``roster`` to the ``sopbot`` command line."""
    _ = t.gettext
    roster = sub.add_parser("roster", help=_("import the office's roster of officials"))
    rsub = roster.add_subparsers(dest="roster_command", required=True, metavar="ACTION")
    imp = rsub.add_parser("import", help=_("read a roster (.xlsx or .csv) and invite who has "
                                           "not joined yet"))
    imp.add_argument("file", help=_("roster file: nip, nama, sapaan, unit, role, atasan_nip, "
                                    "telegram"))
    imp.add_argument("--out", help=_("write the invitations to this .xlsx file"))
    imp.add_argument("--slips", help=_("printable QR slips: a .pdf file, or a directory for "
                                       "one PNG per official"))
    imp.add_argument("--json", action="store_true", help=_("print the invitations as JSON"))
    imp.add_argument("--dir", default=flows_dir_default(), help=_("directory of flow files"))
    imp.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace, t: Translator) -> int:
    """Validate the whole roster; store it only when every row is valid."""
    from bot.bootstrap import utc_now
    from bot.cli.invite import _bot_username
    from bot.people.files import RosterFileError, Slip, read_roster

    _ = t.gettext
    try:
        rows = read_roster(args.file)
    except RosterFileError as exc:
        print(_("{file}: cannot read the roster: {error}").format(file=args.file, error=exc),
              file=sys.stderr)
        return 2
    services = services_or_report(t, args.dir)
    if services is None:
        return 1
    report = services.import_roster([(r.no, r.cells) for r in rows], utc_now())
    if report.problems:
        for p in report.problems:
            print(f"{args.file}:{p.row}: {p.column}: {p.message.render(_)}", file=sys.stderr)
        print(t.ngettext("{n} problem; nothing was changed.",
                         "{n} problems; nothing was changed.",
                         len(report.problems)).format(n=len(report.problems)), file=sys.stderr)
        return 2
    username = _bot_username(t)
    units = services.units()
    slips = [Slip(e.nip, e.name, services.role_title(e.unit, e.role), units[e.unit],
                  link_for(i.code, username), wib(i.expires_at))
             for e, i in report.invitations]
    if args.json:
        print(json.dumps([{"nip": e.nip, "name": e.name, "unit": e.unit, "role": e.role,
                           "code": i.code, "link": s.link,
                           "expires": i.expires_at.isoformat()}
                          for (e, i), s in zip(report.invitations, slips, strict=True)],
                         ensure_ascii=False, indent=2))
    else:
        _summary(report, t)
    return _write_outputs(args, slips, t)


def _summary(report: Any, t: Translator) -> None:
    _ = t.gettext
    print(_("{added} added, {changed} changed, {same} unchanged; {invited} invitations "
            "(single use).").format(added=len(report.added), changed=len(report.changed),
                                   same=report.unchanged, invited=len(report.invitations)))
    for nip, columns in report.changed:
        print("  " + _("changed {nip}: {columns}").format(nip=nip, columns=", ".join(columns)))
    for old, new, done in report.replaced:
        names = {"new": new.name, "new_nip": new.nip, "old": old.name, "old_nip": old.nip}
        if done == "now":
            print("  " + _("{new} ({new_nip}) replaces {old} ({old_nip}): open steps, duties "
                           "and subordinates are handed over; {old}'s chat is unbound.").format(
                **names))
        elif not done:
            print("  " + _("{new} ({new_nip}) replaces {old} ({old_nip}), who had not joined: "
                           "{old}'s invitation no longer works.").format(**names))
        else:
            print("  " + _("{new} ({new_nip}) replaces {old} ({old_nip}): everything is handed "
                           "over when {new} opens the invitation; until then {old} stays on."
                           ).format(**names))


def _write_outputs(args: argparse.Namespace, slips: list[Any], t: Translator) -> int:
    from bot.people.files import write_invitations, write_slips_pdf, write_slips_png

    _ = t.gettext
    try:
        if args.out:
            write_invitations(args.out, slips, ["NIP", _("Name"), _("Position"), _("Unit"),
                                                _("Link"), _("Valid until (WIB)")])
            print(_("Invitations written to {file}.").format(file=args.out), file=sys.stderr)
        if args.slips and args.slips.lower().endswith(".pdf"):
            write_slips_pdf(args.slips, slips, title=_("Invitation to sopbot"),
                            how=_("Scan the code with your phone's camera, or open the link, "
                                  "and press Start in Telegram."), until=_("Valid until"))
            print(_("Slips written to {file}.").format(file=args.slips), file=sys.stderr)
        elif args.slips:
            files = write_slips_png(Path(args.slips), slips)
            print(_("{n} slips written to {file}.").format(n=len(files), file=args.slips),
                  file=sys.stderr)
    except OSError as exc:
        print(_("Could not write the invitations: {error}").format(error=exc), file=sys.stderr)
        return 1
    return 0
