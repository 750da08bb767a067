"""``sopbot instances``: act on a running instance as the unit's admin — cancel it, or start
an event step (the Inspektorat's PK revision after a mutasi) that re-runs a stretch of it.

Works while the bot runs, on the same data directory: the change and the messages it owes
(everyone holding a step is told) are stored in one write, and the running bot delivers them.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from bot.cli.common import find_flow, flows_dir_default, load_or_report, print_flow_not_found
from bot.i18n import Translator


def register(sub: Any, t: Translator) -> None:
    """Add ``instances cancel`` and ``instances trigger`` to the ``sopbot`` command line."""
    _ = t.gettext
    group = sub.add_parser("instances", help=_("act on a running flow as the admin: cancel it, "
                                               "or start an event step"))
    commands = group.add_subparsers(dest="instances_command", required=True,
                                    metavar="COMMAND")
    cancel = commands.add_parser("cancel", help=_("cancel a running flow, with a reason"))
    trigger = commands.add_parser("trigger", help=_(
        "start an event step (e.g. the PK revision after a mutasi) with its cause"))
    for parser in (cancel, trigger):
        parser.add_argument("--unit", help=_("unit id (needed when the alias exists in several "
                                             "units)"))
        parser.add_argument("--flow", required=True, help=_("flow id or alias"))
        parser.add_argument("--year", required=True, type=int, help=_("the instance's year"))
        parser.add_argument("--reason", required=True, help=_("why (kept in the trail and "
                                                               "told to the officials)"))
        parser.add_argument("--dir", default=flows_dir_default(),
                            help=_("directory of flow files"))
    trigger.add_argument("--step", required=True, type=int, help=_("the event step's number"))
    cancel.set_defaults(func=cmd_cancel)
    trigger.set_defaults(func=cmd_trigger)


def _open(args: argparse.Namespace, t: Translator) -> Any:
    """(services, flow) or an exit status."""
    from bot.bootstrap import build_services, open_store
    from bot.config import ConfigError, data_dir_from
    from bot.services import AmbiguousFlow, FlowNotFound
    from bot.storage import StoreError

    flows = load_or_report(t, args.dir)
    if flows is None:
        return 1
    try:
        flow = find_flow(flows, args.flow, args.unit)
    except (FlowNotFound, AmbiguousFlow) as exc:
        print_flow_not_found(t, exc, ambiguous=t.gettext(
            "{key!r} exists in several units; add --unit:"), line="  {unit_id}  ({name})")
        return 2
    try:
        store = open_store(data_dir_from(os.environ))
    except (StoreError, ConfigError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return build_services(flows, store), flow


def _run(args: argparse.Namespace, t: Translator, action: str) -> int:
    from bot.bootstrap import utc_now
    from bot.services import NotStarted, Refused
    from bot.services.commands import AdminCancel, AdminTrigger

    opened = _open(args, t)
    if isinstance(opened, int):
        return opened
    services, flow = opened
    try:
        if action == "cancel":
            inst = services.admin_cancel(AdminCancel(flow, args.year, args.reason, utc_now()))
        else:
            inst = services.admin_trigger(AdminTrigger(flow, args.year, args.step, args.reason,
                                                       utc_now()))
    except NotStarted:
        print(t.gettext("{alias} {year} has not been started in {unit}.").format(
            alias=flow.alias, year=args.year, unit=flow.unit.id), file=sys.stderr)
        return 2
    except Refused as exc:
        print(exc.message.render(t.gettext), file=sys.stderr)
        return 2
    if action == "cancel":
        print(t.gettext("{alias} {year} ({unit}) is cancelled; the officials holding a step "
                        "will be told.").format(alias=flow.alias, year=inst.year,
                                                unit=flow.unit.id))
    else:
        print(t.gettext("Step {step} of {alias} {year} ({unit}) has started.").format(
            step=args.step, alias=flow.alias, year=inst.year, unit=flow.unit.id))
    return 0


def cmd_cancel(args: argparse.Namespace, t: Translator) -> int:
    """``sopbot instances cancel --flow FLOW --year YEAR --reason …``."""
    return _run(args, t, "cancel")


def cmd_trigger(args: argparse.Namespace, t: Translator) -> int:
    """``sopbot instances trigger --flow FLOW --year YEAR --step N --reason …``."""
    return _run(args, t, "trigger")
