"""The weekly digest on APScheduler (PTB's JobQueue): Monday morning, at the office's opening.

A repeating job looks at the clock: on the first working day of the ISO week, from the
recipient's unit's opening time until it closes, each recipient (the Sekretaris roles and the
oversight unit, unless they wrote ``/ringkasan off``) who has not had this week's digest gets
it. The week is recorded per official in the reminder ledger, so a restart never sends it
twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.engine.calendar import WorkCalendar, resolve_timezone
from bot.engine.model import Flow
from bot.formatting import format_short
from bot.i18n import Translator
from bot.services import Member, Services
from bot.services.oversight import Digest
from bot.tg.render import flow_label, split_message, step_title
from bot.tg.sender import member_translator

log = logging.getLogger(__name__)

DIGEST_JOB = "weekly-digest"


def first_working_day_of_week(calendar: WorkCalendar, day: date) -> date | None:
    """The first working day of ``day``'s ISO week (None: the office is closed all week)."""
    monday = day - timedelta(days=day.weekday())
    return next((monday + timedelta(days=i) for i in range(7)
                 if calendar.is_working_day(monday + timedelta(days=i))), None)


def _line(flow: Flow, year: int, t: Translator, extra: str) -> str:
    return f"• {flow_label(flow, year, None, t)} — {flow.unit.name}{extra}"


def digest_text(digest: Digest, t: Translator, now: datetime) -> str:
    """The digest as one chat message."""
    _ = t.gettext
    parts = ["📋 " + _("Weekly digest ({week})").format(week=digest.week)]
    parts.append(_("Finished in the last seven days:"))
    parts += [_line(f, i.year, t, "") for f, i in digest.finished] or ["  -"]
    parts.append(_("Late:"))
    for flow, inst in digest.late:
        steps = ", ".join(f"{s.no}. {step_title(flow.step(s.no), t)}"
                          for s in inst.active_steps())
        parts.append(_line(flow, inst.year, t, f": {steps}"))
    if not digest.late:
        parts.append("  -")
    parts.append(_("Due this week:"))
    parts += [_line(f, i.year, t, ": " + format_short(when, f.unit.timezone, t))
              for f, i, when in digest.due] or ["  -"]
    parts.append("")
    parts.append(_("Write \"/ringkasan off\" to stop the weekly digest."))
    return "\n".join(parts)


class DigestScheduler:
    """Sends the weekly digest once a week to each recipient, at the office's opening."""

    def __init__(self, app: Application, services: Services, clock: Callable[[], datetime],
                 *, interval: float = 300.0, default_language: str = "id") -> None:
        self.app = app
        self.services = services
        self.clock = clock
        self.interval = interval
        self.default_language = default_language
        self._lock = asyncio.Lock()

    def start(self) -> None:
        job_queue = self.app.job_queue
        assert job_queue is not None, "install python-telegram-bot[job-queue]"
        job_queue.run_repeating(self._job, interval=self.interval, first=0, name=DIGEST_JOB,
                                job_kwargs={"id": DIGEST_JOB, "replace_existing": True,
                                            "coalesce": True, "misfire_grace_time": None})

    async def _job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.run_once()

    def _flow_of(self, member: Member) -> Flow:
        """A flow of the official's unit, for its calendar and zone (the oversight unit has
        none: the deployment's first unit, one Pemda being one zone)."""
        for unit in member.units:
            flow = next((f for f in self.services.flows.values() if f.unit.id == unit), None)
            if flow is not None:
                return flow
        return next(iter(self.services.flows.values()))

    def _due(self, member: Member, now: datetime) -> bool:
        flow = self._flow_of(member)
        calendar = flow.unit.calendar()
        local = now.astimezone(resolve_timezone(flow.unit.timezone))
        hours = calendar.hours_on(local.date())
        if hours is None or first_working_day_of_week(calendar, local.date()) != local.date():
            return False
        opening = datetime.combine(local.date(), hours[0], tzinfo=local.tzinfo)
        # due at the week's opening: who joined after it gets their first digest next week
        return member.joined_at <= opening and hours[0] <= local.time() < hours[1]

    async def run_once(self) -> int:
        """Send the digests due now; returns how many went out."""
        async with self._lock:
            now = self.clock()
            sent = 0
            members = await asyncio.to_thread(self.services.digest_recipients)
            for member in members:
                if not self._due(member, now):
                    continue
                digest = await asyncio.to_thread(self.services.digest, member, now)
                if await asyncio.to_thread(self.services.digest_sent, member.id, digest.week):
                    continue
                t = member_translator(member, self.default_language)
                try:
                    for part in split_message(digest_text(digest, t, now)):
                        await self.app.bot.send_message(member.chat_id, part)
                    sent += 1
                except TelegramError as exc:
                    log.warning("weekly digest to %s not delivered: %s", member.id, exc)
                await asyncio.to_thread(self.services.mark_digest, member.id, digest.week, now)
            return sent
