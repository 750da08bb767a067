"""What the command modules share: flow loading and lookup, settings reports, logging."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from bot.engine.loader import FlowError
from bot.engine.model import Flow
from bot.i18n import Translator
from bot.services.errors import AmbiguousFlow, FlowNotFound
from bot.services.membership import match_flows

DEFAULT_FLOWS_DIR = "flows"


def flows_dir_default() -> str:
    """``$SOPBOT_FLOWS_DIR`` or ``flows/``."""
    return os.environ.get("SOPBOT_FLOWS_DIR") or DEFAULT_FLOWS_DIR


def find_flow(flows: Sequence[Flow], key: str, unit: str | None = None) -> Flow:
    """A flow by id, or by alias (within `unit` when several units share the alias).

    Raises FlowNotFound (nothing matches) or AmbiguousFlow (several do), the services' own.
    """
    candidates = [f for f in flows if unit is None or f.unit.id == unit]
    found = match_flows(candidates, key)
    if len(found) > 1:
        raise AmbiguousFlow(key, found)
    if not found:
        raise FlowNotFound(key, list(flows))
    return found[0]


def print_flow_not_found(t: Translator, exc: FlowNotFound | AmbiguousFlow, *,
                         ambiguous: str, line: str) -> None:
    """Say on stderr why no single flow matched: the candidates, or every known flow.

    `ambiguous` is the (translated) sentence introducing the candidates, `line` the format
    of one candidate line (fields ``id``, ``name``, ``unit_id``, ``unit_name``).
    """
    if isinstance(exc, AmbiguousFlow):
        print(ambiguous.format(key=exc.key), file=sys.stderr)
        for f in exc.flows:
            print(line.format(id=f.id, name=f.name, unit_id=f.unit.id, unit_name=f.unit.name),
                  file=sys.stderr)
        return
    print(t.gettext("No flow {key!r}. Known flows:").format(key=exc.key), file=sys.stderr)
    for f in exc.known:
        print(f"  {f.id}  ({f.alias}, {f.unit.id})", file=sys.stderr)


def print_problems(t: Translator, exc: FlowError) -> None:
    """Every problem of the flow files, on stderr."""
    n = len(exc.problems)
    print(t.ngettext("{n} problem found:", "{n} problems found:", n).format(n=n),
          file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem.render(t.gettext)}", file=sys.stderr)


def load_or_report(t: Translator, directory: str) -> list[Flow] | None:
    """The flows of a directory, or None after printing every problem."""
    from bot.calendar_file import load_flows_with_calendar

    try:
        return load_flows_with_calendar(directory)  # with calendar.yaml, if any
    except FlowError as exc:
        print_problems(t, exc)
        return None



def setup_logging(*secrets: str) -> None:
    """Operator logs on stderr; libraries that would print secrets kept quiet, and `secrets`
    (the token, the webhook secret) and anything shaped like a token redacted in every line."""
    from bot.redact import install_redaction

    logging.basicConfig(
        level=os.environ.get("SOPBOT_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL, and URLs carry the bot token: keep it quiet. So is
    # python-telegram-bot's debug output (tokens, webhook secrets, invitation codes).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # APScheduler logs every job added, run and removed (~11 lines per transition) at INFO.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    level = logging.getLogger().getEffectiveLevel()
    logging.getLogger("telegram").setLevel(max(level, logging.INFO))
    install_redaction(*secrets)


def report_settings(t: Translator, problems: Sequence[str]) -> int:
    """Print every settings problem; the exit status for them (2)."""
    print(t.gettext("sopbot cannot start; fix these settings:"), file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    return 2
