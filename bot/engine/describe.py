"""What a flow's newer fields mean, as notes a printout can show beside a step or role.

``sopbot flows show`` lists the step table as the SOP prints it; the notes here add what the
bot does beyond the table (the document waits outside the office, an event step resumes the
sequence, a step lives only in a recurring duty …). Each note is a :class:`bot.i18n.Message`
(a template marked with ``N_`` and its parameters), which the caller renders in the reader's
language. Pure: no I/O.
"""

from __future__ import annotations

from bot.engine.model import Flow, Role, Step, Trigger
from bot.i18n_message import N_, Message

__all__ = ["Note", "cycle_notes", "role_notes", "step_notes"]


#: A note is a :class:`bot.i18n.Message`: an ``N_()`` template and its parameters.
Note = Message


def _titles(flow: Flow, role_ids: tuple[str, ...]) -> str:
    return ", ".join(flow.role(r).title for r in role_ids)


def step_notes(flow: Flow, step: Step) -> tuple[Note, ...]:
    """The notes of one step, in the order a reader needs them."""
    notes: list[Note] = []
    if step.fan_out:
        notes.append(Note(N_("every holder does their own part")))
    if step.is_decision and flow.revises_fan_out(step.no):
        notes.append(Note(N_("a revision may name only some parts of step {no}"),
                          no=step.on_revise))
    if step.wait is not None:
        notes.append(Note(N_("then outside the office with {who} until {role} records its "
                             "return"), who=_titles(flow, step.wait.waits_for),
                          role=flow.role(step.wait.recorded_by).title))
        if step.wait.waktu.unit is not None:
            notes.append(Note(N_("expected back within {waktu}"), waktu=str(step.wait.waktu)))
    if step.continue_at is not None:
        notes.append(Note(N_("afterwards the flow runs again from step {no}"),
                          no=step.continue_at))
    if step.trigger is Trigger.CYCLE:
        cycles = [c.name for c in flow.cycles if step.no in c.steps]
        notes.append(Note(N_("only in the recurring duty: {cycles}"), cycles=", ".join(cycles)))
        if step.is_decision:
            notes.append(Note(N_("a revision stays in the same period: the official reports "
                                 "again and is evaluated again")))
    return tuple(notes)


def cycle_notes(flow: Flow) -> tuple[Note, ...]:
    """One line per recurring duty: its steps, when it is due, who collects it."""
    notes: list[Note] = []
    for cycle in flow.cycles:
        params = {"name": cycle.name, "steps": ", ".join(str(no) for no in cycle.steps),
                  "days": cycle.due_working_days_after_period_end}
        if cycle.collector is not None:
            notes.append(Note(N_("{name}: steps {steps}; due {days} working days after the "
                                 "period ends; collected by {collector}"),
                              collector=flow.role(cycle.collector).title, **params))
        else:
            notes.append(Note(N_("{name}: steps {steps}; due {days} working days after the "
                                 "period ends"), **params))
    return tuple(notes)


def role_notes(flow: Flow, role: Role) -> tuple[Note, ...]:
    """The notes of one role (outside the office; the unit's secretary)."""
    notes: list[Note] = []
    if role.external:
        notes.append(Note(N_("outside the office: not invited, never acts here")))
    if role.secretary:
        notes.append(Note(N_("the unit's secretary: may cancel")))
    if role.id in flow.starters:
        notes.append(Note(N_("may start the flow")))
    return tuple(notes)
