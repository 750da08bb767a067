"""The scripted run of ``sopbot demo``: a whole flow played in chat, then its status.

Every step is decided by its role's holder, the first decision is sent back once with a
reason, one task goes with a PDF, fan-out steps are done by each holder, and the status is
asked at the end, then the rekap across units by the oversight unit. :func:`play_demo`
returns the transcript and a :class:`DemoSummary`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.demo.officials import holders_per_role, revision_reason, tiny_pdf
from bot.demo.session import REACTION_TIMEOUT, DemoFailure, DemoSession
from bot.demo.transcript import JSON, WIDTH, Emit, Official, body_of
from bot.engine.model import Flow, Step
from bot.formatting import format_when
from bot.i18n import Translator
from bot.services.oversight import OversightUnit

#: The flow played when none is named, and the year typed in "mulai PK 2025".
DEFAULT_FLOW = "pk-kec-neglasari"
DEFAULT_YEAR = 2025
#: The demo's oversight unit (as SOPBOT_OVERSIGHT_UNIT declares one), for the closing rekap.
OVERSIGHT_UNIT = "setda-demo"


@dataclass
class DemoSummary:
    """What the scripted run did, for tests and the closing lines."""

    flow_id: str
    alias: str
    year: int
    officials: list[tuple[str, str]] = field(default_factory=list)  # (name, role title)
    actions: list[tuple[int, int, str, str]] = field(default_factory=list)  # no, round, who, how
    revision_step: int | None = None
    revision_back_to: int | None = None
    revision_reason: str | None = None
    revision_by: str | None = None
    revision_seen_by: list[str] = field(default_factory=list)
    attachment: str | None = None
    attachment_step: int | None = None
    attachment_by: str | None = None
    attachment_forwarded_to: list[str] = field(default_factory=list)
    completed: bool = False
    # a revision of one part of a fan-out (Neglasari step 8 sends back one PK of step 7)
    partial_step: int | None = None
    partial_back_to: int | None = None
    partial_part: str | None = None
    partial_reason: str | None = None
    partial_redone_by: list[str] = field(default_factory=list)
    # the document outside the office (Inspektorat: at the Bupati, through the Setda)
    wait_after: int | None = None
    wait_status: str = ""
    wait_recorded_by: str | None = None
    status_by: str | None = None
    status_text: str = ""
    rekap_by: str | None = None
    rekap_text: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float = 0.0

    @property
    def steps_played(self) -> list[int]:
        """Step numbers in the order they were acted on (one per step activation)."""
        seen: list[tuple[int, int]] = []
        for no, rnd, _who, _how in self.actions:
            if (no, rnd) not in seen:
                seen.append((no, rnd))
        return [no for no, _rnd in seen]


@dataclass
class DemoResult:
    lines: list[str]
    summary: DemoSummary


def _status_asker(flow: Flow) -> str:
    """The role that asks for the final status: a Sekretaris among the starters, else the
    first starter."""
    for role in flow.starters:
        if flow.role(role).title.lower().startswith("sekretaris"):
            return role
    return flow.starters[0]


def _attachment_plan(flow: Flow, first_decision: Step | None) -> tuple[int, int]:
    """(step, round) at which a PDF goes with the work: the corrected draft after the
    revision when the revised step is a task, else the first hand-over task."""
    if first_decision is not None and first_decision.on_revise is not None:
        target = flow.step(first_decision.on_revise)
        if not target.is_decision and not target.fan_out:
            return target.no, 2
    for step in flow.sequence[1:]:
        after = flow.successor(step.no)
        if (not step.is_decision and not step.fan_out and after is not None
                and after.actor != step.actor):
            return step.no, 1
    fallback = next((s for s in flow.sequence if not s.is_decision and not s.fan_out),
                    flow.sequence[0])
    return fallback.no, 1


class DemoPlayer:
    """Plays one complete run of the session's flow in chat."""

    def __init__(self, session: DemoSession, year: int) -> None:
        self.s = session
        self.flow = session.flow
        self.year = year
        self.summary = DemoSummary(self.flow.id, self.flow.alias, year)

    def _when(self, step: Step, activated: datetime, nth: int) -> datetime:
        """When a holder acts on a step activated at `activated`: about half its standard
        time later (a second fan-out holder a little after), within office hours."""
        cal = self.flow.unit.calendar()
        due = cal.due(activated, step.waktu)
        span = (due - activated) if due is not None else timedelta(minutes=40)
        span = max(span, timedelta(minutes=4))
        fraction = min(0.9, 0.5 + 0.2 * nth)
        when = cal.next_opening(activated + span * fraction)
        return when.replace(second=0, microsecond=0)

    async def play(self) -> DemoSummary:
        """The demo's storyline, top to bottom (about 110 lines): each section of the
        transcript is a few lines here, in the order the reader sees them."""
        s, flow, t = self.s, self.flow, self.s.t
        _ = t.gettext
        summary = self.summary
        wall = time.monotonic()
        summary.started_at = s.clock()

        s.section(_("Officials join the bot with invitation codes"))
        await s.join_all(holders_per_role(flow))
        summary.officials = [(o.name, o.role_title) for o in s.officials]

        s.section(_("{alias} {year} is started").format(alias=flow.alias, year=self.year))
        starter = s.holder(flow.starters[0])
        await s.say(starter, f"mulai {flow.alias} {self.year}")

        first_decision = next((st for st in flow.sequence if st.is_decision), None)
        attach_at = _attachment_plan(flow, first_decision)
        s.section(_("The officials work through the steps"))
        instance: str | None = None
        chats: list[int] | None = None
        if flow.per_official is not None:
            # Play one official's procedure: the lowest level's (e.g. the Staf's).
            subject = s.holder(flow.per_official.levels[-1])
            chats = [subject.chat]
            s.emit("    " + _("(one instance per official was started; this demo follows the "
                              "one of {name} and their atasan)").format(name=subject.name))
        activated: dict[tuple[int, int], datetime] = {}
        acted: dict[tuple[int, int], int] = {}
        revised = attached = False
        def finished() -> bool:
            return any(body_of(m).startswith("🏁") and f"{flow.alias} {self.year}" in body_of(m)
                       for o in s.officials for m in s.bot.api.messages(o.chat))

        def progressed() -> Any:
            return s.open_steps(instance, chats) or self._outside() or finished()

        for _turn in range(300):
            # The next step's notification, or the news that the flow is complete.
            what = _("the next step, or the end of the flow")
            await s.react(s.bot.api.await_for(progressed, REACTION_TIMEOUT, what=what), what)
            open_steps = s.open_steps(instance, chats)
            outside = self._outside()
            if not open_steps and outside:
                await self._wait_outside(*outside)
                continue
            if not open_steps:
                break
            official, msg, (inst, no, rnd) = open_steps[0]
            if instance is None:
                instance, chats = inst, None
            step = flow.step(no)
            key = (no, rnd)
            since = activated.setdefault(key, s.clock())
            s.clock.move_to(self._when(step, since, acted.get(key, 0)))
            acted[key] = acted.get(key, 0) + 1
            if (summary.revision_back_to == no and rnd > 1 and summary.revision_reason
                    and summary.revision_reason in body_of(msg)
                    and official.name not in summary.revision_seen_by):
                summary.revision_seen_by.append(official.name)
            if (summary.partial_back_to == no and rnd > 1
                    and official.name not in summary.partial_redone_by):
                summary.partial_redone_by.append(official.name)
            if (step.is_decision and rnd == 1 and summary.partial_step is None
                    and flow.revises_fan_out(no) and no != getattr(first_decision, "no", 0)):
                await self._revise_one_part(official, msg, step)
                how = "revise-part"
            elif (step.is_decision and not revised and rnd == 1
                    and first_decision is not None and no == first_decision.no):
                reason = revision_reason(step)
                await s.say(official, f"revisi: {reason}", reply_to=msg)
                revised = True
                summary.revision_step, summary.revision_back_to = no, step.on_revise
                summary.revision_reason, summary.revision_by = reason, official.name
                how = "revise"
            elif not attached and key == attach_at and not step.is_decision:
                name = (f"{flow.alias}-{self.year}-draf-revisi.pdf" if rnd > 1
                        else f"{flow.alias}-{self.year}-langkah-{no}.pdf")
                pdf = tiny_pdf(f"{flow.name} {self.year} - {flow.unit.name} - {step.output}")
                await s.send_file(official, msg, name, pdf, caption="selesai")
                attached = True
                summary.attachment, summary.attachment_step = name, no
                summary.attachment_by = official.name
                how = "attach"
            else:
                await s.press(official, msg, 1)
                how = "press"
            summary.actions.append((no, rnd, official.name, how))
        else:
            raise s.failure(_("the flow did not end after 300 actions"))

        summary.completed = finished()
        if summary.attachment:
            summary.attachment_forwarded_to = [
                o.name for o in s.officials if o.name != summary.attachment_by and any(
                    (m.get("document") or {}).get("file_name") == summary.attachment
                    for m in s.bot.api.messages(o.chat))]

        s.section(_("Where does {alias} {year} stand?").format(alias=flow.alias,
                                                               year=self.year))
        asker = s.holder(_status_asker(flow))
        s.clock.move_to(s.clock() + timedelta(minutes=30))
        summary.status_by = asker.name
        before = len(s.bot.api.messages(asker.chat))
        await s.say(asker, f"status {flow.alias} {self.year}")
        replies = [m for m in s.bot.api.messages(asker.chat)[before:] if "📊" in body_of(m)]
        if not replies:
            raise s.failure(_("no status report came back"))
        summary.status_text = body_of(replies[-1])
        await self._rekap(summary)
        summary.finished_at = s.clock()
        summary.seconds = time.monotonic() - wall
        return summary

    async def _rekap(self, summary: DemoSummary) -> None:
        """The ending: an Inspektorat official of the oversight unit asks the rekap."""
        s, flow, _ = self.s, self.flow, self.s.t.gettext
        s.section(_("The recap across units, as the oversight unit sees it"))
        s.bot.services.oversight = OversightUnit(OVERSIGHT_UNIT, "Bagian Organisasi Setda")
        name = "Bu Inspektur"
        code = await asyncio.to_thread(s.bot.invite, OVERSIGHT_UNIT, "inspektorat", name)
        official = Official(len(s.officials) + 1, name, "inspektorat", "Inspektorat",
                            s.bot.new_user(name, language=s.language))
        s.officials.append(official)
        s.log.add(official)
        await s.say(official, f"/start {code}", show=False)
        before = len(s.bot.api.messages(official.chat))
        await s.say(official, f"rekap {flow.alias} {self.year}")
        replies = s.bot.api.messages(official.chat)[before:]
        if not replies:
            raise s.failure(_("no recap came back"))
        summary.rekap_by = name
        summary.rekap_text = body_of(replies[-1])


    def _outside(self) -> tuple[Any, JSON] | None:
        """A message with the "Sudah kembali" button still on it (the document is out)."""
        for official in self.s.officials:
            for msg in self.s.bot.api.messages(official.chat):
                if any((data or "").startswith("w:")
                       for _label, data in self.s.bot.api.buttons(msg)):
                    return official, msg
        return None

    async def _wait_outside(self, official: Any, msg: JSON) -> None:
        """Two weeks at the Bupati's office: status says so, then it comes back."""
        s, flow, summary = self.s, self.flow, self.summary
        _ = s.t.gettext
        s.section(_("The document is outside the office; nobody here is late for it"))
        summary.wait_after = next((st.no for st in flow.sequence if st.wait is not None), None)
        s.clock.move_to(s.clock() + timedelta(days=14))
        asker = s.holder(_status_asker(flow))
        before = len(s.bot.api.messages(asker.chat))
        await s.say(asker, f"status {flow.alias} {self.year}")
        replies = [m for m in s.bot.api.messages(asker.chat)[before:] if "📊" in body_of(m)]
        summary.wait_status = body_of(replies[-1]) if replies else ""
        await s.press(official, msg, 1)  # 📥 Sudah kembali
        summary.wait_recorded_by = official.name
        summary.actions.append((summary.wait_after or 0, 1, official.name, "returned"))

    async def _revise_one_part(self, official: Any, msg: JSON, step: Step) -> None:
        """Revisi on a decision after a fan-out: pick one part, then give the reason."""
        s, summary = self.s, self.summary
        await s.press(official, msg, 2)  # 🔁 Revisi: the parts are offered
        question = next(m for m in reversed(s.bot.api.messages(official.chat))
                        if any((d or "").startswith("p:") for _l, d in s.bot.api.buttons(m)))
        label = s.bot.api.buttons(question)[0][0]
        await s.press(official, question, 1)  # the first part only
        ask = s.bot.api.messages(official.chat)[-1]
        reason = revision_reason(step)
        await s.say(official, reason, reply_to=ask)
        summary.partial_step, summary.partial_back_to = step.no, step.on_revise
        summary.partial_part = label.removeprefix("🔁").strip()
        summary.partial_reason = reason


