"""``sopbot delegate``: Plt/Plh — a role acted by another official for a period."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.cli.common import flows_dir_default
from bot.cli.people_common import parse_day, services_or_report, wib
from bot.i18n import Translator


def register(sub: Any, t: Translator) -> None:
    """Add ``delegate`` to the ``sopbot`` command line."""
    _ = t.gettext
    p = sub.add_parser("delegate", help=_("Plt/Plh: let an official act for a role's holder "
                                          "for a period"))
    p.add_argument("--unit", help=_("unit id"))
    p.add_argument("--role", help=_("role id or title"))
    p.add_argument("--to", help=_("NIP of the Plt/Plh"))
    p.add_argument("--holder-nip", help=_("NIP of the holder, when the role has several"))
    p.add_argument("--nip", help=_("NIP of an atasan who is away: the approvals of the "
                                   "officials paired with them go to the Plh (instead of "
                                   "--unit and --role)"))
    p.add_argument("--from", dest="start", help=_("first day (YYYY-MM-DD, WIB)"))
    p.add_argument("--until", help=_("last day (YYYY-MM-DD, WIB), included"))
    p.add_argument("--kind", default="plh", choices=("plh", "plt"), help=_("plh or plt"))
    p.add_argument("--notify-holder", action="store_true",
                   help=_("the holder still receives the role's steps and reminders"))
    p.add_argument("--list", action="store_true", help=_("list current delegations"))
    p.add_argument("--end", metavar="ID", help=_("end a delegation now"))
    p.add_argument("--json", action="store_true", help=_("print as JSON (with --list)"))
    p.add_argument("--dir", default=flows_dir_default(), help=_("directory of flow files"))
    p.set_defaults(func=cmd_delegate)


def cmd_delegate(args: argparse.Namespace, t: Translator) -> int:
    from bot.bootstrap import utc_now
    from bot.services.people import PeopleProblem

    _ = t.gettext
    services = services_or_report(t, args.dir)
    if services is None:
        return 1
    now = utc_now()
    try:
        if args.list:
            return _list(services, now, args.json, t)
        if args.end:
            d = services.end_delegation(args.end, now)
            print(_("Delegation {id} ended; the role is back with its holder.").format(id=d.id))
            return 0
        needed = (() if args.nip else (("--unit", args.unit), ("--role", args.role)))
        missing = [o for o, v in (*needed, ("--to", args.to), ("--from", args.start),
                                  ("--until", args.until)) if not v]
        if missing:
            print(_("Missing: {options}.").format(options=", ".join(missing)), file=sys.stderr)
            return 2
        start, until = parse_day(args.start), parse_day(args.until, end=True)
        if start is None or until is None:
            print(_("A date is written YYYY-MM-DD, e.g. 2026-03-02."), file=sys.stderr)
            return 2
        if args.nip:
            d = services.delegate_atasan(atasan_nip=args.nip.strip(), to_nip=args.to.strip(),
                                         start=start, until=until, kind=args.kind, now=now,
                                         notify_holder=args.notify_holder)
        else:
            d = services.delegate(unit=args.unit, role=args.role, to_nip=args.to.strip(),
                                  start=start, until=until, kind=args.kind, now=now,
                                  holder_nip=args.holder_nip, notify_holder=args.notify_holder)
    except PeopleProblem as exc:
        print(exc.message.render(_), file=sys.stderr)
        return 2
    print(_("{kind}. {role}: {delegate} acts for {holder} from {start} until {until} "
            "(id {id}).").format(kind=d.kind.capitalize(),
                                 role=services.role_title(d.unit, d.role),
                                 delegate=services.member_name(d.delegate),
                                 holder=services.member_name(d.holder), start=wib(d.start),
                                 until=wib(d.until), id=d.id))
    return 0


def _list(services: Any, now: Any, as_json: bool, t: Translator) -> int:
    found = services.delegations_list(now)
    if as_json:
        print(json.dumps([{"id": d.id, "unit": d.unit, "role": d.role, "kind": d.kind,
                           "holder": services.member_name(d.holder),
                           "delegate": services.member_name(d.delegate),
                           "from": d.start.isoformat(), "until": d.until.isoformat(),
                           "state": d.state, "notify_holder": d.notify_holder}
                          for d in found], ensure_ascii=False, indent=2))
        return 0
    for d in found:
        print(f"{d.id}  {d.unit}  {d.kind.capitalize()}. "
              f"{services.role_title(d.unit, d.role)} — {services.member_name(d.delegate)}"
              f"  ({services.member_name(d.holder)})  {wib(d.start)} → {wib(d.until)}"
              f"  {d.state}")
    if not found:
        print(t.gettext("No current delegations."))
    return 0
