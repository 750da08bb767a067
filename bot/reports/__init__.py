"""Reports from the stored trail: export rows, step statistics, rekap, SOP monev, pictures.

Pure computations over :class:`Trail` values (read once through :func:`load_trails`, the only
module that touches storage); files are written by :mod:`bot.reports.xlsx` and
:mod:`bot.reports.charts`. Nothing here talks to Telegram.
"""

from bot.reports.monev import Monev, MonevLine, format_minutes, monev, monev_notes, verdict_label
from bot.reports.rekap import (
    EXPORT_FIELDS,
    ExportFormatError,
    MergedUnit,
    UnitRekap,
    merge_exports,
    rekap,
    rekap_to_json,
    select_flows,
)
from bot.reports.source import load_trails
from bot.reports.trail import (
    DispositionRow,
    StepRun,
    StepStats,
    Trail,
    disposition_rows,
    row_to_json,
    step_runs,
    step_stats,
)
from bot.reports.worktime import mutu_baku_minutes, working_days_late, working_minutes

__all__ = [
    "EXPORT_FIELDS",
    "DispositionRow",
    "ExportFormatError",
    "MergedUnit",
    "Monev",
    "MonevLine",
    "StepRun",
    "StepStats",
    "Trail",
    "UnitRekap",
    "disposition_rows",
    "format_minutes",
    "load_trails",
    "merge_exports",
    "monev",
    "monev_notes",
    "mutu_baku_minutes",
    "rekap",
    "rekap_to_json",
    "row_to_json",
    "select_flows",
    "step_runs",
    "step_stats",
    "verdict_label",
    "working_days_late",
    "working_minutes",
]
