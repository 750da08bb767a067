"""Start-up imports only what the command needs, and a stop is bounded (issue 15).

- ``sopbot run`` does not import the webhook server, the reports, the calendar tools or
  aiohttp; the command table names every command each module adds.
- At SIGTERM, scheduler jobs, the outbox sender's last write and worker threads each get a
  bounded grace: a long re-plan holding the store no longer keeps the bot from stopping.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from typing import Any, NoReturn

import pytest
from telegram.ext import Application

from bot.cli import COMMANDS, build_parser, command_modules
from bot.cli.run import serve_until_stopped
from bot.i18n import Translator
from bot.tg.app import stop_jobs
from tests.support.paths import ROOT


def _commands(parser: Any) -> set[str]:
    [sub] = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return set(sub.choices)


def test_the_command_table_names_what_each_module_adds() -> None:
    t = Translator("en")
    everything: set[str] = set()
    for name, commands in COMMANDS:
        parser = build_parser(t, commands[0])
        assert _commands(parser) == set(commands), name
        everything |= set(commands)
    assert _commands(build_parser(t)) == everything  # help and a mistyped command: all


def test_run_imports_neither_the_web_server_nor_the_reports() -> None:
    code = (
        "import json, sys\n"
        "from bot.cli import build_parser, command_modules\n"
        "from bot.i18n import Translator\n"
        "build_parser(Translator('en'), 'run')\n"
        "import bot.bootstrap, bot.tg.app, bot.ops.http, bot.cli.startup, bot.calendar_file\n"
        "print(json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    loaded = set(json.loads(out))
    assert "bot.cli.run" in loaded and "telegram.ext" in loaded
    for heavy in ("aiohttp", "bot.cli.web", "bot.tg.webhook", "bot.cli.reports",
                  "bot.cli.calendar", "bot.cli.doctor", "holidays", "click", "rich",
                  "matplotlib", "openpyxl"):
        assert heavy not in loaded, heavy


def test_a_mistyped_command_is_told_with_every_command(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    from bot.cli import main

    with pytest.raises(SystemExit):
        main(["rnu"])
    err = capsys.readouterr().err
    assert "invalid choice: 'rnu'" in err and "'run'" in err and "'web'" in err
    assert len(command_modules()) == len(COMMANDS)


class _Store:
    released = False

    def release_running(self) -> None:
        self.released = True


class _HardExit(Exception):
    pass


def _exit(status: int) -> NoReturn:
    raise _HardExit(status)


def test_a_stop_does_not_wait_for_a_worker_thread_that_hangs() -> None:
    release = threading.Event()

    async def main() -> int:
        asyncio.get_running_loop().run_in_executor(None, release.wait)  # a long re-plan
        await asyncio.sleep(0)
        return 0

    store = _Store()
    try:
        with pytest.raises(_HardExit) as ended:
            serve_until_stopped(main(), store, grace=0.05, hard_exit=_exit)  # type: ignore[arg-type]
        assert ended.value.args == (0,)  # the status, at once; the claim goes with the process
        assert not store.released
    finally:
        release.set()


def test_a_stop_with_idle_workers_ends_normally_and_releases_the_claim() -> None:
    async def main() -> int:
        await asyncio.to_thread(lambda: None)
        return 3

    store = _Store()
    assert serve_until_stopped(main(), store, grace=5, hard_exit=_exit) == 3  # type: ignore[arg-type]
    assert store.released


async def test_stopping_the_jobs_does_not_wait_for_one_that_runs_past_the_grace() -> None:
    app = Application.builder().token("123:TEST").build()
    assert app.job_queue is not None
    started, release, ended = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def long_replan(_context: Any) -> None:
        started.set()
        await release.wait()
        ended.set()

    app.job_queue.run_once(long_replan, 0)
    await app.job_queue.start()
    await started.wait()
    await stop_jobs(app, grace=0.05)  # PTB's own stop would wait for the job
    assert not app.job_queue.scheduler.running and not ended.is_set()
    await app.job_queue.stop()  # what Application.stop then does returns at once
    release.set()  # (PTB shields the job's coroutine: it ends when the loop ends)
    await ended.wait()
