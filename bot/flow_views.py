"""Two views of a flow definition: the stable JSON form and the human table.

The JSON form is a contract (documented in the README): fields are only ever added.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from bot.engine.describe import cycle_notes, role_notes, step_notes
from bot.engine.model import END, Flow, Step
from bot.i18n import Translator


def flow_to_json(flow: Flow) -> dict[str, Any]:
    """The documented machine-readable form of a flow (``sopbot flows show --json``)."""
    return {
        "id": flow.id,
        "alias": flow.alias,
        "name": flow.name,
        "name_en": flow.name_en,
        "unit": {
            "id": flow.unit.id,
            "name": flow.unit.name,
            "instansi": flow.unit.instansi,
            "subunit": flow.unit.subunit,
            "timezone": flow.unit.timezone,
        },
        "header": {
            key: (list(value) if isinstance(value, tuple) else value)
            for key, value in flow.header.values
        },
        "roles": [
            {"id": r.id, "title": r.title, "title_en": r.title_en,
             "relation": r.relation.value if r.relation else None,
             "external": r.external, "secretary": r.secretary}
            for r in flow.roles
        ],
        "starters": list(flow.starters),
        "steps": [_step_json(s) for s in flow.steps],
        "jumlah_waktu": str(flow.total_waktu),
        "per_official": (
            {"subject": flow.per_official.subject, "atasan": flow.per_official.atasan,
             "levels": list(flow.per_official.levels)}
            if flow.per_official else None
        ),
        "reporting_lines": [{"role": r.role, "atasan": r.atasan} for r in flow.reporting_lines],
        "cycles": [
            {"id": c.id, "name": c.name, "period": c.period.value, "steps": list(c.steps),
             "due": {"working_days_after_period_end": c.due_working_days_after_period_end},
             "applies_to": c.applies_to, "done_when": c.done_when, "collector": c.collector}
            for c in flow.cycles
        ],
        "source": flow.source,
    }


def _step_json(step: Step) -> dict[str, Any]:
    data: dict[str, Any] = {
        "no": step.no,
        "title": step.title,
        "title_en": step.title_en,
        "actor": step.actor,
        "kind": step.kind.value,
        "waktu": str(step.waktu),
        "output": step.output,
        "output_en": step.output_en,
        "kelengkapan": step.kelengkapan,
        "keterangan": step.keterangan,
        "fan_out": step.fan_out,
        "trigger": step.trigger.value,
        "when": step.when,
        "next": None if step.next is None else ("end" if step.next == END else step.next),
    }
    if step.is_decision:
        data["on_revise"] = step.on_revise
    data["holder_title"] = step.holder_title
    data["holder_title_en"] = step.holder_title_en
    data["continue_at"] = step.continue_at
    data["wait"] = None if step.wait is None else {
        "for": list(step.wait.waits_for), "recorded_by": step.wait.recorded_by,
        "waktu": str(step.wait.waktu), "label": step.wait.label,
        "label_en": step.wait.label_en}
    return data


def render_flow_text(flow: Flow, t: Translator, *, width: int = 110) -> str:
    """The human view of ``sopbot flows show``: header, step table and Jumlah waktu."""
    _ = t.gettext
    lines = [f"{flow.name} — {flow.alias} ({flow.id})", ""]
    unit = flow.unit
    label_width = 26

    def field(label: str, value: str | tuple[str, ...] | None) -> None:
        if isinstance(value, tuple):
            if not value:
                value = None
            else:
                lines.append(label)
                for i, item in enumerate(value, start=1):
                    lines.extend(textwrap.wrap(f"{i}. {item}", width, initial_indent="  ",
                                               subsequent_indent="     "))
                return
        lines.append(f"{label:<{label_width}}{value or '-'}")

    field(_("Unit"), unit.name + (f" ({unit.id})" if unit.id else ""))
    field(_("Agency"), unit.instansi)
    field(_("Time zone"), unit.timezone)
    labels = {
        "nomor_sop": _("SOP number"),
        "tanggal_pembuatan": _("Date made"),
        "tanggal_revisi": _("Date revised"),
        "tanggal_pengesahan": _("Date approved"),
        "tanggal_efektif": _("Date effective"),
        "disahkan_oleh": _("Approved by"),
        "nama_sop": _("SOP name"),
        "dasar_hukum": _("Legal basis"),
        "kualifikasi_pelaksana": _("Implementer qualifications"),
        "keterkaitan": _("Related procedures"),
        "peralatan_perlengkapan": _("Equipment and supplies"),
        "peringatan": _("Warning"),
        "pencatatan_pendataan": _("Recording and data keeping"),
    }
    for key, value in flow.header.values:
        field(labels[key], value)
    lines.append("")
    lines.append(_("Roles (pelaksana):"))
    for role in flow.roles:
        notes = [n.render(t.gettext) for n in role_notes(flow, role)]
        lines.append(f"  {role.id:<20} {role.title}" + (f" ({'; '.join(notes)})" if notes
                                                          else ""))
    lines.append("")
    headers = (_("No"), _("Procedure"), _("Actor"), _("Time"), _("Output"))
    rows = [
        (str(s.no), _describe(flow, s, t), s.actor, str(s.waktu), s.output or "-")
        for s in sorted(flow.steps, key=lambda s: s.no)
    ]
    lines.extend(_table(headers, rows, width))
    lines.append("")
    lines.append(_("Total time: {total}").format(total=flow.total_waktu))
    if flow.cycles:  # the recurring duties (DPRD): which steps, when due, who collects
        lines.extend(["", _("Recurring duties:")])
        for note in cycle_notes(flow):
            lines.extend(textwrap.wrap(note.render(t.gettext),
                                       width, initial_indent="  - ",
                                       subsequent_indent="    "))
    return "\n".join(lines)


def _describe(flow: Flow, step: Step, t: Translator) -> str:
    _ = t.gettext
    marks = []
    if step.is_decision:
        marks.append(_("◇ decision; revise → step {no}").format(no=step.on_revise))
    if step.trigger.value == "event":
        marks.append(_("only when: {when}").format(when=step.when or "-"))
    marks.extend(n.render(t.gettext) for n in step_notes(flow, step))
    title = step.title
    if step.holder_title:  # the uraian as its holder reads it
        title += " — " + _("to the holder: {title}").format(title=step.holder_title)
    return title + (f" [{'; '.join(marks)}]" if marks else "")


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]],
           width: int) -> list[str]:
    """A plain-text table whose long cells wrap inside their column."""
    fixed = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    # The Uraian and Output columns share what is left of the width.
    fixed[2] = min(fixed[2], 22)
    fixed[3] = min(fixed[3], 10)
    spare = max(width - fixed[0] - fixed[2] - fixed[3] - 8, 40)
    fixed[1] = max(len(headers[1]), int(spare * 0.65))
    fixed[4] = max(len(headers[4]), spare - fixed[1])
    out = [" | ".join(h.ljust(fixed[i]) for i, h in enumerate(headers)).rstrip(),
           "-+-".join("-" * w for w in fixed)]
    for row in rows:
        cells = [textwrap.wrap(cell, w) or [""] for cell, w in zip(row, fixed, strict=True)]
        for k in range(max(len(c) for c in cells)):
            out.append(" | ".join((c[k] if k < len(c) else "").ljust(fixed[i])
                                  for i, c in enumerate(cells)).rstrip())
    return out
