"""Excel files users open: the trail with step statistics, the SOP monev form, the recap.

Headings are user-facing text (Indonesian by default). Dates are real Excel dates in the
unit's time zone (Excel has no zones: the wall-clock time of the unit is written, and the
heading says which zone). Every sheet has its header row frozen and its columns sized.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.engine.calendar import resolve_timezone, zone_abbreviation
from bot.engine.model import Flow
from bot.formatting import period_label
from bot.i18n import Translator
from bot.reports.monev import Monev, format_minutes, monev_notes, verdict_label
from bot.reports.rekap import MergedUnit
from bot.reports.trail import DispositionRow, step_stats

__all__ = ["action_label", "write_export", "write_merged_rekap", "write_monev"]

DATE_FORMAT = "yyyy-mm-dd hh:mm"
Target = str | Path | BinaryIO
_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")
_MAX_WIDTH = 60
_INVALID_TITLE = str.maketrans({c: " " for c in "[]:*?/\\"})


def action_label(action: str, t: Translator) -> str:
    """A disposition's action in the reader's language (Selesai, Setujui, Revisi …)."""
    labels = {
        "start": t.pgettext("disposition action", "Started"),
        "complete": t.pgettext("disposition action", "Done"),
        "approve": t.pgettext("disposition action", "Approved"),
        "revise": t.pgettext("disposition action", "Revision"),
        "cancel": t.pgettext("disposition action", "Cancelled"),
        "trigger": t.pgettext("disposition action", "Triggered by an event"),
        "attach": t.pgettext("disposition action", "Attachment"),
    }
    return labels.get(action, action)


def _local(dt: datetime | None, timezone: str) -> datetime | None:
    # Excel stores no zone: write the unit's wall-clock time.
    if dt is None:
        return None
    return dt.astimezone(resolve_timezone(timezone)).replace(tzinfo=None)


def _yes_no(value: bool | None, t: Translator) -> str:
    if value is None:
        return "-"
    return t.pgettext("answer", "Yes") if value else t.pgettext("answer", "No")


def _table(ws: Worksheet, headings: Sequence[str], rows: Iterable[Sequence[Any]],
           *, first_row: int = 1, wrap: Sequence[int] = ()) -> None:
    """Write a table: bold frozen headings, dates formatted, columns sized to their text."""
    widths = [len(h) for h in headings]
    for col, heading in enumerate(headings, start=1):
        cell = ws.cell(first_row, col, heading)
        cell.font, cell.fill = _BOLD, _HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate(rows, start=first_row + 1):
        for col, value in enumerate(row, start=1):
            cell = ws.cell(r, col, value)
            if isinstance(value, datetime):
                cell.number_format = DATE_FORMAT
                widths[col - 1] = max(widths[col - 1], 16)
            else:
                longest = max((len(p) for p in str(value or "").splitlines()), default=0)
                widths[col - 1] = max(widths[col - 1], longest)
            if col - 1 in wrap:
                cell.alignment = _WRAP
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(_MAX_WIDTH, width + 2)
    ws.freeze_panes = ws.cell(first_row + 1, 1)


def _sheet_title(wb: Workbook, text: str) -> str:
    base = text.translate(_INVALID_TITLE).strip()[:31] or "Sheet"
    title, n = base, 2
    while title in wb.sheetnames:
        suffix = f" {n}"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    return title


# --- the trail -------------------------------------------------------------------------


def _export_headings(t: Translator) -> list[str]:
    _ = t.gettext
    return [_("Unit"), _("Flow"), _("Year"), _("Step"), _("Round"), _("Procedure (uraian)"),
            _("Role"), _("Official"), _("Acting for (Plt/Plh)"), _("Action"), _("Note"),
            _("Attachments"), _("Step started"), _("Decided"), _("Mutu baku (working minutes)"),
            _("Actual working time (minutes)"), _("Late"), _("For the official"),
            _("Time zone")]


def _export_row(row: DispositionRow, t: Translator) -> list[Any]:
    acting = row.acting_for
    if acting and row.acting_kind:
        acting = f"{row.acting_kind} {acting}"
    return [row.unit_name, f"{row.flow_alias} ({row.flow})", row.year, row.step, row.round,
            row.title, row.role_title, row.official, acting or "", action_label(row.action, t),
            row.note or "", "\n".join(row.attachments), _local(row.started, row.timezone),
            _local(row.decided, row.timezone), row.mutu_baku_minutes,
            row.actual_working_minutes, _yes_no(row.late, t) if row.actual_working_minutes
            is not None else "", row.subject or "", zone_abbreviation(row.timezone)]


def _stats_sheet(wb: Workbook, flow: Flow, rows: Sequence[DispositionRow],
                 t: Translator) -> None:
    _ = t.gettext
    ws = wb.create_sheet(_sheet_title(wb, f"{flow.alias} {flow.unit.id}"))
    ws.cell(1, 1, f"{flow.name} — {flow.unit.name}").font = Font(bold=True, size=12)
    headings = [_("No"), _("Procedure (uraian)"), _("Pelaksana"), _("Mutu baku (SOP)"),
                _("Mutu baku (working minutes)"), _("Decisions measured"),
                _("Median actual (working minutes)"), _("Worst actual (working minutes)"),
                _("Late"), _("Sent back for revision"), _("Revised"),
                _("Delegated (Plt/Plh)")]
    table = [[s.step_no, s.title, s.role_title, s.waktu, s.mutu_baku_minutes, s.runs,
              s.median_minutes, s.worst_minutes, s.late, s.revisions_sent, s.reworked,
              s.delegated] for s in step_stats(flow, rows)]
    _table(ws, headings, table, first_row=3, wrap=(1,))


def write_export(target: Target, rows: Sequence[DispositionRow], flows: Sequence[Flow],
                 t: Translator) -> Target:
    """The trail workbook: one sheet of dispositions, then one sheet per flow's statistics.

    ``flows`` are the flows to give a statistics sheet (normally those in ``rows``).
    """
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(wb, t.gettext("Dispositions"))
    _table(ws, _export_headings(t), (_export_row(r, t) for r in rows), wrap=(5, 10))
    for flow in flows:
        _stats_sheet(wb, flow, [r for r in rows if r.flow == flow.id], t)
    return _save(wb, target)


# --- the SOP monev ------------------------------------------------------------------------


def _period_label(form: Monev, t: Translator) -> str:
    if form.semester:
        return period_label("semester", form.semester, form.year, t)
    return period_label("year", 1, form.year, t)


def write_monev(target: Target, form: Monev, t: Translator) -> Target:
    """The PermenPAN-RB 35/2012 monitoring form of one SOP, filled from the trail."""
    _ = t.gettext
    flow = form.flow
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(wb, _("SOP monitoring"))
    ws.cell(1, 1, _("SOP IMPLEMENTATION MONITORING FORM")).font = Font(bold=True, size=13)
    header = [
        (_("SOP name"), flow.header.get("nama_sop") or flow.name),
        (_("SOP number"), flow.header.get("nomor_sop") or "-"),
        (_("Unit"), flow.unit.name + (f", {flow.unit.instansi}" if flow.unit.instansi else "")),
        (_("Period"), _period_label(form, t)),
        (_("Instances assessed"), form.instances),
        (_("Assessed by"), ""),
        (_("Date"), ""),
    ]
    for i, (label, value) in enumerate(header, start=2):
        # Beside the wide uraian column, not in the narrow "No" one: labels stay readable.
        ws.cell(i, 2, label).font = _BOLD
        ws.cell(i, 3, value)
    headings = [_("No"), _("Procedure (uraian)"), _("Pelaksana"), _("Mutu baku (SOP)"),
                _("Runs"), _("Assessment"), _("Done by the right role"),
                _("Within mutu baku"), _("In the SOP's order"), _("Notes"),
                _("Action to take")]
    table = [[line.step_no, line.title, line.role_title, line.waktu, line.runs,
              verdict_label(line, t), _yes_no(line.right_role, t),
              _yes_no(line.within_baku, t), _yes_no(line.in_order, t),
              monev_notes(line, t), ""] for line in form.lines]
    first = len(header) + 3
    _table(ws, headings, table, first_row=first, wrap=(1, 9))
    ws.column_dimensions["K"].width = 30  # room for the evaluator's hand
    return _save(wb, target)


# --- the province-wide recap ----------------------------------------------------------------


def write_merged_rekap(target: Target, merged: Sequence[MergedUnit],
                       rows: Sequence[tuple[str, dict[str, Any]]], t: Translator) -> Target:
    """The recap of several deployments' exports: one line per unit and flow, worst first,
    then every exported row with the file it came from."""
    _ = t.gettext
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(wb, _("Recap"))
    headings = [_("Source"), _("Unit"), _("Flow"), _("Year"), _("Decisions"), _("Revisions"),
                _("Late steps"), _("Working time beyond mutu baku"), _("First step started"),
                _("Last decision"), _("Last step"), _("Procedure (uraian)"), _("Action")]
    table = [[m.source, m.unit, m.flow, m.year, m.decisions, m.revisions, m.late_steps,
              format_minutes(m.late_minutes, t), _naive(m.first_started),
              _naive(m.last_decided), m.last_step, m.last_title or "",
              action_label(m.last_action, t) if m.last_action else ""] for m in merged]
    _table(ws, headings, table, wrap=(11,))
    all_rows = wb.create_sheet(_sheet_title(wb, _("Dispositions")))
    heads = [_("Source"), _("Unit"), _("Flow"), _("Year"), _("Step"), _("Procedure (uraian)"),
             _("Role"), _("Official"), _("Acting for (Plt/Plh)"), _("Action"), _("Note"),
             _("Step started"), _("Decided"), _("Mutu baku (working minutes)"),
             _("Actual working time (minutes)"), _("Late")]
    body = [[src, r["unit"], r["flow"], r["year"], r["step"], r["title"], r["role"],
             r["official"], r["acting_for"] or "", action_label(r["action"], t),
             r["note"] or "", _naive(_parse(r["started"])), _naive(_parse(r["decided"])),
             r["mutu_baku_minutes"], r["actual_working_minutes"],
             _yes_no(r["late"], t) if r["actual_working_minutes"] is not None else ""]
            for src, r in rows]
    _table(all_rows, heads, body, wrap=(5, 10))
    return _save(wb, target)


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _naive(dt: datetime | None) -> datetime | None:
    # Each export was written in its unit's zone: keep that wall-clock time.
    return dt.replace(tzinfo=None) if dt else None


def _save(wb: Workbook, target: Target) -> Target:
    wb.save(target)  # a file name or a binary file object (io.BytesIO for a chat reply)
    return target
