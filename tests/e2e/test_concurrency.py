"""`sopbot invite` in other processes while the bot decides steps: nothing is lost."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

from bot.engine.instance import Action
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step
from tests.support.cli import env_for
from tests.support.offices import UNIT, kesbangpol
from tests.support.paths import FLOWS_DIR, ROOT


def invite_many(data_dir: Path, n: int) -> list[str]:
    env = env_for(SOPBOT_DATA_DIR=str(data_dir), SOPBOT_BOT_USERNAME="sopbot_test_bot",
                  SOPBOT_FLOWS_DIR=str(FLOWS_DIR))
    codes = []
    for i in range(n):
        result = subprocess.run(
            [sys.executable, "-m", "bot", "invite", "--unit", UNIT, "--role", "pelaksana",
             "--name", f"Staf {i}"], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=60, check=True)
        codes.append(re.search(r"start=(\S+)", result.stdout).group(1))
    return codes


async def test_invites_from_another_process_while_deciding(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        inviting = asyncio.create_task(asyncio.to_thread(invite_many, h.data_dir, 6))
        plan = ((1, "sekretaris"), (2, "kasubbag"), (3, "bidang"), (4, "pelaksana"),
                (5, "pelaksana"), (6, "bidang"), (7, "pelaksana"), (8, "kasubbag"))
        for no, who in plan:
            m = await o[who].await_message(is_step(no, 1), timeout=15)
            await h.press(o[who], m, "✔️ Selesai")
        codes = await inviting
        repo = h.services.store.read()
        assert all(repo.invite(code) is not None for code in codes)
        (inst,) = repo.instances(unit=UNIT)
        assert inst.current is not None and inst.current.no == 9
        done = [d.step_no for d in repo.dispositions(inst.id) if d.action is Action.COMPLETE]
        assert done == [1, 2, 3, 4, 5, 6, 7, 8]
        # and the codes work: a new Pelaksana joins with one
        user = h.api.user(9100, "Staf Baru", language_code="en")
        user.send_text(f"/start {codes[-1]}")
        await user.await_message("Welcome")
