"""``sopbot flows check|list|show``: validate, list and show the SOP flow definitions."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.cli.common import (
    find_flow,
    flows_dir_default,
    load_or_report,
    print_flow_not_found,
)
from bot.flow_views import flow_to_json, render_flow_text
from bot.i18n import Translator
from bot.services.errors import AmbiguousFlow, FlowNotFound


def register(sub: Any, t: Translator) -> None:
    """Add ``flows`` and its actions to the ``sopbot`` command line."""
    _ = t.gettext
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
    from bot.cli.reports import register_flows  # flows draw, beside the other reports

    register_flows(flows_sub, t)


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
    except (FlowNotFound, AmbiguousFlow) as exc:
        print_flow_not_found(t, exc, ambiguous=t.gettext(
            "{key!r} is the alias of several flows; name one by id or add --unit:"),
            line="  {id}  (--unit {unit_id}: {unit_name})")
        return 2
    if args.json:
        print(json.dumps(flow_to_json(flow), ensure_ascii=False, indent=2))
    else:
        print(render_flow_text(flow, t))
    return 0
