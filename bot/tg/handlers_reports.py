"""Reports in chat: ``rekap PK 2026`` (oversight), ``/ekspor`` and ``/monev`` (xlsx),
``/grafik`` (the timeline PNG), ``/bagan`` (the swimlane PNG), ``/ringkasan on|off`` (the
weekly digest), and the regulation target's date (the reply to the question that ends the
message confirming ``mulai PK 2026``).

Each parses the update, asks the oversight service, and renders: text here, files with
:mod:`bot.reports.xlsx` / :mod:`bot.reports.charts` into memory, sent as a document or photo.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from telegram import InputFile, Update

from bot.engine.calendar import resolve_timezone
from bot.engine.instance import Instance, Status
from bot.engine.model import Flow
from bot.formatting import format_short
from bot.i18n import Translator
from bot.reports.rekap import UnitRekap, rekap_line_text
from bot.reports.trail import Trail
from bot.services import AmbiguousFlow, NotStarted, ServiceError
from bot.services.oversight import (
    BadTargetDate,
    NotAllowedReport,
    RekapView,
    TargetView,
    target_view,
)
from bot.tg.handlers import Caller, Context, _flow_problem, member_only, reply, run
from bot.understanding.dates import read_date


def report_problem(exc: ServiceError, t: Translator, now: datetime) -> str:
    if isinstance(exc, NotAllowedReport | BadTargetDate):
        return exc.message.render(t.gettext)
    return _flow_problem(exc, t, now)


# --- the regulation target ------------------------------------------------------------------


def target_line(flow: Flow, inst: Instance, t: Translator, now: datetime) -> str:
    """``🎯 Target (PermenPAN-RB 53/2014): 15 Feb 2026, 5 working days left`` or ''."""
    view = target_view(flow, inst, now)
    return "" if view is None else _target_text(view, t)


def _target_text(view: TargetView, t: Translator) -> str:
    _ = t.gettext
    label = view.label_en if t.language == "en" and view.label_en else view.label
    due = view.due.strftime("%d-%m-%Y")
    if view.working_days_left >= 0:
        left = t.ngettext("{n} working day left", "{n} working days left",
                          view.working_days_left).format(n=view.working_days_left)
    else:
        left = t.ngettext("{n} working day past it", "{n} working days past it",
                          -view.working_days_left).format(n=-view.working_days_left)
    source = f" ({view.regulation})" if view.regulation else ""
    return "🎯 " + _("Target{source}: {due}, counted from {label} {start} — {left}").format(
        source=source, due=due, label=label, start=view.start.strftime("%d-%m-%Y"), left=left)


def status_target(st: Any, t: Translator, now: datetime) -> str:
    """The countdown line a status adds ('' when the flow has no target or no date)."""
    inst = getattr(st, "instance", None)
    flow = getattr(st, "flow", None)
    if not isinstance(inst, Instance) or flow is None or inst.status is not Status.ACTIVE:
        return ""
    line = target_line(flow, inst, t, now)
    return "\n\n" + line if line else ""


async def target_answer(update: Update, context: Context, caller: Caller) -> bool:
    """A reply to the started message that asked for the target's date: set the date;
    False when the message is not such a reply."""
    rt, member, t = caller
    message = update.effective_message
    if message is None or message.reply_to_message is None:
        return False
    asked = await run(rt.services.asked_target, member, message.chat_id,
                      message.reply_to_message.message_id)
    if asked is None:
        return False
    flow_id, year = asked
    flow = rt.services.flows[flow_id]
    today = rt.clock().astimezone(resolve_timezone(flow.unit.timezone)).date()
    when = read_date(message.text or "", today)
    if when is None:  # asked again, in a message whose reply counts too
        await run(rt.services.ask_target_again, member, flow_id, year,
                  (message.text or "").strip(), message.message_id, rt.clock())
        rt.sender.wake()
        return True
    inst = await run(rt.services.set_target_from, member, flow_id, year, when, rt.clock())
    await reply(update, target_line(flow, inst, t, rt.clock()) or t.gettext("Recorded."))
    return True


# --- rekap ----------------------------------------------------------------------------------


def _rekap_line(line: UnitRekap, tz: str, target: TargetView | None, t: Translator) -> str:
    text = rekap_line_text(line, tz, t)
    mark = {"late": "🔴", "due_soon": "🟠", "not_started": "⚪", "cancelled": "⚫",
            "done": "✅"}.get(line.at_risk or "", "🟢")
    text = f"{mark} {line.unit_name}: {text}"
    if target is not None and line.state == "active":
        text += "\n   " + _target_text(target, t)
    return text


def rekap_text(view: RekapView, t: Translator, now: datetime) -> str:
    """The rekap as a chat message, worst first."""
    zones = {f.unit.id: f.unit.timezone for f in view.flows}
    head = t.gettext("Recap {alias} {year}, as of {when}:").format(
        alias=view.alias, year=view.year, when=format_short(now, view.flows[0].unit.timezone, t))
    lines = [f"{n}. {_rekap_line(line, zones[line.unit], view.targets.get(line.unit), t)}"
             for n, line in enumerate(view.lines, start=1)]
    return "\n".join([head, *lines])


@member_only
async def rekap(update: Update, context: Context, caller: Caller,
                words: str | None = None) -> None:
    """``rekap PK 2026``: every unit, worst first (oversight officials only)."""
    rt, member, t = caller
    words = " ".join(context.args or []) if words is None else words
    now = rt.clock()
    try:
        view = await run(rt.services.rekap_view, member, words, now)
    except ServiceError as exc:
        await reply(update, report_problem(exc, t, now))
        return
    await reply(update, rekap_text(view, t, now))


# --- files ----------------------------------------------------------------------------------


async def _trails(update: Update, context: Context, caller: Caller, usage: str, *,
                  secretary_only: bool) -> tuple[list[Flow], int, list[Trail]] | None:
    rt, member, t = caller
    words = " ".join(context.args or [])
    try:
        return await run(rt.services.report_trails, member, words, usage,
                         secretary_only=secretary_only)
    except ServiceError as exc:
        await reply(update, report_problem(exc, t, rt.clock()))
        return None


async def _one_flow(update: Update, caller: Caller, flows: list[Flow],
                    words: str) -> Flow | None:
    if len(flows) == 1:
        return flows[0]
    await reply(update, report_problem(AmbiguousFlow(flows[0].alias, flows), caller.t,
                                 caller.rt.clock()))
    return None


def _main_trail(trails: list[Trail], flow: Flow) -> Trail | None:
    mine = [tr for tr in trails if tr.flow.id == flow.id]
    if not mine:
        return None
    return sorted(mine, key=lambda tr: (tr.instance.status is not Status.CANCELLED,
                                        tr.instance.created_at))[-1]


def _file(data: io.BytesIO, name: str) -> InputFile:
    return InputFile(data.getvalue(), filename=name)


@member_only
async def ekspor(update: Update, context: Context, caller: Caller) -> None:
    """``/ekspor PK 2026``: the trail workbook (Sekretaris and oversight)."""
    from bot.reports import disposition_rows
    from bot.reports.xlsx import write_export

    found = await _trails(update, context, caller, "/ekspor", secretary_only=True)
    if found is None:
        return
    flows, year, trails = found
    rows = [row for trail in trails for row in disposition_rows(trail)]
    used = [f for f in flows if any(r.flow == f.id for r in rows)] or flows
    data = io.BytesIO()
    await run(write_export, data, rows, used, caller.t)
    await _send_document(update, data, f"ekspor-{flows[0].alias}-{year}.xlsx", caller.t.ngettext(
        "{n} disposition", "{n} dispositions", len(rows)).format(n=len(rows)))


@member_only
async def monev(update: Update, context: Context, caller: Caller) -> None:
    """``/monev PK 2026 [unit]``: the SOP monitoring form (Sekretaris and oversight)."""
    from bot.reports import monev as fill
    from bot.reports.xlsx import write_monev

    found = await _trails(update, context, caller, "/monev", secretary_only=True)
    if found is None:
        return
    flows, year, trails = found
    flow = await _one_flow(update, caller, flows, "")
    if flow is None:
        return
    form = fill(flow, year, [tr for tr in trails if tr.flow.id == flow.id])
    data = io.BytesIO()
    await run(write_monev, data, form, caller.t)
    await _send_document(update, data, f"monev-{flow.alias}-{year}-{flow.unit.id}.xlsx",
                         f"{flow.alias} {year} — {flow.unit.name}")


async def _send_document(update: Update, data: io.BytesIO, name: str, caption: str) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_document(_file(data, name), caption=caption[:1000])


@member_only
async def grafik(update: Update, context: Context, caller: Caller) -> None:
    """``/grafik PK 2026 [unit]``: the instance as a timeline (a photo)."""
    from bot.reports.charts import draw_timeline

    found = await _trails(update, context, caller, "/grafik", secretary_only=False)
    if found is None:
        return
    flows, year, trails = found
    flow = await _one_flow(update, caller, flows, "")
    if flow is None:
        return
    trail = _main_trail(trails, flow)
    if trail is None:
        await reply(update, report_problem(NotStarted(flow, year), caller.t, caller.rt.clock()))
        return
    data = io.BytesIO()
    await run(draw_timeline, data, trail, caller.rt.clock(), caller.t)
    await _send_photo(update, data, f"{flow.alias} {year} — {flow.unit.name}")


@member_only
async def bagan(update: Update, context: Context, caller: Caller) -> None:
    """``/bagan PK [2026] [unit]``: the SOP as a swimlane chart; with a year, the running
    step highlighted."""
    from bot.reports.charts import draw_swimlane

    rt, member, t = caller
    words = " ".join(context.args or [])
    try:
        flows, year, trails = await run(rt.services.report_flows, member, words)
    except ServiceError as exc:
        await reply(update, report_problem(exc, t, rt.clock()))
        return
    flow = await _one_flow(update, caller, flows, "")
    if flow is None:
        return
    trail = _main_trail(trails, flow) if year is not None else None
    active = [s.no for s in trail.instance.active_steps()] if trail is not None else []
    data = io.BytesIO()
    await run(draw_swimlane, data, flow, t, active)
    await _send_photo(update, data, f"{flow.alias} — {flow.name} ({flow.unit.name})")


async def _send_photo(update: Update, data: io.BytesIO, caption: str) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_photo(_file(data, "grafik.png"), caption=caption[:1000])


# --- the weekly digest's opt-out ------------------------------------------------------------


@member_only
async def ringkasan(update: Update, context: Context, caller: Caller) -> None:
    """``/ringkasan off|on``: the Monday digest."""
    rt, member, t = caller
    word = (context.args or [""])[0].casefold()
    if word not in ("on", "off", "aktif", "mati"):
        state = t.gettext("on") if member.weekly_digest else t.gettext("off")
        await reply(update, t.gettext("The weekly digest is {state} for you. Write "
                                      "\"/ringkasan off\" or \"/ringkasan on\".").format(
            state=state))
        return
    on = word in ("on", "aktif")
    await run(rt.services.set_digest, member.id, on)
    await reply(update, t.gettext("You will receive the weekly digest on Monday mornings.")
                if on else t.gettext("You will no longer receive the weekly digest."))
