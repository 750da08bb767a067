"""The engine stays pure: no Telegram, storage or scheduler, and it never reads the clock."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT

ENGINE = ROOT / "bot" / "engine"


def test_engine_imports_no_io_libraries() -> None:
    code = (
        "import sys, bot.engine.waktu, bot.engine.calendar, bot.engine.model, "
        "bot.engine.loader, bot.engine.instance\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('telegram', 'tinydb', 'apscheduler', 'httpx', 'bot.storage', 'bot.tg')]\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_engine_never_reads_the_clock() -> None:
    clock = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time|"
                       r"time\.monotonic|sleep)\s*\(")
    for path in ENGINE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not clock.search(text), f"{path.name} reads the clock"
