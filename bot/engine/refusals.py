"""What each refusal of the engine says to the official: its `DomainError.code` → the
``N_()`` template its `params` fill. Every :class:`~bot.engine.events.DomainError` carries its
refusal as a :class:`bot.i18n.Message` built from this table (`CANNOT` for a code without an
entry), so the chat, the CLI and the logs show the same words in the reader's language.
"""

from __future__ import annotations

from bot.i18n_message import N_

#: A refusal whose code has no text of its own.
CANNOT = N_("That is not possible now.")

REFUSALS: dict[str, str] = {
    "not_starter": N_("Sorry, only {roles} may start this flow."),
    "not_canceller": N_("Sorry, only those who may start this flow may cancel it."),
    "not_trigger": N_("Sorry, only {role} may start step {step}."),
    "bound_other": N_("Sorry, step {step} is for a particular {role}, not for you."),
    "not_role": N_("Sorry, step {step} is for {role}; you do not hold that role."),
    "not_assigned": N_("Sorry, step {step} was not assigned to you."),
    "already_done": N_("You have already done your part of step {step}."),
    "revise_reason": N_("A revision needs a reason. Write \"revisi: <reason>\"."),
    "trigger_reason": N_("Say what happened ({when})."),
    "task_not_decision": N_("Step {step} is a task: it cannot be sent back. Reply "
                            "\"selesai\" when it is done."),
    "decision_not_task": N_("Step {step} is a decision: approve it or send it back for "
                            "revision."),
    "completed": N_("This flow is already complete."),
    "cancelled": N_("This flow was cancelled."),
    "not_active": N_("Step {step} is not active."),
    "already_running": N_("Step {step} is already running."),
    "no_officials": N_("No official is registered at the levels of this procedure yet."),
    "needs_pair": N_("This procedure runs per official: each needs a known atasan."),
    "nothing_to_withdraw": N_("This decision can no longer be withdrawn: something has "
                              "happened since."),
    "not_decider": N_("Only the official who decided may withdraw the decision."),
    "withdraw_too_late": N_("Too late to withdraw: a decision may be withdrawn within "
                            "{minutes} minutes."),
    # the issue-13 operations (the document outside the office, event steps, parts)
    "not_recorder": N_("Sorry, only {role} records that the document came back."),
    "not_waiting": N_("This flow is not waiting on anyone outside the office."),
    "waiting": N_("The document is outside the office; nothing can be decided until it "
                  "comes back."),
    "not_event_step": N_("Step {step} is not a step that an event starts."),
    "no_event_step": N_("{alias} has no step that an event starts."),
    "not_a_part": N_("That is not a part of step {step}: {parts}."),
    "no_parts": N_("Step {step} is done by one official; it has no parts to choose."),
    # a reply to a reminder that lists several duties (issue 12's digest)
    "duty_ambiguous": N_("This message lists several duties: please press the button of the "
                         "one that is done."),
}
