"""A step notification that fits a phone screen, and its details on demand (issue 12).

The notification says what came before (the revision reason first), what to do and by when;
the buttons follow. The role, what is needed, the expected output and a long note in full
are one press away ("ℹ️ Rincian").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.engine.model import Flow
from bot.formatting import format_when
from bot.i18n import Translator
from bot.textlimits import shorten
from bot.tg.render import _output, _role_title, flow_label, step_title

NOTE_PREVIEW = 700  # UTF-16 units of a note or reason shown in the notification itself


def _note_line(payload: dict[str, Any], t: Translator, limit: int | None) -> str | None:
    _ = t.gettext
    note = payload.get("note")
    if not note:
        return None
    shown = note if limit is None else shorten(note, limit)
    template = (_("🔁 Sent back for revision by {name}: {reason}") if payload.get("revision")
                else _("📝 Note from {name}: {note}"))
    line = template.format(name=payload.get("from_name") or "?", reason=shown, note=shown)
    if shown != note:
        line += "\n" + _("(shortened: the whole text is under ℹ️ Rincian)")
    return line


def _head(flow: Flow, payload: dict[str, Any], t: Translator) -> list[str]:
    _ = t.gettext
    step = flow.step(payload["step_no"])
    lines = [f"📋 {flow_label(flow, payload['year'], payload.get('subject'), t)}"]
    if payload.get("by_event"):
        lines.append(_("Extra step {no} (only when: {when})").format(
            no=step.no, when=step.when or "-"))
    else:
        lines.append(_("Step {n} of {total}").format(n=flow.position(step.no),
                                                       total=len(flow.sequence)))
    lines.append(f"▶️ {step_title(step, t)}")
    return lines


def _deadline(flow: Flow, payload: dict[str, Any], t: Translator) -> str:
    _ = t.gettext
    step = flow.step(payload["step_no"])
    if payload.get("deadline"):
        deadline = datetime.fromisoformat(payload["deadline"])
        return _("Deadline: {when} (standard time {waktu})").format(
            when=format_when(deadline, flow.unit.timezone, t), waktu=step.waktu)
    return _("Deadline: none (the SOP gives no standard time)")


def step_text(flow: Flow, payload: dict[str, Any], t: Translator, now: datetime) -> str:
    """The notification that a step has landed on someone: short enough for one screen."""
    lines = _head(flow, payload, t)
    note = _note_line(payload, t, NOTE_PREVIEW)
    if note and payload.get("revision"):
        lines.insert(1, note)  # what came before, first
    lines.append(_deadline(flow, payload, t))
    if note and not payload.get("revision"):
        lines.append(note)
    n_files = len(payload.get("attachments") or [])
    if n_files:
        lines.append(t.ngettext("📎 {n} attachment follows.", "📎 {n} attachments follow.",
                                n_files).format(n=n_files))
    return "\n".join(lines)


def details_text(flow: Flow, payload: dict[str, Any], t: Translator) -> str:
    """"ℹ️ Rincian": the whole step, the note in full (split by the sender if need be)."""
    _ = t.gettext
    step = flow.step(payload["step_no"])
    lines = _head(flow, payload, t)
    lines.append(_("Role: {role}").format(role=_role_title(flow, step.actor, t)))
    if step.kelengkapan:
        lines.append(_("Needed: {kelengkapan}").format(kelengkapan=step.kelengkapan))
    if _output(step, t):
        lines.append(_("Expected output: {output}").format(output=_output(step, t) or ""))
    lines.append(_deadline(flow, payload, t))
    note = _note_line(payload, t, None)
    if note:
        lines += ["", note]
    return "\n".join(lines)
