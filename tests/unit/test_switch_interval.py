"""The running bot hands the GIL round quickly (issue 15): its store transactions run in worker
threads and wait for the GIL after every system call; at CPython's default interval a burst
of presses queued behind the busy event loop (bench/bench_burst.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.bootstrap import build_bot, running
from bot.config import Settings
from bot.engine.loader import load_flows
from bot.tg.app import SWITCH_INTERVAL
from fakeapi import FakeBotApi
from tests.support.paths import FLOWS_DIR


async def test_the_running_bot_switches_threads_often_and_restores_the_interval(
        tmp_path: Path) -> None:
    before = sys.getswitchinterval()
    assert before > SWITCH_INTERVAL  # (CPython's default is 5 ms)
    async with FakeBotApi() as fake:
        settings = Settings(token=fake.token, api_url=fake.api_root,
                            data_dir=tmp_path / "data", flows_dir=FLOWS_DIR)
        bot = build_bot(settings, load_flows(FLOWS_DIR), rate_limit=False, http_timeout=2.0)
        async with running(bot, poll=False):
            assert sys.getswitchinterval() == SWITCH_INTERVAL
    assert sys.getswitchinterval() == before  # a test run or an embedding process keeps its own