def _closing(summary: DemoSummary, flow: Flow, t: Translator, emit: Emit) -> None:
    _ = t.gettext
    emit("")
    emit("━" * WIDTH)
    emit(_("✅ {alias} {year} was played to the end in chat by {n} officials: {actions} "
           "actions, {seconds:.1f} s.").format(alias=flow.alias, year=summary.year,
                                               n=len(summary.officials),
                                               actions=len(summary.actions),
                                               seconds=summary.seconds))
    emit("   " + _("Steps in the order they were acted on: {steps}").format(
        steps=" → ".join(map(str, summary.steps_played))))
    if summary.revision_reason:
        emit("   " + _("Revision: step {step} sent back to step {back} by {name}; the reason "
                       "reached {seen}.").format(step=summary.revision_step,
                                                 back=summary.revision_back_to,
                                                 name=summary.revision_by,
                                                 seen=", ".join(summary.revision_seen_by) or "-"))
    if summary.attachment:
        emit("   " + _("Attachment: {file} from {name} (step {step}) went on to {to}.").format(
            file=summary.attachment, name=summary.attachment_by, step=summary.attachment_step,
            to=", ".join(summary.attachment_forwarded_to) or "-"))
    if summary.partial_step:
        emit("   " + _("Partial revision: at step {step} only the part of {part} went back to "
                       "step {back}; redone by {who}, the other parts stayed done.").format(
            step=summary.partial_step, part=summary.partial_part, back=summary.partial_back_to,
            who=", ".join(summary.partial_redone_by) or "-"))
    if summary.wait_recorded_by:
        emit("   " + _("Outside the office: after step {step} the document waited two weeks "
                       "at the Bupati's office, with no reminders; {name} recorded its "
                       "return.").format(step=summary.wait_after,
                                         name=summary.wait_recorded_by))
    elif not any(st.wait for st in flow.steps):
        emit("   " + _("A document waiting outside the office (the Bupati signs the PK): "
                       "sopbot demo --flow pk-inspektorat-nganjuk"))
    if summary.rekap_text:
        emit("   " + _("Recap: {name} (oversight) asked \"rekap {alias} {year}\" and saw every "
                       "unit, worst first.").format(name=summary.rekap_by, alias=flow.alias,
                                                    year=summary.year))
    emit("   " + _("Pictures: /grafik {alias} {year} sends the timeline of the run as a photo; "
                   "/bagan {alias} the SOP as a flowchart.").format(alias=flow.alias,
                                                                     year=summary.year))
    emit("   " + _("Run it yourself: sopbot demo --interactive   (or: sopbot run with a real "
                   "token)"))


