"""Kill the bot at random moments while officials work, and check nothing was lost or doubled.

The bot runs as `python -m bot run` in its own process against the fake Bot API server of
the test process. Simulated officials of Kesbangpol Jawa Tengah press every button they get
(and send one decision back for revision by text) through several PK years, while the bot is
SIGKILLed and restarted again and again. Used by tests/test_crash.py (20 kills) and by
bench/crash_soak.py (200 kills).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.bootstrap import build_services, open_store
from bot.demo.harness import step_buttons
from bot.engine.instance import Action, Actor, Engine, Instance, StepActivated
from bot.engine.loader import load_flows
from bot.storage import Store
from bot.tg.callbacks import StepButton
from fakeapi import FakeBotApi, FakeUser
from tests.support.paths import FLOWS_DIR, ROOT

UNIT = "kesbangpol-jateng"
FLOW = "pk-kesbangpol-jateng"
ROLES = ("kepala", "sekretaris", "kasubbag_program", "pelaksana", "pelaksana", "bidang")
REVISE_AT = 9


def step_data(message: dict[str, Any]) -> str | None:
    """Callback data of the first step button of a message, if it has one."""
    buttons = step_buttons(message)
    return buttons[0].encode() if buttons else None


@dataclass
class CrashReport:
    kills: int = 0
    restarts: int = 0
    presses: int = 0
    confirmed: list[tuple[str, int, int, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    duplicates_uncertain: int = 0
    seconds: float = 0.0


class CrashRun:
    """One crash scenario: `kills` SIGKILLs while `years` PK instances run to completion."""

    def __init__(self, tmp: Path, *, kills: int, years: int = 3, seed: int = 1,
                 kill_every: tuple[float, float] = (0.3, 1.2)) -> None:
        self.tmp = tmp
        self.kills = kills
        self.years = [2025 + i for i in range(years)]
        self.rng = random.Random(seed)
        self.kill_every = kill_every
        self.data_dir = tmp / "data"
        self.report = CrashReport()
        self.proc: subprocess.Popen[bytes] | None = None
        self.pressed: set[tuple[int, int]] = set()
        self.revised: dict[tuple[int, int], tuple[str, int, int]] = {}  # my msg -> step
        self.started_years: set[int] = set()
        #: a year far from this one is confirmed with Ya first; the question lives in the
        #: bot's memory, so a kill after the press loses it: year -> kills at the press
        self.confirmed_at: dict[int, int] = {}

    # -- the bot process ---------------------------------------------------------------

    def _spawn(self, api: FakeBotApi) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SOPBOT_"))}
        env.update(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=api.api_root,
                   SOPBOT_DATA_DIR=str(self.data_dir), SOPBOT_FLOWS_DIR=str(FLOWS_DIR),
                   SOPBOT_LOG_LEVEL="WARNING")
        log = (self.tmp / "bot.log").open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env,
                                     stdout=log, stderr=subprocess.STDOUT)
        self.report.restarts += 1

    def _kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.report.kills += 1

    def _stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # -- the officials ---------------------------------------------------------------

    def _act(self, api: FakeBotApi, users: list[FakeUser], kepala: FakeUser) -> bool:
        """Every official answers what is waiting for them; False when all years are done."""
        for user in users:
            for message in api.messages(user.id):
                data = step_data(message)
                key = (user.id, message["message_id"])
                if data is None or key in self.pressed:
                    continue
                self.pressed.add(key)
                button = StepButton.decode(data)
                assert button is not None
                if button.step_no == REVISE_AT and button.round == 1:
                    sent = user.send_text("revisi: sasaran belum terukur", reply_to=message)
                    self.revised[(user.id, sent["message_id"])] = (
                        button.instance_id, button.step_no, button.round)
                else:
                    user.press(message, data)
                self.report.presses += 1
        self._confirm_far_years(api, kepala)
        done = [m for m in api.messages(kepala.id) if "is complete" in (m.get("text") or "")]
        finished = {y for y in self.years if any(f"PK {y})" in m["text"] for m in done)}
        for year in self.years:
            if year not in self.started_years and all(y in finished for y in self.started_years):
                kepala.send_text(f"mulai PK {year}")
                self.started_years.add(year)
                break
        return finished != set(self.years)

    def _confirm_far_years(self, api: FakeBotApi, kepala: FakeUser) -> None:
        """Ya to "2028 is far from this year"; ask again when a kill lost the question."""
        texts = [m.get("text") or "" for m in api.messages(kepala.id)]
        for message in api.messages(kepala.id):
            text = message.get("text") or ""
            key = (kepala.id, message["message_id"])
            found = re.match(r"(\d{4}) is far from this year", text)
            if found is None or key in self.pressed:
                continue
            self.pressed.add(key)
            try:
                kepala.press_button(message, "Ya")
            except ValueError:  # already answered (the message was edited)
                continue
            self.confirmed_at[int(found.group(1))] = self.report.kills
        for year, kills in self.confirmed_at.items():
            started = any("Started" in t and f"PK {year})" in t for t in texts)
            if not started and self.report.kills > kills:
                kepala.send_text(f"mulai PK {year}")
                self.confirmed_at[year] = self.report.kills

    # -- the run ---------------------------------------------------------------------

    def run(self, *, time_limit: float = 240.0) -> CrashReport:
        began = time.monotonic()
        flows = load_flows(FLOWS_DIR)
        services = build_services(flows, open_store(self.data_dir))
        now = datetime.now(UTC)
        codes = [services.create_invite(unit=UNIT, role=r, now=now, name=f"{r} {i}").code
                 for i, r in enumerate(ROLES)]
        with FakeBotApi() as api:
            users = [api.user(7000 + i, f"Pejabat {i}", language_code="en")
                     for i in range(len(ROLES))]
            kepala = users[0]
            try:
                self._spawn(api)
                for user, code in zip(users, codes, strict=True):
                    user.send_text(f"/start {code}")
                next_kill = time.monotonic() + self.rng.uniform(*self.kill_every)
                while True:
                    if time.monotonic() - began > time_limit:
                        self.report.problems.append("time limit reached before the end")
                        break
                    welcomed = all(any("Welcome" in (m.get("text") or "")
                                       for m in api.messages(u.id)) for u in users)
                    busy = self._act(api, users, kepala) if welcomed else True
                    if self.report.kills < self.kills and time.monotonic() >= next_kill:
                        self._kill()
                        self._spawn(api)
                        next_kill = time.monotonic() + self.rng.uniform(*self.kill_every)
                    elif not busy and self.report.kills >= self.kills:
                        break
                    time.sleep(0.05)
                api.wait_until_idle(idle=1.0, timeout=60)
            finally:
                self._stop()
            self._check(api, users, flows)
        self.report.seconds = time.monotonic() - began
        return self.report

    # -- the checks ------------------------------------------------------------------

    def _check(self, api: FakeBotApi, users: list[FakeUser], flows: list) -> None:
        problems = self.report.problems
        repo = Store(self.data_dir).read()  # 1. the data files load
        flow = next(f for f in flows if f.id == FLOW)
        by_id = {m.id: m for m in repo.members()}
        instances = [i for y in self.years for i in repo.instances(unit=UNIT, year=y)]
        if sorted(i.year for i in instances) != self.years:
            problems.append(f"instances: {[(i.year, i.status) for i in instances]}")
        disps = {i.id: repo.dispositions(i.id, i.year) for i in instances}

        # 2. every decision the official saw confirmed is stored
        for answer in api.callback_answers:
            text = answer.get("text") or ""
            if text.startswith(("Marked done", "Approved")):
                pressed = StepButton.decode(answer["data"])
                assert pressed is not None
                inst, step, rnd = pressed.instance_id, pressed.step_no, pressed.round
                action = "approve" if text.startswith("Approved") else "complete"
                self.report.confirmed.append((inst, step, rnd, action))
                if not any(d.step_no == step and d.round == rnd
                           and d.action.value == action for d in disps.get(inst, [])):
                    problems.append(f"confirmed {action} of {inst} step {step} round {rnd} lost")
        for user in users:
            for message in api.messages(user.id):
                reply_to = (message.get("reply_to_message") or {}).get("message_id")
                target = self.revised.get((user.id, reply_to))
                if target and message["text"].startswith("Sent back for revision"):
                    inst, step, rnd = target
                    if not any(d.step_no == step and d.round == rnd and d.action is Action.REVISE
                               for d in disps.get(inst, [])):
                        problems.append(f"confirmed revision of {inst} step {step} lost")

        # 3. each instance is where its dispositions say; 4./5. notifications once, none lost
        holders = repo.holders(UNIT)
        uncertain = {(i.member_id, i.payload.get("instance_id"), i.payload.get("step_no"),
                      i.payload.get("round"), i.kind)
                     for i in repo.outbox("sent") if i.uncertain}
        for inst in instances:
            replayed, activations = self._replay(flow, inst, disps[inst.id], holders)
            if replayed.to_dict() != inst.to_dict():
                problems.append(f"{inst.id}: stored state differs from its dispositions")
            for step_no, round_no, members in activations:
                for member_id in members:
                    chat = by_id[member_id].chat_id
                    n = self._count_step_messages(api, chat, inst.id, step_no, round_no)
                    if n == 0:
                        problems.append(f"step {step_no}/{round_no} of {inst.id} never "
                                        f"reached {member_id}")
                    elif n > 1:
                        if (member_id, inst.id, step_no, round_no, "step") in uncertain:
                            self.report.duplicates_uncertain += 1
                        else:
                            problems.append(f"step {step_no}/{round_no} of {inst.id} reached "
                                            f"{member_id} {n} times")

    def _count_step_messages(self, api: FakeBotApi, chat: int, inst: str, step: int,
                             rnd: int) -> int:
        """Step notifications sent to a chat (from the API log: edits do not hide them)."""
        prefix = f"s:{inst}:{step}:{rnd}:"
        return sum(1 for call in api.calls("sendMessage", ok=True)
                   if call.params.get("chat_id") == chat and prefix in str(call.params))

    @staticmethod
    def _replay(flow: Any, inst: Instance, disps: list, holders: dict) -> tuple[Instance, list]:
        """Run the dispositions through a fresh engine: the state they imply."""
        engine = Engine(flow)
        activations: list[tuple[int, int, tuple[str, ...]]] = []

        def note(t: Any) -> Instance:
            for e in t.events:
                if isinstance(e, StepActivated):
                    round_no = t.instance.active(e.step_no).round if t.instance.active(
                        e.step_no) else 1
                    activations.append((e.step_no, round_no,
                                        e.members or tuple(holders.get(e.role, []))))
            return t.instance

        first, *rest = disps
        cur = note(engine.start(instance_id=inst.id, year=inst.year,
                                by=Actor.of(first.member, first.role), now=first.at,
                                holders=holders))
        for d in rest:
            by = Actor.of(d.member, d.role)
            if d.action is Action.REVISE:
                cur = note(engine.revise(cur, by=by, now=d.at, holders=holders,
                                         reason=d.note or "", step_no=d.step_no))
            elif d.action in (Action.COMPLETE, Action.APPROVE):
                cur = note(engine.advance(cur, by=by, now=d.at, holders=holders,
                                          step_no=d.step_no, note=d.note,
                                          attachments=d.attachments))
            else:
                raise AssertionError(f"unexpected disposition {d}")
        return cur, activations

