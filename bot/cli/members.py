"""``sopbot members list|remove|replace``: who holds what, by NIP; mutasi."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from bot.cli.common import flows_dir_default
from bot.cli.people_common import services_or_report
from bot.i18n import Translator


def register(sub: Any, t: Translator) -> None:
    """Add ``members`` to the ``sopbot`` command line."""
    _ = t.gettext
    members = sub.add_parser("members", help=_("list, remove or replace officials"))
    msub = members.add_subparsers(dest="members_command", required=True, metavar="ACTION")
    ls = msub.add_parser("list", help=_("every official: roles, atasan, joined or not"))
    ls.add_argument("--unit", help=_("only this unit"))
    ls.add_argument("--json", action="store_true", help=_("print as JSON"))
    rm = msub.add_parser("remove", help=_("take an official off the roster and unbind them"))
    rm.add_argument("--nip", required=True, help=_("the official's NIP"))
    rp = msub.add_parser("replace", help=_("mutasi: the successor takes over the official's "
                                           "roles and open steps"))
    rp.add_argument("--nip", required=True, help=_("NIP of the official who leaves"))
    rp.add_argument("--by", required=True, help=_("NIP of the successor (already joined)"))
    for p, func in ((ls, cmd_list), (rm, cmd_remove), (rp, cmd_replace)):
        p.add_argument("--dir", default=flows_dir_default(), help=_("directory of flow files"))
        p.set_defaults(func=func)


def cmd_list(args: argparse.Namespace, t: Translator) -> int:
    from bot.bootstrap import utc_now

    _ = t.gettext
    services = services_or_report(t, args.dir)
    if services is None:
        return 1
    if args.unit and args.unit not in services.units():
        print(_("unknown unit {unit!r}; units: {units}").format(
            unit=args.unit, units=", ".join(sorted(services.units()))), file=sys.stderr)
        return 2
    rows = services.member_rows(args.unit, utc_now())
    if args.json:
        print(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        roles = ", ".join(services.role_title(r.unit, x) for x in r.roles)
        state = _("joined") if r.bound else _("not joined yet")
        line = f"{r.unit}  {r.nip or '-'}  {r.salutation or ''} {r.name}  [{roles}]  {state}"
        if r.atasan_nip:
            line += "  " + _("atasan {nip}").format(nip=r.atasan_nip)
        for d in r.delegations:
            line += "  " + _("{kind} ({other}) until {until}").format(
                kind=d["kind"].capitalize(), other=d["other"], until=d["until"][:10])
        print(line.replace("   ", "  "))
    print(t.ngettext("{n} official", "{n} officials", len(rows)).format(n=len(rows)))
    return 0


def cmd_remove(args: argparse.Namespace, t: Translator) -> int:
    from bot.bootstrap import utc_now
    from bot.services.people import PeopleProblem

    services = services_or_report(t, args.dir)
    if services is None:
        return 1
    try:
        name = services.remove_member(args.nip.strip(), utc_now())
    except PeopleProblem as exc:
        print(exc.message.render(t.gettext), file=sys.stderr)
        return 2
    print(t.gettext("{name} was removed; their invitation no longer works.").format(name=name))
    return 0


def cmd_replace(args: argparse.Namespace, t: Translator) -> int:
    from bot.bootstrap import utc_now
    from bot.services.people import PeopleProblem

    _ = t.gettext
    services = services_or_report(t, args.dir)
    if services is None:
        return 1
    try:
        done = services.replace_member(args.nip.strip(), args.by.strip(), utc_now())
    except PeopleProblem as exc:
        print(exc.message.render(_), file=sys.stderr)
        return 2
    print(_("{new} takes over from {old}: {n} open steps handed over; {old}'s chat is "
            "unbound.").format(new=done.new, old=done.old, n=done.steps))
    for flow_id, no in done.events:
        flow = services.flows[flow_id]
        print(_("Hint: {flow} has a step for a change of official (step {no}: {when}); the "
                "Sekretariat may start it for the successor.").format(
            flow=f"{flow.alias} {flow.unit.name}", no=no, when=flow.step(no).when or ""))
    return 0