async def play_demo(flows: Sequence[Flow], flow: Flow, *, year: int = DEFAULT_YEAR,
                    t: Translator | None = None, language: str = "id",
                    emit: Emit | None = None, data_dir: Path | None = None,
                    limits: bool = False) -> DemoResult:
    """Play a complete run of `flow` with the real bot against the fake Bot API.

    Returns the transcript lines (also passed to `emit` as they come) and a summary. With
    `limits` the fake server enforces Telegram's flood limits. Raises :class:`DemoFailure`
    (with the fake server's dump) when something goes wrong; the bot, the server and the
    temporary directory are gone either way.
    """
    t = t or Translator("en")
    _ = t.gettext
    lines: list[str] = []

    def out(line: str) -> None:
        lines.append(line)
        if emit is not None:
            emit(line)

    session = DemoSession(flows, flow, t=t, language=language, emit=out, data_dir=data_dir,
                          limits=limits)
    name = flow.name_en if t.language == "en" and flow.name_en else flow.name
    out(_("sopbot demo — {name} ({alias} {year}), {unit}").format(
        name=name, alias=flow.alias, year=year, unit=flow.unit.name))
    async with session as s:
        out(_("The real bot runs against a local fake Telegram Bot API at {url} (no token, "
              "nothing leaves this machine); simulated time starts {when}.").format(
            url=s.bot.api.api_root, when=format_when(s.clock(), flow.unit.timezone, t)))
        try:
            summary = await DemoPlayer(s, year).play()
        except DemoFailure:
            raise
        except Exception as exc:
            raise DemoFailure(f"{type(exc).__name__}: {exc}", s.bot.api.dump()) from exc
    _closing(summary, flow, t, out)
    return DemoResult(lines, summary)
