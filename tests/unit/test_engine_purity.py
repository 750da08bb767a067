"""The engine never reads the clock.

That it imports no Telegram, storage or scheduler is the import-linter contract in
pyproject.toml (run by `lint-imports` in CI).
"""

from __future__ import annotations

import re

from tests.support.paths import ROOT

ENGINE = ROOT / "bot" / "engine"


def test_engine_never_reads_the_clock() -> None:
    clock = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time|"
                       r"time\.monotonic|sleep)\s*\(")
    for path in ENGINE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not clock.search(text), f"{path.name} reads the clock"
